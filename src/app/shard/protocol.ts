// What the main thread and the shard workers say to each other, and the per-packet fields of a shard batch.
//
// Packet bytes are never copied per packet: the main thread copies each capture batch's bytes once into a
// SharedArrayBuffer that every worker reads, and sends each worker only the per-packet fields (offset into
// that buffer, lengths, time, link type, global frame number) of its own packets, in a transferable buffer.
import type { PacketBatch } from "../../capture/index.ts";
import type { KitNetDetectorConfig } from "../../detect/index.ts";
import type { FlowRecord } from "../../flows/index.ts";
import type { DetectionEvent, VigilConfig } from "../../schema/index.ts";
import type { DetectionSummary } from "../detections.ts";
import type { FlowDetectorOptions } from "../flow-detections.ts";
import type { AnomalyCount, PortCount, ProtocolCounts, Talker } from "../summary.ts";

/** Marks a worker thread as a Vigil shard worker (workerData.vigilShard). */
export interface ShardWorkerData {
  vigilShard: true;
  shard: number;
  shards: number;
  config: VigilConfig;
  noFlows: boolean;
  /** KitNET: off, settings to train with, or a model file's text (with its settings). */
  kitnet: null | { settings: Partial<KitNetDetectorConfig>; model?: string; origin?: "loaded" | "baseline" };
  flowDetectors: FlowDetectorOptions | null;
  /** Ship detection events / flow records back (the caller asked for them). */
  wantDetections: boolean;
  wantFlows: boolean;
  /** Top ports and talkers each worker reports; the main thread merges and cuts to config.summary.topN. */
  portsKept: number;
}

export type ToWorker =
  | { type: "batch"; id: number; data: SharedArrayBuffer; meta: ArrayBuffer; count: number; capacity: number }
  | { type: "end" };

/** What one worker found, merged by the main thread into the run's summary. */
export interface ShardPart {
  shard: number;
  packets: number;
  protocols: ProtocolCounts;
  /** Anomaly counts of the shard, firstFrame as the capture's frame number. */
  anomalies: AnomalyCount[];
  /** The shard's top sources by bytes (a host's packets to peers in other shards are counted there). */
  talkers: Talker[];
  flows: {
    total: number;
    interim: number;
    byProto: Record<string, number>;
    byService: Record<string, number>;
    byState: Record<string, number>;
    byReason: Record<string, number>;
    evicted: number;
    bytesPerFlow: number;
  } | null;
  topPorts: PortCount[];
  detections: DetectionSummary[];
  /** AfterImage streams and bytes per stream (the worst table), when KitNET ran. */
  afterImage: { streams: number; bytesPerStream: number } | null;
  /** Wall seconds the worker spent on its packets (excluding waiting for batches). */
  busyS: number;
}

export type FromWorker =
  | {
      type: "done-batch";
      id: number;
      meta: ArrayBuffer;
      detections: DetectionEvent[];
      flows: FlowRecord[];
    }
  | { type: "done"; part: ShardPart }
  | { type: "error"; message: string; stack?: string };

/** Packets of one batch for one worker, the fields of `PacketBatch` plus the global frame number. */
export class ShardMeta {
  static bytesFor(capacity: number): number {
    // u32 offset, capLen, wireLen, tsNsec; u16 linkType, iface (padded to 8); f64 tsSec, frame
    return capacity * 16 + Math.ceil((capacity * 4) / 8) * 8 + capacity * 16;
  }

  readonly capacity: number;
  readonly offset: Uint32Array;
  readonly capLen: Uint32Array;
  readonly wireLen: Uint32Array;
  readonly tsNsec: Uint32Array;
  readonly linkType: Uint16Array;
  readonly iface: Uint16Array;
  readonly tsSec: Float64Array;
  readonly frame: Float64Array;

  constructor(
    readonly buffer: ArrayBuffer,
    capacity: number,
  ) {
    this.capacity = capacity;
    const c = capacity;
    let at = 0;
    const u32 = (): Uint32Array => {
      const a = new Uint32Array(buffer, at, c);
      at += 4 * c;
      return a;
    };
    this.offset = u32();
    this.capLen = u32();
    this.wireLen = u32();
    this.tsNsec = u32();
    this.linkType = new Uint16Array(buffer, at, c);
    at += 2 * c;
    this.iface = new Uint16Array(buffer, at, c);
    at += 2 * c;
    at = Math.ceil(at / 8) * 8;
    this.tsSec = new Float64Array(buffer, at, c);
    at += 8 * c;
    this.frame = new Float64Array(buffer, at, c);
  }

  /** Copies the fields of packet i of a capture batch to entry k; its bytes sit `dataShift` earlier in the copy. */
  put(k: number, b: PacketBatch, i: number, dataShift: number, frame: number): void {
    this.offset[k] = b.offset[i] - dataShift;
    this.capLen[k] = b.capLen[i];
    this.wireLen[k] = b.wireLen[i];
    this.tsNsec[k] = b.tsNsec[i];
    this.linkType[k] = b.linkType[i];
    this.iface[k] = b.iface[i];
    this.tsSec[k] = b.tsSec[i];
    this.frame[k] = frame;
  }

  /** A PacketBatch over `count` packets of this meta and the shared bytes. */
  batch(data: Uint8Array, count: number): PacketBatch {
    return {
      count,
      data,
      offset: this.offset,
      capLen: this.capLen,
      wireLen: this.wireLen,
      tsSec: this.tsSec,
      tsNsec: this.tsNsec,
      linkType: this.linkType,
      iface: this.iface,
    };
  }
}
