// GBDT scoring: trees compiled into one flat preorder node array, scored tree-major over blocks of rows.

import type { GbdtModel, GbdtTree } from "./model.ts";

/**
 * A model compiled for batch scoring: every tree in preorder (left child at node + 1) in shared flat arrays,
 * so the walk reads one right-child index per node and a block of rows reuses each tree while it is in cache.
 */
export interface CompiledGbdt {
  readonly outputs: number;
  readonly cols: number;
  readonly baseScore: Float64Array;
  /** Root node of each tree; tree t adds to output t % outputs. */
  readonly roots: Int32Array;
  /** Split feature per node, −1 for a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  /** Right child per node (the left child is the next node). */
  readonly right: Int32Array;
  /** 1 where NaN goes left. */
  readonly defaultLeft: Uint8Array;
  /** Leaf value per node (0 for inner nodes). */
  readonly value: Float64Array;
}

// Rows scored together: each tree's nodes stay in L1 while it walks the whole block.
const BLOCK_ROWS = 64;

const compiled = new WeakMap<GbdtModel, CompiledGbdt>();

/** Leaf node that the row at `x[off ..]` reaches in one tree: `x <= threshold` left, NaN by defaultLeft. */
export function treeLeaf(tree: GbdtTree, x: Float32Array, off: number): number {
  const { feature, threshold, left, right, defaultLeft } = tree;
  let n = 0;
  for (let f = feature[0]; f >= 0; f = feature[n]) {
    const v = x[off + f];
    n = v <= threshold[n] || (Number.isNaN(v) && defaultLeft[n] === 1) ? left[n] : right[n];
  }
  return n;
}

/** Compiles a model for {@link predictMargins}. The model must not change afterwards. */
export function compileGbdt(model: GbdtModel): CompiledGbdt {
  let total = 0;
  for (const t of model.trees) total += t.feature.length;
  const roots = new Int32Array(model.trees.length);
  const feature = new Int32Array(total);
  const threshold = new Float32Array(total);
  const right = new Int32Array(total);
  const defaultLeft = new Uint8Array(total);
  const value = new Float64Array(total);
  let next = 0;
  const stack: number[] = [];
  for (let t = 0; t < model.trees.length; t++) {
    const tree = model.trees[t];
    roots[t] = next;
    // Preorder copy: pop (node, parent slot whose right child it is, or −1), emit it, push right then left.
    stack.push(0, -1);
    while (stack.length > 0) {
      const from = stack.pop()!;
      const node = stack.pop()!;
      const at = next++;
      if (from >= 0) right[from] = at;
      feature[at] = tree.feature[node];
      threshold[at] = tree.threshold[node];
      defaultLeft[at] = tree.defaultLeft[node];
      value[at] = tree.feature[node] < 0 ? tree.value[node] : 0;
      right[at] = -1;
      if (tree.feature[node] >= 0) {
        stack.push(tree.right[node], at, tree.left[node], -1);
      }
    }
  }
  return {
    outputs: model.outputs,
    cols: model.featureNames.length,
    baseScore: Float64Array.from(model.baseScore),
    roots,
    feature,
    threshold,
    right,
    defaultLeft,
    value,
  };
}

function compiledOf(model: GbdtModel | CompiledGbdt): CompiledGbdt {
  if ("roots" in model) return model;
  let c = compiled.get(model);
  if (!c) {
    c = compileGbdt(model);
    compiled.set(model, c);
  }
  return c;
}

/**
 * Margins (raw scores) of `rows` row-major rows of `x` into `out[row * outputs + k]`. A GbdtModel is compiled
 * on first use and the compiled form cached for that object, so treat a model as immutable once scored.
 * Allocation-free after that.
 */
export function predictMargins(
  model: GbdtModel | CompiledGbdt,
  x: Float32Array,
  rows: number,
  out: Float64Array,
): Float64Array {
  const c = compiledOf(model);
  const { outputs, cols, baseScore, roots, feature, threshold, right, defaultLeft, value } = c;
  if (x.length < rows * cols || out.length < rows * outputs)
    throw new RangeError(`predictMargins needs ${rows * cols} values and ${rows * outputs} output slots`);
  for (let i = 0; i < rows; i++) for (let k = 0; k < outputs; k++) out[i * outputs + k] = baseScore[k];
  const trees = roots.length;
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const r1 = Math.min(rows, r0 + BLOCK_ROWS);
    for (let t = 0; t < trees; t++) {
      const root = roots[t];
      const k = t % outputs;
      for (let i = r0; i < r1; i++) {
        const off = i * cols;
        let n = root;
        let f = feature[n];
        while (f >= 0) {
          const v = x[off + f];
          n = v <= threshold[n] || (Number.isNaN(v) && defaultLeft[n] === 1) ? n + 1 : right[n];
          f = feature[n];
        }
        out[i * outputs + k] += value[n];
      }
    }
  }
  return out;
}

/**
 * Class probabilities into `out[row * classes + c]`: [1 − p, p] for a binary model (sigmoid of the margin),
 * softmax of the margins for a multiclass one. `scratch` (rows × outputs) is allocated when not given.
 */
export function predictProba(
  model: GbdtModel | CompiledGbdt,
  x: Float32Array,
  rows: number,
  out: Float64Array,
  scratch?: Float64Array,
): Float64Array {
  const c = compiledOf(model);
  const k = c.outputs;
  const classes = k === 1 ? 2 : k;
  if (out.length < rows * classes) throw new RangeError(`predictProba needs ${rows * classes} output slots`);
  const m = predictMargins(c, x, rows, scratch ?? new Float64Array(rows * k));
  marginsToProba(m, rows, k, out);
  return out;
}

/** Turns margins (rows × outputs) into class probabilities (rows × classes); see {@link predictProba}. */
export function marginsToProba(
  margins: Float64Array,
  rows: number,
  outputs: number,
  out: Float64Array,
): void {
  if (outputs === 1) {
    for (let i = 0; i < rows; i++) {
      const p = 1 / (1 + Math.exp(-margins[i]));
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return;
  }
  for (let i = 0; i < rows; i++) {
    const o = i * outputs;
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < outputs; k++) mx = Math.max(mx, margins[o + k]);
    let z = 0;
    for (let k = 0; k < outputs; k++) {
      const e = Math.exp(margins[o + k] - mx);
      out[o + k] = e;
      z += e;
    }
    for (let k = 0; k < outputs; k++) out[o + k] /= z;
  }
}

/** Most probable class index per row into `out` (binary: margin > 0 is class 1). */
export function predictClasses(
  model: GbdtModel | CompiledGbdt,
  x: Float32Array,
  rows: number,
  out: Int32Array,
  scratch?: Float64Array,
): Int32Array {
  const c = compiledOf(model);
  const k = c.outputs;
  if (out.length < rows) throw new RangeError(`predictClasses needs ${rows} output slots`);
  const m = predictMargins(c, x, rows, scratch ?? new Float64Array(rows * k));
  for (let i = 0; i < rows; i++) {
    if (k === 1) {
      out[i] = m[i] > 0 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let j = 1; j < k; j++) if (m[i * k + j] > m[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}
