// Feature selection on a loaded Dataset: the same rows without some columns (e.g. columns whose meaning
// depends on the flow extractor's quirks), categorical indices remapped.
import { err, ok, type Result, VigilError } from "../core/index.ts";
import type { Dataset } from "./datasets/types.ts";

/** A copy of `ds` without the named feature columns; names the dataset lacks are an error. */
export function dropFeatures(ds: Dataset, names: readonly string[]): Result<Dataset, VigilError> {
  const drop = new Set(names);
  const unknown = names.filter((n) => !ds.featureNames.includes(n));
  if (unknown.length > 0)
    return err(
      new VigilError(
        "usage",
        `${ds.path} has no feature ${unknown.map((n) => `"${n.slice(0, 64)}"`).join(", ")}`,
        `features are: ${ds.featureNames.slice(0, 8).join(", ")}…`,
      ),
    );
  const keep = ds.featureNames.map((_, j) => j).filter((j) => !drop.has(ds.featureNames[j]!));
  if (keep.length === 0) return err(new VigilError("usage", "no feature would be left"));
  const cols = keep.length;
  const x = new Float32Array(ds.rows * cols);
  for (let i = 0; i < ds.rows; i++) {
    const from = i * ds.cols;
    const to = i * cols;
    for (let k = 0; k < cols; k++) x[to + k] = ds.x[from + keep[k]!]!;
  }
  const newIndex = new Map(keep.map((j, k) => [j, k]));
  return ok({
    ...ds,
    featureNames: keep.map((j) => ds.featureNames[j]!),
    categorical: ds.categorical.flatMap((c) => {
      const k = newIndex.get(c.index);
      return k === undefined ? [] : [{ ...c, index: k }];
    }),
    x,
    cols,
  });
}
