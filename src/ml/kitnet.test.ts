import { describe, expect, it } from "vitest";
import { seededRng } from "../core/index.ts";
import { createExplanation, KitNet } from "./kitnet-index.ts";

const N = 20; // features
const LATENT = 4;

function gaussian(rng: { next(): number }): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

// Normal traffic: three Gaussian clusters in a 4-dimensional latent space, mixed linearly into 20 features.
// Anomalies: the same points, then 4 random features shifted by 4–6 standard deviations.
function makeData(seed: number) {
  const rng = seededRng(seed);
  const mix = Array.from({ length: N }, () => Array.from({ length: LATENT }, () => gaussian(rng)));
  const centres = [
    [0, 0, 0, 0],
    [3, -2, 1, 0],
    [-2, 2, 0, 3],
  ];
  const point = (out: Float64Array, off: number, anomalous: boolean): void => {
    const c = centres[Math.floor(rng.next() * 3)];
    const z = c.map((m) => m + 0.5 * gaussian(rng));
    for (let i = 0; i < N; i++) {
      let v = 10;
      for (let k = 0; k < LATENT; k++) v += mix[i][k] * z[k];
      out[off + i] = v + 0.05 * gaussian(rng);
    }
    if (anomalous) {
      for (let s = 0; s < 4; s++) {
        const f = Math.floor(rng.next() * N);
        out[off + f] += (rng.next() < 0.5 ? -1 : 1) * (4 + 2 * rng.next()) * 2.5;
      }
    }
  };
  const rows = (count: number, anomalous: boolean): Float64Array => {
    const out = new Float64Array(count * N);
    for (let r = 0; r < count; r++) point(out, r * N, anomalous);
    return out;
  };
  return { rows };
}

// Area under the ROC curve by the Mann–Whitney rank statistic (ties count half).
function auc(normal: number[], anomalous: number[]): number {
  let wins = 0;
  for (const a of anomalous) for (const b of normal) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (normal.length * anomalous.length);
}

function trained(seed = 1, extra: Partial<ConstructorParameters<typeof KitNet>[0]> = {}) {
  const data = makeData(7);
  const train = data.rows(6_000, false);
  const net = new KitNet({ n: N, maxGroup: 5, fmGrace: 1_000, adGrace: 5_000, seed, ...extra });
  for (let r = 0; r < 6_000; r++) expect(net.process(train, r * N)).toBe(0);
  return { net, data };
}

describe("KitNet", () => {
  it("moves through the fm, ad and execute phases and returns 0 during grace", () => {
    const data = makeData(3).rows(40, false);
    const net = new KitNet({ n: N, fmGrace: 10, adGrace: 20 });
    expect(net.phase).toBe("fm");
    expect(() => net.score(data)).toThrow(/execute phase/);
    for (let r = 0; r < 10; r++) expect(net.process(data, r * N)).toBe(0);
    expect(net.phase).toBe("ad");
    expect(net.groups.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    for (let r = 10; r < 30; r++) expect(net.process(data, r * N)).toBe(0);
    expect(net.phase).toBe("execute");
    expect(net.process(data, 30 * N)).toBeGreaterThan(0);
    expect(net.trained).toBe(30);
  });

  it("scores shifted points far above normal ones (AUC > 0.95)", () => {
    const { net, data } = trained();
    expect(net.groups.every((g) => g.length <= 5)).toBe(true);
    const normal = data.rows(1_000, false);
    const anomalous = data.rows(1_000, true);
    const sn: number[] = [];
    const sa: number[] = [];
    for (let r = 0; r < 1_000; r++) {
      sn.push(net.process(normal, r * N));
      sa.push(net.process(anomalous, r * N));
    }
    expect(auc(sn, sa)).toBeGreaterThan(0.95);
    // score() and process() agree in the execute phase (no training there by default).
    expect(net.score(normal, 0)).toBe(sn[0]);
  });

  it("is deterministic for a seed, and the seed matters", () => {
    const a = trained(5).net;
    const b = trained(5).net;
    const c = trained(6).net;
    const test = makeData(11).rows(200, true);
    let differs = false;
    for (let r = 0; r < 200; r++) {
      const sa = a.score(test, r * N);
      expect(b.score(test, r * N)).toBe(sa);
      if (c.score(test, r * N) !== sa) differs = true;
    }
    expect(differs).toBe(true);
  });

  it("never throws or returns NaN on NaN, ±Infinity or huge input, in any phase", () => {
    const data = makeData(2);
    const train = data.rows(3_000, false);
    const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -1e308, -0];
    for (let r = 0; r < 3_000; r += 17) train[r * N + (r % N)] = bad[r % bad.length];
    const net = new KitNet({ n: N, maxGroup: 5, fmGrace: 500, adGrace: 2_400 });
    for (let r = 0; r < 3_000; r++) expect(Number.isNaN(net.process(train, r * N))).toBe(false);
    expect(net.phase).toBe("execute");
    const x = new Float64Array(N);
    for (const v of bad) {
      x.fill(v);
      const s = net.process(x);
      expect(Number.isFinite(s)).toBe(true);
      x.fill(10);
      x[3] = v;
      expect(Number.isFinite(net.process(x))).toBe(true);
    }
    // Clean traffic still scores sensibly afterwards.
    const normal = data.rows(200, false);
    for (let r = 0; r < 200; r++) expect(net.process(normal, r * N)).toBeLessThan(1);
  });

  it("explains a score by the features that broke the pattern", () => {
    const { net, data } = trained();
    const x = data.rows(1, false);
    const ex = createExplanation(3);
    net.score(x);
    x[13] += 30;
    net.score(x);
    expect(net.explain(ex)).toBe(3);
    expect(ex.k).toBe(3);
    expect(ex.feature[0]).toBe(13);
    expect(ex.share[0]).toBeGreaterThan(0.5);
    expect(ex.share[0]).toBeGreaterThanOrEqual(ex.share[1]);
    const all = createExplanation(N);
    net.explain(all);
    expect(all.share.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(new Set(all.feature).size).toBe(N);
  });

  it("uses a given feature map and skips the FM phase", () => {
    const featureMap = [
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14],
      [15, 16, 17, 18, 19],
    ];
    const net = new KitNet({ n: N, featureMap, adGrace: 100 });
    expect(net.phase).toBe("ad");
    expect(net.groups).toEqual(featureMap);
    expect(() => new KitNet({ n: N, featureMap: [[0, 1]] })).toThrow(/covers 2 of 20/);
    expect(() => new KitNet({ n: N, featureMap: [[0, 0]] })).toThrow(/twice/);
  });

  it("keeps learning from vectors scored below trainOnBenign, and only from those", () => {
    const { net: frozen, data } = trained(1);
    const { net: learning } = trained(1, { trainOnBenign: 1e9 });
    const { net: picky } = trained(1, { trainOnBenign: () => false });
    const more = data.rows(500, false);
    for (let r = 0; r < 500; r++) {
      frozen.process(more, r * N);
      learning.process(more, r * N);
      picky.process(more, r * N);
    }
    const probe = data.rows(1, true);
    expect(picky.score(probe)).toBe(frozen.score(probe));
    expect(learning.score(probe)).not.toBe(frozen.score(probe));
  });

  it("processBatch matches process row by row", () => {
    const a = trained(2).net;
    const b = trained(2).net;
    const test = makeData(4).rows(300, true);
    const out = new Float64Array(301);
    a.processBatch(test, 300, out, 1);
    for (let r = 0; r < 300; r++) expect(out[r + 1]).toBe(b.process(test, r * N));
  });

  it("allocates nothing per vector in the execute phase", async () => {
    const { PerformanceObserver } = await import("node:perf_hooks");
    const n = 115;
    const rng = seededRng(9);
    const rows = 1_000;
    const xs = new Float64Array(rows * n);
    for (let i = 0; i < xs.length; i++) xs[i] = (i % n) + gaussian(rng);
    const net = new KitNet({ n, maxGroup: 10, fmGrace: 300, adGrace: 700 });
    const scores = new Float64Array(rows);
    const ex = createExplanation(5);
    const run = (batches: number): void => {
      for (let b = 0; b < batches; b++) {
        net.processBatch(xs, rows, scores);
        net.explain(ex);
      }
    };
    run(101); // train, then warm up the optimising compiler in the execute phase
    expect(net.phase).toBe("execute");
    const gcStarts: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcStarts.push(e.startTime);
    });
    obs.observe({ entryTypes: ["gc"] });
    // A window of 200 000 vectors is clean when no GC ran and the heap grew < 256 KiB: one boxed double per
    // vector would be ≥ 2.4 MB, or would have forced a scavenge. Up to 3 windows, because on a busy machine
    // the background compiler may not have finished yet, and interpreted code boxes doubles; code that
    // allocates per vector can never produce a clean window.
    const windows: { grown: number; gcs: number }[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const t0 = performance.now();
      const before = process.memoryUsage().heapUsed;
      run(200);
      const grown = process.memoryUsage().heapUsed - before;
      const t1 = performance.now();
      await new Promise((r) => setTimeout(r, 20)); // gc entries are delivered asynchronously
      const gcs = gcStarts.filter((t) => t >= t0 && t <= t1).length;
      windows.push({ grown, gcs });
      if (gcs === 0 && grown < 256 * 1024) break;
    }
    obs.disconnect();
    const last = windows[windows.length - 1];
    expect(last, JSON.stringify(windows)).toEqual({ grown: expect.any(Number), gcs: 0 });
    expect(last.grown).toBeLessThan(256 * 1024);
  });

  it("poisoning guard: leaves extreme training vectors out, and a poisoned model then still flags them", () => {
    // Training stream: normal points with 1 % anomalous ones mixed in after the feature map is learnt.
    const run = (trim: number) => {
      const data = makeData(7);
      const normal = data.rows(6_000, false);
      const poison = data.rows(60, true);
      const net = new KitNet({
        n: N,
        maxGroup: 5,
        fmGrace: 1_000,
        adGrace: 5_000,
        seed: 1,
        trainingTrim: trim,
      });
      let p = 0;
      const x = new Float64Array(N);
      for (let r = 0; r < 6_000; r++) {
        const bad = r >= 2_000 && r % 67 === 0 && p < 60;
        x.set((bad ? poison : normal).subarray((bad ? p++ : r) * N, (bad ? p : r + 1) * N));
        net.process(x);
      }
      const probe = data.rows(500, true);
      const normalProbe = data.rows(500, false);
      const sa: number[] = [];
      const sn: number[] = [];
      for (let r = 0; r < 500; r++) {
        sa.push(net.score(probe, r * N));
        sn.push(net.score(normalProbe, r * N));
      }
      return { net, auc: auc(sn, sa), poisoned: p };
    };
    const off = run(0);
    const on = run(0.01);
    expect(off.poisoned).toBe(60);
    expect(off.net.trimmed).toBe(0);
    // The guard leaves out about its share of the 5,000 training vectors, the poison among them.
    expect(on.net.trimmed).toBeGreaterThanOrEqual(30);
    expect(on.net.trimmed).toBeLessThan(250);
    expect(on.net.trained).toBe(6_000);
    expect(on.auc).toBeGreaterThanOrEqual(off.auc);
    expect(() => new KitNet({ n: N, trainingTrim: 0.7 })).toThrow(/trainingTrim/);
  });
});
