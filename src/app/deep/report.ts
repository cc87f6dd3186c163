// The evaluation report of the deep heads (GRU, CNN): per-class figures, macro-F1, confusion, attack-vs-benign AUC.

import {
  argmaxClasses,
  type BinaryMetrics,
  binaryMetrics,
  type ClassificationMetrics,
  classificationMetrics,
  type NnEpochProgress,
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
