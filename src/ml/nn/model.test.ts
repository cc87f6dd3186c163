import { describe, expect, it } from "vitest";
import { seededRng } from "../../core/index.ts";
import {
  loadNnModel,
  type NnInput,
  type NnModel,
  nnModelVersion,
  nnSchemaHash,
  saveNnModel,
} from "../index.ts";

function rand(n: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

function input(name: string, layout: NnInput["layout"], channels: number, length: number): NnInput {
  return {
    name,
    layout,
    channels,
    length,
    channelNames: Array.from({ length: channels }, (_, i) => `${name}.c${i}`),
    norm: {
      log1p: Uint8Array.from({ length: channels }, (_, i) => i % 2),
      mean: rand(channels, 1),
      invStd: Float32Array.from(rand(channels, 2), (v) => 1 + Math.abs(v)),
      clip: 50,
    },
  };
}

/** A small model with a GRU branch, a two-layer conv branch and a two-layer head. */
function sampleModel(): NnModel {
  const inputs = [input("flows", "sequence", 5, 4), input("bytes", "grid", 3, 16)];
  const h = 6;
  return {
    kind: "payload-cnn",
    classes: ["benign", "a", "b"],
    benign: 0,
    inputs,
    branches: [
      {
        type: "gru",
        input: 0,
        hiddenSize: h,
        linearBeforeReset: 1,
        W: rand(3 * h * 5, 3),
        R: rand(3 * h * h, 4),
        B: rand(6 * h, 5),
      },
      {
        type: "conv",
        input: 1,
        layers: [
          { inChannels: 3, outChannels: 4, kernel: 3, stride: 1, W: rand(4 * 3 * 3, 6), B: rand(4, 7) },
          { inChannels: 4, outChannels: 5, kernel: 2, stride: 2, W: rand(5 * 4 * 2, 8), B: rand(5, 9) },
        ],
      },
    ],
    head: [
      { inSize: 11, outSize: 7, W: rand(77, 10), B: rand(7, 11), activation: "relu" },
      { inSize: 7, outSize: 3, W: rand(21, 12), B: rand(3, 13), activation: "none" },
    ],
    meta: {
      featureSchemaHash: nnSchemaHash(inputs),
      trainedOn: { source: "test", samples: 100, firstUs: 1, lastUs: 2 },
      training: { epochs: 3, lr: 0.001, seed: 1, note: "x" },
      epochs: 3,
      bestEpoch: 2,
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a test reaches into arbitrary JSON to damage it.
type Json = any;

function tamper(text: string, patch: (doc: Json) => void): string {
  const doc = JSON.parse(text) as Json;
  patch(doc);
  return JSON.stringify(doc);
}

function loadError(text: string): string {
  const r = loadNnModel(text);
  if (r.ok) throw new Error("expected a load error");
  return r.error.message;
}

describe("neural model file", () => {
  it("round-trips bit for bit and re-saves to identical text", () => {
    const m = sampleModel();
    m.head[1]!.B[0] = -0; // -0 and subnormals survive too
    m.head[1]!.B[1] = 1e-45;
    const text = saveNnModel(m);
    const r = loadNnModel(text);
    if (!r.ok) throw r.error;
    const back = r.value;
    expect(saveNnModel(back)).toBe(text);
    expect(Object.is(back.head[1]!.B[0], -0)).toBe(true);
    expect(back.head[1]!.B[1]).toBe(m.head[1]!.B[1]);
    const gru = back.branches[0]!;
    if (gru.type !== "gru") throw new Error("branch kind");
    expect(Array.from(gru.R)).toEqual(Array.from((m.branches[0] as typeof gru).R));
    expect(back.inputs[1]!.norm.log1p).toEqual(m.inputs[1]!.norm.log1p);
    expect(nnModelVersion(back)).toBe(nnModelVersion(m));
  });

  it("stores ONNX shapes with the weights", () => {
    const doc = JSON.parse(saveNnModel(sampleModel()));
    expect(doc.branches[0].W.shape).toEqual([1, 18, 5]);
    expect(doc.branches[0].R.shape).toEqual([1, 18, 6]);
    expect(doc.branches[0].B.shape).toEqual([1, 36]);
    expect(doc.branches[1].layers[1].W.shape).toEqual([5, 4, 2]);
    expect(doc.head[0].W.shape).toEqual([7, 11]);
  });

  it("rejects damaged files with a message naming the problem", () => {
    const text = saveNnModel(sampleModel());
    expect(loadError("{not json")).toMatch(/not JSON/);
    expect(loadError(tamper(text, (d) => (d.format = "x")))).toMatch(/format/);
    expect(loadError(tamper(text, (d) => (d.version = 99)))).toMatch(/upgrade Vigil|not supported/);
    expect(loadError(tamper(text, (d) => (d.head[0].W.f32 = d.head[0].W.f32.slice(8))))).toMatch(
      /head\[0\]\.W/,
    );
    expect(loadError(tamper(text, (d) => (d.head[0].W.shape = [11, 7])))).toMatch(/shape/);
    expect(loadError(tamper(text, (d) => (d.branches[1].layers[1].inChannels = 3)))).toMatch(
      /shape|inChannels/,
    );
    expect(loadError(tamper(text, (d) => (d.branches[0].hiddenSize = 1e9)))).toMatch(/hiddenSize/);
    expect(loadError(tamper(text, (d) => (d.inputs[0].channels = 1e9)))).toMatch(/channels/);
    expect(loadError(tamper(text, (d) => (d.inputs[0].channelNames[0] = "other")))).toMatch(
      /featureSchemaHash/,
    );
    expect(loadError(tamper(text, (d) => (d.classes = ["benign", "benign", "b"])))).toMatch(/distinct/);
    expect(loadError(tamper(text, (d) => (d.benign = 3)))).toMatch(/benign/);
    expect(loadError(tamper(text, (d) => (d.head[1].activation = "relu")))).toMatch(/last head layer/);
    expect(loadError(tamper(text, (d) => (d.meta.bestEpoch = 9)))).toMatch(/bestEpoch/);
    // A NaN weight: float32 bits 0x7fc00000 at the start of a tensor.
    const nan = tamper(text, (d) => {
      const b = Buffer.from(d.head[1].B.f32, "base64");
      b.writeUInt32LE(0x7fc00000, 0);
      d.head[1].B.f32 = b.toString("base64");
    });
    expect(loadError(nan)).toMatch(/not finite/);
  });

  it("checks kind and schema when asked", () => {
    const m = sampleModel();
    const text = saveNnModel(m);
    const wrongKind = loadNnModel(text, { kind: "gru-sequence" });
    expect(wrongKind.ok ? "" : wrongKind.error.code).toBe("usage");
    const wrongSchema = loadNnModel(text, { expectedSchemaHash: "fnv1a64:0000000000000000" });
    expect(wrongSchema.ok ? "" : wrongSchema.error.message).toMatch(/schema/);
    expect(loadNnModel(text, { kind: "payload-cnn", expectedSchemaHash: m.meta.featureSchemaHash }).ok).toBe(
      true,
    );
  });

  it("never throws on damaged text: every mutation loads or fails with input.corrupt", () => {
    const text = saveNnModel(sampleModel());
    const rng = seededRng(99);
    const alphabet = '0123456789{}[]",:-.eE+/=AZaz ';
    for (let k = 0; k < 400; k++) {
      const chars = text.split("");
      const edits = 1 + rng.int(4);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(chars.length);
        const op = rng.int(3);
        if (op === 0) chars[at] = alphabet[rng.int(alphabet.length)]!;
        else if (op === 1) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[rng.int(alphabet.length)]!);
      }
      const r = loadNnModel(chars.join(""));
      if (!r.ok) expect(["input.corrupt", "usage"]).toContain(r.error.code);
      else expect(() => saveNnModel(r.value)).not.toThrow();
    }
  });

  it("never throws when any JSON value is replaced by a value of another kind", () => {
    const text = saveNnModel(sampleModel());
    const rng = seededRng(7);
    const values: Json[] = [
      null,
      -1,
      0,
      1.5,
      1e12,
      "",
      "x",
      true,
      [],
      {},
      [1, 2],
      { shape: [1], f32: "AAAAAA==" },
    ];
    // Every path to a value in the document.
    const paths: (string | number)[][] = [];
    const walk = (v: Json, path: (string | number)[]): void => {
      paths.push(path);
      if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i]);
      else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) walk(v[k], [...path, k]);
    };
    walk(JSON.parse(text), []);
    for (const path of paths) {
      if (path.length === 0) continue;
      const doc = JSON.parse(text);
      let at = doc;
      for (const k of path.slice(0, -1)) at = at[k];
      at[path.at(-1)!] = values[rng.int(values.length)];
      const r = loadNnModel(JSON.stringify(doc));
      if (!r.ok) expect(["input.corrupt", "usage"]).toContain(r.error.code);
      else expect(() => saveNnModel(r.value)).not.toThrow();
    }
    expect(paths.length).toBeGreaterThan(100);
  });

  it("refuses to save an inconsistent model", () => {
    const m = sampleModel();
    m.head[0]!.inSize = 10;
    expect(() => saveNnModel(m)).toThrow(RangeError);
  });
});
