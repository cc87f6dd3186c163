// Neural model → ONNX round trip: onnxruntime's probabilities equal Vigil's Network forward pass within 1e-5.
import { describe, expect, it } from "vitest";
import { isVigilError, type Rng, seededRng } from "../../core/index.ts";
import {
  fitNetwork,
  initNnModel,
  Network,
  type NnArchitecture,
  type NnData,
  type NnInput,
  type NnModel,
  nnSampleLayout,
  nnSchemaHash,
} from "../nn/index.ts";
import { exportNnOnnx, loadOnnxClassifier, META_NN_INPUTS, ONNX_METADATA_KEYS } from "./index.ts";

const TOL = 1e-5;
/** Vigil's own scores: the nn Network's forward pass (float64), in batches of its maximum size. */
function vigilProba(m: NnModel, x: Float32Array, lengths: Int32Array, rows: number): Float64Array {
  const net = new Network(m, 64);
  const K = m.classes.length;
  const S = net.sampleSize;
  const out = new Float64Array(rows * K);
  for (let r0 = 0; r0 < rows; r0 += net.maxBatch) {
    const n = Math.min(net.maxBatch, rows - r0);
    net.x.set(x.subarray(r0 * S, (r0 + n) * S));
    net.lengths.set(lengths.subarray(r0, r0 + n));
    out.set(net.forward(n).subarray(0, n * K), r0 * K);
  }
  return out;
}

const f32 = (rng: Rng, n: number, scale: number) =>
  Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

function input(rng: Rng, name: string, layout: NnInput["layout"], channels: number, length: number): NnInput {
  return {
    name,
    layout,
    channels,
    length,
    channelNames: Array.from({ length: channels }, (_, c) => `${name}.c${c}`),
    norm: {
      log1p: Uint8Array.from({ length: channels }, (_, c) => c % 2),
      mean: f32(rng, channels, 1),
      invStd: Float32Array.from({ length: channels }, () => 0.3 + rng.next() * 2),
      clip: 6,
    },
  };
}

function nnModel(
  kind: NnModel["kind"],
  inputs: NnInput[],
  branches: NnModel["branches"],
  width: number,
  rng: Rng,
) {
  const classes = CLASSES;
  const hidden = 16;
  const model: NnModel = {
    kind,
    classes,
    benign: 0,
    inputs,
    branches,
    head: [
      {
        inSize: width,
        outSize: hidden,
        W: f32(rng, hidden * width, 0.5),
        B: f32(rng, hidden, 0.2),
        activation: "relu",
      },
      { inSize: hidden, outSize: 4, W: f32(rng, 4 * hidden, 0.7), B: f32(rng, 4, 0.2), activation: "none" },
    ],
    meta: {
      featureSchemaHash: nnSchemaHash(inputs),
      trainedOn: { source: "test", samples: 0, firstUs: 0, lastUs: 0 },
      training: {},
      epochs: 0,
      bestEpoch: 0,
    },
  };
  return model;
}

const CLASSES = ["benign", "dos", "scan", "brute"];

/**
 * Trains `arch` for a few epochs with Vigil's own trainer on synthetic samples whose class sets the level
 * of one input channel, and returns the trained model (weights rounded to float32, as saved).
 */
function trained(arch: NnArchitecture, seed: number): NnModel {
  const rng = seededRng(seed);
  const net = new Network(initNnModel(arch, rng), 32);
  const S = net.sampleSize;
  const seqLen = arch.inputs.find((i) => i.layout === "sequence")?.length ?? 1;
  const count = 160;
  const labels = Int32Array.from({ length: count }, (_, i) => i % CLASSES.length);
  const raw = Float64Array.from({ length: count * S }, (_, i) => {
    const cls = labels[Math.floor(i / S)];
    return (i % 3 === 0 ? cls * 2 : 0) + (rng.next() * 2 - 1);
  });
  const steps = Int32Array.from({ length: count }, () => 1 + rng.int(seqLen));
  const data: NnData = {
    count,
    labels,
    gather: (i, dst, off) => {
      dst.set(raw.subarray(i * S, (i + 1) * S), off);
      return steps[i];
    },
  };
  fitNetwork(net, data, null, { maxEpochs: 4, batchSize: 32, learningRate: 1e-2, seed });
  return net.toModel();
}

function gruModel(seed: number): NnModel {
  const rng = seededRng(seed);
  const seq = input(rng, "flows", "sequence", 5, 10);
  return trained(
    {
      kind: "gru-sequence",
      classes: CLASSES,
      benign: 0,
      inputs: [seq],
      branches: [{ type: "gru", input: 0, hiddenSize: 12 }],
      hidden: [16],
    },
    seed,
  );
}

function cnnModel(seed: number): NnModel {
  const rng = seededRng(seed);
  const grid = input(rng, "payload", "grid", 3, 40);
  return trained(
    {
      kind: "payload-cnn",
      classes: CLASSES,
      benign: 0,
      inputs: [grid],
      branches: [
        {
          type: "conv",
          input: 0,
          layers: [
            { outChannels: 8, kernel: 5, stride: 2 },
            { outChannels: 6, kernel: 3 },
          ],
        },
      ],
      hidden: [16],
    },
    seed,
  );
}

/** Raw rows with NaN, ±Infinity, huge and negative values among ordinary ones. */
function hostileRows(rng: Rng, n: number): Float32Array {
  const special = [Number.NaN, Infinity, -Infinity, 3e38, -3e38, -0.5, 0];
  return Float32Array.from({ length: n }, () => {
    const u = rng.next();
    return u < 0.08
      ? special[rng.int(special.length)]
      : u < 0.3
        ? rng.next() * 2000 - 500
        : rng.next() * 6 - 3;
  });
}

async function roundTrip(model: NnModel, rows: number, seed: number): Promise<number> {
  const rng = seededRng(seed);
  const { size } = nnSampleLayout(model.inputs);
  const x = hostileRows(rng, rows * size);
  const seqLen = model.inputs.find((i) => i.layout === "sequence")?.length ?? 0;
  // Out-of-range lengths too: Vigil clamps them to 0..length, and so must the export.
  const lengths = Int32Array.from({ length: rows }, () => rng.int(seqLen + 4) - 1);
  const loaded = await loadOnnxClassifier(exportNnOnnx(model));
  if (!loaded.ok) throw loaded.error;
  const clf = loaded.value;
  const got = await clf.classify(x, rows, size, seqLen > 0 ? { lengths } : {});
  await clf.close();
  if (!got.ok) throw got.error;
  const want = vigilProba(model, x, lengths, rows);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(want[i] - got.value.probabilities[i]));
  const K = model.classes.length;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(want.subarray(r * K, (r + 1) * K));
    const sorted = [...row].sort((a, b) => b - a);
    if (sorted[0] - sorted[1] > 1e-4) expect(got.value.labels[r]).toBe(model.classes[row.indexOf(sorted[0])]);
  }
  return worst;
}

describe("exportNnOnnx", () => {
  it("trained GRU sequence model: onnxruntime within 1e-5 of Vigil, lengths clamped, NaN/±Inf scaled", async () => {
    expect(await roundTrip(gruModel(1), 300, 2)).toBeLessThan(TOL);
  });

  it("trained payload CNN (Conv → Relu → GlobalMaxPool → Gemm → Softmax): within 1e-5", async () => {
    expect(await roundTrip(cnnModel(3), 300, 4)).toBeLessThan(TOL);
  });

  it("two inputs, a GRU and a CNN branch concatenated (trained branches, a new head): within 1e-5", async () => {
    const rng = seededRng(5);
    const gru = gruModel(6);
    const cnn = cnnModel(7);
    const inputs = [gru.inputs[0], cnn.inputs[0]];
    const branches = [gru.branches[0], { ...cnn.branches[0], input: 1 }];
    const model = nnModel("gru-sequence", inputs, branches, 12 + 6, rng);
    expect(await roundTrip(model, 200, 8)).toBeLessThan(TOL);
  });

  it("declares input [N, S], sequence_lens [N], label, probabilities and the input layout in metadata", async () => {
    const model = gruModel(9);
    const loaded = await loadOnnxClassifier(exportNnOnnx(model, { modelVersion: "nn-3" }));
    if (!loaded.ok) throw loaded.error;
    const clf = loaded.value;
    await clf.close();
    expect(clf.inputs).toEqual([
      { name: "input", type: "tensor(float)", shape: ["N", 50] },
      { name: "sequence_lens", type: "tensor(int32)", shape: ["N"] },
    ]);
    expect(clf.lengthsName).toBe("sequence_lens");
    expect(clf.classes).toEqual(model.classes);
    expect(clf.metadata[ONNX_METADATA_KEYS.kind]).toBe("gru-sequence");
    expect(clf.metadata[ONNX_METADATA_KEYS.modelVersion]).toBe("nn-3");
    expect(JSON.parse(clf.metadata[META_NN_INPUTS])[0]).toMatchObject({
      name: "flows",
      layout: "sequence",
      offset: 0,
    });
    const noLengths = await clf.classify(new Float32Array(50), 1, 50);
    expect(!noLengths.ok && noLengths.error.code).toBe("usage");
  });

  it("refuses an inconsistent model with an internal VigilError", () => {
    const model = cnnModel(10);
    model.head[1].B = new Float32Array(2);
    let caught: unknown;
    try {
      exportNnOnnx(model);
    } catch (e) {
      caught = e;
    }
    expect(isVigilError(caught) && caught.code === "internal").toBe(true);
  });
});
