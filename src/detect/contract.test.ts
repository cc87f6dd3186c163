// The detector contract, run against every registered detector plugin: deterministic for a seed,
// never throws on NaN, ±Infinity, huge or wrongly sized inputs, keeps its state bounded, and says
// what it found in schema-valid words.
import { describe, expect, it } from "vitest";
import { seededRng } from "../core/index.ts";
import { AFTERIMAGE_FEATURE_NAMES } from "../features/index.ts";
import { trainGbdt } from "../ml/index.ts";
import { Explanation } from "../schema/index.ts";
import {
  BehaviourClustersConfig,
  BehaviourClustersDetector,
  FlowClassifierConfig,
  FlowClassifierDetector,
  type HostFlow,
  type HostWindow,
  IForestDetector,
  IForestDetectorConfig,
  KitNetDetector,
  KitNetDetectorConfig,
  type VectorDetector,
} from "./index.ts";

interface VectorCase {
  name: string;
  /** A fresh detector; `seed` must decide every random choice. */
  make(seed: number): VectorDetector;
  features: number;
  /** Vectors needed before the detector scores. */
  training: number;
}

const FLOW_FEATURES = Array.from({ length: 20 }, (_, i) => `Feature ${i}`);

/** A GBDT flow classifier trained (seeded) on the normal stream as BENIGN and the shifted one as Portscan. */
function flowClassifier(seed: number): FlowClassifierDetector {
  const n = FLOW_FEATURES.length;
  const rows = [...stream(500 + seed, n, 300), ...stream(600 + seed, n, 300, 4)];
  const x = new Float32Array(rows.length * n);
  for (const [i, r] of rows.entries()) x.set(r, i * n);
  const y = Int32Array.from(rows, (_, i) => (i < 300 ? 0 : 1));
  const { model } = trainGbdt(
    { x, rows: rows.length, cols: n, y, classes: ["BENIGN", "Portscan"], featureNames: FLOW_FEATURES },
    { rounds: 20, maxLeaves: 7, seed, baggingFraction: 0.8, featureFraction: 0.8 },
  );
  return new FlowClassifierDetector(
    FlowClassifierConfig.parse({}),
    { model, version: `gbdt/test/${seed}`, benign: 0 },
    FLOW_FEATURES,
  );
}

const VECTOR_CASES: VectorCase[] = [
  {
    name: "kitnet",
    make: (seed) =>
      new KitNetDetector(
        KitNetDetectorConfig.parse({ fmGrace: 100, adGrace: 600, calibrationPackets: 300, seed }),
        AFTERIMAGE_FEATURE_NAMES,
      ),
    features: AFTERIMAGE_FEATURE_NAMES.length,
    training: 1000,
  },
  {
    name: "iforest",
    make: (seed) =>
      new IForestDetector(
        IForestDetectorConfig.parse({ trainingFlows: 400, calibrationFlows: 200, trees: 50, seed }),
        FLOW_FEATURES,
      ),
    features: FLOW_FEATURES.length,
    training: 600,
  },
  { name: "flow.classifier", make: flowClassifier, features: FLOW_FEATURES.length, training: 0 },
];

/** Normal traffic: three latent factors mixed into every feature, plus noise; `shift` moves factor 0. */
function stream(seed: number, n: number, count: number, shift = 0): Float64Array[] {
  const rng = seededRng(seed);
  return Array.from({ length: count }, () => {
    const f = [rng.next() + shift, rng.next(), rng.next()];
    return Float64Array.from({ length: n }, (_, j) => f[j % 3]! * (1 + (j % 5)) * 10 + rng.next());
  });
}

function train(c: VectorCase, seed: number): VectorDetector {
  const d = c.make(seed);
  stream(100 + seed, c.features, c.training).forEach((x, i) => {
    d.process(x, 1_700_000_000_000_000 + i * 10_000);
  });
  return d;
}

/** Inputs an attacker or a broken upstream stage can produce. */
function hostile(n: number): Float64Array[] {
  const base = stream(9, n, 1)[0]!;
  const out: Float64Array[] = [];
  for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -1e308, 0]) {
    out.push(new Float64Array(n).fill(v));
    const one = base.slice();
    one[n >> 1] = v;
    out.push(one);
  }
  out.push(base.subarray(0, n - 1).slice(), Float64Array.from([...base, 1, 2, 3]), new Float64Array(0));
  return out;
}

describe.each(VECTOR_CASES)("detector contract: $name", (c) => {
  it("declares what shared code reads", () => {
    const { info } = c.make(1);
    expect(info.id).toMatch(/^[a-z][a-z0-9]*(\.[a-z0-9-]+)*$/);
    expect(info.title.length).toBeGreaterThan(0);
    expect(["info", "low", "medium", "high", "critical"]).toContain(info.severity);
    expect(info.entityKeys.length).toBeGreaterThan(0);
    expect(info.dedupKey.length).toBeGreaterThan(0);
    expect(info.suppressionS).toBeGreaterThan(0);
  });

  it("is deterministic for a seed", () => {
    const a = train(c, 1);
    const b = train(c, 1);
    expect(a.phase).toBe("scoring");
    expect(a.threshold).toBe(b.threshold);
    expect(a.modelVersion()).toBe(b.modelVersion());
    for (const [i, x] of stream(5, c.features, 50, 2).entries()) {
      const t = 1_800_000_000_000_000 + i;
      expect(a.process(x, t)).toBe(b.process(x, t));
    }
  });

  it("never throws on NaN, ±Infinity, huge or wrongly sized vectors, in training or scoring", () => {
    const d = c.make(2);
    const bad = hostile(c.features);
    const normal = stream(200, c.features, c.training);
    for (let i = 0; i < c.training; i++) {
      const x = i % 25 === 0 ? bad[(i / 25) % bad.length]! : normal[i]!;
      expect(() => d.process(x, 1_700_000_000_000_000 + i * 10_000)).not.toThrow();
    }
    expect(d.phase).toBe("scoring");
    for (const x of bad) {
      let s = Number.NaN;
      expect(() => {
        s = d.process(x, 1_900_000_000_000_000);
      }).not.toThrow();
      expect(Number.isNaN(s)).toBe(false);
      expect(() => Explanation.parse(d.explain(x, s, 5))).not.toThrow();
    }
  });

  it("keeps its state bounded while scoring (no per-input growth)", () => {
    const d = train(c, 3);
    const xs = stream(300, c.features, 2000);
    const g = globalThis as { gc?: () => void };
    // vitest.config.ts starts workers with --expose-gc, so retained memory is measured, not garbage.
    expect(typeof g.gc).toBe("function");
    g.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let r = 0; r < 25; r++) for (const [i, x] of xs.entries()) d.process(x, 2e15 + r * 1e7 + i);
    g.gc?.();
    // 50,000 inputs: a leak of even 100 bytes per input would be 5 MB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 1024 * 1024);
  });

  it("scores a shifted stream above a normal one and explains it in plain words", () => {
    const d = train(c, 4);
    const normal = stream(400, c.features, 300).map((x, i) => d.process(x, 2e15 + i));
    const odd = stream(401, c.features, 300, 4).map((x, i) => d.process(x, 3e15 + i));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(odd)).toBeGreaterThan(mean(normal));
    const x = stream(402, c.features, 1, 4)[0]!;
    const s = d.process(x, 4e15);
    const e = Explanation.parse(d.explain(x, s, 3));
    expect(e.features.length).toBeGreaterThan(0);
    expect(e.features.length).toBeLessThanOrEqual(3);
    for (const f of e.features) expect(f.text.length).toBeGreaterThan(10);
    expect(e.summary).toMatch(/threshold/);
  });
});

describe("detector contract: behaviour-clusters (window detector)", () => {
  const HOSTS = 40;
  const WINDOW_US = 60e6;

  /** Flows of `hosts` hosts over `windows` windows: each host has one of three behaviours. */
  function flows(seed: number, windows: number, firstWindow = 0): HostFlow[] {
    const rng = seededRng(seed);
    const out: HostFlow[] = [];
    for (let w = firstWindow; w < firstWindow + windows; w++) {
      for (let h = 0; h < HOSTS; h++) {
        const kind = h % 3;
        const n = 3 + Math.floor(rng.next() * 4);
        for (let f = 0; f < n; f++) {
          out.push({
            startUs: 1_700_000_000_000_000 + w * WINDOW_US + rng.next() * (WINDOW_US - 1),
            durationS: rng.next() * 2,
            orig: `10.0.0.${h}`,
            resp: `10.0.1.${kind * 10 + Math.floor(rng.next() * 3)}`,
            respPort: [80, 53, 22][kind]!,
            proto: kind === 1 ? 17 : 6,
            origBytes: 200 + rng.next() * 500,
            respBytes: kind === 0 ? 5000 + rng.next() * 5000 : 300,
            origPkts: 4,
            respPkts: 4,
            origPayload: 100,
            respPayload: 100,
          });
        }
      }
    }
    return out.sort((a, b) => a.startUs - b.startUs);
  }

  function run(seed: number): { d: BehaviourClustersDetector; windows: HostWindow[] } {
    const got: HostWindow[] = [];
    const cfg = BehaviourClustersConfig.parse({ seed });
    const d = new BehaviourClustersDetector(cfg, (w) => got.push(w));
    const trainWindows = Math.ceil((cfg.trainingSeconds * 1e6) / WINDOW_US) + 2;
    for (const f of flows(seed, trainWindows + 3)) d.observe(f);
    d.flush();
    expect(d.phase).toBe("scoring");
    return { d, windows: got };
  }

  it("is deterministic for a seed and scores windows after training", () => {
    const a = run(1).windows;
    const b = run(1).windows;
    expect(a.map((w) => w.score)).toEqual(b.map((w) => w.score));
    expect(a.some((w) => !w.training && Number.isFinite(w.score))).toBe(true);
  });

  it("never throws on NaN, ±Infinity or negative numbers in a flow", () => {
    const got: HostWindow[] = [];
    const d = new BehaviourClustersDetector(BehaviourClustersConfig.parse({}), (w) => got.push(w));
    const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1e308];
    for (const f of flows(7, 3)) {
      for (const v of bad) {
        expect(() => d.observe({ ...f, origBytes: v, durationS: v, respPkts: v })).not.toThrow();
        expect(() => d.observe({ ...f, startUs: v })).not.toThrow();
      }
    }
    expect(() => d.flush()).not.toThrow();
  });

  it("keeps its host table bounded under a flood of distinct hosts", () => {
    const cfg = BehaviourClustersConfig.parse({});
    const d = new BehaviourClustersDetector(cfg, () => {});
    const f = flows(8, 1)[0]!;
    for (let i = 0; i < cfg.maxHosts * 3; i++) {
      d.observe({ ...f, orig: i, resp: -1, startUs: f.startUs + i });
    }
    expect(d.stats.hosts).toBeLessThanOrEqual(cfg.maxHosts);
    expect(d.stats.evictions).toBeGreaterThan(0);
  });

  it("explains a flagged window in schema-valid plain words", () => {
    const { d, windows } = run(2);
    const scored = windows.filter((w) => !w.training);
    expect(scored.length).toBeGreaterThan(0);
    // The most distant window, flagged or not, must be explainable.
    const worst = scored.reduce((a, b) => (b.score > a.score ? b : a));
    const e = Explanation.parse(d.explain(worst, 3));
    expect(e.summary.length).toBeGreaterThan(10);
    expect(e.features.length).toBeGreaterThan(0);
    for (const f of e.features) expect(f.text.length).toBeGreaterThan(10);
  });
});
