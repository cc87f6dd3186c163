import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "../../core/index.ts";
import {
  Conv1d,
  Dense,
  Gru,
  identityNormalization,
  initNnModel,
  Network,
  type NnInput,
  softmaxCrossEntropy,
} from "../index.ts";

const EPS = 1e-6;

function randn(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

/** Largest |analytic − numeric| / max(1e-3, |analytic| + |numeric|) over the entries of `p` (central differences). */
function maxRelError(p: Float64Array, analytic: Float64Array, loss: () => number): number {
  let worst = 0;
  for (let i = 0; i < p.length; i++) {
    const keep = p[i];
    p[i] = keep + EPS;
    const up = loss();
    p[i] = keep - EPS;
    const down = loss();
    p[i] = keep;
    const num = (up - down) / (2 * EPS);
    const rel = Math.abs(num - analytic[i]) / Math.max(1e-3, Math.abs(num) + Math.abs(analytic[i]));
    worst = Math.max(worst, rel);
  }
  return worst;
}

function dot(a: Float64Array, b: Float64Array, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[i] * b[i];
  return s;
}

describe("gradient checks (central finite differences)", () => {
  it("dense layer, with and without ReLU: dW, dB and dInput", () => {
    for (const relu of [false, true]) {
      const rng = seededRng(relu ? 2 : 1);
      const I = 7;
      const O = 5;
      const n = 4;
      const w = randn(O * I, rng);
      const b = randn(O, rng);
      const gw = new Float64Array(O * I);
      const gb = new Float64Array(O);
      const layer = new Dense(I, O, relu, { w, b, gw, gb }, n);
      const x = randn(n * I, rng);
      const coef = randn(n * O, rng);
      const loss = (): number => {
        layer.forward(x, n);
        return dot(layer.out, coef, n * O);
      };
      loss();
      layer.backward(x, Float64Array.from(coef), n, true);
      const dIn = Float64Array.from(layer.dIn.subarray(0, n * I));
      expect(maxRelError(w, gw, loss)).toBeLessThan(1e-6);
      expect(maxRelError(b, gb, loss)).toBeLessThan(1e-6);
      expect(maxRelError(x, dIn, loss)).toBeLessThan(1e-6);
    }
  });

  it("GRU: dW, dR, dB through every step of variable-length sequences", () => {
    const rng = seededRng(3);
    const C = 4;
    const H = 5;
    const T = 6;
    const n = 3;
    const p = {
      w: randn(3 * H * C, rng, 0.6),
      r: randn(3 * H * H, rng, 0.6),
      b: randn(6 * H, rng, 0.6),
      gw: new Float64Array(3 * H * C),
      gr: new Float64Array(3 * H * H),
      gb: new Float64Array(6 * H),
    };
    const gru = new Gru(C, H, T, p, n);
    const x = randn(n * T * C, rng);
    const lengths = Int32Array.from([6, 3, 1]);
    const coef = randn(n * H, rng);
    const loss = (): number => {
      gru.forward(x, lengths, n);
      return dot(gru.out, coef, n * H);
    };
    loss();
    gru.backward(x, coef, n);
    expect(maxRelError(p.w, p.gw, loss)).toBeLessThan(1e-6);
    expect(maxRelError(p.r, p.gr, loss)).toBeLessThan(1e-6);
    expect(maxRelError(p.b, p.gb, loss)).toBeLessThan(1e-6);
    // Steps past a sample's length are never read.
    gru.forward(x, lengths, n);
    const before = Float64Array.from(gru.out.subarray(0, n * H));
    x.fill(1e3, 1 * T * C + 3 * C, 2 * T * C);
    gru.forward(x, lengths, n);
    expect(Array.from(gru.out.subarray(0, n * H))).toEqual(Array.from(before));
  });

  it("GRU forward equals the ONNX GRU equations with linear_before_reset = 1", () => {
    const rng = seededRng(4);
    const C = 3;
    const H = 4;
    const T = 5;
    const p = {
      w: randn(3 * H * C, rng),
      r: randn(3 * H * H, rng),
      b: randn(6 * H, rng),
      gw: new Float64Array(3 * H * C),
      gr: new Float64Array(3 * H * H),
      gb: new Float64Array(6 * H),
    };
    const gru = new Gru(C, H, T, p, 1);
    const x = randn(T * C, rng);
    gru.forward(x, Int32Array.of(T), 1);
    // Reference: the operator's equations written out per gate (W[zrh], R[zrh], B = [Wb[zrh], Rb[zrh]]).
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    let h = new Array<number>(H).fill(0);
    for (let t = 0; t < T; t++) {
      const xt = Array.from(x.subarray(t * C, t * C + C));
      const lin = (m: Float64Array, gate: number, j: number, v: number[], width: number): number =>
        v.reduce((a, vk, k) => a + m[(gate * H + j) * width + k]! * vk, 0);
      const next: number[] = [];
      for (let j = 0; j < H; j++) {
        const z = sig(lin(p.w, 0, j, xt, C) + lin(p.r, 0, j, h, H) + p.b[j]! + p.b[3 * H + j]!);
        const r = sig(lin(p.w, 1, j, xt, C) + lin(p.r, 1, j, h, H) + p.b[H + j]! + p.b[4 * H + j]!);
        const cand = Math.tanh(
          lin(p.w, 2, j, xt, C) + r * (lin(p.r, 2, j, h, H) + p.b[5 * H + j]!) + p.b[2 * H + j]!,
        );
        next.push((1 - z) * cand + z * h[j]!);
      }
      h = next;
    }
    for (let j = 0; j < H; j++) expect(gru.out[j]).toBeCloseTo(h[j]!, 12);
  });

  it("conv + ReLU + GlobalMaxPool, two layers with stride: dW, dB and dInput", () => {
    const rng = seededRng(5);
    const C = 3;
    const L = 17;
    const n = 2;
    const mk = (len: number) => ({
      w: randn(len, rng),
      b: randn(len === 0 ? 0 : 1, rng),
      gw: new Float64Array(len),
      gb: new Float64Array(0),
    });
    const p1 = { ...mk(4 * C * 3), b: randn(4, rng, 0.3), gb: new Float64Array(4) };
    const p2 = { ...mk(5 * 4 * 2), b: randn(5, rng, 0.3), gb: new Float64Array(5) };
    const c1 = new Conv1d(C, L, 4, 3, 2, false, p1, n);
    const c2 = new Conv1d(4, c1.outLength, 5, 2, 1, true, p2, n);
    const x = randn(n * C * L, rng);
    const coef = randn(n * 5, rng);
    const loss = (): number => {
      c1.forward(x, n);
      c2.forward(c1.out, n);
      return dot(c2.pooled, coef, n * 5);
    };
    loss();
    c2.backward(c1.out, Float64Array.from(coef), n, true);
    c1.backward(x, c2.dIn, n, true);
    const dIn = Float64Array.from(c1.dIn.subarray(0, n * C * L));
    expect(c1.outLength).toBe(8);
    expect(maxRelError(p1.w, p1.gw, loss)).toBeLessThan(1e-6);
    expect(maxRelError(p1.b, p1.gb, loss)).toBeLessThan(1e-6);
    expect(maxRelError(p2.w, p2.gw, loss)).toBeLessThan(1e-6);
    expect(maxRelError(p2.b, p2.gb, loss)).toBeLessThan(1e-6);
    expect(maxRelError(x, dIn, loss)).toBeLessThan(1e-6);
  });

  it("conv forward over a zero tail (padding past a short payload) equals the plain sums", () => {
    const rng = seededRng(8);
    const C = 2;
    const L = 20;
    const K = 4;
    const M = 3;
    const p = {
      w: randn(M * C * K, rng),
      b: randn(M, rng),
      gw: new Float64Array(M * C * K),
      gb: new Float64Array(M),
    };
    const conv = new Conv1d(C, L, M, K, 2, true, p, 1);
    const x = randn(C * L, rng);
    x.fill(0, 7, L); // channel 0 ends at 6
    x.fill(0, L + 3, 2 * L); // channel 1 ends at 2
    conv.forward(x, 1);
    for (let m = 0; m < M; m++)
      for (let o = 0; o < conv.outLength; o++) {
        let v = p.b[m]!;
        for (let c = 0; c < C; c++)
          for (let j = 0; j < K; j++) v += p.w[(m * C + c) * K + j]! * x[c * L + o * 2 + j]!;
        expect(conv.out[m * conv.outLength + o]).toBe(Math.max(0, v));
      }
  });

  it("softmax cross-entropy with class weights: dLogits", () => {
    const rng = seededRng(6);
    const n = 5;
    const K = 4;
    const logits = randn(n * K, rng, 3);
    const labels = Int32Array.from([0, 3, 1, 1, 2]);
    const weights = Float64Array.from([0.5, 2, 1, 3]);
    const probs = new Float64Array(n * K);
    const d = new Float64Array(n * K);
    softmaxCrossEntropy(logits, labels, 0, n, K, weights, probs, d);
    const loss = (): number => softmaxCrossEntropy(logits, labels, 0, n, K, weights, probs, null).loss;
    expect(maxRelError(logits, Float64Array.from(d), loss)).toBeLessThan(1e-6);
  });

  it("a whole network (GRU and conv branches, ReLU head): every parameter", () => {
    const rng = seededRng(7);
    const seq: NnInput = {
      name: "seq",
      layout: "sequence",
      channels: 3,
      length: 4,
      channelNames: ["a", "b", "c"],
      norm: {
        ...identityNormalization(3),
        log1p: Uint8Array.of(1, 0, 0),
        mean: Float32Array.of(0.2, -0.1, 0),
      },
    };
    const grid: NnInput = {
      name: "grid",
      layout: "grid",
      channels: 2,
      length: 9,
      channelNames: ["u", "v"],
      norm: identityNormalization(2),
    };
    const model = initNnModel(
      {
        kind: "payload-cnn",
        classes: ["x", "y", "z"],
        benign: 0,
        inputs: [seq, grid],
        branches: [
          { type: "gru", input: 0, hiddenSize: 4 },
          { type: "conv", input: 1, layers: [{ outChannels: 3, kernel: 3 }] },
        ],
        hidden: [5],
      },
      rng,
    );
    const n = 3;
    const net = new Network(model, n);
    net.x.set(randn(n * net.sampleSize, rng, 2));
    net.lengths.set([4, 2, 3]);
    const labels = Int32Array.from([2, 0, 1]);
    const weights = Float64Array.from([1, 2, 0.5]);
    net.grads.fill(0);
    net.trainStep(labels, 0, n, weights);
    const analytic = Float64Array.from(net.grads);
    const loss = (): number => {
      net.grads.fill(0);
      return net.trainStep(labels, 0, n, weights).loss;
    };
    expect(maxRelError(net.params, analytic, loss)).toBeLessThan(1e-5);
  });
});
