// The evaluation report of the deep heads (GRU, CNN): per-class figures, macro-F1, confusion, attack-vs-benign AUC.

import { VigilError } from "../../core/index.ts";
import {
  argmaxClasses,
  type BinaryMetrics,
  binaryMetrics,
  type ClassificationMetrics,
  classificationMetrics,
  type NnEpochProgress,
  type NnFitOptions,
  type NnModel,
} from "../../ml/index.ts";

/** What `trainSequenceModel` / `trainPayloadModel` / `score*Model` report. */
export interface DeepEvalReport {
  model: "gru" | "cnn";
  modelVersion: string;
  /** The data scored (files), in words. */
  input: string;
  /** What one scored item is, in words. */
  unit: string;
  /** How the scored items were chosen (split), in words. */
  split: string;
  /** Items used to train, validate (early stopping) and score. */
  counts: { train: number; valid: number; test: number };
  /** Multi-class figures on the scored items: per class, macro and weighted means, confusion matrix. */
  metrics: ClassificationMetrics;
  /** Attack vs benign with the score 1 − P(benign): ROC AUC, average precision, confusion at 0.5. */
  attack: BinaryMetrics;
  /** Scored items whose true class the model does not know, by class (left out of `metrics`). */
  unknownClasses: Record<string, number>;
  /** The training run (absent when scoring a loaded model). */
  training?: {
    epochs: number;
    bestEpoch: number;
    seconds: number;
    history: NnEpochProgress[];
    diverged: boolean;
  };
  /** Scoring time of the scored items (inputs prepared, normalisation and network). */
  scoring: { items: number; seconds: number; perSecond: number };
}

/** A trained model and its report on the test part. */
export interface DeepTrainResult {
  model: NnModel;
  report: DeepEvalReport;
}

/** Per-class and binary figures from class probabilities ([n, K]) and true classes. */
export function metricsFromProbs(
  probs: Float64Array,
  yTrue: Int32Array,
  classes: readonly string[],
  benign: number,
): { metrics: ClassificationMetrics; attack: BinaryMetrics; predicted: Int32Array } {
  const K = classes.length;
  const predicted = argmaxClasses(probs, K);
  const attackScore = new Float64Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) attackScore[i] = 1 - probs[i * K + benign]!;
  return {
    metrics: classificationMetrics(yTrue, predicted, classes),
    attack: binaryMetrics(yTrue, attackScore, { negative: benign }),
    predicted,
  };
}

const isInt = (v: unknown, lo: number, hi: number): boolean =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** A usage error for a setting of the deep heads outside its range (they come from flags), or null. */
export function checkDeepSettings(s: {
  fit: Partial<NnFitOptions>;
  widths: { name: string; value: number }[];
  layers?: { name: string; outChannels: number; kernel: number; stride?: number }[];
}): VigilError | null {
  const bad = (what: string): VigilError =>
    new VigilError("usage", what, "see docs/detectors/gru-sequence.md or payload-cnn.md");
  const f = s.fit;
  if (f.maxEpochs !== undefined && !isInt(f.maxEpochs, 1, 10_000))
    return bad(`epochs must be an integer 1..10000, got ${f.maxEpochs}`);
  if (f.batchSize !== undefined && !isInt(f.batchSize, 1, 4_096))
    return bad(`batch size must be an integer 1..4096, got ${f.batchSize}`);
  if (f.patience !== undefined && !isInt(f.patience, 1, 10_000))
    return bad(`patience must be an integer ≥ 1, got ${f.patience}`);
  if (f.learningRate !== undefined && !(f.learningRate > 0 && f.learningRate <= 1))
    return bad(`learning rate must be in (0, 1], got ${f.learningRate}`);
  if (f.weightDecay !== undefined && !(f.weightDecay >= 0 && f.weightDecay < 1))
    return bad(`weight decay must be in [0, 1), got ${f.weightDecay}`);
  if (f.clipNorm !== undefined && !(f.clipNorm > 0))
    return bad(`gradient clip norm must be > 0, got ${f.clipNorm}`);
  for (const w of s.widths)
    if (!isInt(w.value, 1, 4_096)) return bad(`${w.name} must be an integer 1..4096, got ${w.value}`);
  for (const l of s.layers ?? []) {
    if (!isInt(l.outChannels, 1, 4_096))
      return bad(`${l.name} filters must be an integer 1..4096, got ${l.outChannels}`);
    if (!isInt(l.kernel, 1, 4_096))
      return bad(`${l.name} kernel must be an integer 1..4096, got ${l.kernel}`);
    if (l.stride !== undefined && !isInt(l.stride, 1, 4_096))
      return bad(`${l.name} stride must be an integer ≥ 1, got ${l.stride}`);
  }
  return null;
}

/** Items whose true class the model knows: their positions, the model's class index, and the others counted by name. */
export interface ClassMatch {
  /** Positions (0..count-1) of the items kept. */
  keep: Int32Array;
  /** The model's class index of each kept item. */
  y: Int32Array;
  unknownClasses: Record<string, number>;
}

/** Matches items' true class names to a model's classes by name. `nameOf(i)` is item i's true class. */
export function matchClasses(
  count: number,
  nameOf: (i: number) => string,
  classes: readonly string[],
): ClassMatch {
  const byName = new Map(classes.map((c, i) => [c, i]));
  const unknownClasses: Record<string, number> = {};
  const keep: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = nameOf(i);
    const k = byName.get(name);
    if (k === undefined) unknownClasses[name] = (unknownClasses[name] ?? 0) + 1;
    else {
      keep.push(i);
      y.push(k);
    }
  }
  return { keep: Int32Array.from(keep), y: Int32Array.from(y), unknownClasses };
}
