// Dense tied-weight autoencoder on Float64Array (KitNET's dA): online min/max scaling, SGD, no per-call allocation.

import type { Rng } from "../core/index.ts";

/**
 * Bound on a normalised input value. A value far outside the training range (or ±Infinity) saturates here,
 * so squared errors stay finite: 1e6² × 1 000 features is still far below Number.MAX_VALUE.
 */
export const NORM_CLAMP = 1e6;

// exp for the sigmoid, faster than Math.exp here and identical on every platform: x = (64k + j)·ln2/64 + r,
// exp(x) = 2^k · 2^(j/64) · P(r), |r| ≤ ln2/128, P the degree-5 Taylor polynomial (truncation < 2e-17).
// The tables come from sqrt and doubling only, which IEEE 754 rounds exactly, so no libm is involved.
// The argument is clamped to [−40, 700]: below −40, 1 + e^x is already 1 in double precision; above 700,
// 1/(1 + e^x) < 1e-304. 2^k is tabled for k in −64..1024 (index k + 64).
const POW2_INT = new Float64Array(1089);
const POW2_FRAC = new Float64Array(64); // 2^(j/64)
{
  POW2_INT[64] = 1;
  for (let k = 1; k <= 1024; k++) POW2_INT[64 + k] = POW2_INT[63 + k] * 2;
  for (let k = -1; k >= -64; k--) POW2_INT[64 + k] = POW2_INT[65 + k] / 2;
  const root = new Float64Array(6); // root[b] = 2^(2^b / 64)
  let v = 2;
  for (let b = 5; b >= 0; b--) {
    v = Math.sqrt(v);
    root[b] = v;
  }
  for (let j = 0; j < 64; j++) {
    let f = 1;
    for (let b = 0; b < 6; b++) if (j & (1 << b)) f *= root[b];
    POW2_FRAC[j] = f;
  }
}

/** 2^(j/64) for j = 0..63, the table of the sigmoid's exp (a copy; the WebAssembly kernel loads it). */
export const POW2_FRAC_TABLE: Readonly<Float64Array> = Float64Array.from(POW2_FRAC);

/**
 * `sigmoid` applied in place to a[off .. off+len). Hot-path notes: numeric constants are literals (64/ln2, ln2/64
 * split into fdlibm's high and low parts, 1/k! coefficients), because a constant read from the module scope is a
 * tagged value, and merging one into a double made V8 box that double on every element.
 */
export function sigmoidInPlace(a: Float64Array, off: number, len: number): void {
  const pInt = POW2_INT;
  const pFrac = POW2_FRAC;
  const end = off + len;
  for (let i = off; i < end; i++) {
    let x = -a[i];
    if (x > 700) x = 700;
    else if (x < -40) x = -40;
    const m = Math.round(x * 92.33248261689366); // 64/ln2
    const r = x - m * 0.01083042469326756 - m * 2.9815858269852933e-12; // ln2/64, high + low
    const p =
      1 +
      r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * 0.008333333333333333))));
    const mi = m | 0;
    a[i] = 1 / (1 + pInt[(mi >> 6) + 64] * pFrac[mi & 63] * p);
  }
}

// The same arithmetic as sigmoidInPlace, kept as a separate function for the one-vector path: when both paths
// shared one function, V8 optimised the one-vector path ~40 % slower (measured). Change both or neither;
// the "processBatch matches process" test checks that they agree bit for bit.
function sigmoidRow(a: Float64Array, len: number): void {
  const pInt = POW2_INT;
  const pFrac = POW2_FRAC;
  for (let i = 0; i < len; i++) {
    let x = -a[i];
    if (x > 700) x = 700;
    else if (x < -40) x = -40;
    const m = Math.round(x * 92.33248261689366);
    const r = x - m * 0.01083042469326756 - m * 2.9815858269852933e-12;
    const p =
      1 +
      r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * 0.008333333333333333))));
    const mi = m | 0;
    a[i] = 1 / (1 + pInt[(mi >> 6) + 64] * pFrac[mi & 63] * p);
  }
}

const scalarScratch = new Float64Array(1);

/** Logistic sigmoid 1/(1 + e^−s), relative error ~1e-15, deterministic across platforms (as `sigmoidInPlace`). */
export function sigmoid(s: number): number {
  scalarScratch[0] = s;
  sigmoidInPlace(scalarScratch, 0, 1);
  return scalarScratch[0];
}

/** Settings of one autoencoder. */
export interface AutoencoderConfig {
  /** Visible units (inputs). */
  nVisible: number;
  /** Hidden units; default ceil(nVisible × hiddenRatio). */
  nHidden?: number;
  /** Hidden/visible ratio used when nHidden is not given; default 0.75 (KitNET's). */
  hiddenRatio?: number;
  /** SGD learning rate; default 0.1 (KitNET's). */
  learningRate?: number;
}

/** Hidden size KitNET uses for n inputs: ceil(n × ratio), at least 1. */
export function hiddenSize(nVisible: number, hiddenRatio: number): number {
  return Math.max(1, Math.ceil(nVisible * hiddenRatio));
}

/** Scratch doubles `Autoencoder.executeBatch` needs for columns of height `batch`. */
export function batchScratchLength(nVisible: number, nHidden: number, batch: number): number {
  return (2 * nVisible + nHidden + 1) * batch;
}

/** Doubles of state one autoencoder keeps: W (n×h), hidden bias, visible bias, running min, running max. */
export function autoencoderStateLength(nVisible: number, nHidden: number): number {
  return nVisible * nHidden + nHidden + 3 * nVisible;
}

/**
 * Dense autoencoder with one sigmoid hidden layer and tied weights (decoder = Wᵀ), as KitNET's `dA`.
 *
 * Inputs are scaled to [0, 1] by the running min/max of the training inputs. Scaling state changes in
 * `train` only. Non-finite inputs are sanitised, never propagated:
 * - NaN reads as normalised 0 (the training minimum) and never moves min/max;
 * - ±Infinity never moves min/max; in training it clamps to [0, 1], in execution to ±NORM_CLAMP,
 *   so it scores as a strong (finite) anomaly.
 *
 * Hot-path code (everything called per vector) allocates nothing and uses numeric literals rather than
 * module constants: see `sigmoidInPlace`.
 */
export class Autoencoder {
  readonly nVisible: number;
  readonly nHidden: number;
  readonly learningRate: number;
  /** All trained state in one buffer: [W | hbias | vbias | normMin | normMax]; see `state`. */
  private readonly buf: Float64Array;
  private readonly w: Float64Array; // row-major, visible i × hidden j at i*nHidden + j
  private readonly hb: Float64Array;
  private readonly vb: Float64Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  // 1/(max − min + 1e-16) per feature, kept in step with lo/hi (derived, not saved). 1e-16 is KitNET's guard
  // for a feature that was constant in training. Multiplying by it differs from KitNET's division by ≤ 1 ulp.
  private readonly inv: Float64Array;
  // Scratch, reused on every call.
  private readonly xn: Float64Array;
  private readonly y: Float64Array;
  private readonly z: Float64Array;
  private readonly d: Float64Array;
  private readonly gh: Float64Array;
  private readonly res = new Float64Array(1);

  /**
   * @param rng draws the initial weights uniformly from (−1/n, 1/n); pass `undefined` together with
   *   `state` to restore a saved model instead.
   */
  constructor(cfg: AutoencoderConfig, rng: Rng | undefined, state?: Float64Array) {
    const n = cfg.nVisible;
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`autoencoder: nVisible must be a positive integer, got ${n}`);
    const h = cfg.nHidden ?? hiddenSize(n, cfg.hiddenRatio ?? 0.75);
    if (!Number.isInteger(h) || h < 1)
      throw new RangeError(`autoencoder: nHidden must be a positive integer, got ${h}`);
    const lr = cfg.learningRate ?? 0.1;
    if (!(lr > 0 && Number.isFinite(lr)))
      throw new RangeError(`autoencoder: learningRate must be > 0, got ${lr}`);
    this.nVisible = n;
    this.nHidden = h;
    this.learningRate = lr;
    const len = autoencoderStateLength(n, h);
    if (state !== undefined) {
      if (state.length !== len)
        throw new RangeError(`autoencoder: state has ${state.length} doubles, expected ${len}`);
      this.buf = Float64Array.from(state);
    } else {
      if (rng === undefined) throw new RangeError("autoencoder: need an Rng or a saved state");
      this.buf = new Float64Array(len);
    }
    const nh = n * h;
    this.w = this.buf.subarray(0, nh);
    this.hb = this.buf.subarray(nh, nh + h);
    this.vb = this.buf.subarray(nh + h, nh + h + n);
    this.lo = this.buf.subarray(nh + h + n, nh + h + 2 * n);
    this.hi = this.buf.subarray(nh + h + 2 * n, nh + h + 3 * n);
    if (state === undefined && rng !== undefined) {
      const a = 1 / n;
      for (let k = 0; k < nh; k++) this.w[k] = -a + 2 * a * rng.next();
      this.lo.fill(Number.POSITIVE_INFINITY);
      this.hi.fill(Number.NEGATIVE_INFINITY);
    }
    this.inv = new Float64Array(n);
    for (let i = 0; i < n; i++) this.inv[i] = 1 / (this.hi[i] - this.lo[i] + 1e-16);
    this.xn = new Float64Array(n);
    this.y = new Float64Array(h);
    this.z = new Float64Array(n);
    this.d = new Float64Array(n);
    this.gh = new Float64Array(h);
  }

  /** Train on x[xOff .. xOff+nVisible) and return the RMSE of the reconstruction before the update. */
  train(x: Float64Array, xOff = 0): number {
    this.trainTo(x, xOff, this.res, 0);
    return this.res[0];
  }

  /** Reconstruction RMSE of x[xOff .. xOff+nVisible), without learning. */
  execute(x: Float64Array, xOff = 0): number {
    this.executeTo(x, xOff, this.res, 0);
    return this.res[0];
  }

  /** As `train`, but writes the RMSE to out[outIdx]: returning a double from a non-inlined call boxes it. */
  trainTo(x: Float64Array, xOff: number, out: Float64Array, outIdx: number): void {
    const n = this.nVisible;
    const h = this.nHidden;
    const lo = this.lo;
    const hi = this.hi;
    const inv = this.inv;
    const xn = this.xn;
    for (let i = 0; i < n; i++) {
      const v = x[xOff + i];
      if (Number.isFinite(v) && (v < lo[i] || v > hi[i])) {
        // finite and outside the range: only finite values move it
        if (v < lo[i]) lo[i] = v;
        if (v > hi[i]) hi[i] = v;
        inv[i] = 1 / (hi[i] - lo[i] + 1e-16);
      }
      let t = (v - lo[i]) * inv[i];
      if (!(t >= 0))
        t = 0; // NaN, or below the range (only a non-finite v gets there)
      else if (t > 1) t = 1;
      xn[i] = t;
    }
    this.forward(out, outIdx);
    // Backward pass, KitNET's dA update: dW = x ⊗ gh + d ⊗ y, with gh = (d·W) ∘ y(1−y) from the old W.
    const w = this.w;
    const y = this.y;
    const d = this.d;
    const gh = this.gh;
    const lr = this.learningRate;
    for (let j = 0; j < h; j++) gh[j] = 0;
    for (let i = 0; i < n; i++) {
      const di = d[i];
      const row = i * h;
      for (let j = 0; j < h; j++) gh[j] += di * w[row + j];
    }
    for (let j = 0; j < h; j++) {
      const yj = y[j];
      gh[j] *= yj * (1 - yj);
    }
    for (let i = 0; i < n; i++) {
      const xi = xn[i];
      const di = d[i];
      const row = i * h;
      for (let j = 0; j < h; j++) w[row + j] += lr * (xi * gh[j] + di * y[j]);
    }
    const hb = this.hb;
    const vb = this.vb;
    for (let j = 0; j < h; j++) hb[j] += lr * gh[j];
    for (let i = 0; i < n; i++) vb[i] += lr * d[i];
  }

  /** As `execute`, but writes the RMSE to out[outIdx]. */
  executeTo(x: Float64Array, xOff: number, out: Float64Array, outIdx: number): void {
    const n = this.nVisible;
    const lo = this.lo;
    const inv = this.inv;
    const xn = this.xn;
    for (let i = 0; i < n; i++) {
      let t = (x[xOff + i] - lo[i]) * inv[i];
      if (!(t >= -1e6))
        t = Number.isNaN(t) ? 0 : -1e6; // NaN → 0; below −NORM_CLAMP (1e6) → clamp
      else if (t > 1e6) t = 1e6;
      xn[i] = t;
    }
    this.forward(out, outIdx);
  }

  /**
   * Scores `count` vectors at once, bit-identical to `executeTo` on each. Input is feature-major with `batch`
   * columns: feature i of vector b at x[xOff + i·batch + b]; the RMSE of vector b goes to out[outOff + b].
   * `batch` must be a multiple of 4 and `scratch` hold `batchScratchLength(nVisible, nHidden, batch)` doubles.
   * Four vectors share each weight load and keep their partial sums in registers, which makes it about 1.6×
   * faster per multiply-add than `executeTo`. `errors()` does not see these vectors.
   */
  executeBatch(
    x: Float64Array,
    xOff: number,
    batch: number,
    count: number,
    out: Float64Array,
    outOff: number,
    scratch: Float64Array,
  ): void {
    const n = this.nVisible;
    const h = this.nHidden;
    const B = batch;
    const lo = this.lo;
    const inv = this.inv;
    const w = this.w;
    const hb = this.hb;
    const vb = this.vb;
    const s = scratch;
    // scratch: xn (n×B) | y (h×B) | z (n×B) | se (B). Columns count .. m−1 are padding: computed, never output.
    const Y = n * B;
    const Z = Y + h * B;
    const SE = Z + n * B;
    const m = (count + 3) & ~3;
    for (let i = 0; i < n; i++) {
      const l = lo[i];
      const c = inv[i];
      const src = xOff + i * B;
      const dst = i * B;
      for (let b = 0; b < m; b++) {
        let t = (x[src + b] - l) * c;
        if (!(t >= -1e6)) t = Number.isNaN(t) ? 0 : -1e6;
        else if (t > 1e6) t = 1e6;
        s[dst + b] = t;
      }
    }
    // Encode. e* and o* are forward()'s two partial sums (even and odd i), so the rounding is the same.
    for (let j = 0; j < h; j++) {
      const bias = hb[j];
      const yr = Y + j * B;
      for (let b = 0; b < m; b += 4) {
        let e0 = bias;
        let e1 = bias;
        let e2 = bias;
        let e3 = bias;
        let o0 = 0;
        let o1 = 0;
        let o2 = 0;
        let o3 = 0;
        let i = 0;
        for (; i + 1 < n; i += 2) {
          const w0 = w[i * h + j];
          const w1 = w[i * h + h + j];
          const r0 = i * B + b;
          const r1 = r0 + B;
          e0 += s[r0] * w0;
          e1 += s[r0 + 1] * w0;
          e2 += s[r0 + 2] * w0;
          e3 += s[r0 + 3] * w0;
          o0 += s[r1] * w1;
          o1 += s[r1 + 1] * w1;
          o2 += s[r1 + 2] * w1;
          o3 += s[r1 + 3] * w1;
        }
        if (i < n) {
          const w0 = w[i * h + j];
          const r0 = i * B + b;
          e0 += s[r0] * w0;
          e1 += s[r0 + 1] * w0;
          e2 += s[r0 + 2] * w0;
          e3 += s[r0 + 3] * w0;
        }
        s[yr + b] = e0 + o0;
        s[yr + b + 1] = e1 + o1;
        s[yr + b + 2] = e2 + o2;
        s[yr + b + 3] = e3 + o3;
      }
      sigmoidInPlace(s, yr, m);
    }
    // Decode, with the partial sums of forward() over even and odd j.
    for (let i = 0; i < n; i++) {
      const row = i * h;
      const bias = vb[i];
      const zr = Z + i * B;
      for (let b = 0; b < m; b += 4) {
        let e0 = bias;
        let e1 = bias;
        let e2 = bias;
        let e3 = bias;
        let o0 = 0;
        let o1 = 0;
        let o2 = 0;
        let o3 = 0;
        let j = 0;
        for (; j + 1 < h; j += 2) {
          const w0 = w[row + j];
          const w1 = w[row + j + 1];
          const r0 = Y + j * B + b;
          const r1 = r0 + B;
          e0 += s[r0] * w0;
          e1 += s[r0 + 1] * w0;
          e2 += s[r0 + 2] * w0;
          e3 += s[r0 + 3] * w0;
          o0 += s[r1] * w1;
          o1 += s[r1 + 1] * w1;
          o2 += s[r1 + 2] * w1;
          o3 += s[r1 + 3] * w1;
        }
        if (j < h) {
          const w0 = w[row + j];
          const r0 = Y + j * B + b;
          e0 += s[r0] * w0;
          e1 += s[r0 + 1] * w0;
          e2 += s[r0 + 2] * w0;
          e3 += s[r0 + 3] * w0;
        }
        s[zr + b] = e0 + o0;
        s[zr + b + 1] = e1 + o1;
        s[zr + b + 2] = e2 + o2;
        s[zr + b + 3] = e3 + o3;
      }
      sigmoidInPlace(s, zr, m);
    }
    for (let b = 0; b < m; b += 4) {
      let q0 = 0;
      let q1 = 0;
      let q2 = 0;
      let q3 = 0;
      for (let i = 0; i < n; i++) {
        const r = i * B + b;
        const d0 = s[r] - s[Z + r];
        const d1 = s[r + 1] - s[Z + r + 1];
        const d2 = s[r + 2] - s[Z + r + 2];
        const d3 = s[r + 3] - s[Z + r + 3];
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
      }
      s[SE + b] = q0;
      s[SE + b + 1] = q1;
      s[SE + b + 2] = q2;
      s[SE + b + 3] = q3;
    }
    for (let b = 0; b < count; b++) out[outOff + b] = Math.sqrt(s[SE + b] / n);
  }

  /** Per-feature squared errors of the last train/execute call, into out[outOff .. outOff+nVisible). */
  errors(out: Float64Array, outOff = 0): void {
    const d = this.d;
    for (let i = 0; i < this.nVisible; i++) out[outOff + i] = d[i] * d[i];
  }

  /** Sum of the per-feature squared errors of the last call (= nVisible × RMSE²). */
  squaredErrorSum(): number {
    const d = this.d;
    let s = 0;
    for (let i = 0; i < this.nVisible; i++) s += d[i] * d[i];
    return s;
  }

  /** A copy of all trained state: [W (nVisible×nHidden, row-major) | hbias | vbias | min | max]. */
  state(): Float64Array {
    return Float64Array.from(this.buf);
  }

  /** Copies the state into out at off (for packing many autoencoders into one buffer). */
  writeState(out: Float64Array, off: number): void {
    out.set(this.buf, off);
  }

  get stateLength(): number {
    return this.buf.length;
  }

  // Encode xn into y, decode into z, store d = xn − z and write the RMSE to out[outIdx] (a double returned
  // from a call that is not inlined would be boxed). Two partial sums per dot product halve the add-latency
  // chain; the summation order is fixed (and shared with executeBatch), so results stay deterministic.
  private forward(out: Float64Array, outIdx: number): void {
    const n = this.nVisible;
    const h = this.nHidden;
    const w = this.w;
    const xn = this.xn;
    const y = this.y;
    const z = this.z;
    const d = this.d;
    const hb = this.hb;
    const vb = this.vb;
    const h2 = 2 * h;
    for (let j = 0; j < h; j++) {
      let a0 = hb[j];
      let a1 = 0;
      let k = j;
      let i = 0;
      for (; i + 1 < n; i += 2, k += h2) {
        a0 += xn[i] * w[k];
        a1 += xn[i + 1] * w[k + h];
      }
      if (i < n) a0 += xn[i] * w[k];
      y[j] = a0 + a1;
    }
    sigmoidRow(y, h);
    for (let i = 0; i < n; i++) {
      const row = i * h;
      let a0 = vb[i];
      let a1 = 0;
      let j = 0;
      for (; j + 1 < h; j += 2) {
        a0 += y[j] * w[row + j];
        a1 += y[j + 1] * w[row + j + 1];
      }
      if (j < h) a0 += y[j] * w[row + j];
      z[i] = a0 + a1;
    }
    sigmoidRow(z, n);
    let se = 0;
    for (let i = 0; i < n; i++) {
      const di = xn[i] - z[i];
      d[i] = di;
      se += di * di;
    }
    out[outIdx] = Math.sqrt(se / n);
  }
}
