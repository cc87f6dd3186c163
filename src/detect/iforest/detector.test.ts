import { describe, expect, it } from "vitest";
import { seededRng } from "../../core/index.ts";
import { Explanation } from "../../schema/index.ts";
import { formatFlowValue, IForestDetector, IForestDetectorConfig } from "../index.ts";

const NAMES = [
  "Flow Duration",
  "Total Fwd Packet",
  "Flow Packets/s",
  "Fwd Packet Length Mean",
  "SYN Flag Count",
];
const CFG = IForestDetectorConfig.parse({ trainingFlows: 400, calibrationFlows: 200 });

/** Benign-looking flows: durations around 2 s, ~10 packets, ~5 packets/s, 300 B payloads, one SYN. */
function flows(seed: number, count: number, odd = false): Float64Array[] {
  const rng = seededRng(seed);
  return Array.from({ length: count }, () => {
    const pkts = odd ? 1 : 6 + Math.floor(rng.next() * 10);
    const dur = odd ? 10 : 1e6 + rng.next() * 2e6;
    return Float64Array.from([dur, pkts, (pkts / dur) * 1e6, odd ? 0 : 200 + rng.next() * 200, 1]);
  });
}

function trained(seed = 1, cfg = CFG): IForestDetector {
  const d = new IForestDetector(cfg, NAMES);
  flows(seed, cfg.trainingFlows + cfg.calibrationFlows).forEach((x, i) => {
    expect(Number.isNaN(d.process(x, i * 1000))).toBe(true);
  });
  return d;
}

describe("IForestDetector", () => {
  it("trains on the first flows, calibrates with both tail fits, then scores odd flows above the threshold", () => {
    const d = trained();
    expect(d.phase).toBe("scoring");
    expect(d.trainedOn.flows).toBe(400);
    expect(d.trainedOn.calibrationFlows).toBe(200);
    expect(d.calibration?.lognormal?.threshold).toBeGreaterThan(0.3);
    expect(d.calibration?.spot?.threshold).toBeGreaterThan(0.3);
    expect(d.threshold).toBe(d.calibration?.lognormal?.threshold);
    const normal = flows(7, 500).map((x, i) => d.process(x, 1e9 + i));
    const odd = flows(8, 50, true).map((x, i) => d.process(x, 2e9 + i));
    expect(odd.every((s) => s > d.threshold)).toBe(true);
    // The target false-alarm rate is 1 %; allow sampling noise, not a broken threshold.
    expect(normal.filter((s) => s > d.threshold).length).toBeLessThan(25);
    expect(Math.min(...odd)).toBeGreaterThan(Math.max(...normal));
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const a = trained(1);
    const b = trained(1);
    const c = trained(1, IForestDetectorConfig.parse({ ...CFG, seed: 2 }));
    const x = flows(9, 1, true)[0]!;
    const sa = a.process(x, 3e9);
    expect(b.process(x, 3e9)).toBe(sa);
    expect(a.threshold).toBe(b.threshold);
    expect(c.process(x, 3e9)).not.toBe(sa);
  });

  it("ends training by time, and finishes a short input with what it has", () => {
    const cfg = IForestDetectorConfig.parse({ trainingSeconds: 10, calibrationSeconds: 5 });
    const d = new IForestDetector(cfg, NAMES);
    const xs = flows(3, 200);
    // 20 flows per second: training holds the flows of the first 10 s, calibration the next 5 s.
    for (const [i, x] of xs.entries()) d.process(x, 1e12 + i * 50_000);
    expect(d.trainedOn.flows).toBe(200);
    expect(d.phase).toBe("training");
    const e = new IForestDetector(cfg, NAMES);
    for (const [i, x] of flows(3, 400).entries()) e.process(x, 1e12 + i * 50_000);
    expect(e.trainedOn.flows).toBe(200);
    expect(e.trainedOn.calibrationFlows).toBe(100);
    expect(e.phase).toBe("scoring");
    const f = new IForestDetector(CFG, NAMES);
    for (const [i, x] of flows(4, 450).entries()) f.process(x, i);
    expect(f.phase).toBe("training");
    expect(f.trainingRemaining).toBe(150);
    f.finishTraining();
    expect(f.phase).toBe("scoring");
    expect(f.calibration?.samples).toBe(50);
  });

  it("treats NaN and ±Infinity as missing (the training median) and never throws", () => {
    const cfg = IForestDetectorConfig.parse({ trainingFlows: 100, calibrationFlows: 50 });
    const d = new IForestDetector(cfg, NAMES);
    const xs = flows(5, 150);
    xs[3]![0] = Number.NaN;
    xs[4]![2] = Number.POSITIVE_INFINITY;
    for (const [i, x] of xs.entries()) d.process(x, i);
    const med = d.trainingMedians!;
    const x = flows(6, 1)[0]!;
    const withMissing = x.slice();
    withMissing[1] = Number.NaN;
    withMissing[2] = Number.NEGATIVE_INFINITY;
    const filled = x.slice();
    filled[1] = med[1]!;
    filled[2] = med[2]!;
    const s = d.process(withMissing, 1e9);
    expect(Number.isFinite(s)).toBe(true);
    expect(s).toBe(d.process(filled, 1e9));
    expect(Number.isFinite(d.process(new Float64Array(NAMES.length).fill(Number.NaN), 1e9))).toBe(true);
  });

  it("explains in schema-valid plain words with training medians", () => {
    const d = trained();
    const x = flows(8, 1, true)[0]!;
    const s = d.process(x, 2e9);
    const e = Explanation.parse(d.explain(x, s, 3));
    expect(e.features.length).toBeGreaterThan(0);
    expect(e.features.length).toBeLessThanOrEqual(3);
    expect(e.summary).toMatch(/^Isolation-forest score 0\.\d+ is above the threshold/);
    expect(e.features[0]!.text).toMatch(/ is .* \(training median .*\)/);
    const total = e.features.reduce((a, f) => a + f.contribution, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(1 + 1e-9);
    expect(d.modelVersion()).toBe("iforest-1/t100/psi256/s1/log/n400");
    const m = new Float64Array(NAMES.length).fill(Number.NaN);
    expect(
      Explanation.parse(d.explain(m, d.process(m, 3e9), 5)).features.every((f) =>
        /missing|median/.test(f.text),
      ),
    ).toBe(true);
  });

  it("words values for people: times in s/ms/µs, counts with separators", () => {
    expect(formatFlowValue("Flow Duration", 12_500_000)).toBe("12.5 s");
    expect(formatFlowValue("Flow IAT Mean", 3_400)).toBe("3.4 ms");
    expect(formatFlowValue("Flow Packets/s", 3412.4)).toBe("3,412");
    expect(formatFlowValue("Fwd Packet Length Mean", 0.25)).toBe("0.25");
  });
});
