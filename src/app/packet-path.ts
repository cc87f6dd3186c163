// The packet path: capture batch → decode → counters → flow table → AfterImage, wired for one run.
import type { PacketBatch } from "../capture/index.ts";
import { DecodedPacket, decodePacket } from "../decode/index.ts";
import { AfterImage } from "../features/index.ts";
import { type FlowRecord, FlowTable } from "../flows/index.ts";
import type { BatchSink } from "../pipeline/index.ts";
import type { VigilConfig } from "../schema/index.ts";
import { PacketCounters } from "./summary.ts";

export interface PacketPathOptions {
  config: VigilConfig;
  /** Track flows (default true). */
  flows?: boolean;
  /** Called for every emitted flow record (final and interim). */
  onFlow?: (rec: FlowRecord) => void;
  /** Compute AfterImage features and hand each packet's vector here (the vector is reused). */
  onFeatures?: (vec: Float64Array, p: DecodedPacket, frame: number) => void;
  /** Called for every packet that raised at least one anomaly. */
  onAnomaly?: (p: DecodedPacket, frame: number) => void;
}

/** Points `p` at packet `i` of a capture batch (times in µs) and decodes it. Allocates nothing. */
export function decodeFromBatch(p: DecodedPacket, b: PacketBatch, i: number): void {
  p.buf = b.data;
  p.start = b.offset[i];
  p.capLen = b.capLen[i];
  p.wireLen = b.wireLen[i];
  p.linkType = b.linkType[i];
  p.tsUs = b.tsSec[i] * 1e6 + Math.floor(b.tsNsec[i] / 1000);
  decodePacket(p);
}

/** A pipeline sink that runs every packet of a batch through the stages in order, without allocating. */
export class PacketPath implements BatchSink<PacketBatch> {
  readonly counters: PacketCounters;
  readonly flowTable: FlowTable | null;
  readonly afterImage: AfterImage | null;
  private readonly pkt = new DecodedPacket();
  private readonly vec: Float64Array;
  private frame = 0;
  private readonly onFeatures: PacketPathOptions["onFeatures"];
  private readonly onAnomaly: PacketPathOptions["onAnomaly"];

  constructor(opts: PacketPathOptions) {
    const cfg = opts.config;
    this.counters = new PacketCounters(cfg.summary.maxHosts);
    const onFlow = opts.onFlow ?? (() => {});
    this.flowTable = opts.flows === false ? null : new FlowTable(cfg.flows, onFlow);
    this.onFeatures = opts.onFeatures;
    this.onAnomaly = opts.onAnomaly;
    this.afterImage = opts.onFeatures ? new AfterImage(cfg.afterimage) : null;
    // One value per feature of the configured decay factors (23 per λ).
    this.vec = new Float64Array(this.afterImage?.featureCount ?? 0);
  }

  push(b: PacketBatch): void {
    const p = this.pkt;
    const flows = this.flowTable;
    const ai = this.afterImage;
    for (let i = 0; i < b.count; i++) {
      decodeFromBatch(p, b, i);
      const frame = ++this.frame;
      this.counters.count(p, frame);
      if (p.anomalyCount > 0 && this.onAnomaly) this.onAnomaly(p, frame);
      if (flows !== null) flows.add(p);
      if (ai !== null) {
        ai.update(p, this.vec);
        this.onFeatures!(this.vec, p, frame);
      }
    }
  }

  finish(): void {
    this.flowTable?.flush();
  }
}
