// Loads the supervised flow classifier that `vigil analyze` runs on every flow record: a GBDT model file
// trained on CIC-style flow features (the bundled one, or the site's own from `vigil train --out`).
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { FlowClassifierConfig, FlowClassifierDetector } from "../../detect/index.ts";
import { CIC_COLUMNS } from "../../flows/index.ts";
import { hasCicFeatures } from "../../learn/index.ts";
import { loadBundle } from "./bundle.ts";

/** The model `vigil analyze` uses when the site names none: GBDT on CIC-IDS2017 (improved), see models/README.md. */
export function bundledClassifierPath(): string {
  return join(
    resolve(dirname(fileURLToPath(import.meta.url)), "../../.."),
    "models",
    "flow-classifier-cic.json",
  );
}

// The last model file read, by path and modification time: the CLI checks the file before a run and the
// flow runner loads it again (in-process); parsing the bundled model takes ~100 ms.
let last: { path: string; mtimeMs: number; size: number; bundle: ReturnType<typeof loadBundle> } | null =
  null;

function cachedBundle(path: string): ReturnType<typeof loadBundle> {
  let st: { mtimeMs: number; size: number } | null = null;
  try {
    st = statSync(path);
  } catch {
    st = null;
  }
  if (st && last && last.path === path && last.mtimeMs === st.mtimeMs && last.size === st.size)
    return last.bundle;
  const bundle = loadBundle(path);
  last = st && bundle.ok ? { path, mtimeMs: st.mtimeMs, size: st.size, bundle } : null;
  return bundle;
}

/** Builds the flow classifier from a model file ("" = the bundled model) and its settings. */
export function loadFlowClassifier(
  modelPath: string,
  settings: Partial<FlowClassifierConfig> = {},
): Result<FlowClassifierDetector, VigilError> {
  const path = modelPath === "" ? bundledClassifierPath() : modelPath;
  const b = cachedBundle(path);
  if (!b.ok) return b;
  const { loaded, dataset } = b.value;
  if (loaded.kind !== "gbdt")
    return err(
      new VigilError(
        "usage",
        `${path} is a ${loaded.kind} model; the flow classifier scores flow records with a GBDT model`,
        "train one with `vigil train -m gbdt -d cicids2017 -o FILE`",
      ),
    );
  if (!hasCicFeatures(dataset.source))
    return err(
      new VigilError(
        "usage",
        `${path} was trained on ${dataset.source} features, which Vigil's flow records do not have`,
        "train on CIC-IDS2017 or on `vigil flows --schema cic` output with a Label column",
      ),
    );
  const parsed = FlowClassifierConfig.safeParse(settings);
  if (!parsed.success)
    return err(
      new VigilError(
        "config.invalid",
        `detectors.classifier: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      ),
    );
  return ok(
    new FlowClassifierDetector(
      parsed.data,
      {
        model: loaded.model,
        version: b.value.version,
        benign: dataset.benign,
        trainedRows: b.value.evaluation?.trainRows ?? 0,
      },
      CIC_COLUMNS,
    ),
  );
}
