// Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2) for GBDT margins, per output.

import type { GbdtModel, GbdtTree } from "./model.ts";
import { predictMargins } from "./predict.ts";

/** One feature's SHAP value, from {@link GbdtExplainer.topFeatures}. */
export interface ShapFeature {
  /** Column index. */
  feature: number;
  name: string;
  /** Contribution to the margin of the explained output. */
  value: number;
}

/**
 * SHAP values of a model's margins: the Shapley values of the features for the set function "expected margin
 * given the features in S", where a split on a feature outside S averages its children weighted by training
 * cover (the path-dependent expectation). Per output k they sum, with `expectedValue[k]`, to the margin.
 */
export class GbdtExplainer {
  readonly outputs: number;
  readonly cols: number;
  /** Expected margin per output: base score plus every tree's cover-weighted mean leaf value. */
  readonly expectedValue: Float64Array;
  private readonly model: GbdtModel;
  // Path storage for every recursion level at once: level d copies its parent's path to the slots after it.
  private readonly pd: Int32Array;
  private readonly pz: Float64Array;
  private readonly po: Float64Array;
  private readonly pw: Float64Array;
  // The call being served.
  private tree: GbdtTree;
  private x: Float32Array = new Float32Array(0);
  private off = 0;
  private out: Float64Array = new Float64Array(0);
  private outOff = 0;

  constructor(model: GbdtModel) {
    this.model = model;
    this.outputs = model.outputs;
    this.cols = model.featureNames.length;
    this.expectedValue = Float64Array.from(model.baseScore);
    let depth = 0;
    for (let t = 0; t < model.trees.length; t++) {
      const tree = model.trees[t];
      this.expectedValue[t % this.outputs] += expectation(tree, 0);
      depth = Math.max(depth, treeDepth(tree, 0));
    }
    const size = ((depth + 1) * (depth + 2)) / 2 + 1;
    this.pd = new Int32Array(size);
    this.pz = new Float64Array(size);
    this.po = new Float64Array(size);
    this.pw = new Float64Array(size);
    this.tree = model.trees[0];
  }

  /**
   * SHAP values of the row `x[row * cols ..]` into `out` (allocated when not given): for output k,
   * `out[k * (cols + 1) + f]` is feature f's value and `out[k * (cols + 1) + cols]` the expected value.
   * With `output`, only that output's values are computed (its trees only: 1/outputs of the work) and the
   * other outputs' slots are left zero.
   */
  shap(
    x: Float32Array,
    row: number,
    out: Float64Array = new Float64Array(this.outputs * (this.cols + 1)),
    output?: number,
  ): Float64Array {
    const { outputs, cols } = this;
    if (out.length < outputs * (cols + 1))
      throw new RangeError(`shap needs ${outputs * (cols + 1)} output slots`);
    if (!(Number.isInteger(row) && row >= 0 && (row + 1) * cols <= x.length))
      throw new RangeError(`row ${row} is outside x`);
    if (output !== undefined && !(Number.isInteger(output) && output >= 0 && output < outputs))
      throw new RangeError(`output must be in [0, ${outputs})`);
    out.fill(0, 0, outputs * (cols + 1));
    this.x = x;
    this.off = row * cols;
    this.out = out;
    const trees = this.model.trees;
    for (let k = output ?? 0; k < (output ?? outputs - 1) + 1; k++) {
      out[k * (cols + 1) + cols] = this.expectedValue[k];
      this.outOff = k * (cols + 1);
      for (let t = k; t < trees.length; t += outputs) {
        this.tree = trees[t];
        this.recurse(0, 0, 0, 1, 1, -1);
      }
    }
    return out;
  }

  /**
   * The k features with the largest |SHAP value| for a row (ties: lower column first), for one output:
   * by default the predicted class's (binary: output 0, the positive-class margin).
   */
  topFeatures(x: Float32Array, row: number, k: number, output?: number): ShapFeature[] {
    const { outputs, cols } = this;
    let o = output ?? 0;
    if (output === undefined && outputs > 1) {
      if (!(Number.isInteger(row) && row >= 0 && (row + 1) * cols <= x.length))
        throw new RangeError(`row ${row} is outside x`);
      const m = predictMargins(
        this.model,
        x.subarray(row * cols, (row + 1) * cols),
        1,
        new Float64Array(outputs),
      );
      for (let j = 1; j < outputs; j++) if (m[j] > m[o]) o = j;
    }
    const v = this.shap(x, row, undefined, o);
    return topShapFeatures(v.subarray(o * (cols + 1), o * (cols + 1) + cols), k, this.model.featureNames);
  }

  /** Walks one tree: extends the path by (pi, pz, po), credits leaves, recurses hot then cold child. */
  private recurse(node: number, ps: number, plen: number, pz: number, po: number, pi: number): void {
    const { pd, pz: Z, po: O, pw: W, tree } = this;
    const s = ps + plen;
    for (let i = 0; i < plen; i++) {
      pd[s + i] = pd[ps + i];
      Z[s + i] = Z[ps + i];
      O[s + i] = O[ps + i];
      W[s + i] = W[ps + i];
    }
    // EXTEND: the path grows by one feature; w[i] holds the weight of subsets of size i among its features.
    const l = plen;
    pd[s + l] = pi;
    Z[s + l] = pz;
    O[s + l] = po;
    W[s + l] = l === 0 ? 1 : 0;
    for (let i = l - 1; i >= 0; i--) {
      W[s + i + 1] += (po * W[s + i] * (i + 1)) / (l + 1);
      W[s + i] = (pz * W[s + i] * (l - i)) / (l + 1);
    }
    let len = l + 1;
    const f = tree.feature[node];
    if (f < 0) {
      const v = tree.value[node];
      const { out, outOff } = this;
      for (let i = 1; i < len; i++) {
        out[outOff + pd[s + i]] += unwoundSum(W, s, len, Z[s + i], O[s + i]) * (O[s + i] - Z[s + i]) * v;
      }
      return;
    }
    const xv = this.x[this.off + f];
    const goLeft = xv <= tree.threshold[node] || (Number.isNaN(xv) && tree.defaultLeft[node] === 1);
    const hot = goLeft ? tree.left[node] : tree.right[node];
    const cold = goLeft ? tree.right[node] : tree.left[node];
    let iz = 1;
    let io = 1;
    // A feature met again on the path: undo its earlier extension and carry its fractions forward.
    let k = 1;
    while (k < len && pd[s + k] !== f) k++;
    if (k < len) {
      iz = Z[s + k];
      io = O[s + k];
      unwind(pd, Z, O, W, s, len, k);
      len--;
    }
    const cover = tree.cover[node];
    this.recurse(hot, s, len, (iz * tree.cover[hot]) / cover, io, f);
    this.recurse(cold, s, len, (iz * tree.cover[cold]) / cover, 0, f);
  }
}

/** UNWIND: removes element k from the path at [s, s + len), restoring the weights as if never added. */
function unwind(
  pd: Int32Array,
  Z: Float64Array,
  O: Float64Array,
  W: Float64Array,
  s: number,
  len: number,
  k: number,
): void {
  const u = len - 1;
  const z = Z[s + k];
  const o = O[s + k];
  let next = W[s + u];
  for (let j = u - 1; j >= 0; j--) {
    if (o !== 0) {
      const t = W[s + j];
      W[s + j] = (next * (u + 1)) / ((j + 1) * o);
      next = t - (W[s + j] * z * (u - j)) / (u + 1);
    } else {
      W[s + j] = (W[s + j] * (u + 1)) / (z * (u - j));
    }
  }
  for (let j = k; j < u; j++) {
    pd[s + j] = pd[s + j + 1];
    Z[s + j] = Z[s + j + 1];
    O[s + j] = O[s + j + 1];
  }
}

/** Sum of the weights UNWIND would leave after removing an element with fractions (z, o); no writes. */
function unwoundSum(W: Float64Array, s: number, len: number, z: number, o: number): number {
  const u = len - 1;
  let total = 0;
  if (o !== 0) {
    let next = W[s + u];
    for (let j = u - 1; j >= 0; j--) {
      const t = (next * (u + 1)) / ((j + 1) * o);
      total += t;
      next = W[s + j] - (t * z * (u - j)) / (u + 1);
    }
  } else {
    for (let j = u - 1; j >= 0; j--) total += (W[s + j] * (u + 1)) / (z * (u - j));
  }
  return total;
}

/** Cover-weighted mean leaf value of the subtree at `node`: the tree's margin with no feature known. */
function expectation(tree: GbdtTree, node: number): number {
  if (tree.feature[node] < 0) return tree.value[node];
  const l = tree.left[node];
  const r = tree.right[node];
  return (tree.cover[l] * expectation(tree, l) + tree.cover[r] * expectation(tree, r)) / tree.cover[node];
}

function treeDepth(tree: GbdtTree, node: number): number {
  if (tree.feature[node] < 0) return 0;
  return 1 + Math.max(treeDepth(tree, tree.left[node]), treeDepth(tree, tree.right[node]));
}

/** The k entries of `values` with the largest magnitude, largest first (ties: lower index first). */
export function topShapFeatures(values: Float64Array, k: number, names: readonly string[]): ShapFeature[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  return order
    .slice(0, Math.max(0, k))
    .map((f) => ({ feature: f, name: names[f] ?? String(f), value: values[f] }));
}
