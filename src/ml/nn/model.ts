// The neural model format (GRU sequence and payload CNN heads): TypeScript shape + versioned JSON, ONNX operator layouts.

import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { badModelFile, isObj, type ModelDocKind, readModelDoc } from "../model-doc.ts";
import { hashFeatureSchema } from "../model-file.ts";

export const NN_FORMAT = "vigil.nn";
export const NN_FORMAT_VERSION = 1;

// Caps on what a model file may declare, so a damaged file cannot make load() allocate without bound.
const MAX_FILE_CHARS = 512 * 1024 * 1024; // base64 of MAX_PARAMS float32 is ~358 M characters
const MAX_PARAMS = 64 * 1024 * 1024; // float32 weights over all tensors (256 MB)
const MAX_TENSOR = 16 * 1024 * 1024; // elements of one weight tensor
const MAX_INPUTS = 8;
const MAX_BRANCHES = 8;
const MAX_LAYERS = 16; // conv layers per branch, dense layers in the head
const MAX_CHANNELS = 65_536;
const MAX_LENGTH = 65_536; // steps of a sequence input, positions of a grid input
const MAX_WIDTH = 65_536; // GRU hidden size, conv output channels, dense units
const MAX_KERNEL = 4_096;
const MAX_CLASSES = 1_024;
const MAX_NAME = 256; // characters of a class, input, channel or setting name
const MAX_SETTINGS = 128; // entries of meta.training

/** Which of the two deep heads a model is. */
export type NnKind = "gru-sequence" | "payload-cnn";

/**
 * Per-channel input scaling kept in the model, so a scorer needs nothing else:
 * y = clamp((f(x) − mean) · invStd, −clip, clip) with f(x) = sign(x)·ln(1 + |x|) where `log1p` is 1 and
 * f(x) = x elsewhere; NaN becomes 0 (the training mean) and ±Infinity ±clip.
 */
export interface NnNormalization {
  /** 1 where the channel is log-scaled first, else 0. */
  log1p: Uint8Array;
  mean: Float32Array;
  /** 1/std of the (log-scaled) channel; 1 with mean 0 leaves a channel as it is. */
  invStd: Float32Array;
  /** Bound of a scaled value (ONNX Clip after the scaling). */
  clip: number;
}

/**
 * One model input. A sample's raw vector is its inputs' blocks concatenated in `inputs` order.
 * - `sequence`: `length` steps × `channels` features, step-major, oldest step first; each sample also
 *   has a length 1..`length` and only its first steps are read (ONNX GRU `sequence_lens`; the block is
 *   ONNX's X with layout = 1 for one sample).
 * - `grid`: `channels` × `length` positions, channel-major (ONNX Conv's [C, L] for one sample).
 */
export interface NnInput {
  name: string;
  layout: "sequence" | "grid";
  channels: number;
  length: number;
  /** One name per channel (never an identifier such as an address or port). */
  channelNames: string[];
  norm: NnNormalization;
}

/**
 * A one-layer forward GRU, exactly the ONNX GRU operator with default activations (f = Sigmoid,
 * g = Tanh), direction "forward", initial_h = 0 and linear_before_reset = 1 (PyTorch's convention):
 *   z = σ(x·Wzᵀ + h·Rzᵀ + Wbz + Rbz)
 *   r = σ(x·Wrᵀ + h·Rrᵀ + Wbr + Rbr)
 *   n = tanh(x·Whᵀ + Wbh + r ⊙ (h·Rhᵀ + Rbh))
 *   h' = (1 − z) ⊙ n + z ⊙ h
 * The branch output is Y_h: the hidden state after the sample's last step.
 */
export interface NnGruBranch {
  type: "gru";
  /** Index of a `sequence` input. */
  input: number;
  hiddenSize: number;
  linearBeforeReset: 1;
  /** [3·hidden, channels], gate blocks z, r, h (ONNX W without its direction axis). */
  W: Float32Array;
  /** [3·hidden, hidden], gate blocks z, r, h (ONNX R). */
  R: Float32Array;
  /** [6·hidden]: Wb z, r, h then Rb z, r, h (ONNX B). */
  B: Float32Array;
}

/** ONNX Conv over one axis (group 1, dilation 1, no padding), followed by Relu. */
export interface NnConvLayer {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** [outChannels, inChannels, kernel] (ONNX Conv W). */
  W: Float32Array;
  /** [outChannels]. */
  B: Float32Array;
}

/** Conv + Relu layers over a `grid` input, then GlobalMaxPool: outputs the last layer's outChannels. */
export interface NnConvBranch {
  type: "conv";
  input: number;
  layers: NnConvLayer[];
}

export type NnBranch = NnGruBranch | NnConvBranch;

/** ONNX Gemm with transB = 1 (y = x·Wᵀ + B), then Relu or nothing. */
export interface NnDenseLayer {
  inSize: number;
  outSize: number;
  /** [outSize, inSize]. */
  W: Float32Array;
  /** [outSize]. */
  B: Float32Array;
  activation: "relu" | "none";
}

/** What a model was trained on and how; for the record and for `vigil eval`. */
export interface NnModelMeta {
  /** `hashFeatureSchema` over every input's name, layout, length and channel names (see `nnSchemaHash`). */
  featureSchemaHash: string;
  trainedOn: {
    /** Data source in words (file, dataset). */
    source: string;
    /** Training samples (after the validation share was held out). */
    samples: number;
    /** Time of the first and last training item, µs since the epoch (0 when unknown). */
    firstUs: number;
    lastUs: number;
  };
  /** Settings of the run (epochs, learning rate, seed, …), names ≤ 256 characters. */
  training: Record<string, number | string | boolean>;
  /** Epochs run and the epoch whose weights were kept (early stopping), 1-based. */
  epochs: number;
  bestEpoch: number;
}

/**
 * A trained classifier: inputs → normalisation → branches (outputs concatenated in order) → dense head →
 * Softmax over `classes`. The last head layer has one output per class and no activation.
 */
export interface NnModel {
  kind: NnKind;
  classes: string[];
  /** Index of the benign class in `classes`. */
  benign: number;
  inputs: NnInput[];
  branches: NnBranch[];
  head: NnDenseLayer[];
  meta: NnModelMeta;
}

/** Floats of one sample's raw vector for each input, and their sum. */
export function nnSampleLayout(inputs: readonly Pick<NnInput, "channels" | "length">[]): {
  offsets: number[];
  size: number;
} {
  const offsets: number[] = [];
  let size = 0;
  for (const inp of inputs) {
    offsets.push(size);
    size += inp.channels * inp.length;
  }
  return { offsets, size };
}

/** Output width of a branch (what it adds to the head's input). */
export function nnBranchWidth(b: NnBranch): number {
  return b.type === "gru" ? b.hiddenSize : b.layers[b.layers.length - 1]!.outChannels;
}

/** Positions after a conv layer over `len` positions (ONNX Conv without padding). */
export function convOutLength(len: number, kernel: number, stride: number): number {
  return len < kernel ? 0 : Math.floor((len - kernel) / stride) + 1;
}

/** Schema identity of a model's inputs: a model only scores vectors laid out exactly like its own. */
export function nnSchemaHash(inputs: readonly Omit<NnInput, "norm">[]): string {
  const names: string[] = [];
  for (const inp of inputs) {
    names.push(`${inp.name}|${inp.layout}|${inp.length}`);
    for (const c of inp.channelNames) names.push(c);
  }
  return hashFeatureSchema(names);
}

/** Trainable parameters of a model. */
export function nnParamCount(m: Pick<NnModel, "branches" | "head">): number {
  let n = 0;
  for (const b of m.branches) {
    if (b.type === "gru") n += b.W.length + b.R.length + b.B.length;
    else for (const l of b.layers) n += l.W.length + l.B.length;
  }
  for (const d of m.head) n += d.W.length + d.B.length;
  return n;
}

/** A short model identity for detections and reports, e.g. `gru-sequence-1/gru64/relu32/5cls/fnv1a64:…`. */
export function nnModelVersion(m: NnModel): string {
  const parts = m.branches.map((b) =>
    b.type === "gru"
      ? `gru${b.hiddenSize}`
      : `conv${b.layers.map((l) => `${l.outChannels}k${l.kernel}`).join("-")}`,
  );
  for (const d of m.head.slice(0, -1)) parts.push(`${d.activation}${d.outSize}`);
  return `${m.kind}-${NN_FORMAT_VERSION}/${parts.join("+")}/${m.classes.length}cls/${m.meta.featureSchemaHash}`;
}

// ---- checks shared by save and load

const isInt = (v: unknown, min: number, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const isName = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_NAME;

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function checkTensor(t: unknown, len: number, what: string): string | undefined {
  if (!(t instanceof Float32Array)) return `${what} must be a Float32Array`;
  if (t.length !== len) return `${what} has ${t.length} values, expected ${len}`;
  if (!allFinite(t)) return `${what} holds a value that is not finite`;
  return undefined;
}

/** Checks a model's structure and values; returns what is wrong or undefined. */
export function checkNnModel(m: NnModel): string | undefined {
  if (m.kind !== "gru-sequence" && m.kind !== "payload-cnn")
    return `kind must be "gru-sequence" or "payload-cnn"`;
  if (!Array.isArray(m.classes) || m.classes.length < 2 || m.classes.length > MAX_CLASSES)
    return `classes must hold 2..${MAX_CLASSES} names`;
  if (!m.classes.every(isName) || new Set(m.classes).size !== m.classes.length)
    return `class names must be distinct, non-empty and at most ${MAX_NAME} characters`;
  if (!isInt(m.benign, 0, m.classes.length - 1)) return "benign must index a class";
  if (!Array.isArray(m.inputs) || m.inputs.length < 1 || m.inputs.length > MAX_INPUTS)
    return `inputs must hold 1..${MAX_INPUTS} entries`;
  let sequences = 0;
  for (const [i, inp] of m.inputs.entries()) {
    const w = `inputs[${i}]`;
    if (!isName(inp.name)) return `${w}.name must be a non-empty string of at most ${MAX_NAME} characters`;
    if (inp.layout !== "sequence" && inp.layout !== "grid") return `${w}.layout must be "sequence" or "grid"`;
    if (inp.layout === "sequence") sequences++;
    if (!isInt(inp.channels, 1, MAX_CHANNELS)) return `${w}.channels must be 1..${MAX_CHANNELS}`;
    if (!isInt(inp.length, 1, MAX_LENGTH)) return `${w}.length must be 1..${MAX_LENGTH}`;
    if (
      !Array.isArray(inp.channelNames) ||
      inp.channelNames.length !== inp.channels ||
      !inp.channelNames.every(isName)
    )
      return `${w}.channelNames must be ${inp.channels} non-empty names`;
    const n = inp.norm;
    if (!isObj(n)) return `${w}.norm is missing`;
    if (!(n.log1p instanceof Uint8Array) || n.log1p.length !== inp.channels || !n.log1p.every((v) => v <= 1))
      return `${w}.norm.log1p must be ${inp.channels} flags 0/1`;
    const e =
      checkTensor(n.mean, inp.channels, `${w}.norm.mean`) ??
      checkTensor(n.invStd, inp.channels, `${w}.norm.invStd`);
    if (e !== undefined) return e;
    if (!(Number.isFinite(n.clip) && n.clip > 0)) return `${w}.norm.clip must be a finite number > 0`;
  }
  if (new Set(m.inputs.map((x) => x.name)).size !== m.inputs.length) return "input names must be distinct";
  if (sequences > 1) return "at most one input may be a sequence (samples carry one length)";
  if (!Array.isArray(m.branches) || m.branches.length < 1 || m.branches.length > MAX_BRANCHES)
    return `branches must hold 1..${MAX_BRANCHES} entries`;
  let width = 0;
  let params = 0;
  for (const [i, b] of m.branches.entries()) {
    const w = `branches[${i}]`;
    if (!isInt(b.input, 0, m.inputs.length - 1)) return `${w}.input must index an input`;
    const inp = m.inputs[b.input]!;
    if (b.type === "gru") {
      if (inp.layout !== "sequence") return `${w} is a GRU over a grid input; it needs a sequence`;
      if (!isInt(b.hiddenSize, 1, MAX_WIDTH)) return `${w}.hiddenSize must be 1..${MAX_WIDTH}`;
      if (b.linearBeforeReset !== 1) return `${w}.linearBeforeReset must be 1`;
      const h = b.hiddenSize;
      if (3 * h * Math.max(inp.channels, h) > MAX_TENSOR) return `${w} is larger than ${MAX_TENSOR} weights`;
      const e =
        checkTensor(b.W, 3 * h * inp.channels, `${w}.W`) ??
        checkTensor(b.R, 3 * h * h, `${w}.R`) ??
        checkTensor(b.B, 6 * h, `${w}.B`);
      if (e !== undefined) return e;
      params += b.W.length + b.R.length + b.B.length;
    } else if (b.type === "conv") {
      if (inp.layout !== "grid") return `${w} is a conv over a sequence input; it needs a grid`;
      if (!Array.isArray(b.layers) || b.layers.length < 1 || b.layers.length > MAX_LAYERS)
        return `${w}.layers must hold 1..${MAX_LAYERS} layers`;
      let ch = inp.channels;
      let len = inp.length;
      for (const [j, l] of b.layers.entries()) {
        const lw = `${w}.layers[${j}]`;
        if (l.inChannels !== ch) return `${lw}.inChannels is ${l.inChannels}, the layer below gives ${ch}`;
        if (!isInt(l.outChannels, 1, MAX_WIDTH)) return `${lw}.outChannels must be 1..${MAX_WIDTH}`;
        if (!isInt(l.kernel, 1, MAX_KERNEL)) return `${lw}.kernel must be 1..${MAX_KERNEL}`;
        if (!isInt(l.stride, 1, MAX_KERNEL)) return `${lw}.stride must be 1..${MAX_KERNEL}`;
        len = convOutLength(len, l.kernel, l.stride);
        if (len < 1) return `${lw}: kernel ${l.kernel} is longer than the ${ch}-channel input it slides over`;
        if (l.outChannels * ch * l.kernel > MAX_TENSOR) return `${lw} is larger than ${MAX_TENSOR} weights`;
        const e =
          checkTensor(l.W, l.outChannels * ch * l.kernel, `${lw}.W`) ??
          checkTensor(l.B, l.outChannels, `${lw}.B`);
        if (e !== undefined) return e;
        params += l.W.length + l.B.length;
        ch = l.outChannels;
      }
    } else return `${w}.type must be "gru" or "conv"`;
    width += nnBranchWidth(b);
  }
  if (!Array.isArray(m.head) || m.head.length < 1 || m.head.length > MAX_LAYERS)
    return `head must hold 1..${MAX_LAYERS} dense layers`;
  for (const [j, d] of m.head.entries()) {
    const w = `head[${j}]`;
    if (d.inSize !== width) return `${w}.inSize is ${d.inSize}, the layer below gives ${width}`;
    if (!isInt(d.outSize, 1, MAX_WIDTH)) return `${w}.outSize must be 1..${MAX_WIDTH}`;
    if (d.activation !== "relu" && d.activation !== "none") return `${w}.activation must be "relu" or "none"`;
    if (d.inSize * d.outSize > MAX_TENSOR) return `${w} is larger than ${MAX_TENSOR} weights`;
    const e = checkTensor(d.W, d.outSize * d.inSize, `${w}.W`) ?? checkTensor(d.B, d.outSize, `${w}.B`);
    if (e !== undefined) return e;
    params += d.W.length + d.B.length;
    width = d.outSize;
  }
  const last = m.head[m.head.length - 1]!;
  if (last.outSize !== m.classes.length || last.activation !== "none")
    return `the last head layer must have ${m.classes.length} outputs (one per class) and activation "none"`;
  if (params > MAX_PARAMS) return `the model has more than ${MAX_PARAMS} weights`;
  const metaErr = checkMeta(m.meta);
  if (metaErr !== undefined) return metaErr;
  const hash = nnSchemaHash(m.inputs);
  if (m.meta.featureSchemaHash !== hash)
    return `meta.featureSchemaHash ${m.meta.featureSchemaHash} does not match the inputs (${hash})`;
  return undefined;
}

function checkMeta(meta: unknown): string | undefined {
  if (!isObj(meta)) return "meta must be an object";
  if (!isName(meta.featureSchemaHash)) return "meta.featureSchemaHash must be a non-empty string";
  const t = meta.trainedOn;
  if (
    !isObj(t) ||
    typeof t.source !== "string" ||
    t.source.length > 4 * MAX_NAME ||
    !isInt(t.samples, 0, Number.MAX_SAFE_INTEGER) ||
    !Number.isFinite(t.firstUs) ||
    !Number.isFinite(t.lastUs)
  )
    return "meta.trainedOn must be { source: string, samples: integer ≥ 0, firstUs: number, lastUs: number }";
  const s = meta.training;
  if (!isObj(s) || Object.keys(s).length > MAX_SETTINGS)
    return `meta.training must be an object of ≤ ${MAX_SETTINGS} settings`;
  for (const [k, v] of Object.entries(s)) {
    if (k.length > MAX_NAME) return "a meta.training name is too long";
    const okValue =
      (typeof v === "number" && Number.isFinite(v)) ||
      typeof v === "boolean" ||
      (typeof v === "string" && v.length <= 4 * MAX_NAME);
    if (!okValue) return `meta.training.${k} must be a finite number, a boolean or a short string`;
  }
  if (!isInt(meta.epochs, 0, 1_000_000) || !isInt(meta.bestEpoch, 0, meta.epochs as number))
    return "meta.epochs must be an integer ≥ 0 and meta.bestEpoch in 0..epochs";
  return undefined;
}

// ---- JSON encoding

/** A float32 tensor in the file: its ONNX shape and its values as base64 little-endian float32. */
interface TensorJson {
  shape: number[];
  f32: string;
}

function encodeF32(a: Float32Array, shape: number[]): TensorJson {
  const bytes = new Uint8Array(a.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i], true);
  return { shape, f32: Buffer.from(bytes.buffer).toString("base64") };
}

// Decodes exactly `count` float32 values; undefined when the text is not that (shape is checked by the caller).
function decodeF32(t: unknown, count: number): Float32Array | undefined {
  if (!isObj(t) || typeof t.f32 !== "string" || !Array.isArray(t.shape)) return undefined;
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_TENSOR) return undefined;
  const b64 = t.f32;
  if (b64.length !== 4 * Math.ceil((count * 4) / 3) || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length !== count * 4) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

const shapeIs = (t: unknown, shape: number[]): boolean =>
  isObj(t) &&
  Array.isArray(t.shape) &&
  t.shape.length === shape.length &&
  t.shape.every((d, i) => d === shape[i]);

/**
 * Serialises a model. The text is deterministic (the same model always gives the same bytes) and the
 * weights round-trip bit for bit. Throws a RangeError when the model itself is inconsistent (a bug).
 *
 * File layout (one top-level field per line): format, version, kind, classes, benign, inputs (with norm:
 * log1p flags as 0/1 numbers, mean and invStd tensors), branches (GRU: W [1, 3H, C], R [1, 3H, H],
 * B [1, 6H] with ONNX's direction axis; conv layers: W [M, C, k], B [M]), head (W [out, in], B [out]),
 * meta. A tensor is `{ "shape": [...], "f32": base64 of little-endian float32 }`.
 */
export function saveNnModel(m: NnModel): string {
  const problem = checkNnModel(m);
  if (problem !== undefined) throw new RangeError(`saveNnModel: ${problem}`);
  const doc = {
    format: NN_FORMAT,
    version: NN_FORMAT_VERSION,
    kind: m.kind,
    classes: m.classes,
    benign: m.benign,
    inputs: m.inputs.map((inp) => ({
      name: inp.name,
      layout: inp.layout,
      channels: inp.channels,
      length: inp.length,
      channelNames: inp.channelNames,
      norm: {
        log1p: Array.from(inp.norm.log1p),
        mean: encodeF32(inp.norm.mean, [inp.channels]),
        invStd: encodeF32(inp.norm.invStd, [inp.channels]),
        clip: inp.norm.clip,
      },
    })),
    branches: m.branches.map((b) => {
      if (b.type === "gru") {
        const h = b.hiddenSize;
        const c = m.inputs[b.input]!.channels;
        return {
          type: "gru",
          input: b.input,
          hiddenSize: h,
          linearBeforeReset: 1,
          W: encodeF32(b.W, [1, 3 * h, c]),
          R: encodeF32(b.R, [1, 3 * h, h]),
          B: encodeF32(b.B, [1, 6 * h]),
        };
      }
      return {
        type: "conv",
        input: b.input,
        layers: b.layers.map((l) => ({
          inChannels: l.inChannels,
          outChannels: l.outChannels,
          kernel: l.kernel,
          stride: l.stride,
          W: encodeF32(l.W, [l.outChannels, l.inChannels, l.kernel]),
          B: encodeF32(l.B, [l.outChannels]),
        })),
      };
    }),
    head: m.head.map((d) => ({
      inSize: d.inSize,
      outSize: d.outSize,
      activation: d.activation,
      W: encodeF32(d.W, [d.outSize, d.inSize]),
      B: encodeF32(d.B, [d.outSize]),
    })),
    meta: {
      featureSchemaHash: m.meta.featureSchemaHash,
      trainedOn: {
        source: m.meta.trainedOn.source,
        samples: m.meta.trainedOn.samples,
        firstUs: m.meta.trainedOn.firstUs,
        lastUs: m.meta.trainedOn.lastUs,
      },
      training: Object.fromEntries(
        Object.keys(m.meta.training)
          .sort()
          .map((k) => [k, m.meta.training[k]]),
      ),
      epochs: m.meta.epochs,
      bestEpoch: m.meta.bestEpoch,
    },
  };
  const lines = Object.entries(doc).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

/** Options of `loadNnModel`. */
export interface LoadNnOptions {
  /** Reject a model of another kind. */
  kind?: NnKind;
  /** Reject a model whose inputs are laid out differently (see `nnSchemaHash`). */
  expectedSchemaHash?: string;
}

function bad(message: string): Result<never, VigilError> {
  return badModelFile(FILE_KIND, message);
}

const FILE_KIND: ModelDocKind = {
  format: NN_FORMAT,
  version: NN_FORMAT_VERSION,
  what: "neural model file",
  maxChars: MAX_FILE_CHARS,
  hint: "retrain the model (vigil train --model gru|cnn) or restore the file; model files are written by Vigil only",
};

// Reads one tensor field of `o` with the expected ONNX shape; a message when it is wrong.
function tensor(
  o: Record<string, unknown>,
  key: string,
  shape: number[],
  where: string,
): Float32Array | string {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_TENSOR) return `${where}.${key} would hold more than ${MAX_TENSOR} values`;
  if (!shapeIs(o[key], shape)) return `${where}.${key} must have shape [${shape.join(", ")}]`;
  const t = decodeF32(o[key], count);
  return t ?? `${where}.${key} must be base64 of exactly ${count} little-endian float32 values`;
}

/** Parses and validates a model file (every size, shape and value), returning the model or a VigilError. */
export function loadNnModel(text: string, opts: LoadNnOptions = {}): Result<NnModel, VigilError> {
  const doc = readModelDoc(text, FILE_KIND);
  if (!doc.ok) return doc;
  const d = doc.value;
  if (d.kind !== "gru-sequence" && d.kind !== "payload-cnn")
    return bad(`kind must be "gru-sequence" or "payload-cnn"`);
  if (opts.kind !== undefined && d.kind !== opts.kind)
    return err(
      new VigilError(
        "usage",
        `the model file holds a ${d.kind} model, not a ${opts.kind} model`,
        "give the model file trained for this input",
      ),
    );
  if (!Array.isArray(d.classes) || d.classes.length > MAX_CLASSES || !d.classes.every(isName))
    return bad(`classes must be at most ${MAX_CLASSES} names`);
  if (!Array.isArray(d.inputs) || d.inputs.length < 1 || d.inputs.length > MAX_INPUTS)
    return bad(`inputs must hold 1..${MAX_INPUTS} entries`);
  const inputs: NnInput[] = [];
  for (const [i, x] of d.inputs.entries()) {
    const w = `inputs[${i}]`;
    if (!isObj(x) || !isObj(x.norm)) return bad(`${w} must be an object with a norm`);
    if (!isInt(x.channels, 1, MAX_CHANNELS) || !isInt(x.length, 1, MAX_LENGTH))
      return bad(`${w} must have channels 1..${MAX_CHANNELS} and length 1..${MAX_LENGTH}`);
    const c = x.channels;
    const l1 = x.norm.log1p;
    if (!Array.isArray(l1) || l1.length !== c || !l1.every((v) => v === 0 || v === 1))
      return bad(`${w}.norm.log1p must be ${c} flags 0/1`);
    const mean = tensor(x.norm, "mean", [c], `${w}.norm`);
    if (typeof mean === "string") return bad(mean);
    const invStd = tensor(x.norm, "invStd", [c], `${w}.norm`);
    if (typeof invStd === "string") return bad(invStd);
    if (!Array.isArray(x.channelNames) || x.channelNames.length !== c)
      return bad(`${w}.channelNames must be ${c} names`);
    inputs.push({
      name: x.name as string,
      layout: x.layout as NnInput["layout"],
      channels: c,
      length: x.length,
      channelNames: [...(x.channelNames as string[])],
      norm: { log1p: Uint8Array.from(l1 as number[]), mean, invStd, clip: x.norm.clip as number },
    });
  }
  if (!Array.isArray(d.branches) || d.branches.length < 1 || d.branches.length > MAX_BRANCHES)
    return bad(`branches must hold 1..${MAX_BRANCHES} entries`);
  const branches: NnBranch[] = [];
  for (const [i, b] of d.branches.entries()) {
    const w = `branches[${i}]`;
    if (!isObj(b) || !isInt(b.input, 0, inputs.length - 1)) return bad(`${w}.input must index an input`);
    const inp = inputs[b.input]!;
    if (b.type === "gru") {
      if (!isInt(b.hiddenSize, 1, MAX_WIDTH)) return bad(`${w}.hiddenSize must be 1..${MAX_WIDTH}`);
      if (b.linearBeforeReset !== 1) return bad(`${w}.linearBeforeReset must be 1`);
      const h = b.hiddenSize;
      const W = tensor(b, "W", [1, 3 * h, inp.channels], w);
      if (typeof W === "string") return bad(W);
      const R = tensor(b, "R", [1, 3 * h, h], w);
      if (typeof R === "string") return bad(R);
      const B = tensor(b, "B", [1, 6 * h], w);
      if (typeof B === "string") return bad(B);
      branches.push({ type: "gru", input: b.input, hiddenSize: h, linearBeforeReset: 1, W, R, B });
    } else if (b.type === "conv") {
      if (!Array.isArray(b.layers) || b.layers.length < 1 || b.layers.length > MAX_LAYERS)
        return bad(`${w}.layers must hold 1..${MAX_LAYERS} layers`);
      const layers: NnConvLayer[] = [];
      for (const [j, l] of b.layers.entries()) {
        const lw = `${w}.layers[${j}]`;
        if (
          !isObj(l) ||
          !isInt(l.inChannels, 1, MAX_CHANNELS) ||
          !isInt(l.outChannels, 1, MAX_WIDTH) ||
          !isInt(l.kernel, 1, MAX_KERNEL) ||
          !isInt(l.stride, 1, MAX_KERNEL)
        )
          return bad(`${lw} must have inChannels, outChannels, kernel and stride in range`);
        const W = tensor(l, "W", [l.outChannels, l.inChannels, l.kernel], lw);
        if (typeof W === "string") return bad(W);
        const B = tensor(l, "B", [l.outChannels], lw);
        if (typeof B === "string") return bad(B);
        layers.push({
          inChannels: l.inChannels,
          outChannels: l.outChannels,
          kernel: l.kernel,
          stride: l.stride,
          W,
          B,
        });
      }
      branches.push({ type: "conv", input: b.input, layers });
    } else return bad(`${w}.type must be "gru" or "conv"`);
  }
  if (!Array.isArray(d.head) || d.head.length < 1 || d.head.length > MAX_LAYERS)
    return bad(`head must hold 1..${MAX_LAYERS} dense layers`);
  const head: NnDenseLayer[] = [];
  for (const [j, l] of d.head.entries()) {
    const w = `head[${j}]`;
    if (!isObj(l) || !isInt(l.inSize, 1, MAX_WIDTH * MAX_BRANCHES) || !isInt(l.outSize, 1, MAX_WIDTH))
      return bad(`${w} must have inSize and outSize in range`);
    const W = tensor(l, "W", [l.outSize, l.inSize], w);
    if (typeof W === "string") return bad(W);
    const B = tensor(l, "B", [l.outSize], w);
    if (typeof B === "string") return bad(B);
    head.push({
      inSize: l.inSize,
      outSize: l.outSize,
      W,
      B,
      activation: l.activation as NnDenseLayer["activation"],
    });
  }
  const meta = d.meta;
  const metaErr = checkMeta(meta);
  if (metaErr !== undefined) return bad(metaErr);
  const mt = meta as Record<string, unknown> & { trainedOn: NnModelMeta["trainedOn"] };
  const model: NnModel = {
    kind: d.kind,
    classes: [...(d.classes as string[])],
    benign: d.benign as number,
    inputs,
    branches,
    head,
    meta: {
      featureSchemaHash: mt.featureSchemaHash as string,
      trainedOn: {
        source: mt.trainedOn.source,
        samples: mt.trainedOn.samples,
        firstUs: mt.trainedOn.firstUs,
        lastUs: mt.trainedOn.lastUs,
      },
      // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
      training: Object.fromEntries(Object.entries(mt.training as Record<string, number | string | boolean>)),
      epochs: mt.epochs as number,
      bestEpoch: mt.bestEpoch as number,
    },
  };
  const problem = checkNnModel(model);
  if (problem !== undefined) return bad(problem);
  const hash = model.meta.featureSchemaHash;
  if (opts.expectedSchemaHash !== undefined && opts.expectedSchemaHash !== hash)
    return err(
      new VigilError(
        "input.corrupt",
        `the model was trained on input schema ${hash}, but the features now have schema ${opts.expectedSchemaHash}`,
        "retrain the model on the current feature set",
      ),
    );
  return ok(model);
}
