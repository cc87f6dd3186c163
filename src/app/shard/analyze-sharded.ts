// `vigil analyze --workers N`: the main thread reads and decodes the capture, keeps the packet-level counters,
// and hands each packet to the worker of its address pair (pairHash); N workers run flows, AfterImage, KitNET
// and the flow detectors on their shards; the main thread merges their summaries. See ADR 0004 for what the
// shards approximate.
import { Worker } from "node:worker_threads";
import type { CaptureReader } from "../../capture/index.ts";
import { VigilError } from "../../core/index.ts";
import { DecodedPacket } from "../../decode/index.ts";
import { KitNetDetector, type KitNetDetectorConfig } from "../../detect/index.ts";
import type { FlowRecord } from "../../flows/index.ts";
import type { SourceProgress } from "../../pipeline/index.ts";
import type { DetectionEvent, VigilConfig } from "../../schema/index.ts";
import type { DetectionSummary } from "../detections.ts";
import type { FlowDetectorOptions } from "../flow-detections.ts";
import { decodeFromBatch } from "../packet-path.ts";
import {
  type AnalysisSummary,
  type AnomalyCount,
  captureFields,
  type PortCount,
  type ProtocolCounts,
  type Talker,
} from "../summary.ts";
import { quickShard, shardOf } from "./hash.ts";
import {
  type FromWorker,
  ShardMeta,
  type ShardPart,
  type ShardWorkerData,
  type ToWorker,
} from "./protocol.ts";

/** The analyze options a sharded run takes (a subset of AnalyzeOptions, which it accepts as is). */
export interface ShardedOptions {
  config: VigilConfig;
  workers?: number;
  noFlows?: boolean;
  kitnet?: Partial<KitNetDetectorConfig> | KitNetDetector;
  kitnetOrigin?: "loaded" | "baseline";
  flowDetectors?: FlowDetectorOptions;
  onDetection?: (ev: DetectionEvent) => void;
  onFlow?: (rec: FlowRecord) => void;
  onAnomaly?: (p: DecodedPacket, frame: number) => void;
  onProgress?: (p: SourceProgress) => void;
  afterBatch?: () => Promise<void> | void;
  signal?: AbortSignal;
  /** Not available with workers (per-packet vectors and per-shard models stay in the workers). */
  onFeatures?: unknown;
  onKitNetModel?: unknown;
}

/** The run's summary: an AnalysisSummary merged over the shards, with per-shard figures. */
export type ShardedSummary = AnalysisSummary & {
  /** Per-shard figures (packets, busy time, AfterImage streams), for benchmarks. */
  shards: { packets: number; busyS: number; afterImage: ShardPart["afterImage"] }[];
};

// Packets reach the workers in shared chunks of bytes (several capture batches each) and per-worker lists of
// up to META_CAPACITY packets: one message per few thousand packets, because a message costs a worker
// tens to hundreds of µs once its heap is large (measured: 0.35 ms per message with 1 024-packet batches).
const CHUNK_BYTES = 4 << 20;
const META_CAPACITY = 8192;
// Chunks in flight (sent, not yet processed by every worker that has packets in them).
const MAX_IN_FLIGHT = 6;
// Each worker reports this many more top ports than the summary shows, so that the merge is exact for any
// port that is in the top list of the whole capture (a port's flows are split across shards).
const PORTS_KEPT = 4096;

/** Where the worker module is: the TypeScript source through a tsx bootstrap, or a bundle's sibling file. */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("./worker-boot.mjs", here) : new URL("./shard-worker.mjs", here);
}

const isPlain = (o: object): boolean => Object.getPrototypeOf(o) === Object.prototype;

function usage(message: string, hint: string): VigilError {
  return new VigilError("usage", message, hint);
}

/** Runs an open capture through `opts.workers` shard workers and merges their summaries. */
export async function analyzeSharded(
  reader: CaptureReader,
  input: string,
  opts: ShardedOptions,
): Promise<ShardedSummary> {
  const n = opts.workers ?? 2;
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw usage(`--workers must be an integer from 1 to 64, got ${n}`, "use about one worker per core");
  if (opts.onFeatures)
    throw usage("per-packet feature vectors are not available with --workers", "run with --workers 1");
  if (opts.onKitNetModel)
    throw usage(
      "--save-model needs --workers 1: with workers every shard trains its own KitNET model",
      "drop --workers, or --save-model",
    );
  const fdo = opts.flowDetectors;
  if ((fdo?.iforest && !isPlain(fdo.iforest)) || (fdo?.clusters && !isPlain(fdo.clusters)))
    throw usage(
      "trained flow detectors (--baseline) cannot be handed to workers yet",
      "run with --workers 1",
    );
  const cfg = opts.config;
  const capacity = META_CAPACITY;
  let kitnet: ShardWorkerData["kitnet"] = null;
  if (opts.kitnet instanceof KitNetDetector) {
    // A loaded (or baseline-trained) model: every worker scores with the same model and threshold.
    const saved = opts.kitnet.saveModel();
    if (!saved.ok) throw saved.error;
    kitnet = { settings: {}, model: saved.value, origin: opts.kitnetOrigin ?? "loaded" };
  } else if (opts.kitnet) kitnet = { settings: opts.kitnet };

  const pool = new ShardPool(n, capacity, {
    vigilShard: true,
    shard: 0,
    shards: n,
    config: cfg,
    noFlows: opts.noFlows === true,
    kitnet,
    flowDetectors: opts.flowDetectors ?? null,
    wantDetections: opts.onDetection !== undefined,
    wantFlows: opts.onFlow !== undefined,
    portsKept: Math.max(PORTS_KEPT, cfg.summary.topN),
  });
  pool.onDetection = opts.onDetection;
  pool.onFlow = opts.onFlow;

  // The main thread keeps only what needs the capture order; the workers count protocols, anomalies, hosts.
  const c: MainCounters = {
    packets: 0,
    bytes: 0,
    capturedBytes: 0,
    firstUs: Number.POSITIVE_INFINITY,
    lastUs: Number.NEGATIVE_INFINITY,
    outOfOrder: 0,
  };
  // Decoding here is only needed to hand anomalous packets to onAnomaly, and for the rare frames that
  // quickShard leaves to decodePacket.
  const onAnomaly = opts.onAnomaly;
  const p = new DecodedPacket();
  const counts = new Int32Array(n);
  const metas: (ShardMeta | null)[] = new Array(n).fill(null);
  let frame = 0;
  let aborted = false;
  let last = 0;
  const t0 = performance.now();
  let chunk: DataSlot | null = null;
  let used = 0;
  // Sends worker w its pending packets (all in the current chunk).
  const flush = (w: number): void => {
    pool.send(chunk!, w, metas[w]!, counts[w]);
    metas[w] = null;
    counts[w] = 0;
  };
  const flushAll = (): void => {
    for (let w = 0; w < n; w++) if (counts[w] > 0) flush(w);
  };
  try {
    await pool.ready();
    for (;;) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      const b = await reader.next();
      if (b === null) break;
      if (b.count === 0) continue;
      // The batch's bytes are copied once into the current shared chunk, which every worker reads.
      let lo = Number.POSITIVE_INFINITY;
      let hi = 0;
      for (let i = 0; i < b.count; i++) {
        const o = b.offset[i];
        if (o < lo) lo = o;
        if (o + b.capLen[i] > hi) hi = o + b.capLen[i];
      }
      if (chunk === null || used + (hi - lo) > chunk.data.byteLength) {
        if (chunk !== null) {
          flushAll();
          pool.release(chunk);
        }
        chunk = await pool.takeData(Math.max(CHUNK_BYTES, hi - lo));
        used = 0;
      }
      new Uint8Array(chunk.data, used, hi - lo).set(b.data.subarray(lo, hi));
      const shift = lo - used;
      used += hi - lo;
      for (let i = 0; i < b.count; i++) {
        frame++;
        const tsUs = b.tsSec[i] * 1e6 + Math.floor(b.tsNsec[i] / 1000);
        c.packets++;
        c.bytes += b.wireLen[i];
        c.capturedBytes += b.capLen[i];
        if (tsUs < c.lastUs) c.outOfOrder++;
        if (tsUs < c.firstUs) c.firstUs = tsUs;
        if (tsUs > c.lastUs) c.lastUs = tsUs;
        let w = onAnomaly === undefined ? quickShard(b, i, n) : -1;
        if (w < 0) {
          decodeFromBatch(p, b, i);
          if (p.anomalyCount > 0 && onAnomaly) onAnomaly(p, frame);
          w = shardOf(p, n);
        }
        let m = metas[w];
        if (m === null) {
          m = await pool.takeMeta(w);
          metas[w] = m;
        }
        m.put(counts[w]++, b, i, shift, frame);
        if (counts[w] === capacity) flush(w);
      }
      if (opts.afterBatch) await opts.afterBatch();
      if (opts.onProgress) {
        const now = Date.now();
        if (now - last >= 100) {
          last = now;
          opts.onProgress(reader.progress());
        }
      }
    }
    if (chunk !== null) {
      flushAll();
      pool.release(chunk);
    }
    if (opts.onProgress) opts.onProgress(reader.progress());
    const parts = await pool.finish();
    const elapsedS = (performance.now() - t0) / 1000;
    return merge(reader, input, cfg, c, parts, elapsedS, aborted, opts.noFlows === true);
  } finally {
    await pool.close();
    await reader.close();
  }
}

interface MainCounters {
  packets: number;
  bytes: number;
  capturedBytes: number;
  firstUs: number;
  lastUs: number;
  outOfOrder: number;
}

interface DataSlot {
  id: number;
  data: SharedArrayBuffer;
  /** Messages that reference it and are not processed yet; +1 while the main thread still fills it. */
  refs: number;
}

/** The workers, the shared byte buffers in flight and each worker's free meta buffers. */
class ShardPool {
  onDetection: ((ev: DetectionEvent) => void) | undefined;
  onFlow: ((rec: FlowRecord) => void) | undefined;
  private readonly workers: Worker[] = [];
  private readonly freeData: SharedArrayBuffer[] = [];
  private readonly inFlight = new Map<number, DataSlot>();
  private readonly freeMeta: ArrayBuffer[][];
  private readonly metaOut: Int32Array;
  private readonly parts: (ShardPart | undefined)[];
  private nextId = 1;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private readonly online: Promise<void>[] = [];

  constructor(
    n: number,
    private readonly capacity: number,
    data: ShardWorkerData,
  ) {
    this.freeMeta = Array.from({ length: n }, () => []);
    this.metaOut = new Int32Array(n);
    this.parts = Array.from({ length: n }, () => undefined);
    const url = workerUrl();
    for (let w = 0; w < n; w++) {
      const worker = new Worker(url, { workerData: { ...data, shard: w } });
      worker.on("message", (m: FromWorker) => this.onMessage(w, m));
      worker.on("error", (e) => this.fail(e));
      worker.on("exit", (code) => {
        if (this.parts[w] === undefined && code !== 0)
          this.fail(new Error(`shard worker ${w} exited with code ${code}`));
      });
      this.online.push(new Promise((resolve) => worker.once("online", () => resolve())));
      this.workers.push(worker);
    }
  }

  async ready(): Promise<void> {
    await Promise.all(this.online);
    this.check();
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    this.wake();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private onMessage(w: number, m: FromWorker): void {
    if (m.type === "error") {
      const e = new Error(`shard worker ${w}: ${m.message}`);
      if (m.stack) e.stack = m.stack;
      this.fail(e);
      return;
    }
    if (m.type === "done") {
      this.parts[w] = m.part;
      this.wake();
      return;
    }
    if (this.onDetection) for (const ev of m.detections) this.onDetection(ev);
    if (this.onFlow) for (const rec of m.flows) this.onFlow(rec);
    if (m.id < 0) return;
    this.metaOut[w]--;
    if (m.meta.byteLength > 0) this.freeMeta[w].push(m.meta);
    const slot = this.inFlight.get(m.id);
    if (slot) this.unref(slot);
    this.wake();
  }

  /** A shared chunk of at least `bytes`, waiting while MAX_IN_FLIGHT are out. */
  async takeData(bytes: number): Promise<DataSlot> {
    for (;;) {
      this.check();
      if (this.inFlight.size < MAX_IN_FLIGHT) break;
      await this.wait();
    }
    let i = this.freeData.findIndex((d) => d.byteLength >= bytes);
    let data: SharedArrayBuffer;
    if (i >= 0) data = this.freeData.splice(i, 1)[0]!;
    else {
      // Drop a smaller free chunk, so that memory stays bounded by MAX_IN_FLIGHT + 1 chunks.
      i = this.freeData.findIndex((d) => d.byteLength < bytes);
      if (i >= 0) this.freeData.splice(i, 1);
      data = new SharedArrayBuffer(bytes);
    }
    const slot = { id: this.nextId++, data, refs: 1 };
    this.inFlight.set(slot.id, slot);
    return slot;
  }

  /** The main thread is done filling `slot`; it is free once every worker has processed its packets. */
  release(slot: DataSlot): void {
    this.unref(slot);
  }

  private unref(slot: DataSlot): void {
    if (--slot.refs === 0) {
      this.inFlight.delete(slot.id);
      this.freeData.push(slot.data);
    }
  }

  /** A free packet list for worker w (a worker has at most MAX_IN_FLIGHT lists queued). */
  async takeMeta(w: number): Promise<ShardMeta> {
    for (;;) {
      this.check();
      const free = this.freeMeta[w].pop();
      if (free) return new ShardMeta(free, this.capacity);
      if (this.metaOut[w] < MAX_IN_FLIGHT) break;
      await this.wait();
    }
    return new ShardMeta(new ArrayBuffer(ShardMeta.bytesFor(this.capacity)), this.capacity);
  }

  /** Sends worker w `count` packets whose bytes are in `slot`. */
  send(slot: DataSlot, w: number, m: ShardMeta, count: number): void {
    slot.refs++;
    this.metaOut[w]++;
    const msg: ToWorker = {
      type: "batch",
      id: slot.id,
      data: slot.data,
      meta: m.buffer,
      count,
      capacity: this.capacity,
    };
    this.workers[w].postMessage(msg, [m.buffer]);
  }

  /** Ends every worker's input and waits for their parts. */
  async finish(): Promise<ShardPart[]> {
    for (const w of this.workers) w.postMessage({ type: "end" } satisfies ToWorker);
    for (;;) {
      this.check();
      if (this.parts.every((p) => p !== undefined)) return this.parts as ShardPart[];
      await this.wait();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function protocols(parts: ShardPart[]): ProtocolCounts {
  const sum = { ...parts[0]!.protocols };
  for (const part of parts.slice(1)) {
    for (const k of Object.keys(sum) as (keyof ProtocolCounts)[]) sum[k] += part.protocols[k];
  }
  return sum;
}

function addInto(to: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) to[k] = (to[k] ?? 0) + v;
}

/** Responder ports over all shards: flows summed per port; the service of the shard with most flows. */
function mergePorts(parts: ShardPart[], topN: number): PortCount[] {
  const byKey = new Map<string, PortCount & { best: number }>();
  for (const part of parts) {
    for (const pc of part.topPorts) {
      const key = `${pc.proto}/${pc.port}`;
      const e = byKey.get(key);
      if (!e) byKey.set(key, { ...pc, best: pc.flows });
      else {
        e.flows += pc.flows;
        if (pc.flows > e.best) {
          e.best = pc.flows;
          e.service = pc.service;
        }
      }
    }
  }
  const order = (pc: PortCount): number => (pc.proto === "udp" ? 65536 : 0) + pc.port;
  return [...byKey.values()]
    .sort((a, b) => b.flows - a.flows || order(a) - order(b))
    .slice(0, topN)
    .map(({ best: _b, ...pc }) => pc);
}

/**
 * One summary per detector over the shards. Each shard trained and calibrated its own model: counts add up,
 * the threshold shown is the highest shard threshold, and the top detections are the strongest relative
 * to their own shard's threshold (each event carries its shard's threshold and model version).
 */
export function mergeDetections(perShard: DetectionSummary[][], keep = 20): DetectionSummary[] {
  const ids: string[] = [];
  const byId = new Map<string, DetectionSummary[]>();
  for (const list of perShard) {
    for (const d of list) {
      if (!byId.has(d.detector)) {
        ids.push(d.detector);
        byId.set(d.detector, []);
      }
      byId.get(d.detector)!.push(d);
    }
  }
  return ids.map((id) => {
    const ds = byId.get(id)!;
    const base = ds[0]!;
    if (ds.length === 1) return base;
    const sum = (f: (d: DetectionSummary) => number): number => ds.reduce((a, d) => a + f(d), 0);
    const scoring = ds.filter((d) => d.threshold !== null);
    const ranked = ds.flatMap((d) =>
      d.top.map((ev, i) => ({
        ev,
        count: d.topCounts?.[i] ?? 1,
        rel: ev.detection.score / (ev.detection.threshold > 0 ? ev.detection.threshold : 1),
      })),
    );
    ranked.sort((a, b) => b.rel - a.rel);
    const top = ranked.slice(0, keep);
    return {
      ...base,
      modelVersion: [...new Set(ds.map((d) => d.modelVersion))].join(" | "),
      phase: (ds.find((d) => d.threshold === null) ?? base).phase,
      threshold: scoring.length === 0 ? null : Math.max(...scoring.map((d) => d.threshold!)),
      trainingPackets: sum((d) => d.trainingPackets),
      scoredPackets: sum((d) => d.scoredPackets),
      detections: sum((d) => d.detections),
      trainingRemaining: Math.max(...ds.map((d) => d.trainingRemaining)),
      ignoredFeatures: [...new Set(ds.flatMap((d) => d.ignoredFeatures))],
      trainingUnits: sum((d) => d.trainingUnits),
      scoredUnits: sum((d) => d.scoredUnits),
      top: top.map((t) => t.ev),
      topCounts: top.map((t) => t.count),
    };
  });
}

/** Sources by bytes over all shards (a host sends to peers in several shards). */
function mergeTalkers(parts: ShardPart[], topN: number): Talker[] {
  const byHost = new Map<string, Talker>();
  for (const part of parts) {
    for (const t of part.talkers) {
      const e = byHost.get(t.host);
      if (!e) byHost.set(t.host, { ...t });
      else {
        e.packets += t.packets;
        e.bytes += t.bytes;
      }
    }
  }
  return [...byHost.values()].sort((a, b) => b.bytes - a.bytes).slice(0, topN);
}

/** Anomaly counts over all shards; the first frame is the earliest of any shard (capture frame numbers). */
function mergeAnomalies(parts: ShardPart[]): AnomalyCount[] {
  const byCode = new Map<string, AnomalyCount>();
  for (const part of parts) {
    for (const a of part.anomalies) {
      const e = byCode.get(a.code);
      if (!e) byCode.set(a.code, { ...a });
      else {
        e.count += a.count;
        e.firstFrame = Math.min(e.firstFrame, a.firstFrame);
      }
    }
  }
  return [...byCode.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

function merge(
  reader: CaptureReader,
  input: string,
  cfg: VigilConfig,
  c: MainCounters,
  parts: ShardPart[],
  elapsedS: number,
  aborted: boolean,
  noFlows: boolean,
): ShardedSummary {
  const _empty = c.packets === 0;
  let flows: ShardedSummary["flows"] = null;
  if (!noFlows) {
    const f = {
      total: 0,
      interimRecords: 0,
      byProto: {} as Record<string, number>,
      byService: {} as Record<string, number>,
      byState: {} as Record<string, number>,
      byEndReason: {} as Record<string, number>,
      evicted: 0,
      bytesPerFlow: 0,
    };
    for (const part of parts) {
      const pf = part.flows;
      if (!pf) continue;
      f.total += pf.total;
      f.interimRecords += pf.interim;
      addInto(f.byProto, pf.byProto);
      addInto(f.byService, pf.byService);
      addInto(f.byState, pf.byState);
      addInto(f.byEndReason, pf.byReason);
      f.evicted += pf.evicted;
      f.bytesPerFlow = pf.bytesPerFlow;
    }
    flows = f;
  }
  const detections = mergeDetections(parts.map((pt) => pt.detections));
  return {
    ...captureFields(input, reader, c),
    protocols: protocols(parts),
    flows,
    anomalies: mergeAnomalies(parts),
    captureAnomalies: { ...reader.stats.anomalies },
    topTalkers: mergeTalkers(parts, cfg.summary.topN),
    topPorts: mergePorts(parts, cfg.summary.topN),
    elapsedS,
    packetsPerS: elapsedS > 0 ? c.packets / elapsedS : 0,
    aborted,
    ...(detections.length > 0 ? { detections } : {}),
    shards: parts.map((pt) => ({ packets: pt.packets, busyS: pt.busyS, afterImage: pt.afterImage })),
  };
}
