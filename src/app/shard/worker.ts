// A shard worker: decode → flows → AfterImage → KitNET and the flow detectors over the packets of its
// address pairs, composed from the same parts as the single-thread `analyzeReader`. Started by
// analyze-sharded.ts; in a worker thread whose workerData is a ShardWorkerData it runs on import.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { ANOMALY_NAMES } from "../../decode/index.ts";
import { IForestDetectorConfig, KitNetDetector, KitNetDetectorConfig } from "../../detect/index.ts";
import { afterImageFeatureNames } from "../../features/index.ts";
import type { FlowRecord } from "../../flows/index.ts";
import type { DetectionEvent, VigilConfig } from "../../schema/index.ts";
import { KitNetRunner } from "../detections.ts";
import { FlowDetectorsRunner } from "../flow-detections.ts";
import { PacketPath } from "../packet-path.ts";
import { FlowCounters } from "../summary.ts";
import {
  type FromWorker,
  ShardMeta,
  type ShardPart,
  type ShardWorkerData,
  type ToWorker,
} from "./protocol.ts";

/**
 * Training lengths counted in packets or flows, divided among the shards: together the shards then learn
 * from about as much of the capture's start as one thread would (a shard sees 1/N of the packets), so a
 * benign lead-in long enough for one thread is long enough for N. Never below the settings' minimums.
 */
export function perShardTraining(
  kitnet: Partial<KitNetDetectorConfig>,
  shards: number,
): Partial<KitNetDetectorConfig> {
  const k = KitNetDetectorConfig.parse(kitnet);
  const div = (v: number, min: number): number => Math.max(min, Math.ceil(v / shards));
  return {
    ...k,
    fmGrace: div(k.fmGrace, 10),
    adGrace: div(k.adGrace, 10),
    calibrationPackets: div(k.calibrationPackets, 100),
  };
}

function perShardFlows(
  iforest: Partial<IForestDetectorConfig>,
  shards: number,
): Partial<IForestDetectorConfig> {
  const f = IForestDetectorConfig.parse(iforest);
  return {
    ...f,
    trainingFlows: Math.max(16, Math.ceil(f.trainingFlows / shards)),
    calibrationFlows: Math.max(10, Math.ceil(f.calibrationFlows / shards)),
  };
}

/**
 * The caps of tables keyed by an address pair or finer (flows, AfterImage channels and sockets) divided
 * among the shards, which partition those keys: together the shards hold as many as one thread, in about
 * the same memory. Host-keyed tables keep their caps: a host talks to peers in every shard.
 */
export function perShardCaps(cfg: VigilConfig, shards: number): VigilConfig {
  const div = (v: number): number => Math.max(16, Math.ceil(v / shards));
  return {
    ...cfg,
    flows: { ...cfg.flows, capacity: div(cfg.flows.capacity) },
    afterimage: {
      ...cfg.afterimage,
      maxChannels: div(cfg.afterimage.maxChannels),
      maxSockets: div(cfg.afterimage.maxSockets),
    },
  };
}

/** The worker's state for one run: the packet path and detectors of one shard. */
export class ShardRunner {
  private readonly d: ShardWorkerData;
  private readonly path: PacketPath;
  private readonly kit: KitNetRunner | null;
  private readonly fd: FlowDetectorsRunner | null;
  private readonly flowCounters = new FlowCounters();
  // Events the caller asked for, shipped back with the next done-batch message.
  private detections: DetectionEvent[] = [];
  private flows: FlowRecord[] = [];
  // Global frame numbers of the current batch; the packet path numbers this shard's packets 1, 2, …
  private frames: Float64Array = new Float64Array(0);
  private localBase = 0;
  private busyMs = 0;
  // Capture frame number of the first packet that raised each anomaly code (0: none yet).
  private readonly anomalyFirst = new Float64Array(ANOMALY_NAMES.length);

  constructor(d: ShardWorkerData) {
    this.d = d;
    const cfg = perShardCaps(d.config, d.shards);
    const onDetection = d.wantDetections ? (ev: DetectionEvent) => this.detections.push(ev) : undefined;
    let kit: KitNetRunner | null = null;
    if (d.kitnet?.model !== undefined) {
      const det = KitNetDetector.fromModel(
        d.kitnet.model,
        KitNetDetectorConfig.parse(d.kitnet.settings),
        afterImageFeatureNames(cfg.afterimage.lambdas),
      );
      if (!det.ok) throw det.error;
      kit = new KitNetRunner(det.value, cfg, 20, onDetection, d.kitnet.origin ?? "loaded");
    } else if (d.kitnet) {
      kit = new KitNetRunner(perShardTraining(d.kitnet.settings, d.shards), cfg, 20, onDetection);
    }
    this.kit = kit;
    const fdo = d.flowDetectors;
    const fd =
      fdo && !d.noFlows
        ? new FlowDetectorsRunner(
            fdo.iforest
              ? { ...fdo, iforest: perShardFlows(fdo.iforest as Partial<IForestDetectorConfig>, d.shards) }
              : fdo,
            cfg,
            20,
            onDetection,
          )
        : null;
    this.fd = fd;
    const counters = this.flowCounters;
    const first = this.anomalyFirst;
    const path: PacketPath = new PacketPath({
      config: cfg,
      flows: !d.noFlows,
      onAnomaly: (p, frame) => {
        for (let i = 0; i < p.anomalyCount; i++) {
          const code = p.anomalies[i];
          if (first[code] === 0) first[code] = this.frames[frame - this.localBase - 1];
        }
      },
      onFlow: (rec) => {
        counters.count(rec);
        fd?.onFlow(rec, path.counters.lastUs);
        if (d.wantFlows) this.flows.push(rec);
      },
      ...(kit
        ? {
            onFeatures: (vec: Float64Array, p, frame: number) =>
              kit.onFeatures(vec, p, this.frames[frame - this.localBase - 1]),
          }
        : {}),
    });
    this.path = path;
  }

  /** Runs one batch; returns what to send back with its meta buffer. */
  batch(data: SharedArrayBuffer, meta: ArrayBuffer, count: number, capacity: number): FromWorker {
    const t0 = performance.now();
    const m = new ShardMeta(meta, capacity);
    this.frames = m.frame;
    this.path.push(m.batch(new Uint8Array(data), count));
    this.localBase += count;
    this.busyMs += performance.now() - t0;
    const out: FromWorker = {
      type: "done-batch",
      id: 0,
      meta,
      detections: this.detections,
      flows: this.flows,
    };
    this.detections = [];
    this.flows = [];
    return out;
  }

  /** Flushes the flow table and detectors; the shard's part of the summary. */
  finish(): ShardPart {
    const t0 = performance.now();
    this.path.finish();
    this.fd?.finish();
    const ft = this.path.flowTable;
    const fc = this.flowCounters;
    const ai = this.path.afterImage;
    this.busyMs += performance.now() - t0;
    const pc = this.path.counters;
    const firstFrames = this.anomalyFirst;
    const firstOf = new Map(ANOMALY_NAMES.map((name, code) => [name, firstFrames[code]]));
    return {
      shard: this.d.shard,
      packets: this.localBase,
      protocols: { ...pc.proto },
      anomalies: pc.anomalies().map((a) => ({ ...a, firstFrame: firstOf.get(a.code) ?? a.firstFrame })),
      talkers: pc.topTalkers(this.d.portsKept),
      flows:
        ft === null
          ? null
          : {
              total: fc.total,
              interim: fc.interim,
              byProto: fc.byProto,
              byService: fc.byService,
              byState: fc.byState,
              byReason: fc.byReason,
              evicted: ft.stats.evicted,
              bytesPerFlow: ft.bytesPerFlow(),
            },
      topPorts: fc.topPorts(this.d.portsKept),
      detections: [...(this.kit ? [this.kit.summary()] : []), ...(this.fd?.summaries() ?? [])],
      afterImage: ai ? { streams: streamsOf(ai.stats), bytesPerStream: ai.bytesPerStream() } : null,
      busyS: this.busyMs / 1000,
    };
  }

  /** Events not yet shipped (the last batch's are sent with it; flushing the flow table adds more). */
  pending(): { detections: DetectionEvent[]; flows: FlowRecord[] } {
    const r = { detections: this.detections, flows: this.flows };
    this.detections = [];
    this.flows = [];
    return r;
  }
}

function streamsOf(stats: object): number {
  let n = 0;
  for (const t of Object.values(stats))
    if (t && typeof t === "object" && "streams" in t) n += Number(t.streams);
  return n;
}

/** The worker thread's message loop. */
export function runShardWorker(d: ShardWorkerData): void {
  const port = parentPort!;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let runner: ShardRunner;
  try {
    runner = new ShardRunner(d);
  } catch (e) {
    post({ type: "error", message: (e as Error).message, stack: (e as Error).stack });
    return;
  }
  port.on("message", (msg: ToWorker) => {
    try {
      if (msg.type === "batch") {
        const out = runner.batch(msg.data, msg.meta, msg.count, msg.capacity);
        if (out.type === "done-batch") out.id = msg.id;
        post(out, [msg.meta]);
        return;
      }
      const part = runner.finish();
      const rest = runner.pending();
      if (rest.detections.length > 0 || rest.flows.length > 0) {
        post({ type: "done-batch", id: -1, meta: new ArrayBuffer(0), ...rest });
      }
      post({ type: "done", part });
      port.close();
    } catch (e) {
      post({ type: "error", message: (e as Error).message, stack: (e as Error).stack });
      port.close();
    }
  });
}

if (!isMainThread && (workerData as Partial<ShardWorkerData> | null)?.vigilShard === true) {
  runShardWorker(workerData as ShardWorkerData);
}
