// ONNX at the edges of `vigil train` and `vigil eval`: export a trained Vigil model, and score a labelled
// flow table with an ONNX classifier trained elsewhere (scikit-learn, XGBoost, PyTorch) through onnxruntime.
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { dropFeatures, loadDataset, subset } from "../../learn/index.ts";
import { exportGbdtOnnx, exportNnOnnx, loadOnnxClassifier, ONNX_METADATA_KEYS } from "../../ml/index.ts";
import { matchClasses, metricsFromProbs } from "../deep/report.ts";
import type { SupervisedModel } from "./bundle.ts";
import { resolveDataset } from "./datasets.ts";
import type { SupervisedReport } from "./report.ts";

function parseNames(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : null;
  } catch {
    return null;
  }
}

/** The ONNX bytes of a loaded Vigil model (GBDT: TreeEnsembleClassifier; GRU/CNN: standard operators). */
export function exportOnnx(m: SupervisedModel, modelVersion: string): Uint8Array {
  return m.kind === "gbdt"
    ? exportGbdtOnnx(m.model, { modelVersion })
    : exportNnOnnx(m.model, { modelVersion });
}

/**
 * Scores every row of a labelled flow table with an ONNX classifier. The model's class names must be the
 * dataset's (give `classes` for a model without names, e.g. a PyTorch export); its input takes the
 * dataset's features in the dataset's column order.
 */
export async function evalOnnxModel(
  path: string,
  dataset: string,
  opts: { classes?: string[] } = {},
): Promise<Result<SupervisedReport, VigilError>> {
  const r = resolveDataset(dataset);
  const dsr = loadDataset(r.path, r.load);
  if (!dsr.ok) return dsr;
  const m = await loadOnnxClassifier(path, opts.classes ? { classes: opts.classes } : {});
  if (!m.ok) return m;
  const clf = m.value;
  try {
    // A Vigil export names its features: take those columns, in that order.
    let ds = dsr.value;
    const named = parseNames(clf.metadata[ONNX_METADATA_KEYS.featureNames]);
    if (named) {
      const keep = new Set(named);
      const sel = dropFeatures(
        ds,
        ds.featureNames.filter((n) => !keep.has(n)),
      );
      if (!sel.ok) return sel;
      if (sel.value.featureNames.join("\u0000") !== named.join("\u0000"))
        return err(
          new VigilError(
            "usage",
            `${ds.path} lacks features ${path} was trained on`,
            "score it on data of its kind",
          ),
        );
      ds = sel.value;
    }
    if (clf.features !== undefined && clf.features !== ds.cols)
      return err(
        new VigilError(
          "usage",
          `${path} takes ${clf.features} features per row; ${ds.path} (${ds.source}) has ${ds.cols}`,
          "score it on the data it was trained on",
        ),
      );
    const classes = [...clf.classes];
    if (classes.length === 0)
      return err(
        new VigilError("usage", `${path} does not name its classes`, "pass the class names in order"),
      );
    const { keep, y, unknownClasses } = matchClasses(ds.rows, (i) => ds.classes[ds.y[i]!]!, classes);
    if (keep.length === 0)
      return err(
        new VigilError(
          "usage",
          `none of ${path}'s classes (${classes.slice(0, 5).join(", ")}) is a class of ${ds.path}`,
          "the model must be trained on the same labels",
        ),
      );
    const rows = subset(ds, keep);
    const t0 = performance.now();
    const p = await clf.classify(rows.x, rows.rows, ds.cols);
    if (!p.ok) return p;
    const seconds = (performance.now() - t0) / 1000;
    const benignName = ds.classes[ds.benign];
    const benign = benignName === undefined ? -1 : classes.indexOf(benignName);
    if (benign < 0)
      return err(
        new VigilError("usage", `${path} has no class "${benignName}" (the benign class of ${ds.path})`),
      );
    const mm = metricsFromProbs(Float64Array.from(p.value.probabilities), y, classes, benign);
    return ok({
      model: "onnx",
      modelVersion: clf.metadata[ONNX_METADATA_KEYS.modelVersion] ?? `onnx/${clf.convention}`,
      input: ds.path,
      unit: "flows",
      split: "scored: every row (the ONNX model's training data is unknown)",
      counts: { train: 0, valid: 0, test: rows.rows },
      metrics: mm.metrics,
      attack: mm.attack,
      unknownClasses,
      scoring: { items: rows.rows, seconds, perSecond: seconds > 0 ? rows.rows / seconds : 0 },
    });
  } finally {
    await clf.close();
  }
}
