// Softmax cross-entropy with class weights over a batch of logits (the loss of every neural head).

/**
 * Softmax of each row of `logits` ([n, K]) into `probs`, and the class-weighted mean cross-entropy
 * Σ w[y]·(−ln p[y]) / Σ w[y] (PyTorch's CrossEntropyLoss with `weight`, reduction "mean"). When `dLogits` is
 * given it receives the gradient w[y]·(p − onehot(y)) / Σ w[y]. Returns the loss and the weight sum (0 when
 * every row's class has weight 0, the loss is then 0).
 */
export function softmaxCrossEntropy(
  logits: Float64Array,
  labels: Int32Array,
  labelOff: number,
  n: number,
  K: number,
  weights: Float64Array,
  probs: Float64Array,
  dLogits: Float64Array | null,
): { loss: number; weight: number } {
  softmaxRows(logits, n, K, probs);
  let loss = 0;
  let wsum = 0;
  for (let r = 0; r < n; r++) {
    const y = labels[labelOff + r];
    const w = weights[y];
    wsum += w;
    // 1e-300: keeps ln finite when a probability underflows to 0 (the loss is then ~690, a clear signal).
    loss -= w * Math.log(probs[r * K + y] + 1e-300);
  }
  if (dLogits !== null) {
    const inv = wsum > 0 ? 1 / wsum : 0;
    for (let r = 0; r < n; r++) {
      const y = labels[labelOff + r];
      const w = weights[y] * inv;
      for (let k = 0; k < K; k++) dLogits[r * K + k] = w * (probs[r * K + k] - (k === y ? 1 : 0));
    }
  }
  return { loss: wsum > 0 ? loss / wsum : 0, weight: wsum };
}

/** Row-wise softmax (max-shifted, so large logits do not overflow). */
export function softmaxRows(logits: Float64Array, n: number, K: number, probs: Float64Array): void {
  for (let r = 0; r < n; r++) {
    const o = r * K;
    let mx = logits[o];
    for (let k = 1; k < K; k++) if (logits[o + k] > mx) mx = logits[o + k];
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(logits[o + k] - mx);
      probs[o + k] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let k = 0; k < K; k++) probs[o + k] *= inv;
  }
}

/**
 * Class weights from class counts: "balanced" gives n / (K'·n_c) over the K' classes present (so the weighted
 * classes count equally), "sqrt" its square root (a milder correction), "none" 1. Absent classes get 0.
 */
export function classWeightsFromCounts(
  counts: ArrayLike<number>,
  mode: "balanced" | "sqrt" | "none",
): Float64Array {
  const K = counts.length;
  const out = new Float64Array(K);
  let total = 0;
  let present = 0;
  for (let k = 0; k < K; k++) {
    total += counts[k];
    if (counts[k] > 0) present++;
  }
  for (let k = 0; k < K; k++) {
    if (counts[k] <= 0) continue;
    const bal = total / (present * counts[k]);
    out[k] = mode === "balanced" ? bal : mode === "sqrt" ? Math.sqrt(bal) : 1;
  }
  return out;
}
