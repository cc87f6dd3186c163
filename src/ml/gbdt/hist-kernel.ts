// Histogram kernels of the GBDT trainer: one memory arena and three loops, as WebAssembly SIMD (f64x2) or JS.
//
// Both kernels add the same values in the same order (f64x2.add is the scalar add per lane), so a model trained
// with either is bit-identical; the JS kernel runs where WebAssembly SIMD is missing or the arena is too large.

import {
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
  V128,
  wasmApi,
} from "./wasm.ts";

/** Byte sizes of the arena's regions, in layout order. */
export interface ArenaLayout {
  /** Bytes of bins (rows × features, column-major). */
  bins: number;
  /** Rows (u32 each) of the index and scratch arrays. */
  rows: number;
  /** Outputs (trees per round). */
  outputs: number;
  /** Bins over all features, value and missing bins together. */
  histBins: number;
  /** Gradient histograms kept at once (leaves that may still split, plus one). */
  hists: number;
  /** Features: entries of the feature table. */
  cols: number;
}

/**
 * Typed-array views over one buffer plus the loops that fill histograms. Row offsets passed to the loops are
 * u32 indices; the features a loop covers are the first `nf` entries of the feature table, set with
 * `setRootFeature` / `setLeafFeature` (f64 and u8 indices), so one pass over the rows fills several features'
 * histograms: the row data is read once per pass, and histograms of different features are independent
 * chains of additions that the CPU overlaps.
 *
 * Layouts: `gh` is row-major, (g, h) per output per row. A root histogram has a stride of 2·outputs + 2
 * doubles per bin: (G, H) per output, then the row count, then padding. A leaf histogram holds (G, H) pairs
 * for every bin, then one count per bin.
 */
export interface HistArena {
  readonly kind: "wasm" | "js";
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  /** u8 index of the bins. */
  readonly binsAt: number;
  /** u32 indices of the row index array and its partition scratch. */
  readonly idxAt: number;
  readonly scratchAt: number;
  /** f64 indices of the gradients, the gathered (g, h) pairs, the root histograms and the leaf histograms. */
  readonly ghAt: number;
  readonly oghAt: number;
  readonly rootAt: number;
  readonly histAt: number;
  /** Table entry i of a root pass: the root histogram at f64 `root` of the bin column at u8 `col`. */
  setRootFeature(i: number, root: number, col: number): void;
  /** Table entry i of a leaf build: the leaf histogram at f64 `gh` / `count` of the bin column at u8 `col`. */
  setLeafFeature(i: number, gh: number, count: number, col: number): void;
  /** Adds rows u32[rows .. rows+m) into the root histograms of table entries 0..nf−1. */
  rootPass(nf: number, rows: number, m: number): void;
  /** Gathers output `output`'s (g, h) of rows u32[rows .. rows+m) into the pairs at `oghAt`. */
  gather(rows: number, m: number, output: number): void;
  /** Adds the gathered pairs of rows u32[rows .. rows+m) into the leaf histograms of entries 0..nf−1. */
  build(nf: number, rows: number, m: number): void;
}

// Arenas above this size use the JS kernel: WebAssembly memory is capped at 4 GiB and is never released early.
const MAX_WASM_BYTES = 2 ** 31;

/** Allocates an arena for the layout: WebAssembly when `preferWasm`, available and small enough, else JS. */
export function createArena(layout: ArenaLayout, preferWasm = true): HistArena {
  const k2 = 2 * layout.outputs;
  let at = 0;
  const take = (bytes: number): number => {
    const o = at;
    at += Math.ceil(bytes / 16) * 16; // every region 16-byte aligned for v128 loads
    return o;
  };
  const bins = take(layout.bins);
  const idx = take(4 * layout.rows);
  const scratch = take(4 * layout.rows);
  const gh = take(8 * k2 * layout.rows);
  const ogh = take(16 * layout.rows);
  const root = take(8 * (k2 + 2) * layout.histBins);
  const hist = take(8 * 3 * layout.histBins * layout.hists);
  const table = take(12 * layout.cols);
  const total = Math.max(at, 16);
  let buffer: ArrayBuffer | null = null;
  let fns: WasmFns | null = null;
  if (preferWasm && wasmApi && total <= MAX_WASM_BYTES) {
    try {
      const bytes = kernelModule(layout.outputs);
      if (wasmApi.validate(bytes)) {
        const pages = Math.ceil(total / PAGE);
        const memory = new wasmApi.Memory({ initial: pages, maximum: pages });
        const inst = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { mem: memory } });
        buffer = memory.buffer;
        fns = inst.exports as unknown as WasmFns;
      }
    } catch {
      buffer = null; // no SIMD or no memory: the JS kernel below
      fns = null;
    }
  }
  buffer ??= new ArrayBuffer(total);
  const u8 = new Uint8Array(buffer);
  const u32 = new Uint32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
  const f64 = new Float64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
  const t = table / 4;
  const base = {
    setRootFeature(i: number, root: number, col: number): void {
      u32[t + 3 * i] = root * 8;
      u32[t + 3 * i + 1] = col;
    },
    setLeafFeature(i: number, gh: number, count: number, col: number): void {
      u32[t + 3 * i] = gh * 8;
      u32[t + 3 * i + 1] = count * 8;
      u32[t + 3 * i + 2] = col;
    },
    u8,
    u32,
    f64,
    binsAt: bins,
    idxAt: idx / 4,
    scratchAt: scratch / 4,
    ghAt: gh / 8,
    oghAt: ogh / 8,
    rootAt: root / 8,
    histAt: hist / 8,
  };
  if (fns) {
    const w = fns;
    return {
      kind: "wasm",
      ...base,
      rootPass: (nf, rows, m) => w.root(table, nf, rows * 4, m, gh),
      gather: (rows, m, output) => w.gather(rows * 4, m, gh + 16 * output, 8 * k2, ogh),
      build: (nf, rows, m) => w.build(table, nf, rows * 4, m, ogh),
    };
  }
  const ghAt = gh / 8;
  const oghAt = ogh / 8;
  return {
    kind: "js",
    ...base,
    rootPass(nf, rows, m) {
      const stride = k2 + 2;
      for (let j = 0; j < m; j++) {
        const row = u32[rows + j];
        const p = ghAt + row * k2;
        for (let i = 0; i < nf; i++) {
          const q = u32[t + 3 * i] / 8 + u8[u32[t + 3 * i + 1] + row] * stride;
          for (let c = 0; c < k2; c++) f64[q + c] += f64[p + c];
          f64[q + k2] += 1;
        }
      }
    },
    gather(rows, m, output) {
      for (let j = 0; j < m; j++) {
        const p = ghAt + u32[rows + j] * k2 + 2 * output;
        f64[oghAt + 2 * j] = f64[p];
        f64[oghAt + 2 * j + 1] = f64[p + 1];
      }
    },
    build(nf, rows, m) {
      for (let j = 0; j < m; j++) {
        const row = u32[rows + j];
        const g = f64[oghAt + 2 * j];
        const h = f64[oghAt + 2 * j + 1];
        for (let i = 0; i < nf; i++) {
          const b = u8[u32[t + 3 * i + 2] + row];
          const q = u32[t + 3 * i] / 8 + 2 * b;
          f64[q] += g;
          f64[q + 1] += h;
          f64[u32[t + 3 * i + 1] / 8 + b] += 1;
        }
      }
    },
  };
}

interface WasmFns {
  root(tableByte: number, nf: number, rowsByte: number, m: number, ghByte: number): void;
  gather(rowsByte: number, m: number, srcByte: number, rowBytes: number, dstByte: number): void;
  build(tableByte: number, nf: number, rowsByte: number, m: number, oghByte: number): void;
}

// ---- WebAssembly module ----------------------------------------------------------------------------------

const get = (i: number): number[] => [op.get, ...uleb(i)];
const set = (i: number): number[] => [op.set, ...uleb(i)];
const i32 = (v: number): number[] => [op.i32Const, ...sleb(v)];
const mem = (align: number, offset: number): number[] => [align, ...uleb(offset)];
const v128Load = (offset: number): number[] => [0xfd, 0x00, ...mem(4, offset)];
const v128Store = (offset: number): number[] => [0xfd, 0x0b, ...mem(4, offset)];
const f64x2Add = [0xfd, 0xf0, 0x01];
const f64One = [op.f64Const, ...f64Bytes(1)];

/** `local += step`. */
const bump = (local: number, step: number): number[] => [
  ...get(local),
  ...i32(step),
  op.i32Add,
  ...set(local),
];

/** A loop over `ptr` (stepping by `step`) until `end`: `body` runs at each position. */
function loopTo(ptr: number, end: number, step: number, body: number[]): number[] {
  return [
    op.block,
    0x40,
    op.loop,
    0x40,
    ...get(ptr),
    ...get(end),
    op.i32GeU,
    op.brIf,
    1,
    ...body,
    ...bump(ptr, step),
    op.br,
    0,
    op.end,
    op.end,
  ];
}

/** `dst = a + b · k` (i32). */
const madd = (dst: number, a: number[], b: number[], k: number): number[] => [
  ...a,
  ...b,
  ...i32(k),
  op.i32Mul,
  op.i32Add,
  ...set(dst),
];

/** The module for `outputs` outputs: root (unrolled over outputs), gather and build. */
function kernelModule(outputs: number): Uint8Array {
  const k2 = 2 * outputs;
  const stride = 8 * (k2 + 2);
  const load32 = (offset: number): number[] => [op.i32Load, ...mem(2, offset)];
  const load8 = [op.i32Load8u, ...mem(0, 0)];
  // root(table, nf, rows, m, gh); locals 5 end, 6 q, 7 p, 8 row, 9 t, 10 tend
  const adds: number[] = [];
  for (let c = 0; c < outputs; c++) {
    adds.push(...get(6), ...get(6), ...v128Load(16 * c), ...get(7), ...v128Load(16 * c), ...f64x2Add);
    adds.push(...v128Store(16 * c));
  }
  const root = [
    ...madd(5, get(2), get(3), 4),
    ...madd(10, get(0), get(1), 12),
    ...loopTo(2, 5, 4, [
      ...get(2),
      ...load32(0),
      ...set(8),
      ...madd(7, get(4), get(8), 8 * k2),
      ...get(0),
      ...set(9),
      ...loopTo(9, 10, 12, [
        // q = table[t].root + bin(table[t].col + row) · stride
        ...madd(
          6,
          [...get(9), ...load32(0)],
          [...get(9), ...load32(4), ...get(8), op.i32Add, ...load8],
          stride,
        ),
        ...adds,
        ...get(6),
        ...get(6),
        op.f64Load,
        ...mem(3, 8 * k2),
        ...f64One,
        op.f64Add,
        op.f64Store,
        ...mem(3, 8 * k2),
      ]),
    ]),
  ];
  // gather(rows, m, src, rowBytes, dst); locals 5 end
  const gather = [
    ...madd(5, get(0), get(1), 4),
    ...loopTo(0, 5, 4, [
      ...get(4),
      ...get(2),
      ...get(0),
      ...load32(0),
      ...get(3),
      op.i32Mul,
      op.i32Add,
      ...v128Load(0),
      ...v128Store(0),
      ...bump(4, 16),
    ]),
  ];
  // build(table, nf, rows, m, ogh); locals 5 end, 6 row, 7 t, 8 tend, 9 bin, 10 a; 11 v (v128)
  const build = [
    ...madd(5, get(2), get(3), 4),
    ...madd(8, get(0), get(1), 12),
    ...loopTo(2, 5, 4, [
      ...get(2),
      ...load32(0),
      ...set(6),
      ...get(4),
      ...v128Load(0),
      ...set(11),
      ...get(0),
      ...set(7),
      ...loopTo(7, 8, 12, [
        ...get(7),
        ...load32(8),
        ...get(6),
        op.i32Add,
        ...load8,
        ...set(9),
        ...madd(10, [...get(7), ...load32(0)], get(9), 16),
        ...get(10),
        ...get(10),
        ...v128Load(0),
        ...get(11),
        ...f64x2Add,
        ...v128Store(0),
        ...madd(10, [...get(7), ...load32(4)], get(9), 8),
        ...get(10),
        ...get(10),
        op.f64Load,
        ...mem(3, 0),
        ...f64One,
        op.f64Add,
        op.f64Store,
        ...mem(3, 0),
      ]),
      ...bump(4, 16),
    ]),
  ];
  const type = (params: number): number[] => [0x60, params, ...new Array<number>(params).fill(I32), 0];
  return Uint8Array.from([
    ...HEADER,
    ...section(1, [1, ...type(5)]),
    ...section(2, [1, ...MEMORY_IMPORT]),
    ...section(3, [3, 0, 0, 0]),
    ...section(7, [3, ...name("root"), 0, 0, ...name("gather"), 0, 1, ...name("build"), 0, 2]),
    ...section(10, [
      3,
      ...fnBody([1, 6, I32], root),
      ...fnBody([1, 1, I32], gather),
      ...fnBody([2, 6, I32, 1, V128], build),
    ]),
  ]);
}
