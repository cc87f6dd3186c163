// Versioned KitNET model file (JSON, weights as base64 little-endian doubles): bit-exact save/load.

import { err, ok, type Result, VigilError } from "../core/index.ts";
import { autoencoderStateLength, hiddenSize } from "./autoencoder.ts";
import { checkFeatureMap, KitNet, type KitNetConfig, kitNetWeightLength } from "./kitnet.ts";
import { badModelFile, isObj, type ModelDocKind, readModelDoc } from "./model-doc.ts";
import type { ThresholdFit } from "./threshold.ts";

export const KITNET_FORMAT = "vigil.kitnet";
export const KITNET_FORMAT_VERSION = 1;

// Caps on what a model file may declare, so a damaged file cannot make load() allocate without bound.
const MAX_FILE_CHARS = 256 * 1024 * 1024;
const MAX_FEATURES = 100_000;
const MAX_NAME = 256; // characters of one feature or threshold name

const FILE_KIND: ModelDocKind = {
  format: KITNET_FORMAT,
  version: KITNET_FORMAT_VERSION,
  what: "KitNET model file",
  maxChars: MAX_FILE_CHARS,
  hint: "retrain the model or restore the file from its source; a model file is written by Vigil only",
};

/** A calibrated alert threshold kept with the model. */
export interface ModelThreshold {
  /** Score at or above which a vector is anomalous. */
  value: number;
  /** How it was set: "lognormal", "spot", "manual", … */
  method: string;
  /** Target false-alarm rate it was calibrated for. */
  q?: number;
}

/** What the training run was. Times are µs since the Unix epoch, the unit of Vigil's packet clock. */
export interface TrainedOn {
  firstTs: number;
  lastTs: number;
  packets: number;
}

/** Everything in a model file besides the network itself. */
export interface KitNetModelMeta {
  /** Identity of the feature vector layout (see `hashFeatureSchema`); a model only fits its own schema. */
  featureSchemaHash: string;
  featureNames?: string[];
  trainedOn: TrainedOn;
  thresholds: Record<string, ModelThreshold>;
  /** Feature indices the detector feeds as 0 (ascending), e.g. by its stationarity guard. */
  ignoredFeatures?: number[];
  /** Per-feature running mean and sum of squared deviations over `count` training vectors (explanations). */
  featureStats?: FeatureStats;
}

export interface FeatureStats {
  count: number;
  mean: Float64Array;
  m2: Float64Array;
}

/** The JSON document, field by field, in file order. */
export interface KitNetModelFile extends Omit<KitNetModelMeta, "featureStats"> {
  /** Doubles as base64, like the weights. */
  featureStats?: { count: number; mean: string; m2: string };
  format: typeof KITNET_FORMAT;
  version: number;
  fmGrace: number;
  adGrace: number;
  config: { n: number; maxGroup: number; hiddenRatio: number; learningRate: number; seed: number };
  groups: number[][];
  /** Every autoencoder's state as little-endian Float64 bytes, base64 (ensemble in group order, then output). */
  weights: string;
}

/** A model threshold from a calibration result (keeps only what round-trips through JSON). */
export function thresholdFromFit(fit: ThresholdFit): ModelThreshold {
  return { value: fit.threshold, method: fit.method, q: fit.q };
}

/** FNV-1a 64-bit over the UTF-8 names, each ended by a NUL; "fnv1a64:" + 16 hex digits. */
export function hashFeatureSchema(names: readonly string[]): string {
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  const enc = new TextEncoder();
  for (const name of names) {
    for (const b of enc.encode(name)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & mask;
    h = (h * 0x100000001b3n) & mask; // the NUL terminator: h ^ 0 = h
  }
  return `fnv1a64:${h.toString(16).padStart(16, "0")}`;
}

function encodeDoubles(xs: Float64Array): string {
  const bytes = new Uint8Array(xs.length * 8);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < xs.length; i++) dv.setFloat64(i * 8, xs[i], true);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function decodeDoubles(b64: string, count: number): Float64Array | undefined {
  if (b64.length !== 4 * Math.ceil((count * 8) / 3) || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length !== count * 8) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
  return out;
}

/**
 * Serialises a trained KitNet (phase "execute") with its metadata. The text is deterministic: the same model
 * and metadata always give the same bytes, so a loaded model re-saves to an identical file.
 */
export function saveKitNet(model: KitNet, meta: KitNetModelMeta): string {
  const st = model.exportState();
  const c = st.config;
  const doc: KitNetModelFile = {
    format: KITNET_FORMAT,
    version: KITNET_FORMAT_VERSION,
    featureSchemaHash: meta.featureSchemaHash,
    ...(meta.featureNames ? { featureNames: meta.featureNames } : {}),
    trainedOn: {
      firstTs: meta.trainedOn.firstTs,
      lastTs: meta.trainedOn.lastTs,
      packets: meta.trainedOn.packets,
    },
    fmGrace: c.fmGrace,
    adGrace: c.adGrace,
    ...(meta.ignoredFeatures ? { ignoredFeatures: [...meta.ignoredFeatures] } : {}),
    ...(meta.featureStats
      ? {
          featureStats: {
            count: meta.featureStats.count,
            mean: encodeDoubles(meta.featureStats.mean),
            m2: encodeDoubles(meta.featureStats.m2),
          },
        }
      : {}),
    thresholds: Object.fromEntries(
      Object.keys(meta.thresholds)
        .sort()
        .map((k) => {
          const t = meta.thresholds[k];
          return [
            k,
            t.q === undefined
              ? { value: t.value, method: t.method }
              : { value: t.value, method: t.method, q: t.q },
          ];
        }),
    ),
    config: {
      n: c.n,
      maxGroup: c.maxGroup,
      hiddenRatio: c.hiddenRatio,
      learningRate: c.learningRate,
      seed: c.seed,
    },
    groups: st.groups,
    weights: encodeDoubles(st.weights),
  };
  const problem =
    meta.featureNames && meta.featureNames.length !== c.n
      ? `featureNames has ${meta.featureNames.length} names for ${c.n} features`
      : meta.featureStats && (meta.featureStats.mean.length !== c.n || meta.featureStats.m2.length !== c.n)
        ? `featureStats must have ${c.n} values per statistic`
        : (checkMeta(doc as unknown as Record<string, unknown>) ?? checkIgnored(doc.ignoredFeatures, c.n));
  if (problem !== undefined) throw new RangeError(`saveKitNet: ${problem}`);
  // One line per top-level field: readable, diffable, deterministic.
  const lines = Object.entries(doc).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

/** Options of `readKitNetFile`/`loadKitNet`. */
export interface LoadKitNetOptions {
  /** Reject a model trained on another feature layout. */
  expectedSchemaHash?: string;
  /** Continued training in the execute phase (not stored in the file). */
  trainOnBenign?: KitNetConfig["trainOnBenign"];
}

function bad(message: string): Result<never, VigilError> {
  return badModelFile(FILE_KIND, message);
}

const isFiniteNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isCount = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;

// Checks the metadata fields; returns a message or undefined.
function checkMeta(d: Record<string, unknown>): string | undefined {
  if (
    typeof d.featureSchemaHash !== "string" ||
    d.featureSchemaHash.length === 0 ||
    d.featureSchemaHash.length > MAX_NAME
  )
    return "featureSchemaHash must be a non-empty string";
  const t = d.trainedOn;
  if (!isObj(t) || !isFiniteNum(t.firstTs) || !isFiniteNum(t.lastTs) || !isCount(t.packets, 0))
    return "trainedOn must be { firstTs: number, lastTs: number, packets: integer ≥ 0 }";
  if (!isObj(d.thresholds)) return "thresholds must be an object";
  for (const [k, v] of Object.entries(d.thresholds)) {
    if (k.length > MAX_NAME) return "a threshold name is too long";
    if (!isObj(v) || !isFiniteNum(v.value) || typeof v.method !== "string" || v.method.length > MAX_NAME)
      return `threshold "${k}" must be { value: finite number, method: string, q?: number }`;
    if (v.q !== undefined && !(isFiniteNum(v.q) && v.q > 0 && v.q < 1))
      return `threshold "${k}" has q outside (0, 1)`;
  }
  return undefined;
}

function checkIgnored(v: unknown, n: number): string | undefined {
  if (v === undefined) return undefined;
  if (
    !Array.isArray(v) ||
    v.length > n ||
    !v.every((f, i) => Number.isInteger(f) && f >= 0 && f < n && (i === 0 || f > v[i - 1]))
  )
    return `ignoredFeatures must be ascending feature indices below ${n}`;
  return undefined;
}

/** Parses and validates a model file; returns the ready-to-score model and its metadata. */
export function readKitNetFile(
  text: string,
  opts: LoadKitNetOptions = {},
): Result<{ model: KitNet; meta: KitNetModelMeta }, VigilError> {
  const doc = readModelDoc(text, FILE_KIND);
  if (!doc.ok) return doc;
  const d = doc.value;
  const metaErr = checkMeta(d);
  if (metaErr !== undefined) return bad(metaErr);
  const c = d.config;
  if (
    !isObj(c) ||
    !isCount(c.n, 1) ||
    c.n > MAX_FEATURES ||
    !isCount(c.maxGroup, 1) ||
    !isFiniteNum(c.hiddenRatio) ||
    !(c.hiddenRatio > 0 && c.hiddenRatio <= 4) ||
    !isFiniteNum(c.learningRate) ||
    !(c.learningRate > 0) ||
    !isFiniteNum(c.seed)
  )
    return bad(
      `config must be { n: 1..${MAX_FEATURES}, maxGroup ≥ 1, hiddenRatio in (0, 4], learningRate > 0, seed }`,
    );
  const n = c.n;
  if (!isCount(d.fmGrace, 0) || !isCount(d.adGrace, 1))
    return bad("fmGrace must be an integer ≥ 0 and adGrace ≥ 1");
  if (d.featureNames !== undefined) {
    const names = d.featureNames;
    if (
      !Array.isArray(names) ||
      names.length !== n ||
      !names.every((s) => typeof s === "string" && s.length <= MAX_NAME)
    )
      return bad(`featureNames must be ${n} strings`);
  }
  const ignErr = checkIgnored(d.ignoredFeatures, n);
  if (ignErr !== undefined) return bad(ignErr);
  let featureStats: FeatureStats | undefined;
  if (d.featureStats !== undefined) {
    const fs = d.featureStats;
    const mean = isObj(fs) && typeof fs.mean === "string" ? decodeDoubles(fs.mean, n) : undefined;
    const m2 = isObj(fs) && typeof fs.m2 === "string" ? decodeDoubles(fs.m2, n) : undefined;
    if (!isObj(fs) || !isCount(fs.count, 0) || mean === undefined || m2 === undefined)
      return bad(`featureStats must be { count, mean, m2 } with ${n} base64 doubles each`);
    featureStats = { count: fs.count, mean, m2 };
  }
  const g = d.groups;
  if (
    !Array.isArray(g) ||
    g.length > n ||
    !g.every((x) => Array.isArray(x) && x.every((f) => Number.isInteger(f)))
  )
    return bad("groups must be an array of arrays of feature indices");
  const groups = g as number[][];
  const mapErr = checkFeatureMap(groups, n);
  if (mapErr !== undefined) return bad(mapErr);
  if (typeof d.weights !== "string") return bad("weights must be a base64 string");
  const count = kitNetWeightLength(groups, c.hiddenRatio);
  const weights = decodeDoubles(d.weights, count);
  if (weights === undefined) return bad(`weights must be base64 of exactly ${count} little-endian doubles`);
  // Weights and biases must be finite; the scaling range may be ±Infinity (a feature never seen finite).
  let off = 0;
  for (const nv of [...groups.map((x) => x.length), groups.length]) {
    const nh = hiddenSize(nv, c.hiddenRatio);
    const params = nv * nh + nh + nv;
    for (let i = off; i < off + params; i++)
      if (!Number.isFinite(weights[i])) return bad("a weight is not finite");
    for (let i = off + params; i < off + autoencoderStateLength(nv, nh); i++)
      if (Number.isNaN(weights[i])) return bad("a scaling bound is NaN");
    off += autoencoderStateLength(nv, nh);
  }
  const hash = d.featureSchemaHash as string;
  if (opts.expectedSchemaHash !== undefined && opts.expectedSchemaHash !== hash)
    return err(
      new VigilError(
        "input.corrupt",
        `KitNET model was trained on feature schema ${hash}, but the features now have schema ${opts.expectedSchemaHash}`,
        "retrain the model on the current feature set",
      ),
    );
  const config = {
    n,
    maxGroup: c.maxGroup as number,
    fmGrace: d.fmGrace,
    adGrace: d.adGrace,
    hiddenRatio: c.hiddenRatio,
    learningRate: c.learningRate,
    seed: c.seed,
  };
  const model = KitNet.fromState({ config, groups, weights }, { trainOnBenign: opts.trainOnBenign });
  const t = d.trainedOn as TrainedOn;
  // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  const thresholds: Record<string, ModelThreshold> = Object.fromEntries(
    Object.entries(d.thresholds as Record<string, ModelThreshold>).map(([k, v]) => [
      k,
      v.q === undefined ? { value: v.value, method: v.method } : { value: v.value, method: v.method, q: v.q },
    ]),
  );
  const meta: KitNetModelMeta = {
    featureSchemaHash: hash,
    ...(d.featureNames !== undefined ? { featureNames: [...(d.featureNames as string[])] } : {}),
    trainedOn: { firstTs: t.firstTs, lastTs: t.lastTs, packets: t.packets },
    thresholds,
    ...(d.ignoredFeatures !== undefined ? { ignoredFeatures: [...(d.ignoredFeatures as number[])] } : {}),
    ...(featureStats ? { featureStats } : {}),
  };
  return ok({ model, meta });
}

/** Loads a model file into a KitNet ready to score (phase "execute"). */
export function loadKitNet(text: string, opts: LoadKitNetOptions = {}): Result<KitNet, VigilError> {
  const r = readKitNetFile(text, opts);
  return r.ok ? ok(r.value.model) : r;
}
