// Detector plugin contract: what every detector declares and the calls the pipeline makes on it.
import type { Explanation } from "../schema/index.ts";

export type Severity = "info" | "low" | "medium" | "high" | "critical";

/**
 * Declarations that shared code (correlate, respond, the console) reads; it never asks which
 * detector it holds (brief §4 rule 3).
 */
export interface DetectorInfo {
  /** Dotted lowercase id, e.g. "kitnet" or "ssh.bruteforce". */
  readonly id: string;
  readonly title: string;
  /** MITRE ATT&CK technique id, when the detector is about one technique. */
  readonly technique?: string;
  readonly severity: Severity;
  /** Envelope entity keys an alert of this detector is about (e.g. "src_host"). */
  readonly entityKeys: readonly string[];
  /** Envelope fields whose values make detections the same alert. */
  readonly dedupKey: readonly string[];
  /** Detections with the same dedup key within this many seconds are one alert. */
  readonly suppressionS: number;
}

/**
 * A detector over per-packet (or per-flow) feature vectors, fed in time order. `process` is on
 * the hot path and allocates nothing; `explain` runs only for inputs that crossed the threshold.
 */
export interface VectorDetector {
  readonly info: DetectorInfo;
  /** "training" until the model is ready, then "scoring". */
  readonly phase: "training" | "scoring";
  /** The calibrated alert threshold (NaN until calibrated). */
  readonly threshold: number;
  /** Learns from or scores one vector; returns the score, or NaN while training. */
  process(x: Float64Array, tsUs: number): number;
  /** Plain-words explanation of the last processed vector; `describe` names features in context. */
  explain(x: Float64Array, score: number, topK: number): Explanation;
  /** Model identity written into every detection. */
  modelVersion(): string;
}

/**
 * A detector over per-entity aggregates of time windows (e.g. one host's behaviour per minute), fed
 * with items in (about) time order. Windows are scored as they close and reported to the sink
 * the detector was built with; `flush` closes the windows still open at the end of the input.
 */
export interface WindowDetector<In> {
  readonly info: DetectorInfo;
  /** "training" until the model is ready, then "scoring". */
  readonly phase: "training" | "scoring";
  /** The calibrated alert threshold (NaN until calibrated). */
  readonly threshold: number;
  /** Adds one item (e.g. a finished flow) to the windows of the entities it involves. */
  observe(item: In): void;
  /** Closes every open window (end of input); scores them when the model is ready. */
  flush(): void;
  /** Model identity written into every detection. */
  modelVersion(): string;
}
