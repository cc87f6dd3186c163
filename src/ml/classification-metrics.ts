// Supervised classification metrics: confusion matrix, per-class precision/recall/F1, macro/weighted F1, accuracy; binary AUCs through metrics.ts.
import { type Confusion, confusion, rankScores } from "./metrics.ts";

/** One class's figures in a {@link ClassificationMetrics}. Undefined ratios (0/0) are 0, as scikit-learn's. */
export interface ClassMetrics {
  name: string;
  /** Rows whose true class this is. */
  support: number;
  /** Rows predicted as this class. */
  predicted: number;
  /** Rows of this class predicted as it. */
  correct: number;
  /** correct / predicted. */
  precision: number;
  /** correct / support. */
  recall: number;
  f1: number;
}

/** Multi-class figures from {@link classificationMetrics}. */
export interface ClassificationMetrics {
  classes: string[];
  /** classes.length² counts, row-major: matrix[t * k + p] = rows of true class t predicted as p. */
  matrix: Float64Array;
  perClass: ClassMetrics[];
  rows: number;
  /** Share of rows predicted right; NaN without rows. */
  accuracy: number;
  /**
   * Unweighted means over the classes that occur in the truth or the predictions (scikit-learn's default
   * label set), so a class absent from both does not pull the mean down; NaN when there are none.
   */
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  /** Means weighted by support. NaN without rows. */
  weightedPrecision: number;
  weightedRecall: number;
  weightedF1: number;
}

/** Attack-vs-benign figures of a score, from {@link binaryMetrics}. */
export interface BinaryMetrics {
  /** Rows whose class is not the negative one. */
  positives: number;
  negatives: number;
  /** ROC AUC and average precision of the score (metrics.ts rocAuc / prAuc); NaN with one class only. */
  rocAuc: number;
  prAuc: number;
  threshold: number;
  /** Counts and rates when rows with score ≥ threshold are flagged. */
  confusion: Confusion;
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

function checkClasses(y: Int32Array, k: number, what: string): void {
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (!(c >= 0 && c < k)) throw new RangeError(`${what}[${i}] = ${c}, outside 0..${k - 1}`);
  }
}

/** Counts of (true class, predicted class) pairs, row-major k × k. Throws on ids outside 0..k-1. */
export function confusionMatrix(yTrue: Int32Array, yPred: Int32Array, k: number): Float64Array {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`yTrue (${yTrue.length}) and yPred (${yPred.length}) differ in length`);
  }
  if (!(Number.isInteger(k) && k > 0))
    throw new RangeError(`class count must be a positive integer, got ${k}`);
  checkClasses(yTrue, k, "yTrue");
  checkClasses(yPred, k, "yPred");
  const m = new Float64Array(k * k);
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i] * k + yPred[i]]++;
  return m;
}

/** Per-class precision, recall, F1 and support, their macro and weighted means, and accuracy. */
export function classificationMetrics(
  yTrue: Int32Array,
  yPred: Int32Array,
  classes: readonly string[],
): ClassificationMetrics {
  const k = classes.length;
  const matrix = confusionMatrix(yTrue, yPred, k);
  const perClass: ClassMetrics[] = [];
  let correctAll = 0;
  let present = 0;
  const macro = [0, 0, 0];
  const weighted = [0, 0, 0];
  for (let c = 0; c < k; c++) {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += matrix[c * k + j];
      predicted += matrix[j * k + c];
    }
    const correct = matrix[c * k + c];
    correctAll += correct;
    const precision = ratio(correct, predicted);
    const recall = ratio(correct, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    perClass.push({ name: classes[c], support, predicted, correct, precision, recall, f1 });
    if (support > 0 || predicted > 0) {
      present++;
      macro[0] += precision;
      macro[1] += recall;
      macro[2] += f1;
    }
    weighted[0] += support * precision;
    weighted[1] += support * recall;
    weighted[2] += support * f1;
  }
  const rows = yTrue.length;
  const mean = (s: number, n: number) => (n > 0 ? s / n : Number.NaN);
  return {
    classes: [...classes],
    matrix,
    perClass,
    rows,
    accuracy: mean(correctAll, rows),
    macroPrecision: mean(macro[0], present),
    macroRecall: mean(macro[1], present),
    macroF1: mean(macro[2], present),
    weightedPrecision: mean(weighted[0], rows),
    weightedRecall: mean(weighted[1], rows),
    weightedF1: mean(weighted[2], rows),
  };
}

/**
 * The class of highest score per row, from row-major rows × k scores (probabilities or margins); the first
 * class wins ties, NaN never wins.
 */
export function argmaxClasses(scores: Float32Array | Float64Array, k: number): Int32Array {
  if (!(Number.isInteger(k) && k > 0) || scores.length % k !== 0) {
    throw new RangeError(`scores (${scores.length}) is not a multiple of ${k} classes`);
  }
  const rows = scores.length / k;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const s = scores[r * k + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/**
 * One score per row (higher = more likely an attack, e.g. 1 − P(benign)) against the truth collapsed to
 * two classes: class `negative` (default 0, the benign class of a Dataset built by learn) against every
 * other. ROC AUC, average precision and the confusion at `threshold` (default 0.5) come from metrics.ts.
 */
export function binaryMetrics(
  yTrue: Int32Array,
  scores: Float64Array,
  opts: { negative?: number; threshold?: number } = {},
): BinaryMetrics {
  if (yTrue.length !== scores.length) {
    throw new RangeError(`yTrue (${yTrue.length}) and scores (${scores.length}) differ in length`);
  }
  const negative = opts.negative ?? 0;
  const threshold = opts.threshold ?? 0.5;
  const labels = new Uint8Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) labels[i] = yTrue[i] === negative ? 0 : 1;
  const ranking = rankScores(scores, labels);
  return {
    positives: ranking.positives,
    negatives: ranking.negatives,
    rocAuc: ranking.rocAuc(),
    prAuc: ranking.prAuc(),
    threshold,
    confusion: confusion(scores, labels, threshold),
  };
}
