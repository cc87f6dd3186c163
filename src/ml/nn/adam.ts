// Adam (with optional decoupled weight decay, AdamW) and global-norm gradient clipping over one flat buffer.

/** Settings of `Adam`. */
export interface AdamOptions {
  /** Step size; 1e-3 is Kingma & Ba's default. */
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay per step (AdamW), applied where `decayMask` is 1 (weights, not biases). */
  weightDecay: number;
}

export const DEFAULT_ADAM: AdamOptions = {
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
};

/** Adam over a flat parameter buffer and its gradient buffer of the same length. */
export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  readonly opts: AdamOptions;

  constructor(
    private readonly params: Float64Array,
    private readonly grads: Float64Array,
    private readonly decayMask: Uint8Array,
    opts: Partial<AdamOptions> = {},
  ) {
    this.opts = { ...DEFAULT_ADAM, ...opts };
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }

  /** One update from the current gradients (the caller zeroes them before the next batch). */
  step(): void {
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd } = this.opts;
    this.t++;
    const c1 = 1 / (1 - b1 ** this.t);
    const c2 = 1 / (1 - b2 ** this.t);
    const p = this.params;
    const g = this.grads;
    const m = this.m;
    const v = this.v;
    const mask = this.decayMask;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      let upd = (m[i] * c1) / (Math.sqrt(v[i] * c2) + eps);
      if (wd > 0 && mask[i] === 1) upd += wd * p[i];
      p[i] -= lr * upd;
    }
  }
}

/** Scales `grads` down so their L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: Float64Array, maxNorm: number): number {
  let s = 0;
  for (let i = 0; i < grads.length; i++) s += grads[i] * grads[i];
  const norm = Math.sqrt(s);
  if (norm > maxNorm && norm > 0) {
    const k = maxNorm / norm;
    for (let i = 0; i < grads.length; i++) grads[i] *= k;
  }
  return norm;
}
