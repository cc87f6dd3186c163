// GBDT scoring as WebAssembly generated for one model: each split a float32 compare with a constant and a branch.
//
// A generic walk loads a split's feature, threshold and child from memory and takes one shared branch that
// mispredicts at every level; generated code has a branch of its own per split, which the CPU predicts per
// split, and no loads besides the row's value. Leaf values are added in tree order, as the typed-array walk
// adds them, so both give the same margins bit for bit.

import {
  ByteWriter,
  F64,
  f32Bytes,
  f64Bytes,
  fnBody,
  HEADER,
  I32,
  MEMORY_IMPORT,
  name,
  op,
  PAGE,
  section,
  sleb,
  uleb,
  wasmApi,
} from "./wasm.ts";

/** What the generator needs of a compiled model (see `CompiledGbdt`). */
export interface ScoringTrees {
  outputs: number;
  cols: number;
  baseScore: Float64Array;
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  leafValue: Float64Array;
}

/** Scores with generated code; same contract as `predictMargins` (sizes already checked). */
export interface WasmScorer {
  score(x: Float32Array, rows: number, out: Float64Array): void;
}

// Rows copied into WebAssembly memory per call of the generated function.
const BATCH_ROWS = 256;
// From this many rows a batch is copied with set() (memcpy; one view object) instead of element by element, which
// keeps a call that scores one flow free of allocation.
const COPY_VIEW_ROWS = 16;
// Splits per generated function: V8 compiles functions one by one, and smaller ones tier up sooner.
const SPLITS_PER_FUNCTION = 4096;
// Above this many splits the code (about 16 bytes a split) takes too long to compile to be worth it.
const MAX_SPLITS = 1_000_000;

/** Generates, compiles and instantiates the scorer; null where WebAssembly is missing or the model too large. */
export function wasmScorer(t: ScoringTrees): WasmScorer | null {
  if (!wasmApi || t.feature.length > MAX_SPLITS) return null;
  const { outputs, cols } = t;
  let instance: { exports: Record<string, unknown> };
  let buffer: ArrayBuffer;
  try {
    const bytes = scorerModule(t);
    const xBytes = BATCH_ROWS * cols * 4;
    const outAt = Math.ceil(xBytes / 8) * 8;
    const pages = Math.ceil((outAt + BATCH_ROWS * outputs * 8) / PAGE);
    const memory = new wasmApi.Memory({ initial: pages, maximum: pages });
    instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { mem: memory } });
    buffer = memory.buffer;
  } catch {
    return null; // an engine that refuses the module: the typed-array walk serves
  }
  const run = instance.exports.score as (x: number, rows: number, out: number) => void;
  const xs = new Float32Array(buffer, 0, BATCH_ROWS * cols);
  const outAt = Math.ceil((BATCH_ROWS * cols * 4) / 8) * 8;
  const os = new Float64Array(buffer, outAt, BATCH_ROWS * outputs);
  return {
    score(x, rows, out) {
      for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
        const n = Math.min(BATCH_ROWS, rows - r0);
        const from = r0 * cols;
        const to = r0 * outputs;
        if (n >= COPY_VIEW_ROWS) xs.set(x.subarray(from, from + n * cols));
        else for (let j = 0; j < n * cols; j++) xs[j] = x[from + j];
        run(0, n, outAt);
        if (n >= COPY_VIEW_ROWS) out.set(os.subarray(0, n * outputs), to);
        else for (let j = 0; j < n * outputs; j++) out[to + j] = os[j];
      }
    },
  };
}

/**
 * The module: functions `acc(acc: f64, row: i32) → f64` that add one output's trees, in order, for the row
 * at byte `row`, and `score(x, rows, out)` that runs them for every row and stores the margins.
 */
function scorerModule(t: ScoringTrees): Uint8Array {
  const { outputs, cols, roots } = t;
  // Group each output's trees, in order, into functions of about SPLITS_PER_FUNCTION splits.
  const groups: number[][][] = Array.from({ length: outputs }, () => [[]]);
  const size = new Array<number>(outputs).fill(0);
  for (let tree = 0; tree < roots.length; tree++) {
    const k = tree % outputs;
    const g = groups[k];
    if (size[k] >= SPLITS_PER_FUNCTION) {
      g.push([]);
      size[k] = 0;
    }
    g[g.length - 1].push(tree);
    size[k] += splitsOf(t, roots[tree]);
  }
  const fns: Uint8Array[] = [];
  const fnIndex: number[][] = groups.map((g) =>
    g.map((trees) => {
      fns.push(treeFunction(t, trees));
      return fns.length; // function 0 is `score`
    }),
  );
  // score(x, rows, out); local 3: end
  const rowBytes = cols * 4;
  const score: number[] = [
    op.get,
    0,
    op.get,
    1,
    op.i32Const,
    ...sleb(rowBytes),
    op.i32Mul,
    op.i32Add,
    op.set,
    3,
    op.block,
    0x40,
    op.loop,
    0x40,
    op.get,
    0,
    op.get,
    3,
    op.i32GeU,
    op.brIf,
    1,
  ];
  for (let k = 0; k < outputs; k++) {
    score.push(op.get, 2, op.f64Const, ...f64Bytes(t.baseScore[k]));
    for (const f of fnIndex[k]) score.push(op.get, 0, op.call, ...uleb(f));
    score.push(op.f64Store, 3, ...uleb(8 * k));
  }
  score.push(op.get, 0, op.i32Const, ...sleb(rowBytes), op.i32Add, op.set, 0);
  score.push(op.get, 2, op.i32Const, ...sleb(8 * outputs), op.i32Add, op.set, 2);
  score.push(op.br, 0, op.end, op.end);

  const w = new ByteWriter();
  w.push(...HEADER);
  w.push(...section(1, [2, 0x60, 3, I32, I32, I32, 0, 0x60, 2, F64, I32, 1, F64]));
  w.push(...section(2, [1, ...MEMORY_IMPORT]));
  w.push(...section(3, [...uleb(1 + fns.length), 0, ...fns.map(() => 1)]));
  w.push(...section(7, [1, ...name("score"), 0, 0]));
  const code = new ByteWriter();
  code.push(...uleb(1 + fns.length), ...fnBody([1, 1, I32], score));
  for (const f of fns) code.append(f);
  const body = code.bytes();
  w.push(10, ...uleb(body.length));
  w.append(body);
  return w.bytes();
}

/** Splits below a node (a root index; negative is a leaf). */
function splitsOf(t: ScoringTrees, n: number): number {
  return n < 0 ? 0 : 1 + splitsOf(t, t.left[n]) + splitsOf(t, t.right[n]);
}

/** A function body adding the leaf values of `trees` for the row at local 1 to local 0, returning it. */
function treeFunction(t: ScoringTrees, trees: number[]): Uint8Array {
  const w = new ByteWriter();
  w.push(0); // no locals besides the two parameters
  for (const tree of trees) emitNode(t, t.roots[tree], w);
  w.push(op.get, 0, op.end);
  const b = w.bytes();
  const out = new ByteWriter();
  out.push(...uleb(b.length));
  out.append(b);
  return out.bytes();
}

/**
 * A split as `if (x[f] <= thr) left else right` (NaN: the else side), or for a NaN-goes-left split
 * `if (x[f] > thr) right else left` (NaN: the else side again). A leaf adds its value to the accumulator.
 */
function emitNode(t: ScoringTrees, n: number, w: ByteWriter): void {
  if (n < 0) {
    w.push(op.get, 0, op.f64Const, ...f64Bytes(t.leafValue[~n]), op.f64Add, op.set, 0);
    return;
  }
  const dl = t.defaultLeft[n] === 1;
  w.push(op.get, 1, op.f32Load, 2, ...uleb(4 * t.feature[n]), op.f32Const, ...f32Bytes(t.threshold[n]));
  w.push(dl ? op.f32Gt : op.f32Le, op.if, 0x40);
  emitNode(t, dl ? t.right[n] : t.left[n], w);
  w.push(op.else);
  emitNode(t, dl ? t.left[n] : t.right[n], w);
  w.push(op.end);
}
