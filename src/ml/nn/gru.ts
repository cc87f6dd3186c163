// GRU over short variable-length sequences (ONNX GRU, linear_before_reset = 1) with full backpropagation through time.

/**
 * One forward GRU layer over a batch of sequences [n, steps, channels] (step-major per sample, oldest first),
 * each sample read up to its own length; the output is the hidden state after the sample's last step
 * (ONNX's Y_h with `sequence_lens`). Gate equations and weight layout: see `NnGruBranch` in model.ts.
 * Every step's gates are kept for backpropagation through time; buffers are sized once for `maxBatch`.
 */
export class Gru {
  readonly channels: number;
  readonly hidden: number;
  readonly steps: number;
  /** [3H, C], [3H, H], [6H] and their gradients (views into the network's flat buffers). */
  readonly w: Float64Array;
  readonly r: Float64Array;
  readonly b: Float64Array;
  readonly gw: Float64Array;
  readonly gr: Float64Array;
  readonly gb: Float64Array;
  /** Output of the last forward, [maxBatch, H]. */
  readonly out: Float64Array;
  // Per sample and step: input projections x·Wᵀ + Wb [3H]; gates z, r, candidate n, u = h·Rhᵀ + Rbh [H each];
  // hidden states h_0 .. h_steps [H each].
  private readonly xp: Float64Array;
  private readonly zs: Float64Array;
  private readonly rs: Float64Array;
  private readonly ns: Float64Array;
  private readonly us: Float64Array;
  private readonly hs: Float64Array;
  private readonly lens: Int32Array;
  // Scratch of one step.
  private readonly rh: Float64Array;
  private readonly dh: Float64Array;
  private readonly dhPrev: Float64Array;
  private readonly dgx: Float64Array;
  private readonly dgh: Float64Array;

  constructor(
    channels: number,
    hidden: number,
    steps: number,
    params: {
      w: Float64Array;
      r: Float64Array;
      b: Float64Array;
      gw: Float64Array;
      gr: Float64Array;
      gb: Float64Array;
    },
    maxBatch: number,
  ) {
    this.channels = channels;
    this.hidden = hidden;
    this.steps = steps;
    this.w = params.w;
    this.r = params.r;
    this.b = params.b;
    this.gw = params.gw;
    this.gr = params.gr;
    this.gb = params.gb;
    const H = hidden;
    this.out = new Float64Array(maxBatch * H);
    this.xp = new Float64Array(maxBatch * steps * 3 * H);
    this.zs = new Float64Array(maxBatch * steps * H);
    this.rs = new Float64Array(maxBatch * steps * H);
    this.ns = new Float64Array(maxBatch * steps * H);
    this.us = new Float64Array(maxBatch * steps * H);
    this.hs = new Float64Array(maxBatch * (steps + 1) * H);
    this.lens = new Int32Array(maxBatch);
    this.rh = new Float64Array(3 * H);
    this.dh = new Float64Array(H);
    this.dhPrev = new Float64Array(H);
    this.dgx = new Float64Array(3 * H);
    this.dgh = new Float64Array(3 * H);
  }

  /** x: [n, steps, C] scaled inputs; lengths[i] in 1..steps (0 gives the zero state). */
  forward(x: Float64Array, lengths: Int32Array, n: number): void {
    const C = this.channels;
    const H = this.hidden;
    const H3 = 3 * H;
    const T = this.steps;
    const w = this.w;
    const R = this.r;
    const B = this.b;
    const xp = this.xp;
    const zs = this.zs;
    const rs = this.rs;
    const ns = this.ns;
    const us = this.us;
    const hs = this.hs;
    const rh = this.rh;
    const out = this.out;
    for (let s = 0; s < n; s++) {
      let len = lengths[s];
      len = len < 0 ? 0 : len > T ? T : len;
      this.lens[s] = len;
      const hBase = s * (T + 1) * H;
      hs.fill(0, hBase, hBase + H);
      for (let t = 0; t < len; t++) {
        const xo = (s * T + t) * C;
        const po = (s * T + t) * H3;
        for (let g = 0; g < H3; g++) {
          const wo = g * C;
          let acc = B[g];
          for (let c = 0; c < C; c++) acc += w[wo + c] * x[xo + c];
          xp[po + g] = acc;
        }
      }
      for (let t = 0; t < len; t++) {
        const hp = hBase + t * H;
        const hn = hp + H;
        const po = (s * T + t) * H3;
        const go = (s * T + t) * H;
        for (let g = 0; g < H3; g++) {
          const ro = g * H;
          let acc = B[H3 + g];
          for (let k = 0; k < H; k++) acc += R[ro + k] * hs[hp + k];
          rh[g] = acc;
        }
        for (let j = 0; j < H; j++) {
          const z = 1 / (1 + Math.exp(-(xp[po + j] + rh[j])));
          const r = 1 / (1 + Math.exp(-(xp[po + H + j] + rh[H + j])));
          const u = rh[2 * H + j];
          const cand = Math.tanh(xp[po + 2 * H + j] + r * u);
          zs[go + j] = z;
          rs[go + j] = r;
          us[go + j] = u;
          ns[go + j] = cand;
          hs[hn + j] = (1 - z) * cand + z * hs[hp + j];
        }
      }
      const last = hBase + len * H;
      for (let j = 0; j < H; j++) out[s * H + j] = hs[last + j];
    }
  }

  /** Accumulates dW, dR, dB from dOut ([n, H], gradient of the loss w.r.t. the output) through every step. */
  backward(x: Float64Array, dOut: Float64Array, n: number): void {
    const C = this.channels;
    const H = this.hidden;
    const H3 = 3 * H;
    const T = this.steps;
    const R = this.r;
    const gw = this.gw;
    const gr = this.gr;
    const gb = this.gb;
    const zs = this.zs;
    const rs = this.rs;
    const ns = this.ns;
    const us = this.us;
    const hs = this.hs;
    let dh = this.dh;
    let dhPrev = this.dhPrev;
    const dgx = this.dgx; // d(pre-activation) of the input side: z, r, candidate
    const dgh = this.dgh; // d(pre-activation) of the recurrent side: z, r, u
    for (let s = 0; s < n; s++) {
      const len = this.lens[s];
      if (len === 0) continue;
      const hBase = s * (T + 1) * H;
      for (let j = 0; j < H; j++) dh[j] = dOut[s * H + j];
      for (let t = len - 1; t >= 0; t--) {
        const hp = hBase + t * H;
        const go = (s * T + t) * H;
        for (let j = 0; j < H; j++) {
          const z = zs[go + j];
          const r = rs[go + j];
          const cand = ns[go + j];
          const g = dh[j];
          const dCand = g * (1 - z) * (1 - cand * cand);
          const dz = g * (hs[hp + j] - cand) * z * (1 - z);
          const dr = dCand * us[go + j] * r * (1 - r);
          dgx[j] = dz;
          dgx[H + j] = dr;
          dgx[2 * H + j] = dCand;
          dgh[j] = dz;
          dgh[H + j] = dr;
          dgh[2 * H + j] = dCand * r;
          dhPrev[j] = g * z;
        }
        // Biases: Wb takes the input side, Rb the recurrent side.
        for (let g = 0; g < H3; g++) {
          gb[g] += dgx[g];
          gb[H3 + g] += dgh[g];
        }
        // dW += dgx ⊗ x_t.
        const xo = (s * T + t) * C;
        for (let g = 0; g < H3; g++) {
          const d = dgx[g];
          if (d === 0) continue;
          const wo = g * C;
          for (let c = 0; c < C; c++) gw[wo + c] += d * x[xo + c];
        }
        // h_0 = 0: nothing flows into R or further back from the first step.
        if (t > 0) {
          for (let g = 0; g < H3; g++) {
            const d = dgh[g];
            if (d === 0) continue;
            const ro = g * H;
            for (let k = 0; k < H; k++) {
              gr[ro + k] += d * hs[hp + k];
              dhPrev[k] += d * R[ro + k];
            }
          }
        }
        const tmp = dh;
        dh = dhPrev;
        dhPrev = tmp;
      }
    }
  }
}
