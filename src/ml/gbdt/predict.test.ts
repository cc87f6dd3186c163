import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "../../core/index.ts";
import {
  compileGbdt,
  type GbdtModel,
  type GbdtTree,
  predictClasses,
  predictMargins,
  treeLeaf,
} from "./index.ts";

/**
 * A random tree over `m` features with random default directions: bushy up to `maxDepth` ≤ 10, or with a
 * deeper `maxDepth` a chain whose every split has a leaf on one side; `leafOnly` for a one-leaf tree.
 */
function randomTree(rng: Rng, m: number, maxDepth: number, leafOnly = false): GbdtTree {
  const nodes: { f: number; t: number; l: number; r: number; d: number; v: number }[] = [];
  const chain = maxDepth > 10;
  const grow = (depth: number, split: boolean): number => {
    const id = nodes.length;
    nodes.push({ f: -1, t: 0, l: -1, r: -1, d: 0, v: rng.next() * 2 - 1 });
    if (split && !leafOnly && depth < maxDepth && (chain || depth < 2 || rng.next() < 0.6)) {
      const n = nodes[id];
      n.f = rng.int(m);
      // Thresholds on a coarse grid so that rows hit them exactly; now and then ±Infinity.
      const u = rng.next();
      n.t =
        u < 0.05
          ? Number.POSITIVE_INFINITY
          : u < 0.1
            ? Number.NEGATIVE_INFINITY
            : Math.fround(rng.int(9) / 8);
      n.d = rng.int(2);
      n.v = 0;
      const deeper = rng.int(2) === 0;
      n.l = grow(depth + 1, !chain || deeper);
      n.r = grow(depth + 1, !chain || !deeper);
    }
    return id;
  };
  grow(0, true);
  return {
    feature: Int32Array.from(nodes, (n) => n.f),
    threshold: Float32Array.from(nodes, (n) => n.t),
    left: Int32Array.from(nodes, (n) => n.l),
    right: Int32Array.from(nodes, (n) => n.r),
    defaultLeft: Uint8Array.from(nodes, (n) => n.d),
    value: Float64Array.from(nodes, (n) => n.v),
    cover: new Float64Array(nodes.length).fill(1),
  };
}

function randomModel(rng: Rng, outputs: number, trees: number, m: number, maxDepth: number): GbdtModel {
  return {
    objective: outputs === 1 ? "binary" : "multiclass",
    classes: Array.from({ length: Math.max(2, outputs) }, (_, i) => `c${i}`),
    featureNames: Array.from({ length: m }, (_, f) => `f${f}`),
    outputs,
    baseScore: Float64Array.from({ length: outputs }, () => rng.next()),
    trees: Array.from({ length: trees * outputs }, (_, t) => randomTree(rng, m, maxDepth, t === 1)),
  };
}

/** Values on the thresholds' grid, NaN, ±Infinity, −0. */
function randomRows(rng: Rng, rows: number, m: number): Float32Array {
  const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0];
  return Float32Array.from({ length: rows * m }, () =>
    rng.next() < 0.15 ? special[rng.int(4)] : Math.fround(rng.int(11) / 8 - 0.125),
  );
}

describe("predictMargins", () => {
  it("adds base score and each tree's leaf in the order of the trees, with both kernels bit for bit", () => {
    const rng = seededRng(1);
    for (const [outputs, trees, depth] of [
      [1, 30, 8],
      [4, 12, 6],
      [3, 3, 40], // deep chains
      [16, 5, 5],
    ]) {
      const m = 7;
      const model = randomModel(rng, outputs, trees, m, depth);
      const rows = 300;
      const x = randomRows(rng, rows, m);
      const expected = new Float64Array(rows * outputs);
      for (let i = 0; i < rows; i++) {
        for (let k = 0; k < outputs; k++) expected[i * outputs + k] = model.baseScore[k];
        for (let t = 0; t < model.trees.length; t++) {
          const tree = model.trees[t];
          expected[i * outputs + (t % outputs)] += tree.value[treeLeaf(tree, x, i * m)];
        }
      }
      const fast = compileGbdt(model);
      const js = compileGbdt(model, { kernel: "js" });
      expect(fast.wasm).not.toBeNull();
      expect(js.wasm).toBeNull();
      for (const c of [fast, js, model]) {
        const out = predictMargins(c, x, rows, new Float64Array(rows * outputs));
        expect(Array.from(out)).toEqual(Array.from(expected));
      }
      // One row per call, as a detector scores, and a batch larger than the generated code's buffer.
      const one = new Float64Array(outputs);
      for (let i = 0; i < 20; i++) {
        predictMargins(fast, x.subarray(i * m, (i + 1) * m), 1, one);
        expect(Array.from(one)).toEqual(Array.from(expected.subarray(i * outputs, (i + 1) * outputs)));
      }
    }
  });

  it("follows the split semantics: x <= threshold left, NaN by defaultLeft, −Infinity left, +Infinity right", () => {
    const stump = (threshold: number, defaultLeft: number): GbdtModel => ({
      objective: "binary",
      classes: ["a", "b"],
      featureNames: ["x"],
      outputs: 1,
      baseScore: new Float64Array(1),
      trees: [
        {
          feature: Int32Array.of(0, -1, -1),
          threshold: Float32Array.of(threshold, 0, 0),
          left: Int32Array.of(1, -1, -1),
          right: Int32Array.of(2, -1, -1),
          defaultLeft: Uint8Array.of(defaultLeft),
          value: Float64Array.of(0, -1, 1),
          cover: Float64Array.of(2, 1, 1),
        },
      ],
    });
    const x = Float32Array.of(
      0.5,
      0.25,
      0.75,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    );
    for (const kernel of ["auto", "js"] as const) {
      for (const [dl, nan] of [
        [0, 1],
        [1, -1],
      ]) {
        const out = predictMargins(compileGbdt(stump(0.5, dl), { kernel }), x, 6, new Float64Array(6));
        expect(Array.from(out)).toEqual([-1, -1, 1, nan, -1, 1]);
      }
    }
    expect(Array.from(predictClasses(stump(0.5, 0), x, 6, new Int32Array(6)))).toEqual([0, 0, 1, 1, 0, 1]);
  });

  it("rejects buffers that are too small", () => {
    const model = randomModel(seededRng(2), 2, 2, 3, 3);
    expect(() => predictMargins(model, new Float32Array(5), 2, new Float64Array(4))).toThrow(RangeError);
    expect(() => predictMargins(model, new Float32Array(6), 2, new Float64Array(3))).toThrow(RangeError);
  });
});
