// Train/validation/test splits of a Dataset as row index sets, per class: by time or stratified at random; subset() copies rows out.
import { err, ok, type Result, seededRng, VigilError } from "../core/index.ts";
import type { Dataset } from "./datasets/types.ts";

/** Share of each class's rows per part; non-negative, summing to 1. */
export interface SplitFractions {
  train: number;
  valid: number;
  test: number;
}

/** Row indices of each part, ascending; the parts are disjoint and together hold every row. */
export interface DatasetSplit {
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
}

export type SplitMethod = "time" | "stratified";

const PARTS = ["train", "valid", "test"] as const;
// Fractions are user input (flags): a sum within 1e-6 of 1 absorbs decimal rounding like 0.7 + 0.2 + 0.1.
const SUM_TOLERANCE = 1e-6;

/** Why the fractions cannot be used, or null. */
function fractionsProblem(f: SplitFractions): string | null {
  const v = PARTS.map((p) => f[p]);
  if (v.some((x) => !(Number.isFinite(x) && x >= 0))) return "split fractions must be finite and ≥ 0";
  const sum = v[0] + v[1] + v[2];
  if (Math.abs(sum - 1) > SUM_TOLERANCE) return `split fractions must sum to 1, got ${sum}`;
  return null;
}

function checkFractions(f: SplitFractions): void {
  const p = fractionsProblem(f);
  if (p) throw new RangeError(p);
}

/**
 * Rows per part for a class of `n` rows: largest remainder; then every part with a positive fraction gets
 * at least one row when the class has enough rows, taken from the largest part, so that tiny classes
 * (11 Heartbleed flows) still appear in validation and test.
 */
function partSizes(n: number, f: SplitFractions): [number, number, number] {
  const want = PARTS.map((p) => n * f[p]);
  const size = want.map(Math.floor) as [number, number, number];
  let left = n - size[0] - size[1] - size[2];
  const positive = [0, 1, 2].filter((p) => f[PARTS[p]] > 0);
  const byRemainder = [...positive].sort((a, b) => want[b] - size[b] - (want[a] - size[a]) || a - b);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length) {
    size[byRemainder[k]]++;
    left--;
  }
  if (n >= positive.length) {
    for (const p of positive) {
      if (size[p] > 0) continue;
      let big = 0;
      for (let q = 1; q < 3; q++) if (size[q] > size[big]) big = q;
      size[big]--;
      size[p]++;
    }
  }
  return size;
}

/** Rows grouped by class (counting sort, ascending row index inside a class). */
function byClass(ds: Dataset): { order: Int32Array; start: Int32Array } {
  const k = ds.classes.length;
  const start = new Int32Array(k + 1);
  for (let i = 0; i < ds.rows; i++) {
    const c = ds.y[i];
    if (!(c >= 0 && c < k)) throw new RangeError(`row ${i} has class ${c}, outside 0..${k - 1}`);
    start[c + 1]++;
  }
  for (let c = 0; c < k; c++) start[c + 1] += start[c];
  const fill = start.slice(0, k);
  const order = new Int32Array(ds.rows);
  for (let i = 0; i < ds.rows; i++) order[fill[ds.y[i]]++] = i;
  return { order, start };
}

/** Assigns each class's rows, in the order given, to train, valid, test; returns ascending index sets. */
function assign(ds: Dataset, order: Int32Array, start: Int32Array, f: SplitFractions): DatasetSplit {
  const part = new Uint8Array(ds.rows);
  const total = [0, 0, 0];
  for (let c = 0; c + 1 < start.length; c++) {
    const a = start[c];
    const [nTrain, nValid] = partSizes(start[c + 1] - a, f);
    for (let k = a; k < start[c + 1]; k++) {
      const p = k - a < nTrain ? 0 : k - a < nTrain + nValid ? 1 : 2;
      part[order[k]] = p;
      total[p]++;
    }
  }
  const out = [new Int32Array(total[0]), new Int32Array(total[1]), new Int32Array(total[2])];
  const at = [0, 0, 0];
  for (let i = 0; i < ds.rows; i++) out[part[i]][at[part[i]]++] = i;
  return { train: out[0], valid: out[1], test: out[2] };
}

/**
 * Splits each class by time: its earliest rows train, the next validate, the latest test (ties broken by
 * row order). Per class rather than one global cut, because each attack of CIC-IDS2017 ran on one day:
 * a global time split puts whole attack classes only in the test part (never trained on) and others only
 * in training (never tested). Per class, the model is still tested on later flows than it learned from.
 * Throws a RangeError when `time` is null or NaN, or the fractions are invalid; {@link splitDataset}
 * returns those as errors.
 */
export function timeSplit(ds: Dataset, fractions: SplitFractions): DatasetSplit {
  checkFractions(fractions);
  const time = ds.time;
  if (!time) throw new RangeError(`${ds.source} has no time column: use a stratified split`);
  for (let i = 0; i < ds.rows; i++) if (Number.isNaN(time[i])) throw new RangeError(`row ${i} has no time`);
  const { order, start } = byClass(ds);
  for (let c = 0; c + 1 < start.length; c++) {
    order.subarray(start[c], start[c + 1]).sort((a, b) => time[a] - time[b] || a - b);
  }
  return assign(ds, order, start, fractions);
}

/**
 * Splits each class at random (Fisher–Yates with the seeded core Rng), so every part keeps the class
 * proportions; the same seed gives the same split.
 */
export function stratifiedSplit(ds: Dataset, fractions: SplitFractions, seed: number): DatasetSplit {
  checkFractions(fractions);
  const { order, start } = byClass(ds);
  const rng = seededRng(seed);
  for (let c = 0; c + 1 < start.length; c++) {
    const a = start[c];
    for (let k = start[c + 1] - 1; k > a; k--) {
      const j = a + rng.int(k - a + 1);
      const t = order[k];
      order[k] = order[j];
      order[j] = t;
    }
  }
  return assign(ds, order, start, fractions);
}

/**
 * {@link timeSplit} or {@link stratifiedSplit} (with `seed`, default 0), with bad fractions and a time split
 * of a source without time returned as `usage` errors.
 */
export function splitDataset(
  ds: Dataset,
  method: SplitMethod,
  fractions: SplitFractions,
  seed = 0,
): Result<DatasetSplit, VigilError> {
  const problem = fractionsProblem(fractions);
  if (problem) return err(new VigilError("usage", problem, "e.g. train 0.7, valid 0.15, test 0.15"));
  if (method === "time") {
    if (!ds.time) {
      return err(
        new VigilError(
          "usage",
          `${ds.source} (${ds.path}) has no flow times, so it cannot be split by time`,
          "use the stratified split",
        ),
      );
    }
    if (ds.time.some(Number.isNaN)) {
      return err(new VigilError("usage", `${ds.path}: some rows have no time`, "use the stratified split"));
    }
    return ok(timeSplit(ds, fractions));
  }
  if (method === "stratified") return ok(stratifiedSplit(ds, fractions, seed));
  return err(
    new VigilError(
      "usage",
      `unknown split method "${String(method).slice(0, 40)}"`,
      'use "time" or "stratified"',
    ),
  );
}

/**
 * A copy of the rows `idx` (in that order): features, classes, time and host keys. Class, feature and
 * host tables and the load counts (`rejected`, …) are shared with `ds`.
 */
export function subset(ds: Dataset, idx: Int32Array): Dataset {
  const cols = ds.cols;
  const n = idx.length;
  const x = new Float32Array(n * cols);
  const y = new Int32Array(n);
  const time = ds.time ? new Float64Array(n) : null;
  const src = ds.keys ? new Int32Array(n) : null;
  const dst = ds.keys ? new Int32Array(n) : null;
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    if (!(i >= 0 && i < ds.rows)) throw new RangeError(`row index ${i} outside 0..${ds.rows - 1}`);
    x.set(ds.x.subarray(i * cols, (i + 1) * cols), k * cols);
    y[k] = ds.y[i];
    if (time) time[k] = ds.time![i];
    if (src && dst) {
      src[k] = ds.keys!.src[i];
      dst[k] = ds.keys!.dst[i];
    }
  }
  return {
    ...ds,
    x,
    rows: n,
    y,
    time,
    keys: ds.keys && src && dst ? { src, dst, hosts: ds.keys.hosts } : null,
  };
}
