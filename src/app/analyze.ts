// `vigil analyze`: read a capture through the packet path and build the run's summary.
import { type CaptureReader, openCapture } from "../capture/index.ts";
import { err, ok, type Result, type VigilError } from "../core/index.ts";
import type { DecodedPacket } from "../decode/index.ts";
import type { KitNetDetector, KitNetDetectorConfig } from "../detect/index.ts";
import type { FlowRecord } from "../flows/index.ts";
import { runBatches, type SourceProgress } from "../pipeline/index.ts";
import type { DetectionEvent, VigilConfig } from "../schema/index.ts";
import { KitNetRunner } from "./detections.ts";
import { type FlowDetectorOptions, FlowDetectorsRunner } from "./flow-detections.ts";
import { PacketPath } from "./packet-path.ts";
import { analyzeSharded } from "./shard/index.ts";
import { type AnalysisSummary, captureFields, FlowCounters } from "./summary.ts";

export interface AnalyzeOptions {
  config: VigilConfig;
  /** Skip the flow table (packets and anomalies only). */
  noFlows?: boolean;
  onFlow?: (rec: FlowRecord) => void;
  onFeatures?: (vec: Float64Array, p: DecodedPacket, frame: number) => void;
  /** Run KitNET: trained on the first packets of this capture with these settings, or a loaded model. */
  kitnet?: Partial<KitNetDetectorConfig> | KitNetDetector;
  /** Where a given KitNET detector came from (default "loaded"). */
  kitnetOrigin?: "loaded" | "baseline";
  /** Called after the run with the model file text, when KitNET finished training and calibration. */
  onKitNetModel?: (text: string) => void;
  /** Called for every KitNET detection (with `kitnet`). */
  onDetection?: (ev: DetectionEvent) => void;
  /** Run the flow detectors (isolation forest per flow, behaviour clusters per host window); also reported to onDetection. */
  flowDetectors?: FlowDetectorOptions;
  onAnomaly?: (p: DecodedPacket, frame: number) => void;
  onProgress?: (p: SourceProgress) => void;
  /** Awaited after each batch (output backpressure). */
  afterBatch?: () => Promise<void> | void;
  signal?: AbortSignal;
  /**
   * Worker threads (default 1: this thread only). With N > 1 the packets are sharded by their address pair
   * over N workers, each with its own flow table, AfterImage and detectors (see docs/adr/0004).
   */
  workers?: number;
}

/** Runs an open capture reader through the packet path and summarises it. */
export async function analyzeReader(
  reader: CaptureReader,
  input: string,
  opts: AnalyzeOptions,
): Promise<AnalysisSummary> {
  const flowCounters = new FlowCounters();
  const kit = opts.kitnet
    ? new KitNetRunner(opts.kitnet, opts.config, 20, opts.onDetection, opts.kitnetOrigin)
    : null;
  const fd =
    opts.flowDetectors && opts.noFlows !== true
      ? new FlowDetectorsRunner(opts.flowDetectors, opts.config, 20, opts.onDetection)
      : null;
  const userFeatures = opts.onFeatures;
  const onFeatures =
    kit !== null
      ? (vec: Float64Array, p: DecodedPacket, frame: number): void => {
          kit.onFeatures(vec, p, frame);
          userFeatures?.(vec, p, frame);
        }
      : userFeatures;
  const path = new PacketPath({
    config: opts.config,
    flows: opts.noFlows !== true,
    onFlow: (rec) => {
      flowCounters.count(rec);
      fd?.onFlow(rec, path.counters.lastUs);
      opts.onFlow?.(rec);
    },
    ...(onFeatures ? { onFeatures } : {}),
    ...(opts.onAnomaly ? { onAnomaly: opts.onAnomaly } : {}),
  });
  const t0 = performance.now();
  const run = await runBatches(reader, [path], {
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.afterBatch ? { afterBatch: opts.afterBatch } : {}),
  });
  fd?.finish();
  const elapsedS = (performance.now() - t0) / 1000;
  if (kit !== null && opts.onKitNetModel && kit.det.phase === "scoring") {
    const saved = kit.det.saveModel();
    if (saved.ok) opts.onKitNetModel(saved.value);
  }
  const c = path.counters;
  const topN = opts.config.summary.topN;
  const _empty = c.packets === 0;
  const ft = path.flowTable;
  return {
    ...captureFields(input, reader, c),
    protocols: { ...c.proto },
    flows:
      ft === null
        ? null
        : {
            total: flowCounters.total,
            interimRecords: flowCounters.interim,
            byProto: flowCounters.byProto,
            byService: flowCounters.byService,
            byState: flowCounters.byState,
            byEndReason: flowCounters.byReason,
            evicted: ft.stats.evicted,
            bytesPerFlow: ft.bytesPerFlow(),
          },
    anomalies: c.anomalies(),
    captureAnomalies: { ...reader.stats.anomalies },
    topTalkers: c.topTalkers(topN),
    topPorts: flowCounters.topPorts(topN),
    elapsedS,
    packetsPerS: elapsedS > 0 ? c.packets / elapsedS : 0,
    aborted: run.aborted,
    ...(kit !== null || fd !== null
      ? { detections: [...(kit !== null ? [kit.summary()] : []), ...(fd?.summaries() ?? [])] }
      : {}),
  };
}

/** Opens `input` (path, "-" for stdin, .gz allowed, or a readable stream) and analyses it. */
export async function analyzeCapture(
  input: string | NodeJS.ReadableStream,
  opts: AnalyzeOptions,
): Promise<Result<AnalysisSummary, VigilError>> {
  const opened = await openCapture(input, {
    batchSize: opts.config.capture.batchSize,
    bufferBytes: opts.config.capture.bufferBytes,
  });
  if (!opened.ok) return err(opened.error);
  const name = typeof input === "string" ? input : "(stream)";
  if ((opts.workers ?? 1) > 1) return ok(await analyzeSharded(opened.value, name, opts));
  return ok(await analyzeReader(opened.value, name, opts));
}

export type { AnalysisSummary } from "./summary.ts";
