import { describe, expect, it } from "vitest";
import { seededRng } from "../../core/index.ts";
import { GbdtExplainer, predictMargins, trainGbdt } from "../../ml/index.ts";
import { Explanation } from "../../schema/index.ts";
import { classMeaning, FlowClassifierConfig, FlowClassifierDetector } from "../index.ts";

const FEATURES = ["Total Fwd Packet", "Flow Duration", "Fwd Packet Length Mean"];
const CLASSES = ["BENIGN", "Portscan", "DoS Hulk"];

/** Synthetic flows: scans are 1-packet instant flows, Hulk floods are long with many mid-size packets. */
function data(seed: number, n: number): { x: Float32Array; y: Int32Array } {
  const rng = seededRng(seed);
  const x = new Float32Array(n * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    const j = rng.next();
    x.set(
      c === 0
        ? [5 + Math.floor(j * 20), 1e5 + j * 5e6, 100 + j * 900]
        : c === 1
          ? [1 + Math.floor(j * 2), 10 + j * 100, 0]
          : [50 + Math.floor(j * 100), 5e6 + j * 5e7, 300 + j * 100],
      i * 3,
    );
  }
  return { x, y };
}

function detector(inputNames = FEATURES, cfg: Partial<FlowClassifierConfig> = {}): FlowClassifierDetector {
  const d = data(1, 900);
  const { model } = trainGbdt(
    { x: d.x, rows: 900, cols: 3, y: d.y, classes: CLASSES, featureNames: FEATURES },
    { rounds: 30, maxLeaves: 7, minSamplesLeaf: 5 },
  );
  return new FlowClassifierDetector(
    FlowClassifierConfig.parse(cfg),
    { model, version: "gbdt/test/0", benign: 0 },
    inputNames,
  );
}

describe("FlowClassifierDetector", () => {
  it("names the attack class with its probability, technique and severity", () => {
    const d = detector();
    const scan = d.process(Float64Array.from([1, 40, 0]), 0);
    expect(d.lastClass?.name).toBe("Portscan");
    expect(scan).toBeGreaterThan(0.9);
    expect(d.lastClass?.meaning.technique).toBe("T1046");
    expect(d.severity()).toBe("medium");
    d.process(Float64Array.from([120, 3e7, 350]), 0);
    expect(d.lastClass?.name).toBe("DoS Hulk");
    expect(d.lastClass?.meaning.technique).toBe("T1499");
    // A benign flow: the best attack class stays far below the threshold.
    expect(d.process(Float64Array.from([12, 2e6, 600]), 0)).toBeLessThan(0.1);
    // Probabilities are a distribution.
    expect([...d.probabilities].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("explains by TreeSHAP values that sum to the class margin minus the expected margin", () => {
    const d = detector();
    const x = Float64Array.from([1, 40, 0]);
    const p = d.process(x, 0);
    const ex = d.explain(x, p, 32);
    expect(Explanation.safeParse(ex).success).toBe(true);
    expect(ex.summary).toContain("Portscan");
    expect(ex.summary).toContain("T1046");
    // Independent check against the explainer and the margins.
    const d2 = data(1, 900);
    const { model } = trainGbdt(
      { x: d2.x, rows: 900, cols: 3, y: d2.y, classes: CLASSES, featureNames: FEATURES },
      { rounds: 30, maxLeaves: 7, minSamplesLeaf: 5 },
    );
    const margins = predictMargins(model, Float32Array.from(x), 1, new Float64Array(3));
    const expected = new GbdtExplainer(model).expectedValue[1]!;
    const sum = ex.features.reduce((a, f) => a + f.contribution, 0);
    expect(sum + expected).toBeCloseTo(margins[1]!, 6);
    expect(ex.features[0]!.text).toMatch(/raises|lowers/);
  });

  it("picks model features by name and scores a missing one as NaN, never throwing on bad input", () => {
    const d = detector(["Flow Duration", "Total Fwd Packet"]);
    expect(d.missingFeatures).toEqual(["Fwd Packet Length Mean"]);
    const s = d.process(Float64Array.from([40, 1]), 0);
    expect(d.lastClass?.name).toBe("Portscan");
    expect(s).toBeGreaterThan(0.5);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300]) {
      const p = d.process(Float64Array.from([v, v]), 0);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(Explanation.safeParse(d.explain(Float64Array.from([v, v]), p, 5)).success).toBe(true);
    }
  });

  it("applies site overrides of technique and severity by class name", () => {
    const d = detector(FEATURES, { classes: { Portscan: { technique: "T1595", severity: "low" } } });
    d.process(Float64Array.from([1, 40, 0]), 0);
    expect(d.lastClass?.meaning.technique).toBe("T1595");
    expect(d.severity()).toBe("low");
  });
});

describe("classMeaning", () => {
  it("maps the class families of CIC-IDS2017, UNSW-NB15 and NSL-KDD to ATT&CK", () => {
    const t = (c: string) => classMeaning(c).technique;
    expect(t("DDoS")).toBe("T1498");
    expect(t("DoS Slowloris")).toBe("T1499");
    expect(t("Infiltration - Portscan")).toBe("T1046");
    expect(t("SSH-Patator")).toBe("T1110");
    expect(t("Web Attack - Brute Force")).toBe("T1110");
    expect(t("Web Attack - SQL Injection")).toBe("T1190");
    expect(t("Botnet")).toBe("T1071");
    expect(t("Reconnaissance")).toBe("T1046");
    expect(t("neptune")).toBe("T1499");
    expect(t("smurf")).toBe("T1498");
    expect(t("U2R")).toBe("T1068");
    expect(t("Generic")).toBeUndefined();
  });
});
