// KitNET's execute-phase scoring as one WebAssembly SIMD function generated for the model's shape: the whole
// ensemble and the output autoencoder per call, two (f64) or four (f32) units per vector instruction.
//
// "f64" is bit-identical to Autoencoder.executeTo, and so to the JS scores: every output keeps the JS kernel's
// own chain of IEEE operations in the same order (bias + even products, 0 + odd products, then their sum; the
// same exp polynomial and 2^k·2^(j/64) table; the same sequential squared-error sum). SIMD runs independent
// outputs' chains side by side, f64x2 arithmetic is the scalar arithmetic per lane, and no fused multiply-add
// is ever emitted. Math.round(t) is rebuilt as floor(t) + (t − floor(t) ≥ 0.5): equal on every double (the
// difference is exact or rounds monotonically past 0.5; where Math.round gives −0 this gives +0, and the
// sigmoid does not depend on that sign).
//
// "f32" (opt-in) is an approximation for throughput: f32 weights and activations, and a sigmoid from a
// degree-6 polynomial of 2^x (relative error ~2e-7). Normalisation stays in f64.

import { POW2_FRAC_TABLE } from "./autoencoder.ts";

/** Arithmetic of a kernel: "f64" reproduces the JS kernel bit for bit, "f32" approximates it faster. */
export type KernelPrecision = "f64" | "f32";

/** Shape of a KitNet: ensemble autoencoders over a gathered input, and the output autoencoder. */
export interface KernelShape {
  /** Features per input vector. */
  n: number;
  /** Feature index per position of the gathered vector (groups back to back). */
  perm: Int32Array;
  /** Start of each group in the gathered vector. */
  groupOff: Int32Array;
  ensemble: readonly { nVisible: number; nHidden: number }[];
  output: { nVisible: number; nHidden: number };
}

// The part of the WebAssembly JS API used here (this project's TypeScript libs do not declare it).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

// ---- A minimal WebAssembly binary writer -----------------------------------------------------------------

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

class Bytes {
  readonly b: number[] = [];
  u8(...v: number[]): this {
    for (const x of v) this.b.push(x & 0xff);
    return this;
  }
  uleb(v: number): this {
    let x = v >>> 0;
    do {
      let byte = x & 0x7f;
      x >>>= 7;
      if (x !== 0) byte |= 0x80;
      this.b.push(byte);
    } while (x !== 0);
    return this;
  }
  sleb(v: number): this {
    let x = v | 0;
    for (;;) {
      const byte = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
      this.b.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }
  raw(v: ArrayBufferView): this {
    for (const x of new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) this.b.push(x);
    return this;
  }
  bytes(v: readonly number[]): this {
    for (const x of v) this.b.push(x);
    return this;
  }
  section(id: number, body: Bytes): this {
    this.u8(id).uleb(body.b.length);
    return this.bytes(body.b);
  }
}

// Scalar opcodes.
const O = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  f32Load: 0x2a,
  f64Load: 0x2b,
  f32Store: 0x38,
  f64Store: 0x39,
  i32Ne: 0x47,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32ShrU: 0x76,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Mul: 0x94,
  f32Div: 0x95,
  f64Sqrt: 0x9f,
  f64Add: 0xa0,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  f64PromoteF32: 0xbb,
} as const;

// SIMD opcodes (after the 0xfd prefix), from the WebAssembly SIMD binary encoding.
const S = {
  load: 0x00,
  load32Splat: 0x09,
  load64Splat: 0x0a,
  store: 0x0b,
  const: 0x0c,
  i32x4ExtractLane: 0x1b,
  f32x4Eq: 0x41,
  f64x2Eq: 0x47,
  f64x2Ge: 0x4c,
  and: 0x4e,
  load64Lane: 0x57,
  store64Lane: 0x5b,
  load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e,
  f32x4Nearest: 0x6a,
  f64x2Floor: 0x75,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4Add: 0xae,
  i64x2Shl: 0xcb,
  i64x2Add: 0xce,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  f64x2Neg: 0xed,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Pmin: 0xf6,
  f64x2Pmax: 0xf7,
  i32x4TruncSatF32x4S: 0xf8,
} as const;

/** Function body builder with numbered locals. */
class Fn {
  readonly code = new Bytes();
  private readonly locals: number[] = [];
  constructor(private readonly nParams: number) {}
  local(type: number): number {
    this.locals.push(type);
    return this.nParams + this.locals.length - 1;
  }
  get(l: number): this {
    this.code.u8(0x20).uleb(l);
    return this;
  }
  set(l: number): this {
    this.code.u8(0x21).uleb(l);
    return this;
  }
  tee(l: number): this {
    this.code.u8(0x22).uleb(l);
    return this;
  }
  i32(v: number): this {
    this.code.u8(0x41).sleb(v);
    return this;
  }
  f64(v: number): this {
    this.code.u8(0x44).raw(Float64Array.of(v));
    return this;
  }
  f32(v: number): this {
    this.code.u8(0x43).raw(Float32Array.of(v));
    return this;
  }
  op(...b: number[]): this {
    this.code.u8(...b);
    return this;
  }
  /** A scalar load or store: opcode, align (log2), byte offset. */
  mem(op: number, align: number, offset: number): this {
    this.code.u8(op).uleb(align).uleb(offset);
    return this;
  }
  simd(op: number): this {
    this.code.u8(0xfd).uleb(op);
    return this;
  }
  /** A SIMD memory op: align (log2), byte offset. */
  simdMem(op: number, align: number, offset: number): this {
    this.code.u8(0xfd).uleb(op).uleb(align).uleb(offset);
    return this;
  }
  /** A lane immediate (extract_lane, load_lane, store_lane). */
  lane(i: number): this {
    this.code.u8(i);
    return this;
  }
  f64x2(v: number): this {
    this.code.u8(0xfd).uleb(S.const).raw(Float64Array.of(v, v));
    return this;
  }
  f32x4(v: number): this {
    this.code
      .u8(0xfd)
      .uleb(S.const)
      .raw(Float32Array.of(v, v, v, v));
    return this;
  }
  i64x2(v: number): this {
    this.code
      .u8(0xfd)
      .uleb(S.const)
      .raw(BigInt64Array.of(BigInt(v), BigInt(v)));
    return this;
  }
  i32x4(v: number): this {
    this.code
      .u8(0xfd)
      .uleb(S.const)
      .raw(Int32Array.of(v, v, v, v));
    return this;
  }
  /** `loop … end` whose body ends with its own br_if. */
  loop(body: () => void): this {
    this.op(O.loop, 0x40);
    body();
    return this.op(O.end);
  }
  /** The body: locals grouped by run of type, then the code and `end`. */
  body(): number[] {
    const runs: [number, number][] = [];
    for (const t of this.locals) {
      const last = runs.at(-1);
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const out = new Bytes().uleb(runs.length);
    for (const [c, t] of runs) out.uleb(c).u8(t);
    out.bytes(this.code.b).u8(O.end);
    return new Bytes().uleb(out.b.length).bytes(out.b).b;
  }
}

function moduleBytes(fn: Fn, pages: number): Uint8Array {
  const m = new Bytes().u8(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  m.section(1, new Bytes().uleb(1).u8(0x60).uleb(1).u8(I32).uleb(0)); // type 0: (i32) → ()
  m.section(3, new Bytes().uleb(1).uleb(0)); // function 0 has type 0
  m.section(5, new Bytes().uleb(1).u8(0x00).uleb(pages)); // one memory, `pages` × 64 KiB
  const exp = new Bytes().uleb(2);
  exp
    .uleb(3)
    .bytes([..."run"].map((c) => c.charCodeAt(0)))
    .u8(0x00)
    .uleb(0);
  exp
    .uleb(3)
    .bytes([..."mem"].map((c) => c.charCodeAt(0)))
    .u8(0x02)
    .uleb(0);
  m.section(7, exp);
  m.section(10, new Bytes().uleb(1).bytes(fn.body()));
  return Uint8Array.from(m.b);
}

// ---- Memory layout -----------------------------------------------------------------------------------------
//
// Per-unit arrays span every autoencoder, ensemble first and the output autoencoder last, each autoencoder's
// part padded to whole vectors: visible X, LO, INV (always f64), XN, ZD (decoder pre-activation, then
// d = xn − z), VB; hidden Y (pre-activation, then activation), HB. Weights per autoencoder: W (nv rows of nhP)
// then Wᵀ (nh rows of nvP). Code addresses an element as [pointer + array base]: pointers hold byte offsets
// into the arrays, array bases are immediates.

/** Where one autoencoder's units and weights sit. */
interface AeLayout {
  nv: number;
  nh: number;
  nvP: number; // padded to whole vectors
  nhP: number;
  v0: number; // first visible unit (index into the visible arrays)
  h0: number; // first hidden unit
  w0: number; // first weight (elements into the weight area)
}

const weightsOf = (a: AeLayout): number => a.nv * a.nhP + a.nh * a.nvP;
const sameShape = (a: AeLayout, b: AeLayout): boolean => a.nv === b.nv && a.nh === b.nh;

interface Bases {
  frac: number;
  x: number;
  lo: number;
  inv: number;
  xn: number;
  zd: number;
  vb: number;
  y: number;
  hb: number;
  w: number;
}

// ---- Code generation ---------------------------------------------------------------------------------------

// Output vectors an encoder/decoder loop computes together: 3 vectors, 6 accumulators (even and odd chains);
// with the 6 weights and 2 inputs of one step, 14 values fit x64's 15 usable xmm registers.
const BLOCK = 3;

interface Locals {
  count: number;
  inB: number; // input row
  outB: number; // score slot of the row
  gv: number; // visible offset (bytes) of the autoencoder being run
  gh: number; // its hidden offset
  gw: number; // its weight offset
  gs: number; // where its RMSE goes
  p: number; // inner-loop pointers
  pw: number;
  pe: number;
  se: number; // f64 (f64 kernel) or f32
  xs0: number;
  xs1: number;
  t: number;
  m: number;
  r: number;
  mi: number;
  e: number;
  v: number;
  acc: number[]; // 2·BLOCK: acc[2q] even chain, acc[2q+1] odd chain of vector q
}

/** What differs between the f64 and the f32 kernel. */
interface Prec {
  bytes: 8 | 4;
  lanes: 2 | 4;
  add: number;
  sub: number;
  mul: number;
  splatLoad: number;
  zero(f: Fn): void;
  /** In place: local v ← 1/(1 + e^−v). */
  sigmoid(f: Fn, L: Locals, v: number, B: Bases): void;
  // Scalar squared-error sum.
  seType: number;
  load: number;
  sAdd: number;
  sMul: number;
  sDiv: number;
  sSqrt: number;
  sConst(f: Fn, v: number): void;
  /** Converts the scalar on the stack to f64. */
  toF64(f: Fn): void;
}

// 2^52 + 2^51: adding it to an integer-valued double |m| < 2^31 leaves m in the low 32 bits of the result.
const ROUND_MAGIC = 6755399441055744;

/** sigmoidInPlace, operation for operation, on f64x2. */
function sigmoidF64(f: Fn, L: Locals, v: number, B: Bases): void {
  // x = clamp(−v, −40, 700): pmin(x, 700) = 700 < x ? 700 : x; pmax(x, −40) = x < −40 ? −40 : x.
  f.get(v).simd(S.f64x2Neg).f64x2(700).simd(S.f64x2Pmin).f64x2(-40).simd(S.f64x2Pmax).set(L.e);
  // m = Math.round(x · 64/ln2) = floor(t) + (t − floor(t) ≥ 0.5 ? 1 : 0)
  f.get(L.e).f64x2(92.33248261689366).simd(S.f64x2Mul).tee(L.t).simd(S.f64x2Floor).set(L.m);
  f.get(L.m).get(L.t).get(L.m).simd(S.f64x2Sub).f64x2(0.5).simd(S.f64x2Ge).f64x2(1).simd(S.and);
  f.simd(S.f64x2Add).set(L.m);
  // r = x − m·ln2/64(high) − m·ln2/64(low)
  f.get(L.e).get(L.m).f64x2(0.01083042469326756).simd(S.f64x2Mul).simd(S.f64x2Sub);
  f.get(L.m).f64x2(2.9815858269852933e-12).simd(S.f64x2Mul).simd(S.f64x2Sub).set(L.r);
  // p = 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r/120)))), innermost first, as in JS.
  f.get(L.r).f64x2(0.008333333333333333).simd(S.f64x2Mul);
  f.f64x2(0.041666666666666664).simd(S.f64x2Add);
  f.get(L.r).simd(S.f64x2Mul).f64x2(0.16666666666666666).simd(S.f64x2Add);
  f.get(L.r).simd(S.f64x2Mul).f64x2(0.5).simd(S.f64x2Add);
  f.get(L.r).simd(S.f64x2Mul).f64x2(1).simd(S.f64x2Add);
  f.get(L.r).simd(S.f64x2Mul).f64x2(1).simd(S.f64x2Add).set(L.r); // r now holds p
  // mi = m as int32, in the low half of each 64-bit lane (m is an integer in −3694..64633).
  f.get(L.m).f64x2(ROUND_MAGIC).simd(S.f64x2Add).set(L.mi);
  // 2^(j/64), j = mi & 63, gathered from the table lane by lane (i32 lanes 0 and 2).
  f.get(L.mi).i64x2(63).simd(S.and).i32(3).simd(S.i32x4Shl).set(L.t);
  f.get(L.t).simd(S.i32x4ExtractLane).lane(0).simdMem(S.load64Zero, 3, B.frac).set(L.m);
  f.get(L.t).simd(S.i32x4ExtractLane).lane(2).get(L.m).simdMem(S.load64Lane, 3, B.frac).lane(1);
  // 2^k · 2^(j/64), k = mi >> 6, by adding k to the exponent field: exact, as JS's product of its two table
  // values is (a power of two times a table value; the result, in 2^−58..2^1010, is a normal double). The
  // shift by 52 keeps the low 12 bits of k, all that matters modulo 2^64.
  f.get(L.mi).i32(6).simd(S.i32x4ShrS).i32(52).simd(S.i64x2Shl).simd(S.i64x2Add);
  // v = 1 / (1 + 2^k · 2^(j/64) · p)
  f.get(L.r).simd(S.f64x2Mul).set(L.e);
  f.f64x2(1).f64x2(1).get(L.e).simd(S.f64x2Add).simd(S.f64x2Div).set(v);
}

// 2^f = Σ (f·ln2)^i / i!, i ≤ 6, for |f| ≤ 1/2: truncation error < 1.7e-7 relative.
const LN2 = Math.LN2;
const EXP2_POLY = [1, LN2, LN2 ** 2 / 2, LN2 ** 3 / 6, LN2 ** 4 / 24, LN2 ** 5 / 120, LN2 ** 6 / 720];

/** 1/(1 + 2^(−v·log2 e)) on f32x4: t = k + f, k integer, |f| ≤ 1/2; 2^k added to the exponent field. */
function sigmoidF32(f: Fn, L: Locals, v: number): void {
  // t clamped to ±125 keeps 2^k·2^f a normal float; beyond that the sigmoid is 0 or 1 in f32 anyway.
  f.get(v).f32x4(-Math.LOG2E).simd(S.f32x4Mul).f32x4(125).simd(S.f32x4Pmin).f32x4(-125).simd(S.f32x4Pmax);
  f.tee(L.t).simd(S.f32x4Nearest).set(L.m);
  f.get(L.t).get(L.m).simd(S.f32x4Sub).set(L.r); // f
  f.f32x4(EXP2_POLY[6]);
  for (let i = 5; i >= 0; i--) f.get(L.r).simd(S.f32x4Mul).f32x4(EXP2_POLY[i]).simd(S.f32x4Add);
  f.get(L.m).simd(S.i32x4TruncSatF32x4S).i32(23).simd(S.i32x4Shl).simd(S.i32x4Add).set(L.e);
  f.f32x4(1).f32x4(1).get(L.e).simd(S.f32x4Add).simd(S.f32x4Div).set(v);
}

const F64P: Prec = {
  bytes: 8,
  lanes: 2,
  add: S.f64x2Add,
  sub: S.f64x2Sub,
  mul: S.f64x2Mul,
  splatLoad: S.load64Splat,
  zero: (f) => f.f64x2(0),
  sigmoid: sigmoidF64,
  seType: F64,
  load: O.f64Load,
  sAdd: O.f64Add,
  sMul: O.f64Mul,
  sDiv: O.f64Div,
  sSqrt: O.f64Sqrt,
  sConst: (f, v) => f.f64(v),
  toF64: () => {},
};

const F32P: Prec = {
  bytes: 4,
  lanes: 4,
  add: S.f32x4Add,
  sub: S.f32x4Sub,
  mul: S.f32x4Mul,
  splatLoad: S.load32Splat,
  zero: (f) => f.f32x4(0),
  sigmoid: (f, L, v) => sigmoidF32(f, L, v),
  seType: 0x7d, // f32
  load: O.f32Load,
  sAdd: O.f32Add,
  sMul: O.f32Mul,
  sDiv: O.f32Div,
  sSqrt: O.f32Sqrt,
  sConst: (f, v) => f.f32(v),
  toF64: (f) => f.op(O.f64PromoteF32),
};

/** A loop with `ptr` from `start` to `end` (bytes, end > start) in steps of `step`. */
function emitRange(
  f: Fn,
  ptr: number,
  start: () => void,
  end: () => void,
  step: number,
  body: () => void,
): void {
  start();
  f.set(ptr);
  f.loop(() => {
    body();
    f.get(ptr).i32(step).op(O.i32Add).tee(ptr);
    end();
    f.op(O.i32Ne, O.brIf, 0);
  });
}

/** xn = clamp((x − lo) · inv, ±1e6), NaN → 0, for visible units [v0, v1), in f64. */
function emitNormalise(f: Fn, P: Prec, L: Locals, B: Bases, v0: number, v1: number): void {
  emitRange(
    f,
    L.p,
    () => f.i32(8 * v0),
    () => f.i32(8 * v1),
    16,
    () => {
      if (P.bytes === 8) f.get(L.p);
      else f.get(L.p).i32(1).op(O.i32ShrU); // the f32 XN index is half the f64 one
      f.get(L.p).simdMem(S.load, 4, B.x).get(L.p).simdMem(S.load, 4, B.lo).simd(S.f64x2Sub);
      f.get(L.p).simdMem(S.load, 4, B.inv).simd(S.f64x2Mul);
      f.f64x2(-1e6).simd(S.f64x2Pmax).f64x2(1e6).simd(S.f64x2Pmin).tee(L.t);
      f.get(L.t).get(L.t).simd(S.f64x2Eq).simd(S.and);
      if (P.bytes === 8) f.simdMem(S.store, 4, B.xn);
      else f.simd(S.f32x4DemoteF64x2Zero).simdMem(S.store64Lane, 3, B.xn).lane(0);
    },
  );
}

/** Sigmoid over hidden units [h0, h1) in place (pre-activation → activation). */
function emitSigmoidHidden(f: Fn, P: Prec, L: Locals, B: Bases, h0: number, h1: number): void {
  emitRange(
    f,
    L.p,
    () => f.i32(P.bytes * h0),
    () => f.i32(P.bytes * h1),
    16,
    () => {
      f.get(L.p).simdMem(S.load, 4, B.y).set(L.v);
      P.sigmoid(f, L, L.v, B);
      f.get(L.p).get(L.v).simdMem(S.store, 4, B.y);
    },
  );
}

/** d = xn − sigmoid(pre-activation) over visible units [v0, v1), in place of the pre-activation. */
function emitSigmoidVisible(f: Fn, P: Prec, L: Locals, B: Bases, v0: number, v1: number): void {
  emitRange(
    f,
    L.p,
    () => f.i32(P.bytes * v0),
    () => f.i32(P.bytes * v1),
    16,
    () => {
      f.get(L.p).simdMem(S.load, 4, B.zd).set(L.v);
      P.sigmoid(f, L, L.v, B);
      f.get(L.p).get(L.p).simdMem(S.load, 4, B.xn).get(L.v).simd(P.sub);
      f.simdMem(S.store, 4, B.zd);
    },
  );
}

/**
 * One matrix–vector product of the autoencoders aes[0..], all of one shape, in a loop over them:
 * out[o] = bias[o] + Σ_k in[k]·M[k][o], in two partial sums (even and odd k) as in the JS kernel.
 * `enc`: in = xn (nv), out = y (nh), M = W; else in = y (nh), out = zd (nv), M = Wᵀ.
 */
function emitProducts(f: Fn, P: Prec, L: Locals, B: Bases, aes: AeLayout[], enc: boolean): void {
  const a = aes[0];
  const nb = P.bytes;
  const nIn = enc ? a.nv : a.nh;
  const nOutP = enc ? a.nhP : a.nvP;
  const inBase = enc ? B.xn : B.y;
  const inPtr = enc ? L.gv : L.gh;
  const outPtr = enc ? L.gh : L.gv;
  const outBase = enc ? B.y : B.zd;
  const biasBase = enc ? B.hb : B.vb;
  const mOff = enc ? 0 : nb * a.nv * a.nhP; // Wᵀ follows W
  const rowBytes = nb * nOutP;
  const pairs = nIn >> 1;
  const align = nb === 8 ? 3 : 2;
  f.i32(nb * a.v0)
    .set(L.gv)
    .i32(nb * a.h0)
    .set(L.gh)
    .i32(nb * a.w0)
    .set(L.gw);
  f.loop(() => {
    // Output vectors in blocks of at most BLOCK, as even as possible (4 vectors: 2 + 2, not 3 + 1).
    const nVec = nOutP / P.lanes;
    const nBlocks = Math.ceil(nVec / BLOCK);
    for (let b = 0, q0 = 0; b < nBlocks; b++) {
      const q1 = q0 + Math.floor(nVec / nBlocks) + (b < nVec % nBlocks ? 1 : 0);
      for (let q = q0; q < q1; q++) {
        f.get(outPtr)
          .simdMem(S.load, 4, biasBase + 16 * q)
          .set(L.acc[2 * (q - q0)]);
        P.zero(f);
        f.set(L.acc[2 * (q - q0) + 1]);
      }
      if (pairs > 0) {
        f.get(L.gw).i32(mOff).op(O.i32Add).set(L.pw);
        f.get(inPtr)
          .i32(2 * nb * pairs)
          .op(O.i32Add)
          .set(L.pe);
        emitRange(
          f,
          L.p,
          () => f.get(inPtr),
          () => f.get(L.pe),
          2 * nb,
          () => {
            f.get(L.p).simdMem(P.splatLoad, align, inBase).set(L.xs0);
            f.get(L.p)
              .simdMem(P.splatLoad, align, inBase + nb)
              .set(L.xs1);
            for (let q = q0; q < q1; q++) {
              const e = L.acc[2 * (q - q0)];
              const o = L.acc[2 * (q - q0) + 1];
              f.get(e)
                .get(L.xs0)
                .get(L.pw)
                .simdMem(S.load, 4, B.w + 16 * q)
                .simd(P.mul);
              f.simd(P.add).set(e);
              f.get(o)
                .get(L.xs1)
                .get(L.pw)
                .simdMem(S.load, 4, B.w + rowBytes + 16 * q)
                .simd(P.mul);
              f.simd(P.add).set(o);
            }
            f.get(L.pw)
              .i32(2 * rowBytes)
              .op(O.i32Add)
              .set(L.pw);
          },
        );
      }
      if (nIn & 1) {
        const k = nIn - 1;
        f.get(inPtr)
          .simdMem(P.splatLoad, align, inBase + nb * k)
          .set(L.xs0);
        for (let q = q0; q < q1; q++) {
          const e = L.acc[2 * (q - q0)];
          f.get(e)
            .get(L.xs0)
            .get(L.gw)
            .simdMem(S.load, 4, B.w + mOff + k * rowBytes + 16 * q);
          f.simd(P.mul).simd(P.add).set(e);
        }
      }
      for (let q = q0; q < q1; q++) {
        f.get(outPtr)
          .get(L.acc[2 * (q - q0)])
          .get(L.acc[2 * (q - q0) + 1])
          .simd(P.add);
        f.simdMem(S.store, 4, outBase + 16 * q);
      }
      q0 = q1;
    }
    f.get(L.gh)
      .i32(nb * a.nhP)
      .op(O.i32Add)
      .set(L.gh);
    f.get(L.gw)
      .i32(nb * weightsOf(a))
      .op(O.i32Add)
      .set(L.gw);
    f.get(L.gv)
      .i32(nb * a.nvP)
      .op(O.i32Add)
      .tee(L.gv);
    f.i32(nb * (a.v0 + aes.length * a.nvP)).op(O.i32Ne, O.brIf, 0);
  });
}

/** RMSE of each autoencoder of a same-shape run, handed to `store` as an f64 on the stack. */
function emitErrors(
  f: Fn,
  P: Prec,
  L: Locals,
  B: Bases,
  aes: AeLayout[],
  store: (push: () => void) => void,
): void {
  const a = aes[0];
  const nb = P.bytes;
  f.i32(nb * a.v0).set(L.gv);
  f.loop(() => {
    // se = Σ d², in order from 0, then RMSE = sqrt(se / n).
    P.sConst(f, 0);
    f.set(L.se);
    for (let i = 0; i < a.nv; i++) {
      f.get(L.se)
        .get(L.gv)
        .mem(P.load, nb === 8 ? 3 : 2, B.zd + nb * i);
      f.get(L.gv).mem(P.load, nb === 8 ? 3 : 2, B.zd + nb * i);
      f.op(P.sMul, P.sAdd).set(L.se);
    }
    store(() => {
      f.get(L.se);
      P.sConst(f, a.nv);
      f.op(P.sDiv, P.sSqrt);
      P.toF64(f);
    });
    f.get(L.gv)
      .i32(nb * a.nvP)
      .op(O.i32Add)
      .tee(L.gv);
    f.i32(nb * (a.v0 + aes.length * a.nvP)).op(O.i32Ne, O.brIf, 0);
  });
}

/** Maximal runs of consecutive autoencoders of one shape. */
function runs(aes: AeLayout[]): AeLayout[][] {
  const out: AeLayout[][] = [];
  for (const a of aes) {
    const last = out.at(-1);
    if (last && sameShape(last[0], a)) last.push(a);
    else out.push([a]);
  }
  return out;
}

/** A compiled scoring kernel for one KitNet shape. */
export class KitNetKernel {
  readonly precision: KernelPrecision;
  /** The kernel's memory as doubles. Input rows go at inputAt (row r at inputAt + r·n) before `run`. */
  readonly mem: Float64Array;
  readonly inputAt: number;
  /** Scores of the last run, one per row, from scoresAt. */
  readonly scoresAt: number;
  /** Rows one run can take. */
  readonly maxRows: number;
  /** Scores `rows` rows (1 ≤ rows ≤ maxRows). */
  readonly run: (rows: number) => void;
  private readonly ens: AeLayout[];
  private readonly out: AeLayout;
  private readonly B: Bases;
  private readonly el: Float64Array | Float32Array; // the memory as XN/ZD/VB/Y/HB/W elements

  private constructor(
    precision: KernelPrecision,
    buffer: ArrayBuffer,
    run: (rows: number) => void,
    layout: { ens: AeLayout[]; out: AeLayout; B: Bases },
    inputAt: number,
    scoresAt: number,
    maxRows: number,
  ) {
    this.precision = precision;
    this.mem = new Float64Array(buffer);
    this.el = precision === "f64" ? this.mem : new Float32Array(buffer);
    this.run = run;
    this.ens = layout.ens;
    this.out = layout.out;
    this.B = layout.B;
    this.inputAt = inputAt;
    this.scoresAt = scoresAt;
    this.maxRows = maxRows;
  }

  /** Builds the kernel for a shape; null where WebAssembly SIMD is unavailable. */
  static build(shape: KernelShape, precision: KernelPrecision = "f64", maxRows = 32): KitNetKernel | null {
    if (wasm === undefined) return null;
    const P = precision === "f64" ? F64P : F32P;
    const vec = P.lanes;
    // Unit and weight placement.
    let nvTot = 0;
    let nhTot = 0;
    let wTot = 0;
    const place = (nv: number, nh: number): AeLayout => {
      const pad = (k: number): number => Math.ceil(k / vec) * vec;
      const a = { nv, nh, nvP: pad(nv), nhP: pad(nh), v0: nvTot, h0: nhTot, w0: wTot };
      nvTot += a.nvP;
      nhTot += a.nhP;
      wTot += weightsOf(a);
      return a;
    };
    const ens = shape.ensemble.map((e) => place(e.nVisible, e.nHidden));
    const vEns = nvTot;
    const hEns = nhTot;
    const out = place(shape.output.nVisible, shape.output.nHidden);
    let top = 0;
    const take = (bytes: number): number => {
      const at = top;
      top += (((bytes + 15) >> 4) << 4) + 16; // + 16: a spare vector past each array's end
      return at;
    };
    const nb = P.bytes;
    const B: Bases = {
      frac: take(8 * 64),
      x: take(8 * nvTot),
      lo: take(8 * nvTot),
      inv: take(8 * nvTot),
      xn: take(nb * nvTot),
      zd: take(nb * nvTot),
      vb: take(nb * nvTot),
      y: take(nb * nhTot),
      hb: take(nb * nhTot),
      w: take(nb * wTot),
    };
    const scores = take(8 * maxRows);
    const input = take(8 * maxRows * shape.n);
    const pages = Math.ceil(top / 65536);

    const f = new Fn(1);
    const i32 = (): number => f.local(I32);
    const v128 = (): number => f.local(V128);
    const L: Locals = {
      count: 0,
      inB: i32(),
      outB: i32(),
      gv: i32(),
      gh: i32(),
      gw: i32(),
      gs: i32(),
      p: i32(),
      pw: i32(),
      pe: i32(),
      se: f.local(P.seType),
      xs0: v128(),
      xs1: v128(),
      t: v128(),
      m: v128(),
      r: v128(),
      mi: v128(),
      e: v128(),
      v: v128(),
      acc: Array.from({ length: 2 * BLOCK }, v128),
    };
    const ensRuns = runs(ens);
    f.i32(input).set(L.inB).i32(scores).set(L.outB);
    f.loop(() => {
      // Gather: feature perm[p] of the row into its group's input.
      for (let g = 0; g < ens.length; g++) {
        for (let k = 0; k < ens[g].nv; k++) {
          f.i32(0)
            .get(L.inB)
            .mem(O.f64Load, 3, 8 * shape.perm[shape.groupOff[g] + k]);
          f.mem(O.f64Store, 3, B.x + 8 * (ens[g].v0 + k));
        }
      }
      // The ensemble; each group's RMSE becomes input g of the output autoencoder.
      emitNormalise(f, P, L, B, 0, vEns);
      for (const r of ensRuns) emitProducts(f, P, L, B, r, true);
      emitSigmoidHidden(f, P, L, B, 0, hEns);
      for (const r of ensRuns) emitProducts(f, P, L, B, r, false);
      emitSigmoidVisible(f, P, L, B, 0, vEns);
      for (const r of ensRuns) {
        f.i32(B.x + 8 * (out.v0 + ens.indexOf(r[0]))).set(L.gs);
        emitErrors(f, P, L, B, r, (push) => {
          f.get(L.gs);
          push();
          f.mem(O.f64Store, 3, 0);
          f.get(L.gs).i32(8).op(O.i32Add).set(L.gs);
        });
      }
      // The output autoencoder; its RMSE is the score.
      emitNormalise(f, P, L, B, out.v0, out.v0 + out.nvP);
      emitProducts(f, P, L, B, [out], true);
      emitSigmoidHidden(f, P, L, B, out.h0, out.h0 + out.nhP);
      emitProducts(f, P, L, B, [out], false);
      emitSigmoidVisible(f, P, L, B, out.v0, out.v0 + out.nvP);
      emitErrors(f, P, L, B, [out], (push) => {
        f.get(L.outB);
        push();
        f.mem(O.f64Store, 3, 0);
      });
      f.get(L.inB)
        .i32(shape.n * 8)
        .op(O.i32Add)
        .set(L.inB);
      f.get(L.outB).i32(8).op(O.i32Add).set(L.outB);
      f.get(L.count).i32(1).op(O.i32Sub).tee(L.count).op(O.brIf, 0);
    });

    let inst: { exports: Record<string, unknown> };
    try {
      inst = new wasm.Instance(new wasm.Module(moduleBytes(f, pages)), {});
    } catch {
      return null; // an engine without WebAssembly SIMD: the caller keeps the JS kernel
    }
    const memory = inst.exports.mem as { buffer: ArrayBuffer };
    new Float64Array(memory.buffer).set(POW2_FRAC_TABLE, B.frac / 8);
    return new KitNetKernel(
      precision,
      memory.buffer,
      inst.exports.run as (rows: number) => void,
      { ens, out, B },
      input / 8,
      scores / 8,
      maxRows,
    );
  }

  /** Copies the trained state of ensemble member g ([W | hbias | vbias | min | max], as Autoencoder.state()). */
  loadGroup(g: number, state: Float64Array): void {
    this.loadAe(this.ens[g], state);
  }

  /** Copies the trained state of the output autoencoder. */
  loadOutput(state: Float64Array): void {
    this.loadAe(this.out, state);
  }

  private loadAe(a: AeLayout, st: Float64Array): void {
    const m = this.mem;
    const el = this.el;
    const B = this.B;
    const k = this.precision === "f64" ? 8 : 4;
    const { nv, nh, nvP, nhP } = a;
    const nwh = nv * nh;
    const w = B.w / k + a.w0;
    const wt = w + nv * nhP;
    for (let i = 0; i < nv; i++) {
      for (let j = 0; j < nh; j++) {
        const wij = st[i * nh + j];
        el[w + i * nhP + j] = wij;
        el[wt + j * nvP + i] = wij;
      }
    }
    for (let j = 0; j < nh; j++) el[B.hb / k + a.h0 + j] = st[nwh + j];
    for (let i = 0; i < nv; i++) {
      const v = a.v0 + i;
      el[B.vb / k + v] = st[nwh + nh + i];
      const lo = st[nwh + nh + nv + i];
      const hi = st[nwh + nh + 2 * nv + i];
      m[B.lo / 8 + v] = lo;
      m[B.inv / 8 + v] = 1 / (hi - lo + 1e-16); // as Autoencoder's inv
    }
  }

  /** Per-feature squared errors of ensemble member g for the last row run, into out[outOff ..]. */
  groupErrors(g: number, out: Float64Array, outOff: number): void {
    this.errorsOf(this.ens[g], out, outOff);
  }

  /** Squared errors of the output autoencoder (one per group) for the last row run. */
  outputErrors(out: Float64Array): void {
    this.errorsOf(this.out, out, 0);
  }

  private errorsOf(a: AeLayout, out: Float64Array, outOff: number): void {
    const el = this.el;
    const d = this.B.zd / (this.precision === "f64" ? 8 : 4) + a.v0;
    for (let i = 0; i < a.nv; i++) out[outOff + i] = el[d + i] * el[d + i];
  }
}
