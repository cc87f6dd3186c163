import { describe, expect, it } from "vitest";
import { seededRng } from "../core/index.ts";
import { createExplanation, KitNet, type KitNetConfig } from "./kitnet-index.ts";

// Correlated data: a few latent factors mixed into n features, with offsets and scales that differ per feature.
function rows(n: number, count: number, seed: number): Float64Array {
  const rng = seededRng(seed);
  const mix = Array.from({ length: n }, () => [rng.next() * 2 - 1, rng.next() * 2 - 1, rng.next() * 2 - 1]);
  const scale = Array.from({ length: n }, () => 10 ** (rng.next() * 4 - 1));
  const out = new Float64Array(n * count);
  for (let r = 0; r < count; r++) {
    const z = [rng.next(), rng.next() * 3, rng.next() - 0.5];
    for (let i = 0; i < n; i++) {
      const m = mix[i];
      out[r * n + i] =
        scale[i] * (m[0] * z[0] + m[1] * z[1] + m[2] * z[2] + 0.05 * rng.next()) + 100 * (i % 3);
    }
  }
  return out;
}

function trained(cfg: KitNetConfig, seed: number): { net: KitNet; n: number } {
  const n = cfg.n;
  const fm = cfg.featureMap ? 0 : (cfg.fmGrace ?? 200);
  const ad = cfg.adGrace ?? 600;
  const data = rows(n, fm + ad, seed);
  const net = new KitNet({ fmGrace: 200, adGrace: 600, ...cfg, kernel: "js" });
  for (let r = 0; r < fm + ad; r++) net.process(data, r * n);
  expect(net.phase).toBe("execute");
  return { net, n };
}

// Probe vectors: in-range rows, far-out rows, and rows with NaN, ±Infinity and huge values.
function probes(n: number, seed: number): Float64Array {
  const count = 400;
  const xs = rows(n, count, seed + 1);
  const rng = seededRng(seed + 2);
  const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300, -1e300, -0, 5e5];
  for (let r = 0; r < count; r++) {
    if (r % 4 === 1) for (let i = 0; i < n; i++) xs[r * n + i] *= 1 + 20 * rng.next();
    if (r % 4 === 2) xs[r * n + Math.floor(rng.next() * n)] = bad[r % bad.length];
    if (r % 4 === 3) for (let i = 0; i < n; i += 3) xs[r * n + i] = bad[(r + i) % bad.length];
  }
  return xs;
}

const SHAPES: { name: string; cfg: KitNetConfig }[] = [
  { name: "AfterImage-sized, groups of ≤ 10", cfg: { n: 115, maxGroup: 10 } },
  { name: "odd sizes, hidden ratio 0.5", cfg: { n: 23, maxGroup: 7, hiddenRatio: 0.5 } },
  { name: "one big group", cfg: { n: 30, maxGroup: 30 } },
  {
    name: "single-feature groups, one hidden unit",
    cfg: { n: 5, featureMap: [[0], [1], [2, 3], [4]], hiddenRatio: 0.3 },
  },
  { name: "wide hidden layer", cfg: { n: 12, maxGroup: 5, hiddenRatio: 2 } },
];

describe("KitNet WebAssembly kernel", () => {
  it("is the kernel in use on this Node", () => {
    const { net } = trained({ n: 20, maxGroup: 5 }, 1);
    const auto = KitNet.fromState(net.exportState());
    expect(auto.kernelInUse).toBe("pending");
    auto.score(new Float64Array(20));
    expect(auto.kernelInUse).toBe("wasm-f64");
    expect(net.kernelInUse).toBe("js");
  });

  for (const { name, cfg } of SHAPES) {
    it(`scores bit for bit as the JS kernel: ${name}`, () => {
      const { net: js, n } = trained(cfg, 3);
      const wasm = KitNet.fromState(js.exportState());
      const xs = probes(n, 3);
      const count = xs.length / n;
      const a = new Float64Array(count);
      const b = new Float64Array(count);
      for (let r = 0; r < count; r++) {
        a[r] = js.score(xs, r * n);
        b[r] = wasm.score(xs, r * n);
      }
      expect(wasm.kernelInUse).toBe("wasm-f64");
      for (let r = 0; r < count; r++)
        expect(Object.is(a[r], b[r]), `row ${r}: ${a[r]} vs ${b[r]}`).toBe(true);
      // processBatch (tiles of the kernel's row capacity, and a ragged end) gives the same numbers.
      const c = new Float64Array(count);
      wasm.processBatch(xs, count, c);
      for (let r = 0; r < count; r++) expect(Object.is(a[r], c[r])).toBe(true);
      // Explanations read the kernel's per-feature errors: the same shares as the JS kernel's.
      const ea = createExplanation(n);
      const eb = createExplanation(n);
      for (const r of [0, 1, 2, 3, count - 1]) {
        js.score(xs, r * n);
        wasm.score(xs, r * n);
        js.explain(ea);
        wasm.explain(eb);
        expect([...eb.feature]).toEqual([...ea.feature]);
        expect([...eb.share]).toEqual([...ea.share]);
      }
    });
  }

  it("rounds exactly as Math.round in the sigmoid, ties and 0.49999999999999994 included", () => {
    // One feature, one hidden unit, W = 1, bias 0, min 0, max 1: the hidden pre-activation is the input itself,
    // so the sigmoid sees x exactly and its first step computes t = −x·64/ln2.
    const C = 92.33248261689366;
    const inputs: number[] = [0, -0, 0.49999999999999994 / C, -0.49999999999999994 / C, 40, -40, 700, -700];
    for (let k = -3700; k <= 3700; k += 7) {
      const x = -(k + 0.5) / C;
      if (-x * C === k + 0.5) inputs.push(x); // an exact tie reaches Math.round
      inputs.push(x, -x, k / C);
    }
    const state = {
      config: { n: 1, maxGroup: 1, fmGrace: 0, adGrace: 1, hiddenRatio: 1, learningRate: 0.1, seed: 1 },
      groups: [[0]],
      // ensemble [W | hb | vb | min | max], then the output autoencoder's
      weights: Float64Array.of(1, 0, 0, 0, 1, 0.7, -0.2, 0.1, 0, 2),
    };
    const js = KitNet.fromState(state, { kernel: "js" });
    const wasm = KitNet.fromState(state);
    const x = new Float64Array(1);
    let ties = 0;
    for (const v of inputs) {
      if (Number.isInteger(-v * C + 0.5)) ties++;
      x[0] = v;
      const a = js.score(x);
      const b = wasm.score(x);
      expect(Object.is(a, b), `x = ${v}: ${a} vs ${b}`).toBe(true);
    }
    expect(ties).toBeGreaterThan(10);
    expect(wasm.kernelInUse).toBe("wasm-f64");
  });

  it("keeps learning below trainOnBenign exactly as the JS kernel does", () => {
    const { net, n } = trained({ n: 40, maxGroup: 8 }, 5);
    const js = KitNet.fromState(net.exportState(), { kernel: "js", trainOnBenign: 0.5 });
    const wasm = KitNet.fromState(net.exportState(), { trainOnBenign: 0.5 });
    const xs = probes(n, 5);
    const count = xs.length / n;
    for (let r = 0; r < count; r++)
      expect(Object.is(wasm.process(xs, r * n), js.process(xs, r * n))).toBe(true);
    expect(wasm.exportState().weights).toEqual(js.exportState().weights);
  });

  it("f32 (opt-in) stays within 1e-4 of the exact scores and keeps their order", () => {
    const { net, n } = trained({ n: 115, maxGroup: 10 }, 7);
    const f32 = KitNet.fromState(net.exportState(), { kernel: "f32" });
    const xs = rows(n, 500, 8);
    let maxRel = 0;
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < 500; r++) {
      a.push(net.score(xs, r * n));
      b.push(f32.score(xs, r * n));
      maxRel = Math.max(maxRel, Math.abs(b[r] - a[r]) / a[r]);
    }
    expect(f32.kernelInUse).toBe("wasm-f32");
    expect(maxRel).toBeLessThan(1e-4);
    // setKernel switches back to the exact kernel.
    f32.setKernel("auto");
    expect(f32.score(xs, 0)).toBe(a[0]);
  });
});
