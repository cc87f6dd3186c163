// Splits: disjoint parts that cover the data, per-class time order, stratified proportions, seeds, errors; subset copies rows.
import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../test/shared-data.ts";
import {
  type Dataset,
  type DatasetSplit,
  loadDataset,
  type SplitFractions,
  splitDataset,
  stratifiedSplit,
  subset,
  timeSplit,
} from "./index.ts";

const F: SplitFractions = { train: 0.7, valid: 0.15, test: 0.15 };

/** A dataset of `perClass[c]` rows of class c, interleaved, times decreasing with the row index. */
function synthetic(perClass: number[], withTime = true): Dataset {
  const rows = perClass.reduce((a, b) => a + b, 0);
  const y = new Int32Array(rows);
  const left = [...perClass];
  for (let i = 0, c = 0; i < rows; c = (c + 1) % perClass.length) {
    if (left[c] === 0) continue;
    left[c]--;
    y[i++] = c;
  }
  const cols = 2;
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    x[i * cols] = i;
    x[i * cols + 1] = -i;
  }
  const time = withTime ? Float64Array.from({ length: rows }, (_, i) => 1e15 - i * 1000) : null;
  return {
    source: "test",
    path: "synthetic",
    featureNames: ["a", "b"],
    categorical: [],
    x,
    rows,
    cols,
    y,
    classes: perClass.map((_, c) => `c${c}`),
    benign: 0,
    time,
    keys: {
      src: Int32Array.from(y),
      dst: new Int32Array(rows).fill(-1),
      hosts: perClass.map((_, c) => `h${c}`),
    },
    rejected: {},
  };
}

/** Parts are ascending, disjoint and cover 0..rows-1. */
function expectPartition(ds: Dataset, s: DatasetSplit): void {
  const seen = new Uint8Array(ds.rows);
  let unordered = 0;
  for (const part of [s.train, s.valid, s.test]) {
    for (let k = 0; k < part.length; k++) {
      if (k > 0 && !(part[k] > part[k - 1])) unordered++;
      seen[part[k]]++;
    }
  }
  expect(unordered).toBe(0);
  expect(seen.every((v) => v === 1)).toBe(true);
}

function perClassCounts(ds: Dataset, idx: Int32Array): number[] {
  const out = new Array(ds.classes.length).fill(0);
  for (const i of idx) out[ds.y[i]]++;
  return out;
}

/** Within every class, the latest train time ≤ the earliest valid time, and so on. */
function expectTimeOrder(ds: Dataset, s: DatasetSplit): void {
  const k = ds.classes.length;
  const range = (idx: Int32Array) => {
    const lo = new Array(k).fill(Number.POSITIVE_INFINITY);
    const hi = new Array(k).fill(Number.NEGATIVE_INFINITY);
    for (const i of idx) {
      lo[ds.y[i]] = Math.min(lo[ds.y[i]], ds.time![i]);
      hi[ds.y[i]] = Math.max(hi[ds.y[i]], ds.time![i]);
    }
    return { lo, hi };
  };
  const [tr, va, te] = [range(s.train), range(s.valid), range(s.test)];
  for (let c = 0; c < k; c++) {
    expect(tr.hi[c]).toBeLessThanOrEqual(Math.min(va.lo[c], te.lo[c]));
    expect(va.hi[c]).toBeLessThanOrEqual(te.lo[c]);
  }
}

describe("timeSplit", () => {
  it("splits each class by its own time order and covers every row once", () => {
    const ds = synthetic([100, 40, 11, 3, 1]);
    const s = timeSplit(ds, F);
    expectPartition(ds, s);
    expectTimeOrder(ds, s);
    expect(perClassCounts(ds, s.train)).toEqual([70, 28, 8, 1, 1]);
    expect(perClassCounts(ds, s.valid)).toEqual([15, 6, 2, 1, 0]);
    expect(perClassCounts(ds, s.test)).toEqual([15, 6, 1, 1, 0]);
    // Times fall with the row index here, so the test part holds each class's lowest row indices.
    expect(s.test[0]).toBe(0);
  });

  it("leaves a part with fraction 0 empty", () => {
    const ds = synthetic([10, 5]);
    const s = timeSplit(ds, { train: 0.8, valid: 0, test: 0.2 });
    expect(s.valid.length).toBe(0);
    expect(perClassCounts(ds, s.test)).toEqual([2, 1]);
  });

  it("throws on a dataset without time and on bad fractions", () => {
    expect(() => timeSplit(synthetic([5], false), F)).toThrow(/no time/);
    expect(() => timeSplit(synthetic([5]), { train: 0.5, valid: 0.5, test: 0.5 })).toThrow(/sum to 1/);
    expect(() => timeSplit(synthetic([5]), { train: -0.1, valid: 0.6, test: 0.5 })).toThrow(/≥ 0/);
  });
});

describe("stratifiedSplit", () => {
  it("keeps class proportions, covers every row once, and repeats with a seed", () => {
    const ds = synthetic([200, 50, 7]);
    const a = stratifiedSplit(ds, F, 42);
    expectPartition(ds, a);
    expect(perClassCounts(ds, a.train)).toEqual([140, 35, 5]);
    expect(perClassCounts(ds, a.valid)).toEqual([30, 8, 1]);
    expect(perClassCounts(ds, a.test)).toEqual([30, 7, 1]);
    expect(stratifiedSplit(ds, F, 42)).toEqual(a);
    expect(stratifiedSplit(ds, F, 43).train).not.toEqual(a.train);
  });
});

describe("splitDataset", () => {
  it("refuses a time split of a source without time, with a clear error", () => {
    const r = splitDataset(synthetic([5], false), "time", F);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe("usage");
      expect(r.error.message).toMatch(/no flow times, so it cannot be split by time/);
      expect(r.error.hint).toMatch(/stratified/);
    }
  });

  it("returns bad fractions and unknown methods as usage errors", () => {
    const r = splitDataset(synthetic([5]), "time", { train: 1, valid: 1, test: 0 });
    expect(!r.ok && r.error.code).toBe("usage");
    const m = splitDataset(synthetic([5]), "random" as never, F);
    expect(!m.ok && m.error.message).toMatch(/unknown split method/);
  });

  it("runs both methods", () => {
    const ds = synthetic([30, 10]);
    const t = splitDataset(ds, "time", F);
    const s = splitDataset(ds, "stratified", F, 7);
    expect(t.ok && s.ok).toBe(true);
    if (t.ok) expect(t.value).toEqual(timeSplit(ds, F));
    if (s.ok) expect(s.value).toEqual(stratifiedSplit(ds, F, 7));
  });
});

describe("subset", () => {
  it("copies the rows in the order given, with classes, time and host keys", () => {
    const ds = synthetic([4, 3]);
    const sub = subset(ds, Int32Array.from([5, 0, 2]));
    expect(sub.rows).toBe(3);
    expect(Array.from(sub.x)).toEqual([5, -5, 0, -0, 2, -2]);
    expect(Array.from(sub.y)).toEqual([ds.y[5], ds.y[0], ds.y[2]]);
    expect(Array.from(sub.time!)).toEqual([ds.time![5], ds.time![0], ds.time![2]]);
    expect(Array.from(sub.keys!.src)).toEqual([ds.keys!.src[5], ds.keys!.src[0], ds.keys!.src[2]]);
    expect(sub.classes).toBe(ds.classes);
    expect(() => subset(ds, Int32Array.from([7]))).toThrow(RangeError);
  });
});

describe.skipIf(!hasSharedData)("splits of the real CIC-IDS2017 sample", () => {
  it("time split: disjoint, covering, every class in every part, time order per class", () => {
    const r = loadDataset(sharedData("flows/cicids2017-improved/cicids2017-improved-dev.csv.gz"));
    if (!r.ok) throw r.error;
    const ds = r.value;
    const s = timeSplit(ds, F);
    expectPartition(ds, s);
    expectTimeOrder(ds, s);
    for (const part of [s.train, s.valid, s.test])
      expect(perClassCounts(ds, part).every((n) => n > 0)).toBe(true);
    // Heartbleed has 11 flows: 8 / 2 / 1 (largest remainder).
    const hb = ds.classes.indexOf("Heartbleed");
    expect([s.train, s.valid, s.test].map((p) => perClassCounts(ds, p)[hb])).toEqual([8, 2, 1]);
    const sub = subset(ds, s.test);
    expect(sub.rows).toBe(s.test.length);
    expect(sub.x[0]).toBe(ds.x[s.test[0] * ds.cols]);
  });
});

describe.skipIf(!hasSharedData)("splits of a source without time", () => {
  it("UNSW-NB15: time is refused, stratified works", () => {
    const r = loadDataset(sharedData("flows/unsw-nb15/unsw-nb15-dev.csv.gz"));
    if (!r.ok) throw r.error;
    expect(splitDataset(r.value, "time", F).ok).toBe(false);
    const s = splitDataset(r.value, "stratified", F, 1);
    expect(s.ok).toBe(true);
    if (s.ok) expectPartition(r.value, s.value);
  });
});
