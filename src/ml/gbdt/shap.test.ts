import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "../../core/index.ts";
import {
  GbdtExplainer,
  type GbdtModel,
  type GbdtTree,
  predictMargins,
  topShapFeatures,
  trainGbdt,
} from "./index.ts";

/** E[tree | features in `known` (bitmask) take x's values], the others averaged by cover (path-dependent). */
function condExp(t: GbdtTree, x: Float32Array, off: number, known: number, n = 0): number {
  const f = t.feature[n];
  if (f < 0) return t.value[n];
  if (known & (1 << f)) {
    const v = x[off + f];
    const left = v <= t.threshold[n] || (Number.isNaN(v) && t.defaultLeft[n] === 1);
    return condExp(t, x, off, known, left ? t.left[n] : t.right[n]);
  }
  const l = t.left[n];
  const r = t.right[n];
  return (t.cover[l] * condExp(t, x, off, known, l) + t.cover[r] * condExp(t, x, off, known, r)) / t.cover[n];
}

/** Shapley values of output k by enumerating every subset of the M features. */
function bruteShap(model: GbdtModel, x: Float32Array, row: number, k: number): Float64Array {
  const m = model.featureNames.length;
  const off = row * m;
  const value = new Float64Array(1 << m);
  for (let s = 0; s < 1 << m; s++) {
    let v = model.baseScore[k];
    for (let t = k; t < model.trees.length; t += model.outputs) v += condExp(model.trees[t], x, off, s);
    value[s] = v;
  }
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const phi = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let s = 0; s < 1 << m; s++) {
      if (s & (1 << i)) continue;
      let size = 0;
      for (let j = 0; j < m; j++) if (s & (1 << j)) size++;
      phi[i] += ((fact(size) * fact(m - size - 1)) / fact(m)) * (value[s | (1 << i)] - value[s]);
    }
  }
  return phi;
}

/** A random tree over `m` features: repeated features on a path, random default directions, additive covers. */
function randomTree(rng: Rng, m: number, maxDepth: number): GbdtTree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const defaultLeft: number[] = [];
  const value: number[] = [];
  const cover: number[] = [];
  const grow = (depth: number): number => {
    const id = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    defaultLeft.push(0);
    value.push(0);
    cover.push(0);
    if (depth < maxDepth && (depth < 2 || rng.next() < 0.7)) {
      feature[id] = rng.int(m);
      threshold[id] = Math.fround(rng.next());
      defaultLeft[id] = rng.int(2);
      left[id] = grow(depth + 1);
      right[id] = grow(depth + 1);
      cover[id] = cover[left[id]] + cover[right[id]];
    } else {
      value[id] = rng.next() * 4 - 2;
      cover[id] = 0.5 + rng.next() * 10;
    }
    return id;
  };
  grow(0);
  return {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft),
    value: Float64Array.from(value),
    cover: Float64Array.from(cover),
  };
}

function randomRows(rng: Rng, rows: number, m: number, nanShare: number): Float32Array {
  const x = new Float32Array(rows * m);
  for (let i = 0; i < x.length; i++) x[i] = rng.next() < nanShare ? Number.NaN : rng.next();
  return x;
}

describe("GbdtExplainer (TreeSHAP)", () => {
  it("equals brute-force Shapley values of the path-dependent expectation on random trees", () => {
    const rng = seededRng(1);
    const m = 6;
    for (let trial = 0; trial < 12; trial++) {
      const outputs = trial % 3 === 0 ? 3 : 1;
      const model: GbdtModel = {
        objective: outputs === 1 ? "binary" : "multiclass",
        classes: outputs === 1 ? ["a", "b"] : ["a", "b", "c"],
        featureNames: Array.from({ length: m }, (_, f) => `f${f}`),
        outputs,
        baseScore: Float64Array.from({ length: outputs }, () => rng.next() - 0.5),
        trees: Array.from({ length: 2 * outputs }, () => randomTree(rng, m, 4 + (trial % 4))),
      };
      const ex = new GbdtExplainer(model);
      const x = randomRows(rng, 8, m, 0.2);
      const out = new Float64Array(outputs * (m + 1));
      for (let row = 0; row < 8; row++) {
        ex.shap(x, row, out);
        for (let k = 0; k < outputs; k++) {
          const brute = bruteShap(model, x, row, k);
          for (let f = 0; f < m; f++) expect(out[k * (m + 1) + f]).toBeCloseTo(brute[f], 10);
          // The empty set's value is the expected value.
          let e = model.baseScore[k];
          for (let t = k; t < model.trees.length; t += outputs) e += condExp(model.trees[t], x, row * m, 0);
          expect(out[k * (m + 1) + m]).toBeCloseTo(e, 10);
        }
      }
    }
  });

  it("equals brute force on a trained three-class model", () => {
    const rng = seededRng(2);
    const m = 5;
    const rows = 1500;
    const x = randomRows(rng, rows, m, 0.05);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const a = x[i * m] || 0;
      y[i] = a + (x[i * m + 1] || 0) > 1 ? 0 : (x[i * m + 2] || 0) > 0.4 ? 1 : 2;
    }
    const { model } = trainGbdt(
      { x, y, rows, cols: m, classes: ["p", "q", "r"], featureNames: ["a", "b", "c", "d", "e"] },
      { rounds: 4, maxLeaves: 12, minSamplesLeaf: 10 },
    );
    const ex = new GbdtExplainer(model);
    for (let row = 0; row < 10; row++) {
      const out = ex.shap(x, row);
      for (let k = 0; k < 3; k++) {
        const brute = bruteShap(model, x, row, k);
        for (let f = 0; f < m; f++) expect(out[k * (m + 1) + f]).toBeCloseTo(brute[f], 10);
      }
    }
  });

  it("adds up, with the expected value, to each output's margin", () => {
    const rng = seededRng(3);
    const m = 20;
    const rows = 3000;
    const x = randomRows(rng, rows, m, 0.03);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++)
      y[i] = ((x[i * m] || 0) * 3 + (x[i * m + 5] || 0) > 2 ? 1 : 0) + ((x[i * m + 9] || 0) > 0.7 ? 2 : 0);
    const names = Array.from({ length: m }, (_, f) => `f${f}`);
    for (const classes of [
      ["a", "b", "c", "d"],
      ["n", "p"],
    ]) {
      const yy = classes.length === 2 ? y.map((c) => (c >= 2 ? 1 : 0)) : y;
      const { model } = trainGbdt({ x, y: yy, rows, cols: m, classes, featureNames: names }, { rounds: 30 });
      const k = model.outputs;
      const margins = predictMargins(model, x, rows, new Float64Array(rows * k));
      const ex = new GbdtExplainer(model);
      const out = new Float64Array(k * (m + 1));
      for (let t = 0; t < 40; t++) {
        const row = rng.int(rows);
        ex.shap(x, row, out);
        for (let o = 0; o < k; o++) {
          let sum = 0;
          for (let f = 0; f <= m; f++) sum += out[o * (m + 1) + f];
          const margin = margins[row * k + o];
          expect(Math.abs(sum - margin)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(margin)));
        }
      }
    }
  });

  it("lists the top-k features by |SHAP value| for the predicted class or a chosen output", () => {
    const rng = seededRng(4);
    const m = 8;
    const rows = 2000;
    const x = randomRows(rng, rows, m, 0);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) y[i] = x[i * m + 3] > 0.6 ? 2 : x[i * m + 6] > 0.5 ? 1 : 0;
    const names = Array.from({ length: m }, (_, f) => `feat${f}`);
    const { model } = trainGbdt(
      { x, y, rows, cols: m, classes: ["a", "b", "c"], featureNames: names },
      { rounds: 20 },
    );
    const ex = new GbdtExplainer(model);
    const row = Array.from(y).indexOf(2);
    const top = ex.topFeatures(x, row, 3);
    expect(top).toHaveLength(3);
    expect(top[0].feature).toBe(3); // class 2 is decided by feature 3
    expect(top[0].name).toBe("feat3");
    const v = ex.shap(x, row);
    expect(top[0].value).toBe(v[2 * (m + 1) + 3]);
    for (let i = 1; i < top.length; i++)
      expect(Math.abs(top[i - 1].value)).toBeGreaterThanOrEqual(Math.abs(top[i].value));
    const forClass1 = ex.topFeatures(x, row, 2, 1);
    expect(forClass1[0].value).toBe(v[m + 1 + forClass1[0].feature]);
    expect(
      topShapFeatures(Float64Array.from([0.1, -3, 2, -3]), 3, ["a", "b", "c", "d"]).map((f) => f.name),
    ).toEqual(["b", "d", "c"]);
    expect(() => ex.topFeatures(x, row, 2, 3)).toThrow(RangeError);
    // One output alone: the same values as with all outputs, the others left zero.
    const only = ex.shap(x, row, undefined, 1);
    for (let j = 0; j < 3 * (m + 1); j++) expect(only[j]).toBe(j >= m + 1 && j < 2 * (m + 1) ? v[j] : 0);
  });
});
