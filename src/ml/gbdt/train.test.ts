import { describe, expect, it } from "vitest";
import { seededRng } from "../../core/index.ts";
import {
  type GbdtConfig,
  type GbdtModel,
  type GbdtTree,
  predictClasses,
  predictMargins,
  predictProba,
  saveGbdt,
  trainGbdt,
  treeLeaf,
} from "./index.ts";

/** Rows of `cols` uniform features in [0, 1) with a label from `label(row)`. */
function synth(rows: number, cols: number, seed: number, label: (r: Float32Array) => number) {
  const rng = seededRng(seed);
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < cols; f++) x[i * cols + f] = rng.next();
    y[i] = label(x.subarray(i * cols, (i + 1) * cols));
  }
  return { x, y, rows, cols, featureNames: Array.from({ length: cols }, (_, f) => `f${f}`) };
}

const xor = (r: Float32Array): number => (r[0] > 0.3 !== r[1] > 0.6 ? 1 : 0);
const three = (r: Float32Array): number => (r[0] + r[2] < 0.7 ? 0 : r[1] > 0.5 ? 1 : 2);

function accuracy(model: GbdtModel, x: Float32Array, y: Int32Array): number {
  const pred = predictClasses(model, x, y.length, new Int32Array(y.length));
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

function depth(t: GbdtTree, n = 0): number {
  return t.feature[n] < 0 ? 0 : 1 + Math.max(depth(t, t.left[n]), depth(t, t.right[n]));
}

const leaves = (t: GbdtTree): number => t.feature.filter((f) => f < 0).length;

/** Weighted mean log loss from scored margins, as the trainer defines it (unit weights). */
function logLoss(model: GbdtModel, x: Float32Array, y: Int32Array): number {
  const k = model.outputs;
  const m = predictMargins(model, x, y.length, new Float64Array(y.length * k));
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    if (k === 1) {
      const z = y[i] === 1 ? -m[i] : m[i];
      sum += z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    } else {
      let mx = Number.NEGATIVE_INFINITY;
      for (let o = 0; o < k; o++) mx = Math.max(mx, m[i * k + o]);
      let z = 0;
      for (let o = 0; o < k; o++) z += Math.exp(m[i * k + o] - mx);
      sum += Math.log(z) + mx - m[i * k + y[i]];
    }
  }
  return sum / y.length;
}

describe("trainGbdt", () => {
  it("learns a binary XOR and a three-class rule to high held-out accuracy", () => {
    const tr = synth(4000, 4, 1, xor);
    const te = synth(2000, 4, 2, xor);
    const bin = trainGbdt({ ...tr, classes: ["a", "b"] }, { rounds: 60 });
    expect(bin.model.objective).toBe("binary");
    expect(bin.model.outputs).toBe(1);
    expect(bin.model.trees.length).toBe(60);
    expect(accuracy(bin.model, te.x, te.y)).toBeGreaterThan(0.97);

    const tr3 = synth(4000, 4, 3, three);
    const te3 = synth(2000, 4, 4, three);
    const multi = trainGbdt({ ...tr3, classes: ["p", "q", "r"] }, { rounds: 60 });
    expect(multi.model.objective).toBe("multiclass");
    expect(multi.model.trees.length).toBe(180);
    expect(accuracy(multi.model, te3.x, te3.y)).toBeGreaterThan(0.95);
    const p = predictProba(multi.model, te3.x, 50, new Float64Array(150));
    for (let i = 0; i < 50; i++) expect(p[3 * i] + p[3 * i + 1] + p[3 * i + 2]).toBeCloseTo(1, 12);
    const pb = predictProba(bin.model, te.x, 10, new Float64Array(20));
    const mb = predictMargins(bin.model, te.x, 10, new Float64Array(10));
    for (let i = 0; i < 10; i++) expect(pb[2 * i + 1]).toBeCloseTo(1 / (1 + Math.exp(-mb[i])), 14);
  });

  it("stores leaf values −lr·G/(H+λ) and covers H that match the rows the float32 thresholds route", () => {
    // First tree of a binary model without bagging: every row starts at the base score, so its gradient and
    // hessian are known; the tree's stored numbers come from binned histograms (with subtraction).
    const d = synth(3000, 5, 5, (r) => (r[0] + r[1] * r[3] > 0.8 ? 1 : 0));
    for (let i = 0; i < 300; i++) d.x[i * 5 + 1] = Number.NaN; // a feature with missing values
    const cfg: GbdtConfig = {
      rounds: 1,
      learningRate: 0.3,
      lambda: 2,
      minSamplesLeaf: 15,
      maxLeaves: 20,
      baggingFraction: 1,
      minSplitGain: 0,
    };
    const { model } = trainGbdt({ ...d, classes: ["a", "b"] }, cfg);
    const tree = model.trees[0];
    const p = 1 / (1 + Math.exp(-model.baseScore[0]));
    const G = new Float64Array(tree.feature.length);
    const H = new Float64Array(tree.feature.length);
    const C = new Int32Array(tree.feature.length);
    for (let i = 0; i < d.rows; i++) {
      const leaf = treeLeaf(tree, d.x, i * d.cols);
      G[leaf] += p - d.y[i];
      H[leaf] += p * (1 - p);
      C[leaf]++;
    }
    expect(leaves(tree)).toBe(20);
    expect(Array.from(tree.feature)).toContain(1);
    for (let n = 0; n < tree.feature.length; n++) {
      if (tree.feature[n] >= 0) {
        expect(tree.cover[n]).toBeCloseTo(tree.cover[tree.left[n]] + tree.cover[tree.right[n]], 9);
        expect(tree.value[n]).toBe(0);
        continue;
      }
      expect(C[n]).toBeGreaterThanOrEqual(15);
      expect(tree.cover[n]).toBeCloseTo(H[n], 9);
      expect(tree.value[n]).toBeCloseTo((-0.3 * G[n]) / (H[n] + 2), 9);
    }
  });

  it("keeps its internal margins equal to the scorer's on data with NaN, ±Infinity, bagging and 3 classes", () => {
    const d = synth(3000, 6, 6, three);
    const rng = seededRng(60);
    for (let i = 0; i < d.x.length; i++) {
      const u = rng.next();
      if (u < 0.05) d.x[i] = Number.NaN;
      else if (u < 0.07) d.x[i] = Number.POSITIVE_INFINITY;
      else if (u < 0.09) d.x[i] = Number.NEGATIVE_INFINITY;
    }
    const res = trainGbdt(
      { ...d, classes: ["p", "q", "r"] },
      { rounds: 15, baggingFraction: 0.6, featureFraction: 0.7, maxBins: 31, seed: 9 },
    );
    // The trainer routes rows by bins, the scorer by float32 thresholds: equal losses mean equal routes.
    expect(logLoss(res.model, d.x, d.y)).toBeCloseTo(res.trainLoss[res.trainLoss.length - 1], 12);
  });

  it("sends NaN to the side learnt for it, −Infinity left and +Infinity right", () => {
    // Class 1 when x0 is missing or above 0.5: a tree must learn NaN → the high side.
    const d = synth(4000, 3, 7, (r) => (r[0] > 0.5 ? 1 : 0));
    const rng = seededRng(70);
    for (let i = 0; i < d.rows; i++) {
      if (rng.next() < 0.3) {
        d.x[i * 3] = Number.NaN;
        d.y[i] = 1;
      }
    }
    const { model } = trainGbdt({ ...d, classes: ["lo", "hi"] }, { rounds: 20 });
    const probe = Float32Array.from([Number.NaN, 0.5, 0.5, 0.2, 0.5, 0.5, 0.9, 0.5, 0.5]);
    expect(Array.from(predictClasses(model, probe, 3, new Int32Array(3)))).toEqual([1, 0, 1]);
    // Thresholds are finite, so ±Infinity routes like ±float32 max at every split.
    const big = 3.4028234663852886e38;
    const t = synth(200, 3, 8, () => 0);
    for (let i = 0; i < 200; i++)
      t.x[i * 3 + (i % 3)] = i % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    const clamped = t.x.map((v) =>
      v === Number.POSITIVE_INFINITY ? big : v === Number.NEGATIVE_INFINITY ? -big : v,
    );
    const a = predictMargins(model, t.x, 200, new Float64Array(200));
    const b = predictMargins(model, clamped, 200, new Float64Array(200));
    expect(Array.from(a)).toEqual(Array.from(b));
    for (const tree of model.trees) for (const thr of tree.threshold) expect(Number.isFinite(thr)).toBe(true);
  });

  it("respects maxLeaves (leaf-wise), maxDepth (depth-wise) and minSamplesLeaf", () => {
    const d = synth(3000, 4, 9, three);
    const leafWise = trainGbdt({ ...d, classes: ["p", "q", "r"] }, { rounds: 5, maxLeaves: 5 });
    for (const t of leafWise.model.trees) expect(leaves(t)).toBeLessThanOrEqual(5);
    expect(Math.max(...leafWise.model.trees.map(leaves))).toBe(5);
    const depthWise = trainGbdt(
      { ...d, classes: ["p", "q", "r"] },
      { rounds: 5, growth: "depth", maxDepth: 3 },
    );
    expect(depthWise.params.maxLeaves).toBe(8);
    for (const t of depthWise.model.trees) expect(depth(t)).toBeLessThanOrEqual(3);
    expect(Math.max(...depthWise.model.trees.map((t) => depth(t)))).toBe(3);
    const big = trainGbdt({ ...d, classes: ["p", "q", "r"] }, { rounds: 3, minSamplesLeaf: 200 });
    for (const t of big.model.trees) {
      const count = new Int32Array(t.feature.length);
      for (let i = 0; i < d.rows; i++) count[treeLeaf(t, d.x, i * d.cols)]++;
      for (let n = 0; n < t.feature.length; n++)
        if (t.feature[n] < 0) expect(count[n]).toBeGreaterThanOrEqual(200);
    }
  });

  it("draws a feature subset per tree", () => {
    const d = synth(2000, 10, 10, (r) => (r[0] + r[3] + r[7] > 1.5 ? 1 : 0));
    const { model } = trainGbdt({ ...d, classes: ["a", "b"] }, { rounds: 20, featureFraction: 0.3 });
    const seen = new Set<number>();
    for (const t of model.trees) {
      const used = new Set(Array.from(t.feature).filter((f) => f >= 0));
      expect(used.size).toBeLessThanOrEqual(3);
      for (const f of used) seen.add(f);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it("is deterministic for a seed, and both histogram kernels give the same model bit for bit", () => {
    const d = synth(2500, 5, 11, three);
    for (let i = 0; i < 500; i++) d.x[i * 7] = Number.NaN;
    const cfg: GbdtConfig = { rounds: 8, baggingFraction: 0.7, featureFraction: 0.8, seed: 3 };
    const meta = {
      params: {},
      trainedOn: { source: "synthetic", rows: d.rows, split: "none" },
      bestIteration: 8,
      validLoss: null,
    };
    const a = saveGbdt(trainGbdt({ ...d, classes: ["p", "q", "r"] }, cfg).model, meta);
    const b = saveGbdt(trainGbdt({ ...d, classes: ["p", "q", "r"] }, cfg).model, meta);
    const js = saveGbdt(trainGbdt({ ...d, classes: ["p", "q", "r"] }, { ...cfg, kernel: "js" }).model, meta);
    const other = saveGbdt(trainGbdt({ ...d, classes: ["p", "q", "r"] }, { ...cfg, seed: 4 }).model, meta);
    expect(b).toBe(a);
    expect(js).toBe(a);
    expect(other).not.toBe(a);
  });

  it("stops early on the validation loss and keeps the best round", () => {
    // Labels are pure noise: the validation loss bottoms out within a few rounds, then rises.
    const rng = seededRng(12);
    const tr = synth(2000, 4, 13, () => (rng.next() < 0.5 ? 1 : 0));
    const va = synth(1000, 4, 14, () => (rng.next() < 0.5 ? 1 : 0));
    const rounds: number[] = [];
    const res = trainGbdt(
      { ...tr, classes: ["a", "b"] },
      { rounds: 200, earlyStoppingRounds: 5, minSamplesLeaf: 5, onProgress: (p) => rounds.push(p.round) },
      va,
    );
    expect(res.roundsTrained).toBeLessThan(200);
    expect(res.roundsTrained - res.bestIteration).toBe(5);
    expect(res.model.trees.length).toBe(res.bestIteration);
    const vl = Array.from(res.validLoss!);
    expect(Math.min(...vl)).toBe(vl[res.bestIteration - 1]);
    expect(res.bestValidLoss).toBe(vl[res.bestIteration - 1]);
    expect(logLoss(res.model, va.x, va.y)).toBeCloseTo(res.bestValidLoss!, 12);
    expect(rounds).toEqual(Array.from({ length: res.roundsTrained }, (_, i) => i + 1));
  });

  it("reports every round's losses to onProgress", () => {
    const tr = synth(1500, 3, 15, xor);
    const va = synth(500, 3, 16, xor);
    const seen: { round: number; trainLoss: number; validLoss: number | null }[] = [];
    const res = trainGbdt(
      { ...tr, classes: ["a", "b"] },
      { rounds: 12, onProgress: (p) => seen.push(p) },
      va,
    );
    expect(seen.map((p) => p.round)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(seen.map((p) => p.trainLoss)).toEqual(Array.from(res.trainLoss));
    expect(seen.map((p) => p.validLoss)).toEqual(Array.from(res.validLoss!));
    expect(seen[11].trainLoss).toBeLessThan(seen[0].trainLoss);
  });

  it("weights classes: 'balanced' raises the recall of a rare class", () => {
    // 5 % positives whose region overlaps the negatives: unweighted, the model mostly says "negative".
    const rng = seededRng(17);
    const make = (rows: number, seed: number) =>
      synth(rows, 2, seed, (r) => (r[0] > 0.8 && rng.next() < 0.3 ? 1 : 0));
    const tr = make(6000, 18);
    const te = make(6000, 19);
    const recall = (m: GbdtModel): number => {
      const pred = predictClasses(m, te.x, te.rows, new Int32Array(te.rows));
      let tp = 0;
      let pos = 0;
      for (let i = 0; i < te.rows; i++) {
        if (te.y[i] === 1) {
          pos++;
          if (pred[i] === 1) tp++;
        }
      }
      return tp / pos;
    };
    const plain = trainGbdt({ ...tr, classes: ["n", "p"] }, { rounds: 30 });
    const balanced = trainGbdt({ ...tr, classes: ["n", "p"] }, { rounds: 30, classWeight: "balanced" });
    expect(balanced.params.classWeights[1]).toBeGreaterThan(5);
    expect(recall(balanced.model)).toBeGreaterThan(recall(plain.model) + 0.3);
    const explicit = trainGbdt({ ...tr, classes: ["n", "p"] }, { rounds: 30, classWeight: [1, 10] });
    expect(explicit.params.classWeight).toBe("explicit");
    expect(recall(explicit.model)).toBeGreaterThan(recall(plain.model) + 0.3);
  });

  it("rejects shapes and settings that are caller bugs", () => {
    const d = synth(100, 2, 20, xor);
    const c = ["a", "b"];
    expect(() => trainGbdt({ ...d, rows: 99, classes: c })).toThrow(RangeError);
    expect(() => trainGbdt({ ...d, classes: ["a"] })).toThrow(RangeError);
    expect(() => trainGbdt({ ...d, classes: c, featureNames: ["x"] })).toThrow(RangeError);
    expect(() => trainGbdt({ ...d, y: d.y.map(() => 2), classes: c })).toThrow(RangeError);
    for (const bad of [
      { rounds: 0 },
      { learningRate: 0 },
      { maxLeaves: 1 },
      { maxBins: 256 },
      { baggingFraction: 1.5 },
      { featureFraction: 0 },
      { classWeight: [1] },
      { lambda: 0, minChildWeight: 0 },
      { growth: "depth", maxDepth: 0 },
    ] as GbdtConfig[])
      expect(() => trainGbdt({ ...d, classes: c }, bad)).toThrow(RangeError);
    expect(() =>
      trainGbdt({ ...d, classes: c }, {}, { x: new Float32Array(3), rows: 2, y: new Int32Array(2) }),
    ).toThrow(RangeError);
  });
});
