// Versioned GBDT model file (JSON, node arrays as base64 little-endian): bit-exact save/load, checked on load.

import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { badModelFile, isObj, type ModelDocKind, readModelDoc } from "../model-doc.ts";
import { hashFeatureSchema } from "../model-file.ts";
import type { GbdtModel, GbdtTree } from "./model.ts";
import { MAX_LEAVES, MAX_TREE_DEPTH } from "./train.ts";

/** `format` field of a GBDT model file. */
export const GBDT_FORMAT = "vigil.gbdt";
/** `version` field; bump on any layout change. */
export const GBDT_FORMAT_VERSION = 1;

// Caps on what a model file may declare, so a damaged file cannot make the loader allocate without bound.
const MAX_FILE_CHARS = 256 * 1024 * 1024;
const MAX_FEATURES = 100_000;
const MAX_CLASSES = 10_000;
const MAX_TREES = 1_000_000;
const MAX_NODES = 20_000_000; // 20 M nodes ≈ 640 MB of typed arrays: far above any model Vigil trains
const MAX_NODES_PER_TREE = 2 * MAX_LEAVES - 1;
const MAX_NAME = 256; // characters of a feature, class or parameter name
const MAX_TEXT = 4096; // characters of a free-text field (data source, split description)
const MAX_PARAMS = 64;

const FILE_KIND: ModelDocKind = {
  format: GBDT_FORMAT,
  version: GBDT_FORMAT_VERSION,
  what: "GBDT model file",
  maxChars: MAX_FILE_CHARS,
  hint: "retrain the model or restore the file from its source; a model file is written by Vigil only",
};

/** Where the training rows came from. */
export interface GbdtTrainedOn {
  /** Dataset name or file, e.g. "cicids2017-improved-dev.csv.gz". */
  source: string;
  /** Training rows used. */
  rows: number;
  /** How train/validation/test were split, e.g. "stratified 70/10/20, seed 1". */
  split: string;
}

/** A training parameter as a file stores it. */
export type GbdtParamValue = string | number | boolean | null | number[];

/** Everything in a model file besides the model itself. */
export interface GbdtModelMeta {
  /** Identity of the feature layout; defaults to `hashFeatureSchema(model.featureNames)` when saving. */
  featureSchemaHash?: string;
  /** Training settings (e.g. a `GbdtParams`). */
  params: Readonly<Record<string, GbdtParamValue>>;
  trainedOn: GbdtTrainedOn;
  /** Boosting rounds kept in the model. */
  bestIteration: number;
  /** Validation loss of the kept model; null when trained without a validation set. */
  validLoss: number | null;
}

/** Options of {@link readGbdtFile}. */
export interface LoadGbdtOptions {
  /** Reject a model trained on another feature layout. */
  expectedSchemaHash?: string;
}

/**
 * Serialises a model with its metadata. Deterministic: the same model and metadata give the same bytes, so a
 * loaded model re-saves to an identical file. Throws RangeError on a model or metadata the loader would reject.
 */
export function saveGbdt(model: GbdtModel, meta: GbdtModelMeta): string {
  const trees = model.trees;
  let nodes = 0;
  for (const t of trees) nodes += t.feature.length;
  const counts = new Int32Array(trees.length);
  const feature = new Int32Array(nodes);
  const threshold = new Float32Array(nodes);
  const left = new Int32Array(nodes);
  const right = new Int32Array(nodes);
  const defaultLeft = new Uint8Array(nodes);
  const value = new Float64Array(nodes);
  const cover = new Float64Array(nodes);
  let o = 0;
  for (let t = 0; t < trees.length; t++) {
    const tr = trees[t];
    counts[t] = tr.feature.length;
    feature.set(tr.feature, o);
    threshold.set(tr.threshold, o);
    left.set(tr.left, o);
    right.set(tr.right, o);
    defaultLeft.set(tr.defaultLeft, o);
    value.set(tr.value, o);
    cover.set(tr.cover, o);
    o += tr.feature.length;
  }
  const doc = {
    format: GBDT_FORMAT,
    version: GBDT_FORMAT_VERSION,
    objective: model.objective,
    classes: model.classes,
    featureNames: model.featureNames,
    featureSchemaHash: meta.featureSchemaHash ?? hashFeatureSchema(model.featureNames),
    trainedOn: { source: meta.trainedOn.source, rows: meta.trainedOn.rows, split: meta.trainedOn.split },
    params: Object.fromEntries(
      Object.keys(meta.params)
        .sort()
        .map((k) => [k, meta.params[k]]),
    ),
    bestIteration: meta.bestIteration,
    validLoss: meta.validLoss,
    outputs: model.outputs,
    baseScore: b64(model.baseScore),
    trees: trees.length,
    nodes,
    treeNodes: b64(counts),
    feature: b64(feature),
    threshold: b64(threshold),
    left: b64(left),
    right: b64(right),
    defaultLeft: b64(defaultLeft),
    value: b64(value),
    cover: b64(cover),
  };
  // One line per top-level field: readable, diffable, deterministic.
  const text = `{\n${Object.entries(doc)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(",\n")}\n}\n`;
  const check = readGbdtFile(text);
  if (!check.ok) throw new RangeError(`saveGbdt: ${check.error.message}`);
  return text;
}

/** Parses and checks a model file; returns the model, ready to score and explain, and its metadata. */
export function readGbdtFile(
  text: string,
  opts: LoadGbdtOptions = {},
): Result<{ model: GbdtModel; meta: Required<GbdtModelMeta> }, VigilError> {
  const doc = readModelDoc(text, FILE_KIND);
  if (!doc.ok) return doc;
  const d = doc.value;
  const r = parse(d);
  if (typeof r === "string") return bad(r);
  if (opts.expectedSchemaHash !== undefined && opts.expectedSchemaHash !== r.meta.featureSchemaHash)
    return err(
      new VigilError(
        "input.corrupt",
        `GBDT model was trained on feature schema ${r.meta.featureSchemaHash}, but the features now have schema ${opts.expectedSchemaHash}`,
        "retrain the model on the current feature set",
      ),
    );
  return ok(r);
}

/** Loads a model file into a model ready to score; see {@link readGbdtFile}. */
export function loadGbdt(text: string, opts: LoadGbdtOptions = {}): Result<GbdtModel, VigilError> {
  const r = readGbdtFile(text, opts);
  return r.ok ? ok(r.value.model) : r;
}

function bad(message: string): Result<never, VigilError> {
  return badModelFile(FILE_KIND, message);
}

const isCount = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;
const isName = (v: unknown, max = MAX_NAME): v is string => typeof v === "string" && v.length <= max;

function isNames(v: unknown, min: number, max: number): v is string[] {
  return Array.isArray(v) && v.length >= min && v.length <= max && v.every((s) => isName(s));
}

function isParamValue(v: unknown): boolean {
  if (v === null || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v === "string") return v.length <= MAX_NAME;
  return (
    Array.isArray(v) && v.length <= MAX_CLASSES && v.every((n) => typeof n === "number" && Number.isFinite(n))
  );
}

/** Checks every field; returns the model and metadata or what is wrong. */
function parse(d: Record<string, unknown>): { model: GbdtModel; meta: Required<GbdtModelMeta> } | string {
  if (d.objective !== "binary" && d.objective !== "multiclass")
    return `objective must be "binary" or "multiclass"`;
  if (!isNames(d.classes, 2, MAX_CLASSES)) return `classes must be 2..${MAX_CLASSES} names`;
  if (!isNames(d.featureNames, 1, MAX_FEATURES)) return `featureNames must be 1..${MAX_FEATURES} names`;
  if (!isName(d.featureSchemaHash) || d.featureSchemaHash.length === 0)
    return "featureSchemaHash must be a non-empty string";
  const t = d.trainedOn;
  if (!isObj(t) || !isName(t.source, MAX_TEXT) || !isCount(t.rows, 0) || !isName(t.split, MAX_TEXT))
    return "trainedOn must be { source: string, rows: integer ≥ 0, split: string }";
  if (!isObj(d.params)) return "params must be an object";
  const params = Object.entries(d.params);
  if (params.length > MAX_PARAMS || !params.every(([k, v]) => k.length <= MAX_NAME && isParamValue(v)))
    return `params must hold at most ${MAX_PARAMS} numbers, strings, booleans or number arrays`;
  if (!isCount(d.bestIteration, 0)) return "bestIteration must be an integer ≥ 0";
  if (d.validLoss !== null && !(typeof d.validLoss === "number" && Number.isFinite(d.validLoss)))
    return "validLoss must be a finite number or null";
  const classes = d.classes as string[];
  const cols = (d.featureNames as string[]).length;
  const outputs = d.outputs;
  const expected = d.objective === "binary" ? 1 : classes.length;
  if (d.objective === "binary" && classes.length !== 2) return "a binary model has exactly 2 classes";
  if (outputs !== expected)
    return `outputs must be ${expected} for a ${d.objective} model with ${classes.length} classes`;
  const baseScore = decodeF64(d.baseScore, expected);
  if (!baseScore?.every(Number.isFinite)) return `baseScore must be ${expected} finite doubles`;
  const trees = d.trees;
  if (!isCount(trees, 1) || trees > MAX_TREES || trees % expected !== 0)
    return `trees must be a multiple of ${expected} in [1, ${MAX_TREES}]`;
  const nodes = d.nodes;
  if (!isCount(nodes, trees) || nodes > MAX_NODES) return `nodes must be an integer in [trees, ${MAX_NODES}]`;
  const counts = decodeI32(d.treeNodes, trees);
  if (!counts) return `treeNodes must be ${trees} int32 values`;
  let sum = 0;
  for (let i = 0; i < trees; i++) {
    if (counts[i] < 1 || counts[i] > MAX_NODES_PER_TREE || counts[i] % 2 === 0)
      return `tree ${i} has ${counts[i]} nodes (a binary tree has an odd count up to ${MAX_NODES_PER_TREE})`;
    sum += counts[i];
  }
  if (sum !== nodes) return `treeNodes add up to ${sum}, not nodes = ${nodes}`;
  const feature = decodeI32(d.feature, nodes);
  const threshold = decodeF32(d.threshold, nodes);
  const left = decodeI32(d.left, nodes);
  const right = decodeI32(d.right, nodes);
  const defaultLeft = decodeU8(d.defaultLeft, nodes);
  const value = decodeF64(d.value, nodes);
  const cover = decodeF64(d.cover, nodes);
  if (!feature || !threshold || !left || !right || !defaultLeft || !value || !cover)
    return `feature, threshold, left, right, defaultLeft, value and cover must each hold ${nodes} values in base64`;
  const out: GbdtTree[] = [];
  let o = 0;
  for (let i = 0; i < trees; i++) {
    const c = counts[i];
    const tree: GbdtTree = {
      feature: feature.slice(o, o + c),
      threshold: threshold.slice(o, o + c),
      left: left.slice(o, o + c),
      right: right.slice(o, o + c),
      defaultLeft: defaultLeft.slice(o, o + c),
      value: value.slice(o, o + c),
      cover: cover.slice(o, o + c),
    };
    const e = checkTree(tree, cols);
    if (e !== undefined) return `tree ${i}: ${e}`;
    out.push(tree);
    o += c;
  }
  return {
    model: {
      objective: d.objective,
      classes: [...classes],
      featureNames: [...(d.featureNames as string[])],
      outputs: expected,
      baseScore,
      trees: out,
    },
    meta: {
      featureSchemaHash: d.featureSchemaHash,
      // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
      params: Object.fromEntries(params.map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as Record<
        string,
        GbdtParamValue
      >,
      trainedOn: { source: t.source, rows: t.rows, split: t.split },
      bestIteration: d.bestIteration,
      validLoss: d.validLoss as number | null,
    },
  };
}

/**
 * A proper binary tree rooted at node 0: children after their parent, every node but the root with exactly
 * one parent (so every walk ends and every node is reachable), depth within MAX_TREE_DEPTH, features in range,
 * finite leaf values and positive finite covers (TreeSHAP divides by them).
 */
function checkTree(t: GbdtTree, cols: number): string | undefined {
  const n = t.feature.length;
  const depth = new Int32Array(n);
  const parents = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (i > 0 && parents[i] !== 1) return `node ${i} has ${parents[i]} parents`;
    if (!(Number.isFinite(t.cover[i]) && t.cover[i] > 0)) return `node ${i} has cover ${t.cover[i]}`;
    if (!Number.isFinite(t.value[i])) return `node ${i} has value ${t.value[i]}`;
    if (t.defaultLeft[i] > 1) return `node ${i} has defaultLeft ${t.defaultLeft[i]}`;
    const f = t.feature[i];
    if (f === -1) {
      if (t.left[i] !== -1 || t.right[i] !== -1) return `leaf ${i} has children`;
      continue;
    }
    if (f < 0 || f >= cols) return `node ${i} splits on feature ${f} of ${cols}`;
    if (Number.isNaN(t.threshold[i])) return `node ${i} has a NaN threshold`;
    if (depth[i] >= MAX_TREE_DEPTH) return `deeper than ${MAX_TREE_DEPTH}`;
    const l = t.left[i];
    const r = t.right[i];
    if (!(l > i && l < n && r > i && r < n && l !== r)) return `node ${i} has children ${l} and ${r}`;
    if (parents[l] > 0 || parents[r] > 0) return `a child of node ${i} has 2 parents`;
    parents[l] = parents[r] = 1;
    depth[l] = depth[r] = depth[i] + 1;
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes of a base64 string that must decode to exactly `bytes` bytes; checked before decoding. */
function decodeBytes(s: unknown, bytes: number): DataView | undefined {
  if (typeof s !== "string" || s.length !== 4 * Math.ceil(bytes / 3) || !BASE64.test(s)) return undefined;
  const b = Buffer.from(s, "base64");
  if (b.length !== bytes) return undefined;
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function decodeI32(s: unknown, count: number): Int32Array | undefined {
  const dv = decodeBytes(s, count * 4);
  if (!dv) return undefined;
  const a = new Int32Array(count);
  for (let i = 0; i < count; i++) a[i] = dv.getInt32(i * 4, true);
  return a;
}

function decodeF32(s: unknown, count: number): Float32Array | undefined {
  const dv = decodeBytes(s, count * 4);
  if (!dv) return undefined;
  const a = new Float32Array(count);
  for (let i = 0; i < count; i++) a[i] = dv.getFloat32(i * 4, true);
  return a;
}

function decodeF64(s: unknown, count: number): Float64Array | undefined {
  const dv = decodeBytes(s, count * 8);
  if (!dv) return undefined;
  const a = new Float64Array(count);
  for (let i = 0; i < count; i++) a[i] = dv.getFloat64(i * 8, true);
  return a;
}

function decodeU8(s: unknown, count: number): Uint8Array | undefined {
  const dv = decodeBytes(s, count);
  if (!dv) return undefined;
  return new Uint8Array(dv.buffer.slice(dv.byteOffset, dv.byteOffset + count));
}

function b64(a: Int32Array | Float32Array | Float64Array | Uint8Array): string {
  const dv = new DataView(new ArrayBuffer(a.length * a.BYTES_PER_ELEMENT));
  if (a instanceof Int32Array) for (let i = 0; i < a.length; i++) dv.setInt32(i * 4, a[i], true);
  else if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i], true);
  else if (a instanceof Float64Array) for (let i = 0; i < a.length; i++) dv.setFloat64(i * 8, a[i], true);
  else for (let i = 0; i < a.length; i++) dv.setUint8(i, a[i]);
  return Buffer.from(dv.buffer).toString("base64");
}
