import { describe, expect, it } from "vitest";
import { seededRng } from "../../core/index.ts";
import { AFTERIMAGE_FEATURE_NAMES } from "../../features/index.ts";
import { Explanation } from "../../schema/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../index.ts";

const N = AFTERIMAGE_FEATURE_NAMES.length;
const CFG = KitNetDetectorConfig.parse({ fmGrace: 200, adGrace: 2000, calibrationPackets: 500 });

/** Normal vectors: a few latent factors mixed into 115 features, plus noise; anomalies shift factor 0. */
function vectors(seed: number, count: number, shift = 0): Float64Array[] {
  const rng = seededRng(seed);
  const out: Float64Array[] = [];
  for (let i = 0; i < count; i++) {
    const f = [rng.next() + shift, rng.next(), rng.next()];
    const x = new Float64Array(N);
    for (let j = 0; j < N; j++) x[j] = f[j % 3]! * (1 + (j % 7)) + 0.05 * rng.next();
    out.push(x);
  }
  return out;
}

function trained(seed = 1): KitNetDetector {
  const d = new KitNetDetector(CFG, AFTERIMAGE_FEATURE_NAMES);
  const xs = vectors(seed, CFG.fmGrace + CFG.adGrace + CFG.calibrationPackets);
  xs.forEach((x, i) => {
    expect(Number.isNaN(d.process(x, i * 1000))).toBe(true);
  });
  return d;
}

describe("KitNetDetector", () => {
  it("trains, calibrates a threshold with both tail fits, then scores shifted traffic higher", () => {
    const d = trained();
    expect(d.phase).toBe("scoring");
    expect(d.threshold).toBeGreaterThan(0);
    expect(d.calibration?.spot?.threshold).toBeGreaterThan(0);
    expect(d.calibration?.lognormal?.threshold).toBeGreaterThan(0);
    const normal = vectors(7, 300).map((x, i) => d.process(x, 1e9 + i * 1000));
    const odd = vectors(8, 300, 3).map((x, i) => d.process(x, 2e9 + i * 1000));
    const flaggedOdd = odd.filter((s) => s > d.threshold).length;
    const flaggedNormal = normal.filter((s) => s > d.threshold).length;
    expect(flaggedOdd).toBeGreaterThan(270);
    expect(flaggedNormal).toBeLessThan(30);
  });

  it("is deterministic for a seed", () => {
    const a = trained();
    const b = trained();
    const x = vectors(9, 1, 2)[0]!;
    expect(a.process(x, 2e9)).toBe(b.process(x, 2e9));
    expect(a.threshold).toBe(b.threshold);
  });

  it("never throws on NaN or Infinity and explains in schema-valid plain words", () => {
    const d = trained();
    const x = vectors(10, 1, 5)[0]!;
    x[3] = Number.NaN;
    x[4] = Number.POSITIVE_INFINITY;
    x[5] = Number.NEGATIVE_INFINITY;
    const s = d.process(x, 3e9);
    expect(Number.isNaN(s)).toBe(false);
    const e = Explanation.parse(d.explain(x, s, 5));
    expect(e.features.length).toBe(5);
    expect(e.summary).toContain("threshold");
    expect(e.features[0]!.text).toMatch(/window is .*(σ|never seen)/);
    expect(d.modelVersion()).toMatch(/^kitnet-1\//);
  });

  it("ignores damped counts slower than a third of the training span, whatever their values", () => {
    // 2,200 training vectors 1 ms apart: a 2.2 s span, so half-lives above 0.73 s (λ ≤ 1) are ignored.
    const d = trained();
    const expected = AFTERIMAGE_FEATURE_NAMES.filter((n) => /_L(1|0\.1|0\.01)_weight$/.test(n));
    expect([...d.ignoredFeatures].sort()).toEqual([...expected].sort());
    const x = vectors(11, 1)[0]!;
    const before = d.kit.score(x);
    const y = x.slice();
    for (const name of expected) y[AFTERIMAGE_FEATURE_NAMES.indexOf(name)] = 1e9;
    expect(d.process(y, 4e9)).toBe(d.process(x, 4e9 + 1));
    expect(before).toBeGreaterThan(0);
    const off = new KitNetDetector({ ...CFG, stationarityGuard: 0 }, AFTERIMAGE_FEATURE_NAMES);
    vectors(1, CFG.fmGrace + 5).forEach((v, i) => {
      off.process(v, i * 1000);
    });
    expect(off.ignoredFeatures).toEqual([]);
  });

  it("saves its model and a loaded copy scores, explains and re-saves identically", () => {
    const d = trained();
    expect(new KitNetDetector(CFG, AFTERIMAGE_FEATURE_NAMES).saveModel().ok).toBe(false);
    const saved = d.saveModel();
    if (!saved.ok) throw saved.error;
    const copy = KitNetDetector.fromModel(saved.value, CFG, AFTERIMAGE_FEATURE_NAMES);
    if (!copy.ok) throw copy.error;
    const c = copy.value;
    expect(c.phase).toBe("scoring");
    expect(c.threshold).toBe(d.threshold);
    expect(c.modelVersion()).toBe(d.modelVersion());
    expect(c.ignoredFeatures).toEqual(d.ignoredFeatures);
    for (const [i, x] of vectors(12, 50, 2).entries()) {
      const s = d.process(x, 5e9 + i);
      expect(c.process(x, 5e9 + i)).toBe(s);
      expect(c.explain(x, s, 5)).toEqual(d.explain(x, s, 5));
    }
    const again = c.saveModel();
    expect(again.ok && again.value).toBe(saved.value);
    const other = KitNetDetector.fromModel(saved.value, CFG, AFTERIMAGE_FEATURE_NAMES.slice(0, 23));
    expect(!other.ok && other.error.message).toMatch(/feature schema/);
  });

  it("scores with the opt-in f32 kernel within a millionth of the exact one", () => {
    const exact = trained();
    const fast = new KitNetDetector({ ...CFG, kernel: "f32" }, AFTERIMAGE_FEATURE_NAMES);
    vectors(1, CFG.fmGrace + CFG.adGrace + CFG.calibrationPackets).forEach((x, i) => {
      fast.process(x, i * 1000);
    });
    // Training does not use the kernel; calibration scores do, so the thresholds differ only slightly.
    expect(Math.abs(fast.threshold - exact.threshold)).toBeLessThanOrEqual(1e-5 * exact.threshold);
    for (const [i, x] of vectors(13, 100, 1).entries()) {
      const a = exact.process(x, 6e9 + i);
      const b = fast.process(x, 6e9 + i);
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.abs(a));
    }
  });
});
