// Fresh neural models: architecture in, seeded initial weights out (PyTorch's GRU init, He/Glorot uniform elsewhere).

import type { Rng } from "../../core/index.ts";
import {
  convOutLength,
  type NnBranch,
  type NnDenseLayer,
  type NnInput,
  type NnKind,
  type NnModel,
  nnBranchWidth,
  nnSchemaHash,
} from "./model.ts";

/** One branch to build: a GRU over the sequence input, or a stack of conv layers over a grid input. */
export type NnBranchSpec =
  | { type: "gru"; input: number; hiddenSize: number }
  | { type: "conv"; input: number; layers: { outChannels: number; kernel: number; stride?: number }[] };

/** What `initNnModel` builds. */
export interface NnArchitecture {
  kind: NnKind;
  classes: string[];
  benign: number;
  /** Inputs with their (already fitted) scaling. */
  inputs: NnInput[];
  branches: NnBranchSpec[];
  /** Widths of the ReLU layers of the head before the output layer (may be empty). */
  hidden: number[];
}

function uniform(n: number, bound: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * bound;
  return a;
}

/**
 * A model with seeded random weights: GRU weights and biases U(±1/√H) (PyTorch's choice), conv and ReLU
 * dense weights He-uniform U(±√(6/fan_in)), the output layer Glorot-uniform, other biases 0.
 * Throws a RangeError when the architecture does not fit its inputs (a caller's bug).
 */
export function initNnModel(arch: NnArchitecture, rng: Rng): NnModel {
  const branches: NnBranch[] = arch.branches.map((b) => {
    const inp = arch.inputs[b.input];
    if (inp === undefined) throw new RangeError(`initNnModel: branch input ${b.input} does not exist`);
    if (b.type === "gru") {
      const h = b.hiddenSize;
      const k = 1 / Math.sqrt(h);
      return {
        type: "gru",
        input: b.input,
        hiddenSize: h,
        linearBeforeReset: 1,
        W: uniform(3 * h * inp.channels, k, rng),
        R: uniform(3 * h * h, k, rng),
        B: uniform(6 * h, k, rng),
      };
    }
    let ch = inp.channels;
    let len = inp.length;
    const layers = b.layers.map((l) => {
      const stride = l.stride ?? 1;
      len = convOutLength(len, l.kernel, stride);
      if (len < 1) throw new RangeError(`initNnModel: conv kernel ${l.kernel} does not fit the input`);
      const fanIn = ch * l.kernel;
      const layer = {
        inChannels: ch,
        outChannels: l.outChannels,
        kernel: l.kernel,
        stride,
        W: uniform(l.outChannels * fanIn, Math.sqrt(6 / fanIn), rng),
        B: new Float32Array(l.outChannels),
      };
      ch = l.outChannels;
      return layer;
    });
    return { type: "conv", input: b.input, layers };
  });
  let width = branches.reduce((a, b) => a + nnBranchWidth(b), 0);
  const head: NnDenseLayer[] = [];
  for (const h of arch.hidden) {
    head.push({
      inSize: width,
      outSize: h,
      W: uniform(h * width, Math.sqrt(6 / width), rng),
      B: new Float32Array(h),
      activation: "relu",
    });
    width = h;
  }
  const K = arch.classes.length;
  head.push({
    inSize: width,
    outSize: K,
    W: uniform(K * width, Math.sqrt(6 / (width + K)), rng),
    B: new Float32Array(K),
    activation: "none",
  });
  return {
    kind: arch.kind,
    classes: [...arch.classes],
    benign: arch.benign,
    inputs: arch.inputs,
    branches,
    head,
    meta: {
      featureSchemaHash: nnSchemaHash(arch.inputs),
      trainedOn: { source: "", samples: 0, firstUs: 0, lastUs: 0 },
      training: {},
      epochs: 0,
      bestEpoch: 0,
    },
  };
}
