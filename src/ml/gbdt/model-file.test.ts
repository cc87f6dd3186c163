import { describe, expect, it } from "vitest";
import { seededRng, VigilError } from "../../core/index.ts";
import { hashFeatureSchema } from "../model-file.ts";
import {
  GBDT_FORMAT_VERSION,
  GbdtExplainer,
  type GbdtModel,
  type GbdtModelMeta,
  loadGbdt,
  predictMargins,
  readGbdtFile,
  saveGbdt,
  trainGbdt,
} from "./index.ts";

function trained(classes: string[], seed: number) {
  const rng = seededRng(seed);
  const rows = 1500;
  const cols = 6;
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < cols; f++) x[i * cols + f] = rng.next() < 0.05 ? Number.NaN : rng.next() * 100 - 50;
    y[i] = Math.floor(((x[i * cols] || 0) + 50) / (100 / classes.length)) % classes.length;
  }
  const featureNames = ["Flow Duration", "Fwd Packets/s", "Bwd IAT Max", "SYN Flag Count", "a", "b"];
  const res = trainGbdt(
    { x, y, rows, cols, classes, featureNames },
    { rounds: 12, baggingFraction: 0.8, seed },
    { x: x.subarray(0, 300 * cols), rows: 300, y: y.subarray(0, 300) },
  );
  const meta: GbdtModelMeta = {
    params: res.params,
    trainedOn: { source: "synthetic", rows, split: "all rows; first 300 as validation" },
    bestIteration: res.bestIteration,
    validLoss: res.bestValidLoss,
  };
  return { model: res.model, meta, x, rows };
}

function bytesOf(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
}

function sameModel(a: GbdtModel, b: GbdtModel): void {
  expect(b.objective).toBe(a.objective);
  expect(b.classes).toEqual(a.classes);
  expect(b.featureNames).toEqual(a.featureNames);
  expect(b.outputs).toBe(a.outputs);
  expect(bytesOf(b.baseScore)).toBe(bytesOf(a.baseScore));
  expect(b.trees.length).toBe(a.trees.length);
  for (let t = 0; t < a.trees.length; t++) {
    for (const k of ["feature", "threshold", "left", "right", "defaultLeft", "value", "cover"] as const) {
      expect(bytesOf(b.trees[t][k])).toBe(bytesOf(a.trees[t][k]));
    }
  }
}

describe("GBDT model file", () => {
  it("round-trips bit for bit, with its metadata, for binary and multiclass models", () => {
    for (const classes of [
      ["BENIGN", "attack"],
      ["BENIGN", "DDoS", "PortScan", "Bot"],
    ]) {
      const { model, meta, x, rows } = trained(classes, classes.length);
      const text = saveGbdt(model, meta);
      const r = readGbdtFile(text);
      if (!r.ok) throw r.error;
      sameModel(model, r.value.model);
      expect(r.value.meta.featureSchemaHash).toBe(hashFeatureSchema(model.featureNames));
      expect(r.value.meta.trainedOn).toEqual(meta.trainedOn);
      expect(r.value.meta.bestIteration).toBe(meta.bestIteration);
      expect(r.value.meta.validLoss).toBe(meta.validLoss);
      expect(r.value.meta.params).toEqual(JSON.parse(JSON.stringify(meta.params)));
      expect(saveGbdt(r.value.model, r.value.meta)).toBe(text);
      const k = model.outputs;
      const a = predictMargins(model, x, rows, new Float64Array(rows * k));
      const b = predictMargins(r.value.model, x, rows, new Float64Array(rows * k));
      expect(bytesOf(b)).toBe(bytesOf(a));
      const doc = JSON.parse(text);
      expect(doc.format).toBe("vigil.gbdt");
      expect(doc.version).toBe(GBDT_FORMAT_VERSION);
    }
  });

  it("rejects damaged files with a clear input.corrupt error", () => {
    const { model, meta } = trained(["a", "b", "c"], 7);
    const text = saveGbdt(model, meta);
    const edit = (f: (d: Record<string, unknown>) => void): string => {
      const d = JSON.parse(text);
      f(d);
      return JSON.stringify(d);
    };
    const cases: [string, RegExp][] = [
      ["not json", /not JSON/],
      [edit((d) => (d.format = "vigil.kitnet")), /format must be "vigil.gbdt"/],
      [edit((d) => (d.version = 2)), /version 2 is not supported/],
      [edit((d) => (d.outputs = 2)), /outputs must be 3/],
      [edit((d) => (d.trees = 5)), /trees must be a multiple of 3/],
      [edit((d) => (d.nodes = 1e12)), /nodes must be an integer/],
      [edit((d) => (d.feature = (d.feature as string).slice(0, -4))), /feature.*base64/],
      [
        edit((d) => (d.featureNames = (d.featureNames as string[]).slice(0, 1))),
        /splits on feature|feature, threshold/,
      ],
      [edit((d) => (d.validLoss = "low")), /validLoss/],
      [edit((d) => (d.classes = ["x".repeat(300), "b", "c"])), /classes/],
    ];
    for (const [bad, message] of cases) {
      const r = readGbdtFile(bad);
      expect(r.ok, String(message)).toBe(false);
      if (r.ok) continue;
      expect(r.error).toBeInstanceOf(VigilError);
      expect(r.error.code).toBe("input.corrupt");
      expect(r.error.message).toMatch(message);
      expect(r.error.hint).toBeTruthy();
    }
    const wrongSchema = loadGbdt(text, { expectedSchemaHash: "fnv1a64:0000000000000000" });
    expect(wrongSchema.ok).toBe(false);
    if (!wrongSchema.ok) expect(wrongSchema.error.message).toMatch(/feature schema/);
  });

  it("rejects trees that are not trees: shared children, back edges, too deep", () => {
    const { model, meta } = trained(["a", "b"], 5);
    const base = JSON.parse(
      saveGbdt({ ...model, trees: model.trees.slice(0, 1) }, { ...meta, bestIteration: 1 }),
    );
    type Node = { f: number; l: number; r: number };
    const leaf: Node = { f: -1, l: -1, r: -1 };
    /** The saved one-tree file with its tree replaced by `nodes` (feature 0 at inner nodes). */
    const fileWith = (nodes: Node[]): string => {
      const n = nodes.length;
      const b64 = (a: ArrayBufferView) =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
      return JSON.stringify({
        ...base,
        nodes: n,
        treeNodes: b64(Int32Array.of(n)),
        feature: b64(Int32Array.from(nodes, (d) => d.f)),
        threshold: b64(new Float32Array(n)),
        left: b64(Int32Array.from(nodes, (d) => d.l)),
        right: b64(Int32Array.from(nodes, (d) => d.r)),
        defaultLeft: b64(new Uint8Array(n)),
        value: b64(Float64Array.from(nodes, (_, i) => i / 10)),
        cover: b64(new Float64Array(n).fill(1)),
      });
    };
    /** A right-leaning chain of `depth` splits. */
    const chain = (depth: number): Node[] => {
      const nodes: Node[] = [];
      for (let i = 0; i < depth; i++) nodes.push({ f: 0, l: 2 * i + 1, r: 2 * i + 2 }, leaf);
      nodes.push(leaf);
      return nodes;
    };
    expect(readGbdtFile(fileWith([{ f: 0, l: 1, r: 2 }, leaf, leaf])).ok).toBe(true);
    const shared = [{ f: 0, l: 1, r: 2 }, { f: 0, l: 3, r: 4 }, { f: 0, l: 3, r: 4 }, leaf, leaf];
    expect(readGbdtFile(fileWith(shared)).ok).toBe(false);
    expect(readGbdtFile(fileWith([{ f: 0, l: 1, r: 2 }, { f: 0, l: 0, r: 2 }, leaf])).ok).toBe(false);
    expect(readGbdtFile(fileWith([{ f: 0, l: 1, r: 1 }, leaf, leaf])).ok).toBe(false);
    expect(readGbdtFile(fileWith([{ f: 1, l: 1, r: 2 }, leaf, leaf])).ok).toBe(true);
    expect(readGbdtFile(fileWith([{ f: 6, l: 1, r: 2 }, leaf, leaf])).ok).toBe(false); // 6 features
    expect(readGbdtFile(fileWith(chain(64))).ok).toBe(true);
    const deep = readGbdtFile(fileWith(chain(65)));
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.error.message).toMatch(/deeper than 64/);
  });

  it("never throws on a mutated file, and a file it accepts scores and explains", () => {
    const { model, meta, x } = trained(["a", "b", "c"], 11);
    const text = saveGbdt(model, meta);
    const rng = seededRng(99);
    const alphabet = 'AZaz09+/="{}[],:-.e1\n ';
    let accepted = 0;
    for (let trial = 0; trial < 400; trial++) {
      let t = text;
      const edits = 1 + rng.int(4);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(t.length);
        const kind = rng.int(4);
        if (kind === 0) t = t.slice(0, at) + alphabet[rng.int(alphabet.length)] + t.slice(at + 1);
        else if (kind === 1) t = t.slice(0, at) + t.slice(at + 1 + rng.int(8));
        else if (kind === 2) t = t.slice(0, at);
        else t = t.slice(0, at) + t.slice(rng.int(t.length));
      }
      let r: ReturnType<typeof readGbdtFile>;
      expect(() => {
        r = readGbdtFile(t);
      }).not.toThrow();
      r = readGbdtFile(t);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(VigilError);
        expect(r.error.code).toBe("input.corrupt");
        continue;
      }
      accepted++;
      const m = r.value.model;
      const out = predictMargins(m, x, 20, new Float64Array(20 * m.outputs));
      expect(out.every(Number.isFinite)).toBe(true);
      const shap = new GbdtExplainer(m).shap(x, 0);
      expect(shap.every(Number.isFinite)).toBe(true);
    }
    expect(accepted).toBeLessThan(400);
  });
});
