// Feature binning for histogram GBDT: float32 bin edges from quantiles of a row sample, bins as column-major bytes.

import type { Rng } from "../../core/index.ts";

/** Most value bins per feature: value bins are 0..254 and the missing bin takes the next code (≤ 255). */
export const MAX_BINS = 255;

/**
 * Bin edges of every feature and the binned training matrix.
 *
 * Feature f has `numBins[f]` value bins; a value goes to the first bin b with `x <= edges[f][b]`, or to
 * the last value bin when it exceeds every edge. So "bin ≤ b" is exactly "x <= edges[f][b]" in float32,
 * the test a tree node stores. NaN goes to the missing bin, code `numBins[f]`. −Infinity lands in bin 0
 * and +Infinity in the last value bin, so they always go left and right of a split.
 */
export interface Binning {
  /** Value bins per feature (1 for a feature that cannot be split). */
  numBins: Int32Array;
  /** Per feature, the `numBins[f] − 1` strictly increasing float32 upper edges of bins 0..numBins[f]−2. */
  edges: Float32Array[];
  /** Bin code of row i, feature f at `bins[f * rows + i]` (column-major). */
  bins: Uint8Array;
  rows: number;
  cols: number;
}

/**
 * Chooses bin edges from up to `sampleRows` rows drawn without replacement and bins every row, into `out`
 * (rows × cols bytes) when given.
 */
export function buildBinning(
  x: Float32Array,
  rows: number,
  cols: number,
  maxBins: number,
  sampleRows: number,
  rng: Rng,
  out: Uint8Array = new Uint8Array(rows * cols),
): Binning {
  const { numBins, edges } = binEdges(x, rows, cols, maxBins, sampleRows, rng);
  return { numBins, edges, bins: binRows(x, rows, cols, edges, out), rows, cols };
}

/**
 * Bin edges from up to `sampleRows` rows drawn without replacement. Distinct sample values each get their
 * own bin while there are at most `maxBins`; otherwise the sorted values are cut at quantiles, a value
 * frequent enough to fill a bin on its own keeping a bin of its own.
 */
export function binEdges(
  x: Float32Array,
  rows: number,
  cols: number,
  maxBins: number,
  sampleRows: number,
  rng: Rng,
): Pick<Binning, "numBins" | "edges"> {
  const sample = sampleIndices(rows, Math.min(rows, sampleRows), rng);
  const numBins = new Int32Array(cols);
  const edges: Float32Array[] = [];
  const values = new Float32Array(sample.length);
  for (let f = 0; f < cols; f++) {
    let n = 0;
    for (let i = 0; i < sample.length; i++) {
      const v = x[sample[i] * cols + f];
      if (!Number.isNaN(v)) values[n++] = v; // NaN is left out: it has its own bin
    }
    const e = chooseEdges(values.subarray(0, n).sort(), maxBins);
    edges.push(e);
    numBins[f] = e.length + 1;
  }
  return { numBins, edges };
}

/** Bins every row into `out[f * rows + i]` and returns the filled part of `out`. */
export function binRows(
  x: Float32Array,
  rows: number,
  cols: number,
  edges: readonly Float32Array[],
  out: Uint8Array,
): Uint8Array {
  const bins = out.subarray(0, rows * cols);
  for (let f = 0; f < cols; f++)
    binColumn(x, rows, cols, f, edges[f], bins.subarray(f * rows, (f + 1) * rows));
  return bins;
}

/** `k` indices of [0, n) in ascending order, each subset equally likely (Knuth's selection sampling). */
export function sampleIndices(n: number, k: number, rng: Rng): Uint32Array {
  const out = new Uint32Array(k);
  if (k === n) {
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }
  let m = 0;
  for (let i = 0; i < n && m < k; i++) if (rng.next() * (n - i) < k - m) out[m++] = i;
  return out;
}

/** Upper edges of value bins for sorted finite-or-infinite values (no NaN). */
function chooseEdges(sorted: Float32Array, maxBins: number): Float32Array {
  const n = sorted.length;
  if (n === 0) return new Float32Array(0);
  // Distinct values and their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i];
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]++;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const d = distinct.length;
  const cuts: number[] = []; // index i: a cut between distinct[i] and distinct[i + 1]
  if (d <= maxBins) {
    for (let i = 0; i + 1 < d; i++) cuts.push(i);
  } else {
    let rest = n;
    let binsLeft = maxBins;
    let target = rest / binsLeft;
    let acc = 0;
    for (let i = 0; i + 1 < d && binsLeft > 1; i++) {
      acc += counts[i];
      // Cut when this bin is full, or when the next value alone fills a bin (it then starts its own).
      if (acc >= target || (counts[i + 1] >= target && acc > 0)) {
        cuts.push(i);
        rest -= acc;
        binsLeft--;
        target = rest / binsLeft;
        acc = 0;
      }
    }
  }
  const out = new Float32Array(cuts.length);
  for (let j = 0; j < cuts.length; j++) out[j] = edgeBetween(distinct[cuts[j]], distinct[cuts[j] + 1]);
  return out;
}

/** A float32 edge e with lo <= e < hi: the midpoint when it lands there, else lo itself. */
function edgeBetween(lo: number, hi: number): number {
  const mid = Math.fround(lo / 2 + hi / 2); // halves first: lo + hi can overflow float32 range
  return mid >= lo && mid < hi && Number.isFinite(mid) ? mid : lo;
}

/** Bins one feature column into `out` by binary search over its edges. */
function binColumn(
  x: Float32Array,
  rows: number,
  cols: number,
  f: number,
  edges: Float32Array,
  out: Uint8Array,
): void {
  const ne = edges.length;
  const missing = ne + 1;
  for (let i = 0; i < rows; i++) {
    const v = x[i * cols + f];
    if (Number.isNaN(v)) {
      out[i] = missing;
      continue;
    }
    let lo = 0;
    let hi = ne; // first edge with v <= edge lies in [lo, hi]; ne means "above every edge"
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v <= edges[mid]) hi = mid;
      else lo = mid + 1;
    }
    out[i] = lo;
  }
}
