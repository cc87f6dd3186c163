import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "../../core/index.ts";
import {
  fitNetwork,
  identityNormalization,
  initNnModel,
  Network,
  type NnBranchSpec,
  type NnData,
  type NnInput,
  nnPredictProba,
} from "../index.ts";

/** Samples held as flat rows; `lens` is the sequence length per sample (or null). */
function data(x: Float64Array, size: number, labels: Int32Array, lens: Int32Array | null): NnData {
  return {
    count: labels.length,
    labels,
    gather(i, dst, off) {
      dst.set(x.subarray(i * size, (i + 1) * size), off);
      return lens ? lens[i]! : 0;
    },
  };
}

function accuracy(net: Network, d: NnData): number {
  const p = nnPredictProba(net, d);
  const K = net.classCount;
  let hit = 0;
  for (let i = 0; i < d.count; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
    if (best === d.labels[i]) hit++;
  }
  return hit / d.count;
}

function input(name: string, layout: NnInput["layout"], channels: number, length: number): NnInput {
  return {
    name,
    layout,
    channels,
    length,
    channelNames: Array.from({ length: channels }, (_, i) => `${name}${i}`),
    norm: identityNormalization(channels),
  };
}

function train(inp: NnInput, branch: NnBranchSpec, tr: NnData, va: NnData, seed: number): Network {
  const model = initNnModel(
    {
      kind: "gru-sequence",
      classes: ["no", "yes"],
      benign: 0,
      inputs: [inp],
      branches: [branch],
      hidden: [8],
    },
    seededRng(seed),
  );
  const net = new Network(model, 32);
  fitNetwork(net, tr, va, { maxEpochs: 40, batchSize: 32, learningRate: 0.01, patience: 6, seed });
  return net;
}

/**
 * Order task: each sequence holds one A step and one B step among noise steps; the label says whether A
 * came first. Every sample has the same bag of step kinds, so no order-blind model can beat chance.
 */
function orderTask(count: number, T: number, rng: Rng) {
  const C = 3; // channels: is-A, is-B, noise
  const x = new Float64Array(count * T * C);
  const y = new Int32Array(count);
  const lens = new Int32Array(count);
  const bag = new Float64Array(count * C); // mean over steps (what an order-blind dense model sees)
  for (let i = 0; i < count; i++) {
    const len = 4 + rng.int(T - 3);
    lens[i] = len;
    const a = rng.int(len);
    let b = rng.int(len - 1);
    if (b >= a) b++;
    y[i] = a < b ? 1 : 0;
    for (let t = 0; t < len; t++) {
      const o = (i * T + t) * C;
      x[o] = t === a ? 1 : 0;
      x[o + 1] = t === b ? 1 : 0;
      x[o + 2] = rng.next() - 0.5;
      for (let c = 0; c < C; c++) bag[i * C + c] += x[o + c]! / len;
    }
  }
  return { x, y, lens, bag, C };
}

describe("what the heads can learn", () => {
  it("a GRU learns an order-dependent label that an order-blind dense model cannot", () => {
    const T = 8;
    const tr = orderTask(1500, T, seededRng(11));
    const te = orderTask(500, T, seededRng(12));
    const seq = input("step", "sequence", tr.C, T);
    const gru = train(
      seq,
      { type: "gru", input: 0, hiddenSize: 12 },
      data(tr.x, T * tr.C, tr.y, tr.lens),
      data(te.x.subarray(0, 200 * T * tr.C), T * tr.C, te.y.subarray(0, 200), te.lens.subarray(0, 200)),
      1,
    );
    const gruAcc = accuracy(gru, data(te.x, T * tr.C, te.y, te.lens));
    // A dense model over the step mean: a kernel-1 conv over one position is a dense layer.
    const bag = input("mean", "grid", tr.C, 1);
    const dense = train(
      bag,
      { type: "conv", input: 0, layers: [{ outChannels: 16, kernel: 1 }] },
      data(tr.bag, tr.C, tr.y, null),
      data(te.bag.subarray(0, 200 * tr.C), tr.C, te.y.subarray(0, 200), null),
      1,
    );
    const denseAcc = accuracy(dense, data(te.bag, tr.C, te.y, null));
    expect(gruAcc).toBeGreaterThan(0.95);
    expect(denseAcc).toBeLessThan(0.62); // chance is 0.5; the bag carries only the length
  });

  it("a 1-D CNN finds a byte motif anywhere in a payload", () => {
    const L = 48;
    const C = 9; // 8 bit planes + a presence channel, as the payload extractor writes them
    const motif = [0x47, 0x45, 0x54, 0x20]; // "GET "
    const make = (count: number, rng: Rng) => {
      const x = new Float64Array(count * C * L);
      const y = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const bytes = Array.from({ length: L }, () => rng.int(256));
        y[i] = rng.int(2);
        const at = rng.int(L - motif.length);
        // Negatives get a near miss: the motif with one bit of its third byte flipped.
        for (let k = 0; k < motif.length; k++)
          bytes[at + k] = y[i] === 1 || k !== 2 ? motif[k]! : motif[k]! ^ 0x01;
        for (let p = 0; p < L; p++) {
          for (let bit = 0; bit < 8; bit++) x[i * C * L + bit * L + p] = (bytes[p]! >> (7 - bit)) & 1;
          x[i * C * L + 8 * L + p] = 1;
        }
      }
      return { x, y };
    };
    const tr = make(1200, seededRng(21));
    const te = make(400, seededRng(22));
    const net = train(
      input("byte", "grid", C, L),
      { type: "conv", input: 0, layers: [{ outChannels: 12, kernel: 4 }] },
      data(tr.x, C * L, tr.y, null),
      data(te.x.subarray(0, 150 * C * L), C * L, te.y.subarray(0, 150), null),
      2,
    );
    expect(accuracy(net, data(te.x, C * L, te.y, null))).toBeGreaterThan(0.95);
  });
});
