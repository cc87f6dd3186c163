// GBDT → ONNX round trip: onnxruntime's probabilities equal Vigil's own scores within 1e-5, ±Infinity and NaN included.
import { describe, expect, it } from "vitest";
import { isVigilError, type Rng, seededRng } from "../../core/index.ts";
import { type GbdtModel, type GbdtTree, predictProba, trainGbdt } from "../gbdt/index.ts";
import { exportGbdtOnnx, loadOnnxClassifier, ONNX_METADATA_KEYS, type OnnxClassifier } from "./index.ts";

const TOL = 1e-5;

/** Vigil's own probabilities for the rows (the gbdt scorer). */
function vigilProba(m: GbdtModel, x: Float32Array, rows: number): Float64Array {
  return predictProba(m, x, rows, new Float64Array(rows * m.classes.length));
}

/** A tree grown at random: each node splits with probability `split` until `depth`; thresholds from `pool`. */
function randomTree(rng: Rng, features: number, depth: number, pool: Float32Array, split = 0.8): GbdtTree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const defaultLeft: number[] = [];
  const value: number[] = [];
  const grow = (d: number): number => {
    const i = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    defaultLeft.push(0);
    value.push(0);
    if (d < depth && rng.next() < split) {
      feature[i] = rng.int(features);
      threshold[i] = pool[rng.int(pool.length)];
      defaultLeft[i] = rng.next() < 0.5 ? 1 : 0;
      left[i] = grow(d + 1);
      right[i] = grow(d + 1);
    } else {
      value[i] = (rng.next() * 2 - 1) * 0.3;
    }
    return i;
  };
  grow(0);
  return {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft),
    value: Float64Array.from(value),
    cover: new Float64Array(feature.length).fill(1),
  };
}

/** Rows whose values hit thresholds exactly, plus NaN, ±Infinity, −0, denormals and float32 extremes. */
function hostileRows(rng: Rng, rows: number, features: number, pool: Float32Array): Float32Array {
  const special = [
    Number.NaN,
    Infinity,
    -Infinity,
    -0,
    1e-45,
    -1e-45,
    3.4028234663852886e38,
    -3.4028234663852886e38,
  ];
  const x = new Float32Array(rows * features);
  for (let i = 0; i < x.length; i++) {
    const u = rng.next();
    x[i] =
      u < 0.15 ? special[rng.int(special.length)] : u < 0.5 ? pool[rng.int(pool.length)] : rng.next() * 4 - 2;
  }
  return x;
}

function randomModel(
  seed: number,
  classes: string[],
  objective: GbdtModel["objective"],
  rounds: number,
): GbdtModel {
  const rng = seededRng(seed);
  const features = 6;
  const pool = Float32Array.from({ length: 40 }, () => rng.next() * 4 - 2);
  const outputs = objective === "binary" ? 1 : classes.length;
  return {
    objective,
    classes,
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    outputs,
    baseScore: Float64Array.from({ length: outputs }, () => rng.next() - 0.5),
    trees: Array.from({ length: rounds * outputs }, () => randomTree(rng, features, 6, pool)),
  };
}

async function load(model: GbdtModel): Promise<OnnxClassifier> {
  const r = await loadOnnxClassifier(exportGbdtOnnx(model, { modelVersion: "test-7" }));
  if (!r.ok) throw r.error;
  return r.value;
}

async function maxDiff(model: GbdtModel, x: Float32Array, rows: number): Promise<number> {
  const clf = await load(model);
  const got = await clf.classify(x, rows, model.featureNames.length);
  await clf.close();
  if (!got.ok) throw got.error;
  const want = vigilProba(model, x, rows);
  const c = model.classes.length;
  expect(got.value.probabilities.length).toBe(rows * c);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(want[i] - got.value.probabilities[i]));
  // The exported label is the most probable class (ties aside, which random float data does not make).
  for (let r = 0; r < rows; r++) {
    const row = Array.from(want.subarray(r * c, (r + 1) * c));
    const best = row.indexOf(Math.max(...row));
    if (Math.abs(row[best] - [...row].sort((a, b) => b - a)[1]) > 1e-4) {
      expect(got.value.classIndex[r]).toBe(best);
      expect(got.value.labels[r]).toBe(model.classes[best]);
    }
  }
  return worst;
}

/**
 * A model trained by Vigil's trainer on rows whose first three features move with the class, with NaN and
 * ±Infinity among the values (so learnt NaN directions and infinite inputs are exercised).
 */
function trainedModel(classes: string[], seed: number): GbdtModel {
  const rng = seededRng(seed);
  const rows = 3000;
  const cols = 8;
  const x = new Float32Array(rows * cols);
  const y = Int32Array.from({ length: rows }, () => rng.int(classes.length));
  for (let i = 0; i < x.length; i++) {
    const u = rng.next();
    const c = i % cols;
    const shift = c < 3 ? y[Math.floor(i / cols)] * 0.7 : 0;
    x[i] =
      u < 0.05
        ? Number.NaN
        : u < 0.07
          ? rng.next() < 0.5
            ? Infinity
            : -Infinity
          : shift + rng.next() * 3 - 1.5;
  }
  const featureNames = Array.from({ length: cols }, (_, c) => `f${c}`);
  return trainGbdt({ x, rows, cols, y, classes, featureNames }, { rounds: 100, seed }).model;
}

const stump = (feature: number, thr: number, lo: number, hi: number, defaultLeft: number): GbdtTree => ({
  feature: Int32Array.from([feature, -1, -1]),
  threshold: Float32Array.from([thr, 0, 0]),
  left: Int32Array.from([1, -1, -1]),
  right: Int32Array.from([2, -1, -1]),
  defaultLeft: Uint8Array.from([defaultLeft, 0, 0]),
  value: Float64Array.from([0, lo, hi]),
  cover: Float64Array.from([2, 1, 1]),
});

const leafOnly = (v: number): GbdtTree => ({
  feature: Int32Array.from([-1]),
  threshold: new Float32Array(1),
  left: Int32Array.from([-1]),
  right: Int32Array.from([-1]),
  defaultLeft: new Uint8Array(1),
  value: Float64Array.from([v]),
  cover: Float64Array.from([1]),
});

describe("exportGbdtOnnx", () => {
  it("binary: x <= thr left, NaN by defaultLeft, +Inf right, −Inf left, as the contract says", async () => {
    const thr = Math.fround(0.1); // not exact in decimal: the float32 value itself must be compared
    const model: GbdtModel = {
      objective: "binary",
      classes: ["benign", "attack"],
      featureNames: ["a", "b"],
      outputs: 1,
      baseScore: Float64Array.from([-0.25]),
      trees: [stump(0, thr, -1, 1, 1), stump(1, 0, 0.5, -0.5, 0)],
    };
    const cases: [number, number, number][] = [
      // a, b, expected margin
      [thr, 0, -0.25 - 1 + 0.5], // a == thr goes left; b == 0 goes left
      [Math.fround(0.1000001), 1e-45, -0.25 + 1 - 0.5], // just above thr; a denormal above 0
      [Number.NaN, Number.NaN, -0.25 - 1 - 0.5], // NaN: left in tree 0, right in tree 1
      [Infinity, -Infinity, -0.25 + 1 + 0.5],
      [-Infinity, Infinity, -0.25 - 1 - 0.5],
      [-0, -0, -0.25 - 1 + 0.5],
    ];
    const x = Float32Array.from(cases.flatMap((c) => c.slice(0, 2)));
    const clf = await load(model);
    const got = await clf.classify(x, cases.length, 2);
    await clf.close();
    if (!got.ok) throw got.error;
    cases.forEach(([, , margin], r) => {
      const p = 1 / (1 + Math.exp(-margin));
      expect(got.value.probabilities[2 * r + 1]).toBeCloseTo(p, 6);
      expect(got.value.probabilities[2 * r]).toBeCloseTo(1 - p, 6);
      expect(got.value.labels[r]).toBe(margin > 0 ? "attack" : "benign");
    });
  });

  it("binary model trained by trainGbdt, on hostile rows and its own thresholds: within 1e-5", async () => {
    const model = trainedModel(["benign", "attack"], 11);
    expect(model.trees.length).toBeGreaterThan(10);
    const pool = Float32Array.from(model.trees.flatMap((t) => Array.from(t.threshold)));
    const rows = 3000;
    expect(await maxDiff(model, hostileRows(seededRng(12), rows, 8, pool), rows)).toBeLessThan(TOL);
  });

  it("multiclass model trained by trainGbdt (5 classes, 100 rounds): within 1e-5", async () => {
    const model = trainedModel(["benign", "dos", "scan", "brute", "exfil"], 13);
    expect(model.objective).toBe("multiclass");
    const pool = Float32Array.from(model.trees.flatMap((t) => Array.from(t.threshold)));
    const rows = 2000;
    expect(await maxDiff(model, hostileRows(seededRng(14), rows, 8, pool), rows)).toBeLessThan(TOL);
  });

  it("multiclass round trip on a random 5-class, 60-round model: within 1e-5", async () => {
    const model = randomModel(21, ["benign", "dos", "scan", "brute", "exfil"], "multiclass", 60);
    const pool = Float32Array.from(model.trees.flatMap((t) => Array.from(t.threshold)));
    const rows = 1500;
    const diff = await maxDiff(model, hostileRows(seededRng(22), rows, 6, pool), rows);
    expect(diff).toBeLessThan(TOL);
  });

  it("a two-class softmax model, all-positive leaves, root leaves and zero rounds export correctly", async () => {
    const rng = seededRng(31);
    const pool = Float32Array.from({ length: 20 }, () => rng.next() * 4 - 2);
    const x = hostileRows(rng, 300, 6, pool);
    const twoSoftmax = randomModel(32, ["a", "b"], "multiclass", 20);
    expect(await maxDiff(twoSoftmax, x, 300)).toBeLessThan(TOL);
    const positive = randomModel(33, ["a", "b"], "binary", 10);
    for (const t of positive.trees)
      for (let i = 0; i < t.value.length; i++) t.value[i] = Math.abs(t.value[i]);
    positive.trees.push(leafOnly(0.75));
    expect(await maxDiff(positive, x, 300)).toBeLessThan(TOL);
    const empty: GbdtModel = { ...randomModel(34, ["a", "b", "c"], "multiclass", 0), trees: [] };
    expect(await maxDiff(empty, x, 300)).toBeLessThan(TOL);
    const emptyBinary: GbdtModel = { ...randomModel(35, ["a", "b"], "binary", 0), trees: [] };
    expect(await maxDiff(emptyBinary, x, 300)).toBeLessThan(TOL);
  });

  it("declares input [N, F], label int64 [N], probabilities [N, C] and Vigil's metadata", async () => {
    const model = randomModel(41, ["benign", "dos", "scan"], "multiclass", 3);
    const clf = await load(model);
    await clf.close();
    expect(clf.inputs).toEqual([{ name: "input", type: "tensor(float)", shape: ["N", 6] }]);
    expect(clf.outputs).toEqual([
      { name: "label", type: "tensor(int64)", shape: ["N"] },
      { name: "probabilities", type: "tensor(float)", shape: ["N", 3] },
    ]);
    expect(clf.features).toBe(6);
    expect(clf.convention).toBe("label+probabilities");
    expect(clf.classes).toEqual(["benign", "dos", "scan"]);
    expect(clf.metadata[ONNX_METADATA_KEYS.kind]).toBe("gbdt");
    expect(clf.metadata[ONNX_METADATA_KEYS.modelVersion]).toBe("test-7");
    expect(JSON.parse(clf.metadata[ONNX_METADATA_KEYS.featureNames])).toEqual(model.featureNames);
  });

  it("refuses an inconsistent model with an internal VigilError", () => {
    const model = randomModel(51, ["a", "b"], "binary", 2);
    model.trees[1].left[0] = 99;
    let caught: unknown;
    try {
      exportGbdtOnnx(model);
    } catch (e) {
      caught = e;
    }
    expect(isVigilError(caught) && caught.code === "internal").toBe(true);
    expect(() => exportGbdtOnnx({ ...model, baseScore: new Float64Array(2) })).toThrow(/baseScore/);
  });
});
