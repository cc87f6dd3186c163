// A minimal WebAssembly binary writer for the GBDT kernels: opcodes, LEB128, sections, the JS API they use.

/** The part of the WebAssembly JS API used here (this project's TypeScript libs do not declare it). */
export interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

/** The engine's WebAssembly, when it has one. */
export const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Bytes per WebAssembly memory page. */
export const PAGE = 65536;

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

export const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  call: 0x10,
  get: 0x20,
  set: 0x21,
  i32Load: 0x28,
  f32Load: 0x2a,
  f64Load: 0x2b,
  i32Load8u: 0x2d,
  f64Store: 0x39,
  i32Const: 0x41,
  f32Const: 0x43,
  f64Const: 0x44,
  i32GeU: 0x4f,
  f32Gt: 0x5e,
  f32Le: 0x5f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  f64Add: 0xa0,
} as const;

export function uleb(v: number): number[] {
  const out: number[] = [];
  let x = v >>> 0;
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
  return out;
}

export function sleb(v: number): number[] {
  const out: number[] = [];
  let x = v | 0;
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Little-endian bytes of a float32 / float64 constant. */
export const f32Bytes = (v: number): number[] => [...new Uint8Array(Float32Array.of(v).buffer)];
export const f64Bytes = (v: number): number[] => [...new Uint8Array(Float64Array.of(v).buffer)];

/** A section: id, byte length, body. */
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** A name (ASCII). */
export const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** A function body: its local declarations, code and `end`, prefixed by its length. */
export function fnBody(locals: number[], code: number[]): number[] {
  const body = [...locals, ...code, op.end];
  return [...uleb(body.length), ...body];
}

/** Module header: magic and version 1. */
export const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Import section entry of a memory `env.mem` with at least 0 pages. */
export const MEMORY_IMPORT = [...name("env"), ...name("mem"), 0x02, 0x00, 0x00];

/** A byte buffer that grows by doubling: code generation for large models without quadratic copying. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;

  push(...bytes: number[]): void {
    this.reserve(bytes.length);
    for (const b of bytes) this.buf[this.length++] = b;
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}
