import { describe, expect, it } from "vitest";
import { seededRng } from "../core/index.ts";
import {
  hashFeatureSchema,
  KitNet,
  type KitNetModelMeta,
  loadKitNet,
  logNormalThreshold,
  readKitNetFile,
  saveKitNet,
  thresholdFromFit,
} from "./kitnet-index.ts";

const N = 12;
const NAMES = Array.from({ length: N }, (_, i) => `f${i}`);

function rows(count: number, seed: number, shift = 0): Float64Array {
  const rng = seededRng(seed);
  const out = new Float64Array(count * N);
  for (let r = 0; r < count; r++) {
    const a = rng.next();
    const b = rng.next();
    for (let i = 0; i < N; i++)
      out[r * N + i] = (i % 2 ? a : b) * (i + 1) + 0.05 * rng.next() + (i === 5 ? shift : 0);
  }
  return out;
}

function trainedModel(): { net: KitNet; meta: KitNetModelMeta } {
  const net = new KitNet({ n: N, maxGroup: 4, fmGrace: 500, adGrace: 3_000, seed: 42 });
  const train = rows(3_500, 1);
  const scores: number[] = [];
  for (let r = 0; r < 3_500; r++) net.process(train, r * N);
  const calib = rows(2_000, 2);
  for (let r = 0; r < 2_000; r++) scores.push(net.score(calib, r * N));
  const fit = logNormalThreshold(scores, 1e-3);
  if (!fit.ok) throw fit.error;
  return {
    net,
    meta: {
      featureSchemaHash: hashFeatureSchema(NAMES),
      featureNames: NAMES,
      trainedOn: { firstTs: 1_700_000_000_000_000, lastTs: 1_700_000_035_000_000, packets: 3_500 },
      thresholds: { alert: thresholdFromFit(fit.value), manual: { value: 0.5, method: "manual" } },
      ignoredFeatures: [3, 7],
      featureStats: {
        count: 3_500,
        mean: Float64Array.from(NAMES, (_, i) => i / 3),
        m2: Float64Array.from(NAMES, (_, i) => 0.1 + i / 7),
      },
    },
  };
}

// A valid file with one field replaced.
function tamper(text: string, patch: (doc: Record<string, unknown>) => void): string {
  const doc = JSON.parse(text) as Record<string, unknown>;
  patch(doc);
  return JSON.stringify(doc);
}

describe("KitNET model file", () => {
  it("round-trips bit-exactly: identical scores and identical bytes on re-save", () => {
    const { net, meta } = trainedModel();
    const text = saveKitNet(net, meta);
    const loaded = readKitNetFile(text, { expectedSchemaHash: hashFeatureSchema(NAMES) });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const copy = loaded.value.model;
    expect(copy.phase).toBe("execute");
    expect(copy.groups).toEqual(net.groups);
    expect(loaded.value.meta).toEqual(meta);
    const probe = rows(500, 3);
    const odd = rows(500, 4, 7);
    for (let r = 0; r < 500; r++) {
      expect(copy.score(probe, r * N)).toBe(net.score(probe, r * N));
      expect(copy.score(odd, r * N)).toBe(net.score(odd, r * N));
    }
    const weird = new Float64Array(N).fill(Number.NaN);
    weird[1] = Number.POSITIVE_INFINITY;
    expect(copy.score(weird)).toBe(net.score(weird));
    expect(saveKitNet(copy, loaded.value.meta)).toBe(text);
  });

  it("writes a versioned, readable document", () => {
    const { net, meta } = trainedModel();
    const text = saveKitNet(net, meta);
    const doc = JSON.parse(text);
    expect(doc.format).toBe("vigil.kitnet");
    expect(doc.version).toBe(1);
    expect(doc.fmGrace).toBe(500);
    expect(doc.adGrace).toBe(3_000);
    expect(doc.config).toEqual({ n: N, maxGroup: 4, hiddenRatio: 0.75, learningRate: 0.1, seed: 42 });
    expect(Object.keys(doc.thresholds)).toEqual(["alert", "manual"]);
    expect(doc.thresholds.alert.method).toBe("lognormal");
    expect(typeof doc.weights).toBe("string");
    expect(text.split("\n").length).toBeLessThan(20); // one line per field
  });

  it("hashes the feature schema stably", () => {
    expect(hashFeatureSchema(NAMES)).toBe(hashFeatureSchema([...NAMES]));
    expect(hashFeatureSchema(NAMES)).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
    expect(hashFeatureSchema(["ab", "c"])).not.toBe(hashFeatureSchema(["a", "bc"]));
    expect(hashFeatureSchema([])).toBe("fnv1a64:cbf29ce484222325");
  });

  it("rejects damaged or foreign files with a clear error", () => {
    const { net, meta } = trainedModel();
    const text = saveKitNet(net, meta);
    const cases: [string, RegExp][] = [
      ["{", /not JSON/],
      ["[]", /top level/],
      [tamper(text, (d) => (d.format = "kitsune")), /format must be "vigil.kitnet"/],
      [tamper(text, (d) => (d.version = 2)), /version 2 is not supported/],
      [tamper(text, (d) => (d.groups = [[0, 1, 2]])), /covers 3 of 12/],
      [tamper(text, (d) => (d.groups = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]])), /twice/],
      [
        tamper(text, (d) => (d.weights = (d.weights as string).slice(8))),
        /exactly \d+ little-endian doubles/,
      ],
      [tamper(text, (d) => (d.weights = `!${(d.weights as string).slice(1)}`)), /base64/],
      [tamper(text, (d) => (d.config = { n: 12 })), /config must be/],
      [tamper(text, (d) => (d.featureNames = ["a"])), /featureNames must be 12 strings/],
      [tamper(text, (d) => (d.trainedOn = { firstTs: "yesterday" })), /trainedOn/],
      [tamper(text, (d) => (d.thresholds = { alert: { value: null, method: "x" } })), /threshold "alert"/],
      [tamper(text, (d) => (d.featureSchemaHash = "")), /featureSchemaHash/],
      [tamper(text, (d) => (d.ignoredFeatures = [7, 3])), /ignoredFeatures must be ascending/],
      [tamper(text, (d) => (d.ignoredFeatures = [12])), /ignoredFeatures must be ascending/],
      [
        tamper(text, (d) => (d.featureStats = { count: 1, mean: "AAAA", m2: "AAAA" })),
        /featureStats must be/,
      ],
    ];
    for (const [bad, message] of cases) {
      const r = loadKitNet(bad);
      expect(r.ok, String(message)).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe("input.corrupt");
        expect(r.error.message).toMatch(message);
        expect(r.error.hint).toBeTruthy();
      }
    }
    const newer = loadKitNet(tamper(text, (d) => (d.version = 9)));
    expect(!newer.ok && newer.error.hint).toMatch(/upgrade Vigil/);
    const other = loadKitNet(text, { expectedSchemaHash: hashFeatureSchema(["x"]) });
    expect(!other.ok && other.error.message).toMatch(/trained on feature schema/);
  });

  it("rejects a non-finite weight but accepts an unbounded scaling range", () => {
    const { net, meta } = trainedModel();
    const doc = JSON.parse(saveKitNet(net, meta));
    const bytes = Buffer.from(doc.weights, "base64");
    const nanAt = (i: number): string => {
      const b = Buffer.from(bytes);
      b.writeDoubleLE(Number.NaN, i * 8);
      return JSON.stringify({ ...doc, weights: b.toString("base64") });
    };
    const r = loadKitNet(nanAt(0)); // W[0][0] of the first autoencoder
    expect(!r.ok && r.error.message).toMatch(/weight is not finite/);
  });

  it("keeps a __proto__ threshold name as plain data", () => {
    const { net, meta } = trainedModel();
    const text = tamper(saveKitNet(net, meta), (d) => {
      d.thresholds = JSON.parse('{"__proto__": {"value": 1, "method": "manual"}}');
    });
    const r = readKitNetFile(text);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.value.meta.thresholds)).toBe(Object.prototype);
      expect(Object.hasOwn(r.value.meta.thresholds, "__proto__")).toBe(true);
    }
  });

  it("saves only a trained model", () => {
    const net = new KitNet({ n: N, fmGrace: 10, adGrace: 10 });
    const meta = trainedModel().meta;
    expect(() => saveKitNet(net, meta)).toThrow(/phase "execute"/);
  });
});
