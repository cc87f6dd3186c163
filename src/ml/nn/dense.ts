// Dense layer (ONNX Gemm, transB = 1) with optional ReLU over a batch: forward and backward on preallocated buffers.

/**
 * y = x·Wᵀ + b (then ReLU when `relu`), for up to `maxBatch` rows. Weights and gradients are views into the
 * network's flat parameter buffers; every activation buffer is allocated once here.
 */
export class Dense {
  readonly inSize: number;
  readonly outSize: number;
  readonly relu: boolean;
  /** [outSize, inSize] and [outSize]. */
  readonly w: Float64Array;
  readonly b: Float64Array;
  readonly gw: Float64Array;
  readonly gb: Float64Array;
  /** Output of the last forward, [maxBatch, outSize]. */
  readonly out: Float64Array;
  /** Gradient with respect to the input of the last backward, [maxBatch, inSize]. */
  readonly dIn: Float64Array;

  constructor(
    inSize: number,
    outSize: number,
    relu: boolean,
    params: { w: Float64Array; b: Float64Array; gw: Float64Array; gb: Float64Array },
    maxBatch: number,
  ) {
    this.inSize = inSize;
    this.outSize = outSize;
    this.relu = relu;
    this.w = params.w;
    this.b = params.b;
    this.gw = params.gw;
    this.gb = params.gb;
    this.out = new Float64Array(maxBatch * outSize);
    this.dIn = new Float64Array(maxBatch * inSize);
  }

  forward(x: Float64Array, n: number): void {
    const I = this.inSize;
    const O = this.outSize;
    const w = this.w;
    const b = this.b;
    const y = this.out;
    const relu = this.relu;
    for (let r = 0; r < n; r++) {
      const xo = r * I;
      const yo = r * O;
      for (let o = 0; o < O; o++) {
        const wo = o * I;
        let s = b[o];
        for (let i = 0; i < I; i++) s += w[wo + i] * x[xo + i];
        y[yo + o] = relu && s < 0 ? 0 : s;
      }
    }
  }

  /**
   * Accumulates dW, db from `dOut` ([n, outSize], changed in place by the ReLU mask) and the input `x` of the
   * forward; fills `dIn` when `needDIn`.
   */
  backward(x: Float64Array, dOut: Float64Array, n: number, needDIn: boolean): void {
    const I = this.inSize;
    const O = this.outSize;
    const w = this.w;
    const gw = this.gw;
    const gb = this.gb;
    const y = this.out;
    const dIn = this.dIn;
    if (this.relu) for (let k = 0; k < n * O; k++) if (y[k] <= 0) dOut[k] = 0;
    if (needDIn) dIn.fill(0, 0, n * I);
    for (let r = 0; r < n; r++) {
      const xo = r * I;
      const yo = r * O;
      for (let o = 0; o < O; o++) {
        const g = dOut[yo + o];
        if (g === 0) continue;
        gb[o] += g;
        const wo = o * I;
        for (let i = 0; i < I; i++) gw[wo + i] += g * x[xo + i];
        if (needDIn) for (let i = 0; i < I; i++) dIn[xo + i] += g * w[wo + i];
      }
    }
  }
}
