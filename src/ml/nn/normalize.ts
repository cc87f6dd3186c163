// Input scaling of the neural models: fit per-channel mean/std (after an optional signed log1p), apply in place.

import type { NnInput, NnNormalization } from "./model.ts";

/** Default bound of a scaled input: 50 standard deviations keeps every activation finite and gradients sane. */
export const NN_INPUT_CLIP = 50;

/** sign(x)·ln(1 + |x|): log scale that keeps 0 at 0 and works for negative values (CIC's −1 sentinels). */
export function signedLog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

/** A channel whose scaling is set by hand (indicator bits, directions, byte values), not fitted. */
export interface FixedScaling {
  mean: number;
  invStd: number;
}

/**
 * Streams values per channel (Welford, in float64) and turns them into an `NnNormalization`. Non-finite
 * values are skipped. A channel that was constant (or never seen) gets invStd 1 so it cannot blow up.
 */
export class NormFitter {
  readonly channels: number;
  readonly log1p: Uint8Array;
  private readonly n: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(log1p: Uint8Array) {
    this.channels = log1p.length;
    this.log1p = Uint8Array.from(log1p);
    this.n = new Float64Array(this.channels);
    this.mean = new Float64Array(this.channels);
    this.m2 = new Float64Array(this.channels);
  }

  /** Adds one raw value of channel `c`. */
  add(c: number, raw: number): void {
    if (!Number.isFinite(raw)) return;
    const v = this.log1p[c] === 1 ? signedLog1p(raw) : raw;
    const n = ++this.n[c];
    const d = v - this.mean[c];
    this.mean[c] += d / n;
    this.m2[c] += d * (v - this.mean[c]);
  }

  /** The fitted scaling; `fixed(c)` overrides channel c (its log1p flag is then cleared). */
  finish(clip = NN_INPUT_CLIP, fixed?: (c: number) => FixedScaling | undefined): NnNormalization {
    const C = this.channels;
    const log1p = Uint8Array.from(this.log1p);
    const mean = new Float32Array(C);
    const invStd = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const f = fixed?.(c);
      if (f !== undefined) {
        log1p[c] = 0;
        mean[c] = f.mean;
        invStd[c] = f.invStd;
        continue;
      }
      const n = this.n[c];
      const sd = n > 1 ? Math.sqrt(this.m2[c] / (n - 1)) : 0;
      mean[c] = n > 0 ? this.mean[c] : 0;
      // 1e-6: below this the channel is constant up to float noise; scaling it up would amplify noise.
      invStd[c] = sd > 1e-6 ? 1 / sd : 1;
    }
    return { log1p, mean, invStd, clip };
  }
}

/** Identity scaling for `channels` channels (tests, inputs already in range). */
export function identityNormalization(channels: number, clip = NN_INPUT_CLIP): NnNormalization {
  return {
    log1p: new Uint8Array(channels),
    mean: new Float32Array(channels),
    invStd: new Float32Array(channels).fill(1),
    clip,
  };
}

/**
 * Scales one sample's raw block of `inp` from src[srcOff..] into dst[dstOff..] (same layout). For a sequence
 * input only the first `steps` steps are read; later steps are written as 0. Allocates nothing.
 */
export function normalizeBlock(
  inp: NnInput,
  src: Float64Array | Float32Array,
  srcOff: number,
  dst: Float64Array,
  dstOff: number,
  steps: number,
): void {
  const C = inp.channels;
  const L = inp.length;
  const { log1p, mean, invStd, clip } = inp.norm;
  if (inp.layout === "sequence") {
    const used = steps * C;
    for (let t = 0; t < steps; t++) {
      const base = t * C;
      for (let c = 0; c < C; c++) {
        let v = src[srcOff + base + c];
        if (log1p[c] === 1) v = v < 0 ? -Math.log1p(-v) : Math.log1p(v);
        v = (v - mean[c]) * invStd[c];
        dst[dstOff + base + c] = v > clip ? clip : v < -clip ? -clip : Number.isNaN(v) ? 0 : v;
      }
    }
    dst.fill(0, dstOff + used, dstOff + L * C);
    return;
  }
  for (let c = 0; c < C; c++) {
    const base = c * L;
    const lg = log1p[c] === 1;
    const mu = mean[c];
    const s = invStd[c];
    for (let p = 0; p < L; p++) {
      let v = src[srcOff + base + p];
      if (lg) v = v < 0 ? -Math.log1p(-v) : Math.log1p(v);
      v = (v - mu) * s;
      dst[dstOff + base + p] = v > clip ? clip : v < -clip ? -clip : Number.isNaN(v) ? 0 : v;
    }
  }
}
