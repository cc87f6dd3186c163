// `vigil train` and `vigil eval --model` for the gradient-boosted flow classifier: load a labelled dataset,
// split it honestly (by time within each class where the data has time), train with early stopping on the
// validation part, report on the test part, and write the model with its dataset schema.
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { CIC_QUIRK_COLUMNS } from "../../flows/index.ts";
import {
  type Dataset,
  type DatasetSplit,
  datasetSchemaHash,
  dropFeatures,
  hasCicFeatures,
  loadDataset,
  type SplitFractions,
  type SplitMethod,
  splitDataset,
  subset,
} from "../../learn/index.ts";
import {
  type GbdtConfig,
  type GbdtProgress,
  type NnModel,
  predictProba,
  saveGbdt,
  saveNnModel,
  trainGbdt,
} from "../../ml/index.ts";
import { matchClasses, metricsFromProbs } from "../deep/report.ts";
import { scoreSequenceModel } from "../deep/sequence.ts";
import { type BundleDataset, type BundleEvaluation, loadBundle, saveBundle } from "./bundle.ts";
import { resolveDataset } from "./datasets.ts";
import type { SupervisedReport } from "./report.ts";

const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, valid: 0.1, test: 0.2 };

/** What `vigil train --model gbdt` was asked for. */
export interface GbdtTrainRequest {
  /** Dataset name (see NAMED_DATASETS) or path of a labelled flow table. */
  dataset: string;
  /** Default: "time" when the data has flow times, else "stratified". */
  split?: SplitMethod;
  fractions?: SplitFractions;
  seed?: number;
  gbdt?: Omit<GbdtConfig, "onProgress" | "seed">;
  onProgress?: (p: GbdtProgress) => void;
  /**
   * Keep the CIC columns that depend on CICFlowMeter's quirks (CIC_QUIRK_COLUMNS). Default false: they are
   * left out of models on CIC features, so the model scores Vigil's flows the same in either feature mode.
   */
  allFeatures?: boolean;
}

/** The trained model file and the held-out report. */
export interface TrainOutcome {
  report: SupervisedReport;
  /** The model file's text (`vigil.supervised` bundle). */
  bundle: string;
  modelVersion: string;
  dataset: { name: string; source: string; path: string; rows: number; rejected: Record<string, number> };
}

/** Loads a named dataset or a path with its adapter. */
export function loadNamedDataset(
  nameOrPath: string,
  opts: { allFeatures?: boolean } = {},
): Result<{ ds: Dataset; name: string }, VigilError> {
  const r = resolveDataset(nameOrPath);
  const ds = loadDataset(r.path, r.load);
  if (!ds.ok) return ds;
  if (opts.allFeatures || !hasCicFeatures(ds.value.source)) return ok({ ds: ds.value, name: r.name });
  const portable = dropFeatures(ds.value, CIC_QUIRK_COLUMNS);
  return portable.ok ? ok({ ds: portable.value, name: r.name }) : portable;
}

/** The split `vigil train` uses: time within class where the data has times, else stratified. */
function defaultSplit(ds: Dataset): SplitMethod {
  return ds.time ? "time" : "stratified";
}

function describeSplit(method: SplitMethod, f: SplitFractions, seed: number): string {
  const pct = (v: number): string => `${Math.round(v * 100)}`;
  const parts = `${pct(f.train)}/${pct(f.valid)}/${pct(f.test)} %`;
  return method === "time"
    ? `time-ordered within each class, ${parts} train/valid/test (earliest flows train)`
    : `stratified at random, ${parts} train/valid/test, seed ${seed}`;
}

/** What a model file records about the dataset it was trained on. */
export function datasetBundleInfo(ds: Dataset, name: string): BundleDataset {
  return {
    source: ds.source,
    name,
    schemaHash: datasetSchemaHash(ds),
    featureNames: ds.featureNames,
    categorical: ds.categorical,
    classes: ds.classes,
    benign: ds.benign,
  };
}

/** The model file of a trained deep head, with its headline test figures. */
export function nnBundle(
  kind: "gru" | "cnn",
  model: NnModel,
  trainedOn: BundleDataset,
  report: SupervisedReport,
): { text: string; version: string } {
  const c = report.counts;
  return saveBundle(kind, saveNnModel(model), trainedOn, {
    split: report.split,
    trainRows: c.train,
    validRows: c.valid,
    testRows: c.test,
    accuracy: report.metrics.accuracy,
    macroF1: report.metrics.macroF1,
    rocAuc: report.attack.rocAuc,
    trainSeconds: report.training?.seconds ?? 0,
  });
}

/**
 * Scores a saved supervised model on a labelled dataset (name or path). When it is the dataset the model
 * was trained on, only the test part of the same split is scored, so training rows never count.
 */
export async function evalSupervisedModel(
  modelPath: string,
  dataset: string,
): Promise<Result<SupervisedReport, VigilError>> {
  const b = loadBundle(modelPath);
  if (!b.ok) return b;
  const { loaded, dataset: trainedOn, evaluation } = b.value;
  const r = resolveDataset(dataset);
  const dsr = loadDataset(r.path, { ...r.load, levelsFrom: trainedOn });
  if (!dsr.ok) return dsr;
  // The model's columns by name: a model without the quirk columns scores a table that has them.
  const wanted = new Set(trainedOn.featureNames);
  const extra = dsr.value.featureNames.filter((n) => !wanted.has(n));
  const sel = extra.length > 0 ? dropFeatures(dsr.value, extra) : dsr;
  if (!sel.ok) return sel;
  const full = sel.value;
  if (full.featureNames.join("\u0000") !== trainedOn.featureNames.join("\u0000"))
    return err(
      new VigilError(
        "usage",
        `${full.path} (${full.source}) does not have the features the model was trained on (${trainedOn.source})`,
        "evaluate on data of the same kind as the training set",
      ),
    );
  let ds = full;
  let scope = "every row";
  if (r.name === trainedOn.name && evaluation?.splitSpec) {
    const s = evaluation.splitSpec;
    const sp = splitDataset(full, s.method, s.fractions, s.seed);
    if (!sp.ok) return sp;
    ds = subset(full, sp.value.test);
    scope = `the test part of the training split (${evaluation.split})`;
  }
  if (loaded.kind === "gru") {
    const rep = await scoreSequenceModel(loaded.model, ds);
    return rep.ok ? ok({ ...rep.value, split: scope }) : rep;
  }
  if (loaded.kind !== "gbdt")
    return err(
      new VigilError(
        "usage",
        `${modelPath}: ${loaded.kind} models are evaluated on captures`,
        "give a capture and --labels",
      ),
    );
  // Classes by name: rows of a class the model does not know are counted apart.
  const classes = loaded.model.classes;
  const { keep, y, unknownClasses } = matchClasses(ds.rows, (i) => ds.classes[ds.y[i]!]!, classes);
  const rows = subset(ds, keep);
  const t0 = performance.now();
  const probs = predictProba(loaded.model, rows.x, rows.rows, new Float64Array(rows.rows * classes.length));
  const seconds = (performance.now() - t0) / 1000;
  const m = metricsFromProbs(probs, y, classes, trainedOn.benign);
  return ok({
    model: "gbdt",
    modelVersion: b.value.version,
    input: full.path,
    unit: "flows",
    split: `scored: ${scope}`,
    counts: { train: evaluation?.trainRows ?? 0, valid: evaluation?.validRows ?? 0, test: rows.rows },
    metrics: m.metrics,
    attack: m.attack,
    unknownClasses,
    scoring: { items: rows.rows, seconds, perSecond: seconds > 0 ? rows.rows / seconds : 0 },
  });
}

/** What a payload model's file records about its input: packet windows of labelled captures. */
export function payloadBundleInfo(model: NnModel, captures: string): BundleDataset {
  return {
    source: "packet-window",
    name: captures,
    schemaHash: model.meta.featureSchemaHash,
    featureNames: model.inputs.map((i) => i.name),
    categorical: [],
    classes: [...model.classes],
    benign: model.benign,
  };
}

/** Trains the GBDT flow classifier on a dataset and reports on its held-out test part. */
export function trainGbdtClassifier(req: GbdtTrainRequest): Result<TrainOutcome, VigilError> {
  const loaded = loadNamedDataset(req.dataset, { allFeatures: req.allFeatures ?? false });
  if (!loaded.ok) return loaded;
  const { ds, name } = loaded.value;
  if (ds.classes.length < 2)
    return err(
      new VigilError(
        "usage",
        `${ds.path} has one class only (${ds.classes[0] ?? "none"})`,
        "train on labelled data",
      ),
    );
  const seed = req.seed ?? 1;
  const method = req.split ?? defaultSplit(ds);
  const fractions = req.fractions ?? DEFAULT_FRACTIONS;
  const sp = splitDataset(ds, method, fractions, seed);
  if (!sp.ok) return sp;
  const split: DatasetSplit = sp.value;
  const train = subset(ds, split.train);
  const valid = subset(ds, split.valid);
  const test = subset(ds, split.test);
  const t0 = performance.now();
  const res = trainGbdt(
    {
      x: train.x,
      rows: train.rows,
      cols: ds.cols,
      y: train.y,
      classes: ds.classes,
      featureNames: ds.featureNames,
    },
    { ...req.gbdt, seed, ...(req.onProgress ? { onProgress: req.onProgress } : {}) },
    valid.rows > 0 ? { x: valid.x, rows: valid.rows, y: valid.y } : undefined,
  );
  const trainSeconds = (performance.now() - t0) / 1000;
  const splitText = describeSplit(method, fractions, seed);
  const modelText = saveGbdt(res.model, {
    params: res.params,
    trainedOn: { source: name, rows: train.rows, split: splitText },
    bestIteration: res.bestIteration,
    validLoss: res.bestValidLoss,
  });
  const s0 = performance.now();
  const probs = predictProba(res.model, test.x, test.rows, new Float64Array(test.rows * ds.classes.length));
  const scoreSeconds = (performance.now() - s0) / 1000;
  const m = metricsFromProbs(probs, test.y, ds.classes, ds.benign);
  const evaluation: BundleEvaluation = {
    split: splitText,
    splitSpec: { method, fractions, seed },
    trainRows: train.rows,
    validRows: valid.rows,
    testRows: test.rows,
    accuracy: m.metrics.accuracy,
    macroF1: m.metrics.macroF1,
    rocAuc: m.attack.rocAuc,
    trainSeconds,
  };
  const saved = saveBundle("gbdt", modelText, datasetBundleInfo(ds, name), evaluation);
  const report: SupervisedReport = {
    model: "gbdt",
    modelVersion: saved.version,
    input: ds.path,
    unit: "flows",
    split: `${splitText}; scored: the test part`,
    counts: { train: train.rows, valid: valid.rows, test: test.rows },
    metrics: m.metrics,
    attack: m.attack,
    unknownClasses: {},
    training: {
      epochs: res.roundsTrained,
      bestEpoch: res.bestIteration,
      seconds: trainSeconds,
      history: [],
      diverged: false,
    },
    scoring: {
      items: test.rows,
      seconds: scoreSeconds,
      perSecond: scoreSeconds > 0 ? test.rows / scoreSeconds : 0,
    },
  };
  return ok({
    report,
    bundle: saved.text,
    modelVersion: saved.version,
    dataset: { name, source: ds.source, path: ds.path, rows: ds.rows, rejected: ds.rejected },
  });
}
