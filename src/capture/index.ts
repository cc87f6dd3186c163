// Public entry of capture: streaming pcap/pcapng reader, live capture through tcpdump, the PacketBatch contract.
export { CAPTURE_ANOMALIES, type CaptureAnomalyCode } from "./anomaly-codes.ts";
export { DEFAULT_BATCH_SIZE, type PacketBatch } from "./batch.ts";
export {
  type CaptureInterface,
  type CaptureReader,
  type CaptureStats,
  DEFAULT_BUFFER_BYTES,
  MAX_BUFFER_BYTES,
} from "./capture-reader.ts";
export {
  type LiveCapture,
  type LiveCaptureOptions,
  type LiveDrops,
  parseTcpdumpSummary,
  startLiveCapture,
  tcpdumpArgs,
} from "./live.ts";
export { type OpenCaptureOptions, openCapture } from "./open-capture.ts";
export * from "./zeek/index.ts";
