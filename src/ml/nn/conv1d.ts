// 1-D convolution (ONNX Conv: no padding, group 1) + ReLU, optionally ending in GlobalMaxPool, forward and backward.

/**
 * Conv over [n, C, L] (channel-major per sample) with weights [M, C, k] and stride s, then ReLU:
 * y[m, o] = relu(B[m] + Σ_c Σ_j W[m, c, j]·x[c, o·s + j]), o < Lo = ⌊(L − k)/s⌋ + 1.
 * With `pool`, the layer also keeps GlobalMaxPool over o ([n, M], and the winning position per filter), and
 * its backward takes the gradient of the pooled output: only the winning position of each filter gets it.
 */
export class Conv1d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly inLength: number;
  readonly outLength: number;
  readonly pool: boolean;
  readonly w: Float64Array;
  readonly b: Float64Array;
  readonly gw: Float64Array;
  readonly gb: Float64Array;
  /** ReLU output [maxBatch, M, Lo]. */
  readonly out: Float64Array;
  /** GlobalMaxPool output [maxBatch, M] (pool only) and the position each maximum came from. */
  readonly pooled: Float64Array;
  private readonly argmax: Int32Array;
  /** Gradient w.r.t. the input of the last backward, [maxBatch, C, L] (filled when asked). */
  readonly dIn: Float64Array;

  constructor(
    inChannels: number,
    inLength: number,
    outChannels: number,
    kernel: number,
    stride: number,
    pool: boolean,
    params: { w: Float64Array; b: Float64Array; gw: Float64Array; gb: Float64Array },
    maxBatch: number,
  ) {
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernel = kernel;
    this.stride = stride;
    this.inLength = inLength;
    this.outLength = inLength < kernel ? 0 : Math.floor((inLength - kernel) / stride) + 1;
    if (this.outLength < 1)
      throw new RangeError(`conv: kernel ${kernel} is longer than the input (${inLength})`);
    this.pool = pool;
    this.w = params.w;
    this.b = params.b;
    this.gw = params.gw;
    this.gb = params.gb;
    this.out = new Float64Array(maxBatch * outChannels * this.outLength);
    this.pooled = new Float64Array(pool ? maxBatch * outChannels : 0);
    this.argmax = new Int32Array(pool ? maxBatch * outChannels : 0);
    this.dIn = new Float64Array(maxBatch * inChannels * inLength);
  }

  forward(x: Float64Array, n: number): void {
    const C = this.inChannels;
    const M = this.outChannels;
    const K = this.kernel;
    const S = this.stride;
    const L = this.inLength;
    const Lo = this.outLength;
    const w = this.w;
    const b = this.b;
    const y = this.out;
    for (let s = 0; s < n; s++) {
      const xs = s * C * L;
      // Outputs whose whole receptive field lies in an all-zero tail (padding past a short payload) are
      // just the bias: only the first `live` outputs need the sums (B + Σ w·0 is B exactly).
      let last = -1;
      for (let c = 0; c < C; c++) {
        const xc = xs + c * L;
        for (let i = L - 1; i > last; i--)
          if (x[xc + i] !== 0) {
            last = i;
            break;
          }
      }
      const live = last < 0 ? 0 : Math.min(Lo, Math.floor(last / S) + 1);
      for (let m = 0; m < M; m++) {
        const yo = (s * M + m) * Lo;
        y.fill(b[m], yo, yo + Lo);
        for (let c = 0; c < C; c++) {
          const wo = (m * C + c) * K;
          const xc = xs + c * L;
          for (let j = 0; j < K; j++) {
            const wv = w[wo + j];
            if (wv === 0) continue;
            let xi = xc + j;
            for (let o = 0; o < live; o++) {
              y[yo + o] += wv * x[xi];
              xi += S;
            }
          }
        }
        let best = 0;
        let at = 0;
        for (let o = 0; o < Lo; o++) {
          const v = y[yo + o];
          if (v <= 0) y[yo + o] = 0;
          else if (v > best) {
            best = v;
            at = o;
          }
        }
        if (this.pool) {
          this.pooled[s * M + m] = best;
          this.argmax[s * M + m] = at;
        }
      }
    }
  }

  /**
   * Accumulates dW, dB. `dOut` is [n, M] (the pooled gradient) when `pool`, else [n, M, Lo] (changed in
   * place by the ReLU mask). Fills `dIn` when `needDIn`.
   */
  backward(x: Float64Array, dOut: Float64Array, n: number, needDIn: boolean): void {
    const C = this.inChannels;
    const M = this.outChannels;
    const K = this.kernel;
    const S = this.stride;
    const L = this.inLength;
    const Lo = this.outLength;
    const w = this.w;
    const gw = this.gw;
    const gb = this.gb;
    const dIn = this.dIn;
    if (needDIn) dIn.fill(0, 0, n * C * L);
    if (this.pool) {
      for (let s = 0; s < n; s++) {
        const xs = s * C * L;
        for (let m = 0; m < M; m++) {
          const g = dOut[s * M + m];
          // A filter that stayed ≤ 0 everywhere has ReLU gradient 0.
          if (g === 0 || this.pooled[s * M + m] <= 0) continue;
          const p = this.argmax[s * M + m] * S;
          gb[m] += g;
          for (let c = 0; c < C; c++) {
            const wo = (m * C + c) * K;
            const xo = xs + c * L + p;
            for (let j = 0; j < K; j++) gw[wo + j] += g * x[xo + j];
            if (needDIn) for (let j = 0; j < K; j++) dIn[xo + j] += g * w[wo + j];
          }
        }
      }
      return;
    }
    const y = this.out;
    for (let k = 0; k < n * M * Lo; k++) if (y[k] <= 0) dOut[k] = 0;
    for (let s = 0; s < n; s++) {
      const xs = s * C * L;
      for (let m = 0; m < M; m++) {
        const yo = (s * M + m) * Lo;
        let sb = 0;
        for (let o = 0; o < Lo; o++) sb += dOut[yo + o];
        if (sb === 0) {
          let any = false;
          for (let o = 0; o < Lo && !any; o++) any = dOut[yo + o] !== 0;
          if (!any) continue;
        }
        gb[m] += sb;
        for (let c = 0; c < C; c++) {
          const wo = (m * C + c) * K;
          const xc = xs + c * L;
          for (let j = 0; j < K; j++) {
            let acc = 0;
            let xi = xc + j;
            for (let o = 0; o < Lo; o++) {
              acc += dOut[yo + o] * x[xi];
              xi += S;
            }
            gw[wo + j] += acc;
            if (needDIn) {
              const wv = w[wo + j];
              let di = xc + j;
              for (let o = 0; o < Lo; o++) {
                dIn[di] += wv * dOut[yo + o];
                di += S;
              }
            }
          }
        }
      }
    }
  }
}
