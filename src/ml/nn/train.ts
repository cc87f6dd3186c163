// Mini-batch training of a Network: seeded shuffles, class-weighted loss, Adam, early stopping on a validation set.

import { seededRng } from "../../core/index.ts";
import { Adam, clipGradNorm } from "./adam.ts";
import type { Network } from "./network.ts";

/** Samples a network trains on or scores, read one at a time into its input buffer. */
export interface NnData {
  readonly count: number;
  /** Class index per sample (read for training and losses only). */
  readonly labels: Int32Array;
  /**
   * Writes sample `i`'s raw vector (the network's sampleSize values, padding included) into dst[off..] and
   * returns its sequence length (any value when the model has no sequence input).
   */
  gather(i: number, dst: Float64Array, off: number): number;
}

/** Settings of `fitNetwork`. */
export interface NnFitOptions {
  /** Upper bound on epochs; early stopping usually ends sooner. */
  maxEpochs: number;
  batchSize: number;
  learningRate: number;
  /** AdamW decoupled weight decay on weight matrices. */
  weightDecay: number;
  /** Global gradient-norm bound per step (keeps BPTT from exploding). */
  clipNorm: number;
  /** Epochs without a better validation loss before stopping. */
  patience: number;
  /** Seeds the shuffles. */
  seed: number;
  /** Loss weight per class (see classWeightsFromCounts); default 1 for every class. */
  classWeights?: Float64Array;
}

export const DEFAULT_NN_FIT: NnFitOptions = {
  maxEpochs: 30,
  batchSize: 64,
  learningRate: 1e-3,
  weightDecay: 0,
  clipNorm: 5,
  patience: 4,
  seed: 1,
};

/** What the progress callback gets after each epoch. */
export interface NnEpochProgress {
  epoch: number;
  maxEpochs: number;
  /** Class-weighted mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Class-weighted validation loss after the epoch, null without a validation set. */
  validLoss: number | null;
  bestEpoch: number;
  /** Seconds since training started. */
  seconds: number;
}

export interface NnFitResult {
  epochs: number;
  /** Epoch whose weights the network holds now (1-based). */
  bestEpoch: number;
  bestValidLoss: number | null;
  history: NnEpochProgress[];
  /** True when the loss became non-finite; the network then holds the last good weights. */
  diverged: boolean;
  seconds: number;
}

/**
 * Trains `net` in place. After the run the network holds the weights of the epoch with the lowest validation
 * loss (or of the last epoch without a validation set).
 */
export function fitNetwork(
  net: Network,
  train: NnData,
  valid: NnData | null,
  options: Partial<NnFitOptions> = {},
  onProgress?: (p: NnEpochProgress) => void,
): NnFitResult {
  const o: NnFitOptions = { ...DEFAULT_NN_FIT, ...options };
  if (!(o.batchSize >= 1 && o.batchSize <= net.maxBatch))
    throw new RangeError(`fitNetwork: batchSize must be 1..${net.maxBatch} (the network's maxBatch)`);
  const K = net.classCount;
  const weights = o.classWeights ?? new Float64Array(K).fill(1);
  const t0 = performance.now();
  const adam = new Adam(net.params, net.grads, net.decayMask, {
    learningRate: o.learningRate,
    weightDecay: o.weightDecay,
  });
  const rng = seededRng(o.seed);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const batchLabels = new Int32Array(net.maxBatch);
  const S = net.sampleSize;
  const best = Float64Array.from(net.params);
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let stale = 0;
  let diverged = false;
  const history: NnEpochProgress[] = [];
  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < order.length; start += o.batchSize) {
      const n = Math.min(o.batchSize, order.length - start);
      for (let b = 0; b < n; b++) {
        const idx = order[start + b];
        net.lengths[b] = train.gather(idx, net.x, b * S);
        batchLabels[b] = train.labels[idx];
      }
      net.grads.fill(0);
      const r = net.trainStep(batchLabels, 0, n, weights);
      if (!Number.isFinite(r.loss)) {
        diverged = true;
        break;
      }
      if (r.weight === 0) continue;
      clipGradNorm(net.grads, o.clipNorm);
      adam.step();
      lossSum += r.loss * r.weight;
      weightSum += r.weight;
    }
    if (diverged) break;
    const trainLoss = weightSum > 0 ? lossSum / weightSum : 0;
    const validLoss = valid !== null && valid.count > 0 ? nnLoss(net, valid, weights) : null;
    const score = validLoss ?? trainLoss;
    if (!Number.isFinite(score)) {
      diverged = true;
      break;
    }
    // 1e-4 relative: an improvement smaller than this is noise, not a reason to keep going.
    if (score < bestLoss * (1 - 1e-4) || bestEpoch === 0) {
      bestLoss = score;
      bestEpoch = epoch;
      best.set(net.params);
      stale = 0;
    } else stale++;
    const p: NnEpochProgress = {
      epoch,
      maxEpochs: o.maxEpochs,
      trainLoss,
      validLoss,
      bestEpoch,
      seconds: (performance.now() - t0) / 1000,
    };
    history.push(p);
    onProgress?.(p);
    if (valid !== null && stale >= o.patience) break;
  }
  if (bestEpoch > 0) net.params.set(best);
  return {
    epochs: history.length,
    bestEpoch,
    bestValidLoss: valid !== null && bestEpoch > 0 ? bestLoss : null,
    history,
    diverged,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Class-weighted mean cross-entropy of the network on `data` (no gradients). */
export function nnLoss(net: Network, data: NnData, classWeights: Float64Array): number {
  const S = net.sampleSize;
  const K = net.classCount;
  let lossSum = 0;
  let weightSum = 0;
  for (let start = 0; start < data.count; start += net.maxBatch) {
    const n = Math.min(net.maxBatch, data.count - start);
    for (let b = 0; b < n; b++) net.lengths[b] = data.gather(start + b, net.x, b * S);
    const probs = net.forward(n);
    for (let b = 0; b < n; b++) {
      const y = data.labels[start + b];
      const w = classWeights[y];
      // 1e-300 as in softmaxCrossEntropy: a probability that underflowed still gives a finite loss.
      lossSum -= w * Math.log(probs[b * K + y] + 1e-300);
      weightSum += w;
    }
  }
  return weightSum > 0 ? lossSum / weightSum : 0;
}

/** Class probabilities of every sample of `data`, [count, classCount] row-major. */
export function nnPredictProba(net: Network, data: NnData, out?: Float64Array): Float64Array {
  const S = net.sampleSize;
  const K = net.classCount;
  const res = out ?? new Float64Array(data.count * K);
  for (let start = 0; start < data.count; start += net.maxBatch) {
    const n = Math.min(net.maxBatch, data.count - start);
    for (let b = 0; b < n; b++) net.lengths[b] = data.gather(start + b, net.x, b * S);
    const probs = net.forward(n);
    res.set(probs.subarray(0, n * K), start * K);
  }
  return res;
}
