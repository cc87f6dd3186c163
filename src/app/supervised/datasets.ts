// Named datasets of `vigil train --dataset <name>`: the labelled public sets in ../shared/data, or a path.
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadOptions } from "../../learn/index.ts";

/** A dataset Vigil knows by name: where it lies under the data folder and how to read it. */
export interface NamedDataset {
  name: string;
  /** Path under the data folder. */
  file: string;
  load: LoadOptions;
  about: string;
}

export const NAMED_DATASETS: readonly NamedDataset[] = [
  {
    name: "cicids2017",
    file: "flows/cicids2017-improved/cicids2017-improved-dev.csv.gz",
    load: { source: "cicids2017" },
    about: "CIC-IDS2017 with the improved labels, 43,419 flows, 16 classes, CICFlowMeter features",
  },
  {
    name: "unsw-nb15",
    file: "flows/unsw-nb15/unsw-nb15-dev.csv.gz",
    load: { source: "unsw-nb15" },
    about: "UNSW-NB15 (half of the testing partition), 41,168 flows, 10 classes",
  },
  {
    name: "unsw-nb15-binary",
    file: "flows/unsw-nb15/unsw-nb15-dev.csv.gz",
    load: { source: "unsw-nb15", binary: true },
    about: "UNSW-NB15, Normal against Attack",
  },
  {
    name: "nsl-kdd",
    file: "flows/nsl-kdd/KDDTrain+_20Percent.txt.gz",
    load: { source: "nsl-kdd", grouping: "category" },
    about: "NSL-KDD 20 % training subset, 25,192 records, normal/DoS/Probe/R2L/U2R",
  },
  {
    name: "nsl-kdd-binary",
    file: "flows/nsl-kdd/KDDTrain+_20Percent.txt.gz",
    load: { source: "nsl-kdd", grouping: "binary" },
    about: "NSL-KDD, normal against attack",
  },
];

/** The data folder: $VIGIL_DATA, else ../shared/data beside the checkout. */
export function dataDir(): string {
  const env = process.env.VIGIL_DATA;
  if (env) return resolve(env);
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
  return join(repo, "..", "shared", "data");
}

/** Resolves a dataset name or path: the file to read and the options to read it with. */
export function resolveDataset(nameOrPath: string): { path: string; load: LoadOptions; name: string } {
  const named = NAMED_DATASETS.find((d) => d.name === nameOrPath);
  if (named) return { path: join(dataDir(), named.file), load: named.load, name: named.name };
  return { path: nameOrPath, load: {}, name: basename(nameOrPath) };
}
