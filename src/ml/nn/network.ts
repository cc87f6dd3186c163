// A neural model as runnable layers: flat float64 parameters, batch forward (scaling → branches → head → softmax), backward.

import { Conv1d } from "./conv1d.ts";
import { Dense } from "./dense.ts";
import { Gru } from "./gru.ts";
import { softmaxCrossEntropy, softmaxRows } from "./loss.ts";
import { type NnBranch, type NnModel, type NnModelMeta, nnBranchWidth, nnSampleLayout } from "./model.ts";
import { normalizeBlock } from "./normalize.ts";

type BranchLayers =
  | { kind: "gru"; input: number; gru: Gru }
  | { kind: "conv"; input: number; convs: Conv1d[] };

/**
 * Runs an `NnModel` on batches of up to `maxBatch` raw samples. Parameters live in one Float64Array (`params`,
 * with `grads` and `decayMask` of the same layout: branches in order, then the head; per layer W then B),
 * initialised from the model's float32 weights. Every buffer is allocated here: forward and backward
 * allocate nothing.
 *
 * Use: write raw samples into `x` (sample s at s·sampleSize, inputs' blocks in model order) and their
 * sequence lengths into `lengths`, then `forward(n)` (probabilities in `probs`) or `trainStep(...)`.
 */
export class Network {
  readonly maxBatch: number;
  readonly sampleSize: number;
  readonly classCount: number;
  /** Raw inputs [maxBatch, sampleSize]. */
  readonly x: Float64Array;
  /** Steps per sample of the sequence input (ignored when the model has none). */
  readonly lengths: Int32Array;
  /** Class probabilities of the last forward, [maxBatch, classCount]. */
  readonly probs: Float64Array;
  readonly params: Float64Array;
  readonly grads: Float64Array;
  /** 1 for weight matrices (decayed by AdamW), 0 for biases. */
  readonly decayMask: Uint8Array;
  private readonly model: NnModel;
  private readonly offsets: number[];
  private readonly seqInput: number;
  private readonly xn: Float64Array[];
  private readonly branches: BranchLayers[];
  private readonly branchOut: Float64Array[];
  private readonly branchGrad: Float64Array[];
  private readonly width: number;
  private readonly concat: Float64Array;
  private readonly head: Dense[];
  private readonly dLogits: Float64Array;

  constructor(model: NnModel, maxBatch = 64) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError("Network: maxBatch must be ≥ 1");
    this.model = model;
    this.maxBatch = maxBatch;
    const layout = nnSampleLayout(model.inputs);
    this.offsets = layout.offsets;
    this.sampleSize = layout.size;
    this.classCount = model.classes.length;
    this.seqInput = model.inputs.findIndex((i) => i.layout === "sequence");
    this.x = new Float64Array(maxBatch * this.sampleSize);
    this.lengths = new Int32Array(maxBatch);
    this.probs = new Float64Array(maxBatch * this.classCount);
    this.dLogits = new Float64Array(maxBatch * this.classCount);
    this.xn = model.inputs.map((i) => new Float64Array(maxBatch * i.channels * i.length));

    // Flat parameter layout.
    const tensors: { src: Float32Array; decay: boolean }[] = [];
    for (const b of model.branches) {
      if (b.type === "gru")
        tensors.push({ src: b.W, decay: true }, { src: b.R, decay: true }, { src: b.B, decay: false });
      else for (const l of b.layers) tensors.push({ src: l.W, decay: true }, { src: l.B, decay: false });
    }
    for (const d of model.head) tensors.push({ src: d.W, decay: true }, { src: d.B, decay: false });
    const total = tensors.reduce((a, t) => a + t.src.length, 0);
    this.params = new Float64Array(total);
    this.grads = new Float64Array(total);
    this.decayMask = new Uint8Array(total);
    const views: { p: Float64Array; g: Float64Array }[] = [];
    let off = 0;
    for (const t of tensors) {
      const len = t.src.length;
      this.params.set(t.src, off);
      if (t.decay) this.decayMask.fill(1, off, off + len);
      views.push({ p: this.params.subarray(off, off + len), g: this.grads.subarray(off, off + len) });
      off += len;
    }
    let vi = 0;
    const next = (): { p: Float64Array; g: Float64Array } => views[vi++]!;

    this.branches = model.branches.map((b): BranchLayers => {
      const inp = model.inputs[b.input]!;
      if (b.type === "gru") {
        const w = next();
        const r = next();
        const bb = next();
        return {
          kind: "gru",
          input: b.input,
          gru: new Gru(
            inp.channels,
            b.hiddenSize,
            inp.length,
            { w: w.p, r: r.p, b: bb.p, gw: w.g, gr: r.g, gb: bb.g },
            maxBatch,
          ),
        };
      }
      let len = inp.length;
      const convs = b.layers.map((l, j) => {
        const w = next();
        const bb = next();
        const c = new Conv1d(
          l.inChannels,
          len,
          l.outChannels,
          l.kernel,
          l.stride,
          j === b.layers.length - 1,
          { w: w.p, b: bb.p, gw: w.g, gb: bb.g },
          maxBatch,
        );
        len = c.outLength;
        return c;
      });
      return { kind: "conv", input: b.input, convs };
    });
    const widths = model.branches.map((b: NnBranch) => nnBranchWidth(b));
    this.width = widths.reduce((a, w) => a + w, 0);
    this.concat = new Float64Array(maxBatch * this.width);
    this.branchOut = this.branches.map((b) =>
      b.kind === "gru" ? b.gru.out : b.convs[b.convs.length - 1]!.pooled,
    );
    this.branchGrad = widths.map((w) => new Float64Array(maxBatch * w));
    this.head = model.head.map((d) => {
      const w = next();
      const bb = next();
      return new Dense(
        d.inSize,
        d.outSize,
        d.activation === "relu",
        { w: w.p, b: bb.p, gw: w.g, gb: bb.g },
        maxBatch,
      );
    });
  }

  /** Runs the first `n` samples of `x`; returns `probs`. */
  forward(n: number): Float64Array {
    if (n > this.maxBatch) throw new RangeError(`Network.forward: ${n} samples > maxBatch ${this.maxBatch}`);
    const inputs = this.model.inputs;
    const S = this.sampleSize;
    for (let i = 0; i < inputs.length; i++) {
      const inp = inputs[i]!;
      const block = inp.channels * inp.length;
      const isSeq = i === this.seqInput;
      for (let s = 0; s < n; s++) {
        let steps = inp.length;
        if (isSeq) {
          const l = this.lengths[s];
          steps = l < 0 ? 0 : l > inp.length ? inp.length : l;
        }
        normalizeBlock(inp, this.x, s * S + this.offsets[i]!, this.xn[i]!, s * block, steps);
      }
    }
    for (const b of this.branches) {
      const x = this.xn[b.input]!;
      if (b.kind === "gru") b.gru.forward(x, this.lengths, n);
      else {
        let prev = x;
        for (const c of b.convs) {
          c.forward(prev, n);
          prev = c.out;
        }
      }
    }
    const W = this.width;
    let off = 0;
    for (let k = 0; k < this.branches.length; k++) {
      const out = this.branchOut[k]!;
      const w = out.length / this.maxBatch;
      for (let s = 0; s < n; s++) for (let j = 0; j < w; j++) this.concat[s * W + off + j] = out[s * w + j];
      off += w;
    }
    let h = this.concat;
    for (const d of this.head) {
      d.forward(h, n);
      h = d.out;
    }
    softmaxRows(h, n, this.classCount, this.probs);
    return this.probs;
  }

  /**
   * Forward, weighted cross-entropy against labels[labelOff .. labelOff+n), and backward: gradients are
   * added to `grads` (zero them between steps). Returns the loss and the weight sum of the batch.
   */
  trainStep(
    labels: Int32Array,
    labelOff: number,
    n: number,
    classWeights: Float64Array,
  ): { loss: number; weight: number } {
    this.forward(n);
    const K = this.classCount;
    const last = this.head[this.head.length - 1]!;
    const res = softmaxCrossEntropy(last.out, labels, labelOff, n, K, classWeights, this.probs, this.dLogits);
    let d = this.dLogits;
    for (let i = this.head.length - 1; i >= 0; i--) {
      const layer = this.head[i]!;
      const input = i === 0 ? this.concat : this.head[i - 1]!.out;
      layer.backward(input, d, n, true);
      d = layer.dIn;
    }
    const W = this.width;
    let off = 0;
    for (let k = 0; k < this.branches.length; k++) {
      const g = this.branchGrad[k]!;
      const w = g.length / this.maxBatch;
      for (let s = 0; s < n; s++) for (let j = 0; j < w; j++) g[s * w + j] = d[s * W + off + j];
      off += w;
      const b = this.branches[k]!;
      const x = this.xn[b.input]!;
      if (b.kind === "gru") b.gru.backward(x, g, n);
      else {
        let up = g;
        for (let j = b.convs.length - 1; j >= 0; j--) {
          const c = b.convs[j]!;
          c.backward(j === 0 ? x : b.convs[j - 1]!.out, up, n, j > 0);
          up = c.dIn;
        }
      }
    }
    return res;
  }

  /** The model with the current parameters rounded to float32, and `meta` replacing the model's. */
  toModel(meta: NnModelMeta = this.model.meta): NnModel {
    const m = this.model;
    let off = 0;
    const take = (len: number): Float32Array => {
      const t = Float32Array.from(this.params.subarray(off, off + len));
      off += len;
      return t;
    };
    const branches = m.branches.map((b): NnBranch => {
      if (b.type === "gru") return { ...b, W: take(b.W.length), R: take(b.R.length), B: take(b.B.length) };
      return { ...b, layers: b.layers.map((l) => ({ ...l, W: take(l.W.length), B: take(l.B.length) })) };
    });
    const head = m.head.map((d) => ({ ...d, W: take(d.W.length), B: take(d.B.length) }));
    return {
      kind: m.kind,
      classes: [...m.classes],
      benign: m.benign,
      inputs: m.inputs.map((i) => ({
        ...i,
        channelNames: [...i.channelNames],
        norm: {
          log1p: Uint8Array.from(i.norm.log1p),
          mean: Float32Array.from(i.norm.mean),
          invStd: Float32Array.from(i.norm.invStd),
          clip: i.norm.clip,
        },
      })),
      branches,
      head,
      meta: { ...meta, trainedOn: { ...meta.trainedOn }, training: { ...meta.training } },
    };
  }
}
