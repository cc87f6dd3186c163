// GRU over a host's recent flows (`vigil train --model gru`): sequences from a flow Dataset, time split, train, score.

import { err, ok, type Result, seededRng, VigilError } from "../../core/index.ts";
import { type Dataset, type DatasetSplit, type SplitFractions, splitDataset } from "../../learn/index.ts";
import {
  classWeightsFromCounts,
  fitNetwork,
  initNnModel,
  Network,
  type NnData,
  type NnEpochProgress,
  type NnFitOptions,
  type NnInput,
  type NnModel,
  NormFitter,
  nnModelVersion,
  nnPredictProba,
} from "../../ml/index.ts";
import {
  checkDeepSettings,
  type DeepEvalReport,
  type DeepTrainResult,
  matchClasses,
  metricsFromProbs,
} from "./report.ts";

/** Settings of the sequence model and its training run. */
export interface SequenceModelOptions {
  /** Flows per sequence: the labelled flow and up to steps − 1 flows before it from the same source host. */
  steps: number;
  /** GRU hidden units. */
  hidden: number;
  /** ReLU layer widths between the GRU and the output layer. */
  headHidden: number[];
  /** Share of each class's flows, by time, to train, validate (early stopping) and test. */
  split: SplitFractions;
  /**
   * Which earlier flows a sequence may hold. "same-part" (default): only flows of the labelled flow's own
   * split part, so no flow is seen both in a training and in a test sequence. "all-earlier": every earlier
   * flow of the host, as a deployed model sees it; test sequences then start with flows the model trained on.
   */
  context: "same-part" | "all-earlier";
  /** Loss weight per class from the training counts (see classWeightsFromCounts). */
  classWeights: "balanced" | "sqrt" | "none";
  /** Training loop settings (epochs, batch size, learning rate, patience, weight decay). */
  fit: Partial<NnFitOptions>;
  /** Seeds weight init and shuffles. */
  seed: number;
}

export const DEFAULT_SEQUENCE_OPTIONS: SequenceModelOptions = {
  steps: 16, // CIC's attacker hosts open flows every few ms to s: 16 flows are seconds of context
  hidden: 32,
  headHidden: [32],
  split: { train: 0.7, valid: 0.1, test: 0.2 },
  context: "same-part",
  classWeights: "sqrt",
  fit: { maxEpochs: 30, batchSize: 64, learningRate: 2e-3, patience: 4 },
  seed: 1,
};

/** Sequences of a Dataset: sample i ends at flow `target[i]`, its steps are rows of the Dataset, oldest first. */
export interface HostSequences {
  steps: number;
  count: number;
  /** Dataset row of each step, [count, steps], −1 past the sample's length. */
  stepRows: Int32Array;
  lengths: Int32Array;
  /** The labelled (last) flow of each sample. */
  target: Int32Array;
}

/**
 * One sequence per flow of `targets` (in that order): the flow and the up to steps − 1 flows of `pool` from
 * the same source host that started before it (ties by row order). Flows without a source host stand alone.
 * `pool` must contain `targets`.
 */
export function buildHostSequences(
  ds: Dataset,
  pool: Int32Array,
  targets: Int32Array,
  steps: number,
): HostSequences {
  const src = ds.keys?.src;
  const time = ds.time;
  const order = Int32Array.from(pool).sort();
  const key = (r: number): number => (src ? src[r]! : -1);
  const t = (r: number): number => (time ? time[r]! : r);
  const sorted = Array.from(order).sort((a, b) => key(a) - key(b) || t(a) - t(b) || a - b);
  // Position of each pool row in the host-then-time order, and where its host's run starts.
  const pos = new Map<number, number>();
  const runStart = new Int32Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    pos.set(sorted[i]!, i);
    const same = i > 0 && key(sorted[i]!) === key(sorted[i - 1]!) && key(sorted[i]!) !== -1;
    runStart[i] = same ? runStart[i - 1]! : i;
  }
  const count = targets.length;
  const stepRows = new Int32Array(count * steps).fill(-1);
  const lengths = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const p = pos.get(targets[k]!);
    if (p === undefined)
      throw new RangeError(`buildHostSequences: target row ${targets[k]} is not in the pool`);
    const first = Math.max(runStart[p]!, p - steps + 1);
    const len = p - first + 1;
    lengths[k] = len;
    for (let s = 0; s < len; s++) stepRows[k * steps + s] = sorted[first + s]!;
  }
  return { steps, count, stepRows, lengths, target: Int32Array.from(targets) };
}

/** The sequences as network samples: each step is the flow's raw feature row; labels are the last flow's class. */
export function sequenceTrainData(ds: Dataset, seq: HostSequences, labels?: Int32Array): NnData {
  const F = ds.cols;
  const T = seq.steps;
  const x = ds.x;
  return {
    count: seq.count,
    labels: labels ?? Int32Array.from(seq.target, (r) => ds.y[r]!),
    gather(i: number, dst: Float64Array, off: number): number {
      const len = seq.lengths[i]!;
      for (let s = 0; s < len; s++) {
        const r = seq.stepRows[i * T + s]!;
        const src = r * F;
        const d = off + s * F;
        for (let f = 0; f < F; f++) dst[d + f] = x[src + f]!;
      }
      dst.fill(0, off + len * F, off + T * F);
      return len;
    },
  };
}

/** A time split of a Dataset (per class) and the host sequences of each part. */
export interface SequenceSplit {
  split: DatasetSplit;
  train: HostSequences;
  valid: HostSequences;
  test: HostSequences;
}

function needKeys(ds: Dataset): VigilError | null {
  if (!ds.keys)
    return new VigilError(
      "usage",
      `${ds.path} has no source host column, so its flows cannot be grouped into per-host sequences`,
      "train the GRU on a flow table with source addresses (CIC-IDS2017 or Vigil's flow export)",
    );
  if (!ds.time)
    return new VigilError(
      "usage",
      `${ds.path} has no flow start times, so a host's flows cannot be put in order`,
      "train the GRU on a flow table with timestamps",
    );
  return null;
}

/** Splits `ds` by time within each class and builds each part's sequences (see `context`). */
export function sequenceSplit(
  ds: Dataset,
  opts: Pick<SequenceModelOptions, "steps" | "split" | "context">,
): Result<SequenceSplit, VigilError> {
  const bad = needKeys(ds);
  if (bad) return err(bad);
  const s = splitDataset(ds, "time", opts.split);
  if (!s.ok) return err(s.error);
  const split = s.value;
  const all = Int32Array.from({ length: ds.rows }, (_, i) => i);
  const seqs = (rows: Int32Array): HostSequences =>
    buildHostSequences(ds, opts.context === "same-part" ? rows : all, rows, opts.steps);
  return ok({ split, train: seqs(split.train), valid: seqs(split.valid), test: seqs(split.test) });
}

function sequenceInput(ds: Dataset, train: HostSequences, steps: number): NnInput {
  const fitter = new NormFitter(new Uint8Array(ds.cols).fill(1)); // every CIC feature is a count, size, rate or time
  const F = ds.cols;
  for (const r of train.target) for (let f = 0; f < F; f++) fitter.add(f, ds.x[r * F + f]!);
  return {
    name: "flows",
    layout: "sequence",
    channels: F,
    length: steps,
    channelNames: [...ds.featureNames],
    norm: fitter.finish(),
  };
}

function timeRange(ds: Dataset, rows: Int32Array): { firstUs: number; lastUs: number } {
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    const t = ds.time?.[r] ?? Number.NaN;
    if (t < firstUs) firstUs = t;
    if (t > lastUs) lastUs = t;
  }
  return Number.isFinite(firstUs) ? { firstUs, lastUs } : { firstUs: 0, lastUs: 0 };
}

const SCORE_BATCH = 256; // samples per forward when scoring: big enough to amortise call overhead

/**
 * Trains the GRU sequence model on `ds` (a flow Dataset with source hosts and times): the time split of
 * each class trains, validates (early stopping) and tests; the report is on the test part.
 * Progress is reported after each epoch.
 */
export async function trainSequenceModel(
  ds: Dataset,
  options: Partial<SequenceModelOptions> = {},
  onProgress?: (p: NnEpochProgress) => void,
): Promise<Result<DeepTrainResult, VigilError>> {
  const opts: SequenceModelOptions = {
    ...DEFAULT_SEQUENCE_OPTIONS,
    ...options,
    fit: { ...DEFAULT_SEQUENCE_OPTIONS.fit, ...options.fit },
  };
  if (!(Number.isInteger(opts.steps) && opts.steps >= 1 && opts.steps <= 256))
    return err(new VigilError("usage", `steps must be an integer 1..256, got ${opts.steps}`));
  const badSetting = checkDeepSettings({
    fit: opts.fit,
    widths: [
      { name: "hidden", value: opts.hidden },
      ...opts.headHidden.map((value) => ({ name: "head width", value })),
    ],
  });
  if (badSetting) return err(badSetting);
  const sp = sequenceSplit(ds, opts);
  if (!sp.ok) return err(sp.error);
  const { split, train, valid, test } = sp.value;
  if (train.count === 0 || test.count === 0)
    return err(new VigilError("usage", `${ds.path}: too few flows to train and test a sequence model`));
  const trainData = sequenceTrainData(ds, train);
  const counts = new Float64Array(ds.classes.length);
  for (const y of trainData.labels) counts[y]++;
  const model0 = initNnModel(
    {
      kind: "gru-sequence",
      classes: ds.classes,
      benign: ds.benign,
      inputs: [sequenceInput(ds, train, opts.steps)],
      branches: [{ type: "gru", input: 0, hiddenSize: opts.hidden }],
      hidden: opts.headHidden,
    },
    seededRng(opts.seed),
  );
  const batch = opts.fit.batchSize ?? 64;
  const net = new Network(model0, Math.max(batch, SCORE_BATCH));
  const fit = fitNetwork(
    net,
    trainData,
    valid.count > 0 ? sequenceTrainData(ds, valid) : null,
    { ...opts.fit, seed: opts.seed, classWeights: classWeightsFromCounts(counts, opts.classWeights) },
    onProgress,
  );
  const model = net.toModel({
    featureSchemaHash: model0.meta.featureSchemaHash,
    trainedOn: { source: `${ds.source} ${ds.path}`, samples: train.count, ...timeRange(ds, split.train) },
    training: {
      steps: opts.steps,
      hidden: opts.hidden,
      headHidden: opts.headHidden.join(","),
      split: `time within class ${opts.split.train}/${opts.split.valid}/${opts.split.test}`,
      context: opts.context,
      classWeights: opts.classWeights,
      maxEpochs: opts.fit.maxEpochs ?? 30,
      batchSize: batch,
      learningRate: opts.fit.learningRate ?? 1e-3,
      weightDecay: opts.fit.weightDecay ?? 0,
      patience: opts.fit.patience ?? 4,
      seed: opts.seed,
    },
    epochs: fit.epochs,
    bestEpoch: fit.bestEpoch,
  });
  const scored = scoreSequences(model, ds, test);
  return ok({
    model,
    report: {
      ...scored,
      split: `time within class (${opts.split.train}/${opts.split.valid}/${opts.split.test}), context ${opts.context}`,
      counts: { train: train.count, valid: valid.count, test: test.count },
      training: {
        epochs: fit.epochs,
        bestEpoch: fit.bestEpoch,
        seconds: fit.seconds,
        history: fit.history,
        diverged: fit.diverged,
      },
    },
  });
}

/** Report fields of scoring `seq` with `model` (classes matched by name; unknown classes counted apart). */
function scoreSequences(
  model: NnModel,
  ds: Dataset,
  seq: HostSequences,
): Omit<DeepEvalReport, "split" | "counts" | "training"> {
  const {
    keep,
    y: labels,
    unknownClasses,
  } = matchClasses(seq.count, (i) => ds.classes[ds.y[seq.target[i]!]!]!, model.classes);
  const kept: HostSequences = {
    steps: seq.steps,
    count: keep.length,
    stepRows: new Int32Array(keep.length * seq.steps),
    lengths: Int32Array.from(keep, (i) => seq.lengths[i]!),
    target: Int32Array.from(keep, (i) => seq.target[i]!),
  };
  for (const [k, i] of keep.entries())
    kept.stepRows.set(seq.stepRows.subarray(i * seq.steps, (i + 1) * seq.steps), k * seq.steps);
  const t0 = performance.now();
  const net = new Network(model, SCORE_BATCH);
  const probs = nnPredictProba(net, sequenceTrainData(ds, kept, labels));
  const seconds = (performance.now() - t0) / 1000;
  const m = metricsFromProbs(probs, labels, model.classes, model.benign);
  return {
    model: "gru",
    modelVersion: nnModelVersion(model),
    input: `${ds.source} ${ds.path}`,
    unit: `flow, with up to ${seq.steps - 1} earlier flows of its source host`,
    metrics: m.metrics,
    attack: m.attack,
    unknownClasses,
    scoring: { items: kept.count, seconds, perSecond: seconds > 0 ? kept.count / seconds : 0 },
  };
}

/**
 * Scores every flow of `ds` (e.g. another file than the model was trained on) with its host's preceding
 * flows of the same file as context. The Dataset must have the model's features in the model's order.
 */
export async function scoreSequenceModel(
  model: NnModel,
  ds: Dataset,
): Promise<Result<DeepEvalReport, VigilError>> {
  if (model.kind !== "gru-sequence")
    return err(new VigilError("usage", `the model is a ${model.kind} model, not a GRU sequence model`));
  const bad = needKeys(ds);
  if (bad) return err(bad);
  const inp = model.inputs[0]!;
  if (inp.channels !== ds.cols || inp.channelNames.some((n, i) => n !== ds.featureNames[i]))
    return err(
      new VigilError(
        "usage",
        `${ds.path} does not have the ${inp.channels} flow features the model was trained on, in its order`,
        "score a flow table of the same kind (CIC-IDS2017 columns) or retrain the model on this one",
      ),
    );
  const all = Int32Array.from({ length: ds.rows }, (_, i) => i);
  const seq = buildHostSequences(ds, all, all, inp.length);
  return ok({
    ...scoreSequences(model, ds, seq),
    split: "every flow of the file; context: the host's earlier flows in the file",
    counts: { train: 0, valid: 0, test: seq.count },
  });
}
