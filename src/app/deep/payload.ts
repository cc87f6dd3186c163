// 1-D CNN over each flow's packet window (`vigil train --model cnn`): labelled captures in, time split, train, score.

import { basename } from "node:path";
import { openCapture, type PacketBatch } from "../../capture/index.ts";
import { err, ok, type Result, seededRng, VigilError } from "../../core/index.ts";
import { DecodedPacket, formatAddress } from "../../decode/index.ts";
import {
  BYTE_CHANNELS,
  DEFAULT_PACKET_WINDOW_CONFIG,
  PACKET_CHANNELS,
  type PacketWindowConfig,
  type PacketWindowLayout,
  PacketWindows,
  type PacketWindowView,
  packetWindowLayout,
} from "../../features/index.ts";
import type { SplitFractions } from "../../learn/index.ts";
import {
  classWeightsFromCounts,
  fitNetwork,
  initNnModel,
  Network,
  type NnData,
  type NnEpochProgress,
  type NnFitOptions,
  type NnInput,
  type NnModel,
  NormFitter,
  nnModelVersion,
  nnPredictProba,
} from "../../ml/index.ts";
import { BENIGN, readAttackWindows, WindowLabeler } from "../labels.ts";
import { decodeFromBatch } from "../packet-path.ts";
import {
  checkDeepSettings,
  type DeepEvalReport,
  type DeepTrainResult,
  matchClasses,
  metricsFromProbs,
} from "./report.ts";

/** A capture and how its flows are labelled. */
export interface LabelledCapture {
  path: string;
  /**
   * Attack windows in the lab format (../shared/data/pcaps/lab/labels.csv: a flow takes the type of the
   * window whose attacker/victim pair matches and whose time holds its first packet, else "benign"), or
   * one class for every flow of the capture (an attack-only capture).
   */
  labels: { windows: string } | { every: string };
}

/** Settings of the payload model and its training run. */
export interface PayloadModelOptions {
  /** Packet window extraction (packets K, payload bytes N, flow table cap, idle timeout). */
  window: Partial<PacketWindowConfig>;
  /** Conv layers over the packet grid (LUCID: 64 kernels spanning 3 packets). */
  packetConv: { outChannels: number; kernel: number; stride?: number }[];
  /** Conv layers over the payload byte grid. */
  byteConv: { outChannels: number; kernel: number; stride?: number }[];
  /** ReLU layer widths between the pooled features and the output layer. */
  headHidden: number[];
  /** Which grids the model looks at (one alone measures what the other adds). */
  branches: "both" | "packets" | "bytes";
  /** Share of each (capture, class) group's flows, by first-packet time, to train, validate and test. */
  split: SplitFractions;
  /** Flows kept per (capture, class) group, evenly spaced in time (keeps one flood from drowning the rest). */
  maxPerGroup: number;
  classWeights: "balanced" | "sqrt" | "none";
  fit: Partial<NnFitOptions>;
  seed: number;
  /** Progress of reading the captures (bytes of the current capture). */
  onRead?: (p: { capture: string; bytesRead: number; totalBytes: number | null }) => void;
}

export const DEFAULT_PAYLOAD_OPTIONS: PayloadModelOptions = {
  window: {},
  packetConv: [{ outChannels: 32, kernel: 3 }],
  byteConv: [{ outChannels: 32, kernel: 8 }], // 8 bytes: "GET /api", a DNS label run, an SSH banner prefix
  headHidden: [32],
  branches: "both",
  split: { train: 0.7, valid: 0.1, test: 0.2 },
  maxPerGroup: 2_500,
  classWeights: "sqrt",
  fit: { maxEpochs: 30, batchSize: 64, learningRate: 2e-3, patience: 4 },
  seed: 1,
};

/** Packet-window vectors of labelled flows, in capture order then first-packet time. */
export interface PayloadSamples {
  layout: PacketWindowLayout;
  count: number;
  /** [count, layout.size] row-major. */
  x: Float32Array;
  /** Class index per flow into `classes` ("benign" first). */
  y: Int32Array;
  classes: string[];
  /** First packet of each flow (µs) and the capture it came from (index into `captures`). */
  firstUs: Float64Array;
  capture: Int32Array;
  captures: string[];
  /** Windows seen per capture and class before thinning to maxPerGroup. */
  seen: Record<string, Record<string, number>>;
}

/** One pass over a capture, handing every packet window to `onWindow`. */
async function scanCapture(
  path: string,
  window: PacketWindowConfig,
  onWindow: (w: PacketWindowView) => void,
  onRead?: PayloadModelOptions["onRead"],
): Promise<Result<void, VigilError>> {
  const opened = await openCapture(path);
  if (!opened.ok) return err(opened.error);
  const reader = opened.value;
  const pw = new PacketWindows(window, onWindow);
  const p = new DecodedPacket();
  try {
    for (;;) {
      const b: PacketBatch | null = await reader.next();
      if (b === null) break;
      for (let i = 0; i < b.count; i++) {
        decodeFromBatch(p, b, i);
        pw.add(p);
      }
      if (onRead) {
        const pr = reader.progress();
        onRead({ capture: path, bytesRead: pr.bytesRead, totalBytes: pr.totalBytes });
      }
    }
    pw.flush();
  } finally {
    await reader.close();
  }
  return ok(undefined);
}

function labelFn(c: LabelledCapture): Result<(w: PacketWindowView) => string, VigilError> {
  if ("every" in c.labels) {
    const t = c.labels.every;
    return ok(() => t);
  }
  const windows = readAttackWindows(c.labels.windows);
  if (!windows.ok) return err(windows.error);
  const labeler = new WindowLabeler(windows.value);
  return ok((w) =>
    labeler.label(
      w.firstUs / 1e6,
      formatAddress(w.origAddr, w.ipVersion),
      formatAddress(w.respAddr, w.ipVersion),
    ),
  );
}

/**
 * Reads the packet windows of labelled captures: a first pass counts each (capture, class) group, a second
 * keeps every k-th window of a group so that at most `maxPerGroup` remain, spread evenly over its time.
 */
export async function readPayloadSamples(
  captures: readonly LabelledCapture[],
  opts: Pick<PayloadModelOptions, "window" | "maxPerGroup" | "onRead">,
): Promise<Result<PayloadSamples, VigilError>> {
  const window: PacketWindowConfig = { ...DEFAULT_PACKET_WINDOW_CONFIG, ...opts.window };
  const layout = packetWindowLayout(window);
  const seen: Record<string, Record<string, number>> = {};
  const labelers: ((w: PacketWindowView) => string)[] = [];
  for (const c of captures) {
    const f = labelFn(c);
    if (!f.ok) return err(f.error);
    labelers.push(f.value);
    const counts: Record<string, number> = {};
    const r = await scanCapture(c.path, window, (w) => {
      const t = f.value(w);
      counts[t] = (counts[t] ?? 0) + 1;
    });
    if (!r.ok) return err(r.error);
    seen[c.path] = counts;
  }
  const classSet = new Set<string>();
  for (const counts of Object.values(seen)) for (const t of Object.keys(counts)) classSet.add(t);
  const classes = [BENIGN, ...[...classSet].filter((t) => t !== BENIGN).sort()];
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  let total = 0;
  for (const counts of Object.values(seen))
    for (const n of Object.values(counts)) total += Math.min(n, opts.maxPerGroup);
  const x = new Float32Array(total * layout.size);
  const y = new Int32Array(total);
  const firstUs = new Float64Array(total);
  const capture = new Int32Array(total);
  let n = 0;
  for (const [ci, c] of captures.entries()) {
    const counts = seen[c.path]!;
    const every = new Map(Object.entries(counts).map(([t, k]) => [t, Math.max(1, k / opts.maxPerGroup)]));
    const at = new Map<string, number>();
    const kept = new Map<string, number>();
    const r = await scanCapture(
      c.path,
      window,
      (w) => {
        const t = labelers[ci]!(w);
        const i = at.get(t) ?? 0;
        at.set(t, i + 1);
        // Keep window i when it is the first at or past the next multiple of the group's step.
        const k = kept.get(t) ?? 0;
        if (i < Math.ceil(k * every.get(t)!) || k >= opts.maxPerGroup || n >= total) return;
        kept.set(t, k + 1);
        w.write(x, n * layout.size);
        y[n] = classIndex.get(t)!;
        firstUs[n] = w.firstUs;
        capture[n] = ci;
        n++;
      },
      opts.onRead,
    );
    if (!r.ok) return err(r.error);
  }
  return ok({
    layout,
    count: n,
    x: n === total ? x : x.slice(0, n * layout.size),
    y: y.slice(0, n),
    classes,
    firstUs: firstUs.slice(0, n),
    capture: capture.slice(0, n),
    captures: captures.map((c) => c.path),
    seen,
  });
}

/** Row indices of each part: each (capture, class) group split by first-packet time. */
export interface PayloadSplit {
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
}

/** Splits every (capture, class) group of `s` by time: earliest flows train, the next validate, the latest test. */
export function payloadSplit(s: PayloadSamples, f: SplitFractions): PayloadSplit {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < s.count; i++) {
    const g = `${s.capture[i]}|${s.y[i]}`;
    const list = groups.get(g) ?? [];
    list.push(i);
    groups.set(g, list);
  }
  const parts: number[][] = [[], [], []];
  for (const list of groups.values()) {
    list.sort((a, b) => s.firstUs[a]! - s.firstUs[b]! || a - b);
    const n = list.length;
    let nTest = Math.round(n * f.test);
    let nValid = Math.round(n * f.valid);
    // A group of at least three flows has one in each part with a positive share.
    if (n >= 3 && f.test > 0 && nTest === 0) nTest = 1;
    if (n >= 3 && f.valid > 0 && nValid === 0) nValid = 1;
    const nTrain = Math.max(0, n - nTest - nValid);
    list.forEach((i, k) => {
      parts[k < nTrain ? 0 : k < nTrain + nValid ? 1 : 2]!.push(i);
    });
  }
  const asc = (a: number[]): Int32Array => Int32Array.from(a).sort();
  return { train: asc(parts[0]!), valid: asc(parts[1]!), test: asc(parts[2]!) };
}

/** The samples `rows` as network data (inputs: packet grid then byte grid, exactly the window vector). */
export function payloadData(s: PayloadSamples, rows: Int32Array, labels?: Int32Array): NnData {
  const size = s.layout.size;
  const x = s.x;
  return {
    count: rows.length,
    labels: labels ?? Int32Array.from(rows, (r) => s.y[r]!),
    gather(i: number, dst: Float64Array, off: number): number {
      const src = rows[i]! * size;
      for (let k = 0; k < size; k++) dst[off + k] = x[src + k]!;
      return 0;
    },
  };
}

// Packet channels scaled by log1p then standardised: sizes, gaps and windows span decades.
const LOG_CHANNELS = new Set(["pkt.ip_len", "pkt.payload_len", "pkt.gap_us", "pkt.tcp_window"]);

/** The model's two inputs with their scaling fitted on the training rows (present packets only). */
function payloadInputs(s: PayloadSamples, train: Int32Array): NnInput[] {
  const K = s.layout.packets;
  const N = s.layout.bytes;
  const P = PACKET_CHANNELS.length;
  const fitter = new NormFitter(Uint8Array.from(PACKET_CHANNELS, (c) => (LOG_CHANNELS.has(c) ? 1 : 0)));
  const size = s.layout.size;
  for (const r of train) {
    const o = r * size;
    for (let k = 0; k < K; k++) {
      if (s.x[o + k] !== 1) break; // pkt.present
      for (let c = 0; c < P; c++)
        if (LOG_CHANNELS.has(PACKET_CHANNELS[c]!)) fitter.add(c, s.x[o + c * K + k]!);
    }
  }
  const identity = { mean: 0, invStd: 1 };
  const packets: NnInput = {
    name: "packets",
    layout: "grid",
    channels: P,
    length: K,
    channelNames: [...PACKET_CHANNELS],
    norm: fitter.finish(undefined, (c) => (LOG_CHANNELS.has(PACKET_CHANNELS[c]!) ? undefined : identity)),
  };
  const bytesNorm = new NormFitter(new Uint8Array(BYTE_CHANNELS.length)).finish(undefined, (c) =>
    BYTE_CHANNELS[c] === "byte.value" ? { mean: 0, invStd: 1 / 255 } : identity,
  );
  const bytes: NnInput = {
    name: "bytes",
    layout: "grid",
    channels: BYTE_CHANNELS.length,
    length: N,
    channelNames: [...BYTE_CHANNELS],
    norm: bytesNorm,
  };
  return [packets, bytes];
}

const SCORE_BATCH = 256;

function resolve(options: Partial<PayloadModelOptions>): PayloadModelOptions {
  return {
    ...DEFAULT_PAYLOAD_OPTIONS,
    ...options,
    window: { ...DEFAULT_PAYLOAD_OPTIONS.window, ...options.window },
    fit: { ...DEFAULT_PAYLOAD_OPTIONS.fit, ...options.fit },
  };
}

/** Settings from flags that the extractor or the network would refuse, as a usage error. */
function checkPayloadSettings(o: PayloadModelOptions): VigilError | null {
  const w: PacketWindowConfig = { ...DEFAULT_PACKET_WINDOW_CONFIG, ...o.window };
  const bad = checkDeepSettings({
    fit: o.fit,
    widths: [
      { name: "window packets", value: w.packets },
      { name: "window bytes", value: w.bytes },
      ...o.headHidden.map((value) => ({ name: "head width", value })),
    ],
    layers: [
      ...o.packetConv.map((l) => ({ name: "packet conv", ...l })),
      ...o.byteConv.map((l) => ({ name: "byte conv", ...l })),
    ],
  });
  if (bad) return bad;
  if (!(Number.isInteger(o.maxPerGroup) && o.maxPerGroup >= 1))
    return new VigilError("usage", `max flows per group must be a positive integer, got ${o.maxPerGroup}`);
  if (!(Number.isInteger(w.capacity) && w.capacity >= 1) || !(w.idleTimeoutS > 0))
    return new VigilError("usage", "window capacity must be a positive integer and idleTimeoutS > 0");
  // Each conv stack must fit its grid (K packets, N bytes).
  for (const [name, layers, len] of [
    ["packet", o.packetConv, w.packets],
    ["byte", o.byteConv, w.bytes],
  ] as const) {
    let l = len;
    for (const c of layers) l = l < c.kernel ? 0 : Math.floor((l - c.kernel) / (c.stride ?? 1)) + 1;
    if (l < 1 || layers.length === 0)
      return new VigilError(
        "usage",
        `the ${name} conv layers do not fit a grid of ${len} positions`,
        "use smaller kernels or a longer window",
      );
  }
  return null;
}

function describeCaptures(captures: readonly string[]): string {
  return captures.map((c) => basename(c)).join(", ");
}

/** Trains the CNN on already read samples and their split; the report is on the test part. */
export function trainPayloadOnSamples(
  s: PayloadSamples,
  split: PayloadSplit,
  options: Partial<PayloadModelOptions> = {},
  onProgress?: (p: NnEpochProgress) => void,
): Result<DeepTrainResult, VigilError> {
  const opts = resolve(options);
  const badSetting = checkPayloadSettings(opts);
  if (badSetting) return err(badSetting);
  if (split.train.length === 0 || split.test.length === 0)
    return err(new VigilError("usage", "too few labelled flows to train and test the payload model"));
  const counts = new Float64Array(s.classes.length);
  for (const r of split.train) counts[s.y[r]!]++;
  if (counts.filter((c) => c > 0).length < 2)
    return err(
      new VigilError(
        "usage",
        "the training flows hold only one class",
        "give captures with benign and attack flows",
      ),
    );
  const model0 = initNnModel(
    {
      kind: "payload-cnn",
      classes: s.classes,
      benign: 0,
      inputs: payloadInputs(s, split.train),
      branches: [
        ...(opts.branches !== "bytes" ? [{ type: "conv" as const, input: 0, layers: opts.packetConv }] : []),
        ...(opts.branches !== "packets" ? [{ type: "conv" as const, input: 1, layers: opts.byteConv }] : []),
      ],
      hidden: opts.headHidden,
    },
    seededRng(opts.seed),
  );
  const batch = opts.fit.batchSize ?? 64;
  const net = new Network(model0, Math.max(batch, SCORE_BATCH));
  const fit = fitNetwork(
    net,
    payloadData(s, split.train),
    split.valid.length > 0 ? payloadData(s, split.valid) : null,
    { ...opts.fit, seed: opts.seed, classWeights: classWeightsFromCounts(counts, opts.classWeights) },
    onProgress,
  );
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = 0;
  for (const r of split.train) {
    firstUs = Math.min(firstUs, s.firstUs[r]!);
    lastUs = Math.max(lastUs, s.firstUs[r]!);
  }
  const model = net.toModel({
    featureSchemaHash: model0.meta.featureSchemaHash,
    trainedOn: {
      source: describeCaptures(s.captures),
      samples: split.train.length,
      firstUs: Number.isFinite(firstUs) ? firstUs : 0,
      lastUs,
    },
    training: {
      packets: s.layout.packets,
      bytes: s.layout.bytes,
      packetConv: opts.packetConv.map((l) => `${l.outChannels}k${l.kernel}s${l.stride ?? 1}`).join(","),
      byteConv: opts.byteConv.map((l) => `${l.outChannels}k${l.kernel}s${l.stride ?? 1}`).join(","),
      headHidden: opts.headHidden.join(","),
      branches: opts.branches,
      split: `time within capture and class ${opts.split.train}/${opts.split.valid}/${opts.split.test}`,
      maxPerGroup: opts.maxPerGroup,
      classWeights: opts.classWeights,
      maxEpochs: opts.fit.maxEpochs ?? 30,
      batchSize: batch,
      learningRate: opts.fit.learningRate ?? 1e-3,
      weightDecay: opts.fit.weightDecay ?? 0,
      patience: opts.fit.patience ?? 4,
      seed: opts.seed,
    },
    epochs: fit.epochs,
    bestEpoch: fit.bestEpoch,
  });
  return ok({
    model,
    report: {
      ...scoreSamples(model, s, split.test),
      split: `time within each capture and class (${opts.split.train}/${opts.split.valid}/${opts.split.test}), at most ${opts.maxPerGroup} flows per group`,
      counts: { train: split.train.length, valid: split.valid.length, test: split.test.length },
      training: {
        epochs: fit.epochs,
        bestEpoch: fit.bestEpoch,
        seconds: fit.seconds,
        history: fit.history,
        diverged: fit.diverged,
      },
    },
  });
}

/**
 * Trains the payload CNN on labelled captures (e.g. the lab capture with its labels.csv and attack-only
 * DDoS captures): packet windows per flow, a time split within each capture and class, a report on the
 * test part. `onProgress` is called after each epoch.
 */
export async function trainPayloadModel(
  captures: readonly LabelledCapture[],
  options: Partial<PayloadModelOptions> = {},
  onProgress?: (p: NnEpochProgress) => void,
): Promise<Result<DeepTrainResult, VigilError>> {
  const opts = resolve(options);
  const badSetting = checkPayloadSettings(opts);
  if (badSetting) return err(badSetting);
  const s = await readPayloadSamples(captures, opts);
  if (!s.ok) return err(s.error);
  return trainPayloadOnSamples(s.value, payloadSplit(s.value, opts.split), opts, onProgress);
}

/** Report fields of scoring `rows` of `s` (classes matched by name; unknown classes counted apart). */
function scoreSamples(
  model: NnModel,
  s: PayloadSamples,
  rows: Int32Array,
): Omit<DeepEvalReport, "split" | "counts" | "training"> {
  const {
    keep,
    y: labels,
    unknownClasses,
  } = matchClasses(rows.length, (i) => s.classes[s.y[rows[i]!]!]!, model.classes);
  const kept = Int32Array.from(keep, (i) => rows[i]!);
  const t0 = performance.now();
  const probs = nnPredictProba(new Network(model, SCORE_BATCH), payloadData(s, kept, labels));
  const seconds = (performance.now() - t0) / 1000;
  const m = metricsFromProbs(probs, labels, model.classes, model.benign);
  return {
    model: "cnn",
    modelVersion: nnModelVersion(model),
    input: describeCaptures(s.captures),
    unit: `flow: its first ${s.layout.packets} packets and ${s.layout.bytes} payload bytes`,
    metrics: m.metrics,
    attack: m.attack,
    unknownClasses,
    scoring: { items: kept.length, seconds, perSecond: seconds > 0 ? kept.length / seconds : 0 },
  };
}

/**
 * Scores every flow of labelled captures (not thinned) with a trained payload model; flows of classes the
 * model does not know are counted in `unknownClasses`.
 */
export async function scorePayloadModel(
  model: NnModel,
  captures: readonly LabelledCapture[],
  options: Pick<Partial<PayloadModelOptions>, "onRead"> = {},
): Promise<Result<DeepEvalReport, VigilError>> {
  if (model.kind !== "payload-cnn")
    return err(new VigilError("usage", `the model is a ${model.kind} model, not a payload CNN`));
  const packets = model.inputs[0]!;
  const bytes = model.inputs[1];
  if (model.inputs.length !== 2 || packets.name !== "packets" || bytes?.name !== "bytes")
    return err(new VigilError("usage", "the model's inputs are not a packet grid and a byte grid"));
  const s = await readPayloadSamples(captures, {
    window: { packets: packets.length, bytes: bytes.length },
    maxPerGroup: Number.MAX_SAFE_INTEGER,
    ...(options.onRead ? { onRead: options.onRead } : {}),
  });
  if (!s.ok) return err(s.error);
  const all = Int32Array.from({ length: s.value.count }, (_, i) => i);
  return ok({
    ...scoreSamples(model, s.value, all),
    split: "every flow of the captures",
    counts: { train: 0, valid: 0, test: s.value.count },
  });
}
