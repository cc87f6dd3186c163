// Runs packet detectors inside `vigil analyze`: scores every AfterImage vector and keeps the
// strongest detections (bounded) as schema events with their explanations.

import { readFileSync } from "node:fs";
import { err, type Result, VigilError } from "../core/index.ts";
import { type DecodedPacket, formatAddress } from "../decode/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../detect/index.ts";
import { afterImageFeatureNames } from "../features/index.ts";
import type { DetectionEvent, VigilConfig } from "../schema/index.ts";
import { packetEnvelope } from "./anomaly-events.ts";

export interface DetectionSummary {
  detector: string;
  modelVersion: string;
  phase: string;
  threshold: number | null;
  /** Packets used to train and calibrate, and packets scored after that. */
  trainingPackets: number;
  scoredPackets: number;
  /** Packets whose score exceeded the threshold. */
  detections: number;
  /** Where the model came from: trained on this input, loaded from a model file, or a baseline capture. */
  model: ModelOrigin;
  /** Packets still needed before scoring starts (0 once scoring). */
  trainingRemaining: number;
  /** Features the model ignores (KitNET's stationarity guard). */
  ignoredFeatures: string[];
  /**
   * The strongest detection of each dedup key (the detector's `dedupKey`, e.g. the host pair), highest
   * score first (at most `keep`): one line per thing to look at, not the same flood packet twenty times.
   */
  top: DetectionEvent[];
  /** Detections that share the dedup key of `top[i]` (the alert's size). */
  topCounts?: number[];
  /** What the detector trains on and scores, and how many of them. */
  unit: "packets" | "flows" | "host windows";
  trainingUnits: number;
  scoredUnits: number;
  /** What detections are grouped by in `top` (the detector's dedup key in words). */
  groupedBy: string;
}

/** Where a detector's model came from. */
export type ModelOrigin = "trained here" | "loaded" | "baseline";

/** Most dedup keys tracked for the top list; detections of further keys still count in `detections`. */
const MAX_KEYS = 4096;

/**
 * The strongest detection per dedup key, and how many detections each key had: what every detector
 * runner keeps for the summary. Bounded: at most MAX_KEYS keys.
 */
export class KeyedTop {
  private readonly byKey = new Map<string, { score: number; count: number; ev: DetectionEvent | null }>();

  constructor(private readonly keep: number) {}

  /** Counts a detection of `key`; true when its event should be built and `put` (a new or stronger best). */
  offer(key: string, score: number): boolean {
    const known = this.byKey.get(key);
    if (known) {
      known.count++;
      return score > known.score;
    }
    if (this.byKey.size >= MAX_KEYS) return false;
    this.byKey.set(key, { score: Number.NEGATIVE_INFINITY, count: 1, ev: null });
    return true;
  }

  /** Records the event of an offer that returned true. */
  put(key: string, score: number, ev: DetectionEvent): void {
    const e = this.byKey.get(key);
    if (e && score > e.score) {
      e.score = score;
      e.ev = ev;
    }
  }

  /** The `keep` strongest keys, highest score first, with their detection counts. */
  result(): { top: DetectionEvent[]; topCounts: number[] } {
    const best = [...this.byKey.values()]
      .filter((t) => t.ev !== null)
      .sort((a, b) => b.score - a.score)
      .slice(0, this.keep);
    return { top: best.map((t) => t.ev!), topCounts: best.map((t) => t.count) };
  }
}

/** Feeds KitNET from the packet path; builds events only for the strongest detections. */
export class KitNetRunner {
  readonly det: KitNetDetector;
  private scored = 0;
  private count = 0;
  private readonly tops: KeyedTop;

  private readonly origin: ModelOrigin;

  /** `det`: a detector to use as is (e.g. from a model file), or settings for one trained on this input. */
  constructor(
    det: KitNetDetector | Partial<KitNetDetectorConfig>,
    config: VigilConfig,
    keep = 20,
    private readonly onDetection?: (ev: DetectionEvent) => void,
    /** Where a given detector came from (a new one is "trained here"). */
    origin: ModelOrigin = "loaded",
  ) {
    this.sensor = config.sensor;
    this.tops = new KeyedTop(keep);
    this.origin = det instanceof KitNetDetector ? origin : "trained here";
    this.det =
      det instanceof KitNetDetector
        ? det
        : new KitNetDetector(
            KitNetDetectorConfig.parse(det),
            afterImageFeatureNames(config.afterimage.lambdas),
          );
  }

  private readonly sensor: string;

  onFeatures(vec: Float64Array, p: DecodedPacket, frame: number): void {
    const s = this.det.process(vec, p.tsUs);
    if (Number.isNaN(s)) return;
    this.scored++;
    if (!(s > this.det.threshold)) return;
    this.count++;
    // Only detections (not every packet) reach here, so building the key string is off the hot path.
    const key = dedupKey(p);
    const wanted = this.tops.offer(key, s);
    if (!wanted && !this.onDetection) return;
    const ev = this.event(vec, p, frame, s);
    this.onDetection?.(ev);
    if (wanted) this.tops.put(key, s, ev);
  }

  private event(vec: Float64Array, p: DecodedPacket, frame: number, score: number): DetectionEvent {
    const d = this.det;
    const ev: DetectionEvent = {
      ts: p.tsUs / 1e6,
      event_type: "detection",
      sensor: this.sensor,
      detection: {
        detector: d.info.id,
        severity: d.info.severity,
        score,
        threshold: d.threshold,
        model_version: d.modelVersion(),
        frame,
        explanation: d.explain(vec, score, 5),
      },
    };
    return Object.assign(ev, packetEnvelope(p, true));
  }

  summary(): DetectionSummary {
    const d = this.det;
    return {
      detector: d.info.id,
      modelVersion: d.modelVersion(),
      phase: d.phase,
      threshold: Number.isNaN(d.threshold) ? null : d.threshold,
      trainingPackets: d.trainedOn.packets,
      scoredPackets: this.scored,
      detections: this.count,
      model: this.origin,
      trainingRemaining: d.trainingRemaining,
      ignoredFeatures: [...d.ignoredFeatures],
      ...this.tops.result(),
      unit: "packets",
      trainingUnits: d.trainedOn.packets,
      scoredUnits: this.scored,
      groupedBy: "host pair",
    };
  }
}

/** KitNET's dedup key: the unordered host pair (or "non-IP"). */
function dedupKey(p: DecodedPacket): string {
  if (p.ipVersion === 0) return "non-IP";
  const a = formatAddress(p.src, p.ipVersion);
  const b = formatAddress(p.dst, p.ipVersion);
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Reads a KitNET model file for the AfterImage layout of `config`; errors say what to do. */
export function loadKitNetModel(
  path: string,
  settings: Partial<KitNetDetectorConfig>,
  config: VigilConfig,
): Result<KitNetDetector, VigilError> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return err(
      new VigilError(
        "input.not_found",
        `cannot read KitNET model ${path}: ${(e as Error).message}`,
        "check the path, or train one with `vigil analyze CAPTURE --save-model FILE`",
      ),
    );
  }
  return KitNetDetector.fromModel(
    text,
    KitNetDetectorConfig.parse(settings),
    afterImageFeatureNames(config.afterimage.lambdas),
  );
}
