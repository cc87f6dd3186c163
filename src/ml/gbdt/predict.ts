// GBDT scoring: trees compiled into flat typed arrays of split nodes (leaves as negative indices), batch scoring.

import type { GbdtModel, GbdtTree } from "./model.ts";
import { type WasmScorer, wasmScorer } from "./score-kernel.ts";

/**
 * A model compiled for batch scoring. Only split nodes are nodes: every tree's splits in preorder in shared
 * flat arrays, a child index ≥ 0 naming a split and a negative one, ~i, naming leaf i. A walk then tests one
 * index per step to know whether it has arrived, and reads no node record for a leaf.
 */
export interface CompiledGbdt {
  readonly outputs: number;
  readonly cols: number;
  readonly baseScore: Float64Array;
  /** Root of each tree (a split index, or ~leaf for a one-leaf tree); tree t adds to output t % outputs. */
  readonly roots: Int32Array;
  /** Split feature per split node. */
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  /** Children per split node: split index, or ~leaf index. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** 1 where NaN goes left. */
  readonly defaultLeft: Uint8Array;
  /** Value per leaf. */
  readonly leafValue: Float64Array;
  /** The same trees as generated WebAssembly (see score-kernel.ts), or null: then the arrays are walked. */
  readonly wasm: WasmScorer | null;
}

/** Options of {@link compileGbdt}. */
export interface CompileGbdtOptions {
  /**
   * "auto" (default): also generate WebAssembly code for the trees where the engine has WebAssembly (same
   * margins bit for bit, several times faster); "js": walk the typed arrays only.
   */
  kernel?: "auto" | "js";
}

// Models whose split arrays exceed this many bytes are scored tree-major over blocks of BLOCK_ROWS rows, so each
// tree is read from memory once per block; smaller ones stay in the 1 MB L2 and are scored row by row.
const ROW_MAJOR_BYTES = 256 * 1024;
const BLOCK_ROWS = 64;
const SPLIT_BYTES = 17; // feature, threshold, left, right (4 bytes each) and defaultLeft (1)

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
export function compileGbdt(model: GbdtModel, opts: CompileGbdtOptions = {}): CompiledGbdt {
  let splits = 0;
  let leaves = 0;
  for (const t of model.trees) {
    for (let n = 0; n < t.feature.length; n++) {
      if (t.feature[n] >= 0) splits++;
      else leaves++;
    }
  }
  const roots = new Int32Array(model.trees.length);
  const feature = new Int32Array(splits);
  const threshold = new Float32Array(splits);
  const left = new Int32Array(splits);
  const right = new Int32Array(splits);
  const defaultLeft = new Uint8Array(splits);
  const leafValue = new Float64Array(leaves);
  let nextSplit = 0;
  let nextLeaf = 0;
  // Preorder: a split's left subtree follows it directly, so a walk that goes left reads nearby memory.
  const place = (t: GbdtTree, node: number): number => {
    if (t.feature[node] < 0) {
      leafValue[nextLeaf] = t.value[node];
      return ~nextLeaf++;
    }
    const at = nextSplit++;
    feature[at] = t.feature[node];
    threshold[at] = t.threshold[node];
    defaultLeft[at] = t.defaultLeft[node];
    left[at] = place(t, t.left[node]);
    right[at] = place(t, t.right[node]);
    return at;
  };
  for (let t = 0; t < model.trees.length; t++) roots[t] = place(model.trees[t], 0);
  const trees = {
    outputs: model.outputs,
    cols: model.featureNames.length,
    baseScore: Float64Array.from(model.baseScore),
    roots,
    feature,
    threshold,
    left,
    right,
    defaultLeft,
    leafValue,
  };
  return { ...trees, wasm: opts.kernel === "js" ? null : wasmScorer(trees) };
}

function compiledOf(model: GbdtModel | CompiledGbdt): CompiledGbdt {
  if ("leafValue" in model) return model;
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
  const { outputs, cols, baseScore, roots, feature, threshold, left, right, defaultLeft, leafValue } = c;
  if (x.length < rows * cols || out.length < rows * outputs)
    throw new RangeError(`predictMargins needs ${rows * cols} values and ${rows * outputs} output slots`);
  if (c.wasm) {
    c.wasm.score(x, rows, out);
    return out;
  }
  for (let i = 0; i < rows; i++) for (let k = 0; k < outputs; k++) out[i * outputs + k] = baseScore[k];
  const trees = roots.length;
  const block = feature.length * SPLIT_BYTES > ROW_MAJOR_BYTES ? BLOCK_ROWS : 1;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let t = 0; t < trees; t++) {
      const root = roots[t];
      const k = t % outputs;
      for (let i = r0; i < r1; i++) {
        const off = i * cols;
        let n = root;
        while (n >= 0) {
          const v = x[off + feature[n]];
          // Not ≤ and not > is NaN: then the learnt default side.
          n = v <= threshold[n] ? left[n] : v > threshold[n] || defaultLeft[n] === 0 ? right[n] : left[n];
        }
        out[i * outputs + k] += leafValue[~n];
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
