// Isolation-forest detector over per-flow feature vectors (CIC set, no identifiers): buffers a benign
// training period, grows the forest, calibrates a threshold, then scores and explains flows.
import { calibrateThreshold, IsolationForest, type ThresholdFit } from "../../ml/index.ts";
import type { Explanation } from "../../schema/index.ts";
import type { DetectorInfo, VectorDetector } from "../types.ts";
import type { IForestDetectorConfig } from "./config.ts";

export const IFOREST_INFO: DetectorInfo = {
  id: "iforest",
  title: "Isolation forest: flows unlike the flows learnt as normal",
  severity: "low",
  entityKeys: ["src_host", "dest_host"],
  dedupKey: ["src_ip", "dest_ip", "dest_port"],
  suppressionS: 300,
};

// Training needs this many flows even when trainingSeconds runs out first: fewer cannot give a tree
// more than four levels (ψ = 16 → height limit log2 16), and medians of fewer are noise.
const MIN_TRAINING_FLOWS = 16;
// SPOT wants at least this many peaks over its initial quantile (spotThreshold's default minPeaks).
const SPOT_MIN_PEAKS = 10;

export interface IForestCalibration {
  /** Both fits on the calibration scores; `chosen` is the one in use. */
  spot: ThresholdFit | null;
  lognormal: ThresholdFit | null;
  chosen: "spot" | "lognormal" | "max";
  /** Calibration scores dropped by the poisoning guard. */
  trimmed: number;
  samples: number;
}

/** A value for people: thousands separators, at most 3 significant decimals; times (µs) as s/ms/µs. */
export function formatFlowValue(name: string, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (/Duration|IAT|Active|Idle|Flow Time/.test(name)) {
    const a = Math.abs(v);
    if (a >= 1e6) return `${round(v / 1e6)} s`;
    if (a >= 1e3) return `${round(v / 1e3)} ms`;
    return `${round(v)} µs`;
  }
  return round(v);
}

// Number formats built once: toLocaleString builds one per call, which dominated explanation time.
const FORMATS = [0, 2, 3].map((d) => new Intl.NumberFormat("en-US", { maximumFractionDigits: d }));

function round(v: number): string {
  const a = Math.abs(v);
  return FORMATS[a >= 100 ? 0 : a >= 1 ? 1 : 2]!.format(v);
}

/**
 * The isolation-forest detector plugin. One instance per flow stream; `process` takes a flow's feature
 * vector (indexed like the feature names given to the constructor) and the flow's start time.
 *
 * Phases: the first `trainingFlows` flows (or those starting within `trainingSeconds`) are buffered;
 * the forest is grown on them; the next `calibrationFlows` are scored to fit the threshold; every later
 * flow is scored. Missing values (NaN, ±Infinity) are replaced by the feature's training median, so a
 * missing value never makes a flow look anomalous.
 */
export class IForestDetector implements VectorDetector {
  readonly info = IFOREST_INFO;
  private readonly cfg: IForestDetectorConfig;
  private readonly names: readonly string[];
  private readonly cols: number;
  private forest: IsolationForest | null = null;
  // Training buffer (rows × cols, transformed); grows by doubling up to trainingFlows rows, freed after the fit.
  private buf: Float64Array;
  private rows = 0;
  private readonly calScores: Float64Array;
  private calCount = 0;
  private calStartUs = Number.NaN;
  private _threshold = Number.NaN;
  private _calibration: IForestCalibration | null = null;
  /** Training median and 99th percentile of every feature, in raw units (for explanations). */
  private readonly median: Float64Array;
  private readonly p99: Float64Array;
  /** Training median in model units: what a missing value is replaced by. */
  private readonly fill: Float64Array;
  private readonly row: Float64Array;
  private readonly contrib: Float64Array;
  private firstUs = Number.NaN;
  private lastTrainUs = Number.NaN;
  private trained = 0;
  private calibrated = 0;

  constructor(cfg: IForestDetectorConfig, featureNames: readonly string[]) {
    if (featureNames.length === 0) throw new RangeError("iforest needs at least one feature");
    this.cfg = cfg;
    this.names = featureNames;
    this.cols = featureNames.length;
    this.buf = new Float64Array(Math.min(cfg.trainingFlows, 256) * this.cols);
    this.calScores = new Float64Array(cfg.calibrationFlows);
    this.median = new Float64Array(this.cols);
    this.p99 = new Float64Array(this.cols);
    this.fill = new Float64Array(this.cols);
    this.row = new Float64Array(this.cols);
    this.contrib = new Float64Array(this.cols);
  }

  get phase(): "training" | "scoring" {
    return Number.isNaN(this._threshold) ? "training" : "scoring";
  }

  get threshold(): number {
    return this._threshold;
  }

  get calibration(): IForestCalibration | null {
    return this._calibration;
  }

  /** Flows used to grow the forest and to calibrate, and the time span they cover (seconds). */
  get trainedOn(): { flows: number; calibrationFlows: number; firstTs: number; lastTs: number } {
    return {
      flows: this.trained,
      calibrationFlows: this.calibrated,
      firstTs: this.firstUs / 1e6,
      lastTs: this.lastTrainUs / 1e6,
    };
  }

  /** Flows still needed before scoring starts, when the counts end the phases (0 once scoring). */
  get trainingRemaining(): number {
    if (this.phase === "scoring") return 0;
    if (this.forest === null) return this.cfg.trainingFlows - this.rows + this.cfg.calibrationFlows;
    return this.cfg.calibrationFlows - this.calCount;
  }

  /** Training medians of the features (raw units), once the forest is grown. */
  get trainingMedians(): Float64Array | null {
    return this.forest === null ? null : this.median;
  }

  /**
   * Learns from, calibrates on or scores one flow; `tsUs` is the flow's start time (µs). Returns the
   * anomaly score in (0, 1], or NaN while training and calibrating.
   */
  process(x: Float64Array, tsUs: number): number {
    if (Number.isNaN(this.firstUs)) this.firstUs = tsUs;
    if (this.forest === null) {
      const timeUp = this.cfg.trainingSeconds > 0 && tsUs - this.firstUs >= this.cfg.trainingSeconds * 1e6;
      if (this.rows < this.cfg.trainingFlows && !(timeUp && this.rows >= MIN_TRAINING_FLOWS)) {
        this.buffer(x);
        this.lastTrainUs = tsUs;
        return Number.NaN;
      }
      this.grow();
    }
    if (Number.isNaN(this._threshold)) {
      // A timed calibration period follows the timed training period on the capture's clock, so flows
      // that start later (an attack right after it) never calibrate, whenever their records arrive.
      if (Number.isNaN(this.calStartUs))
        this.calStartUs =
          this.cfg.trainingSeconds > 0 ? Math.min(tsUs, this.firstUs + this.cfg.trainingSeconds * 1e6) : tsUs;
      const timeUp =
        this.cfg.calibrationSeconds > 0 && tsUs - this.calStartUs >= this.cfg.calibrationSeconds * 1e6;
      if (this.calCount < this.calScores.length && !timeUp) {
        this.calScores[this.calCount++] = this.forest!.score(this.input(x));
        this.calibrated++;
        this.lastTrainUs = tsUs;
        if (this.calCount === this.calScores.length) this.calibrate();
        return Number.NaN;
      }
      this.calibrate();
    }
    return this.forest!.score(this.input(x));
  }

  /** Ends training and calibration with what has been seen (e.g. at the end of a short capture). */
  finishTraining(): void {
    if (this.forest === null && this.rows >= 2) this.grow();
    if (this.forest !== null && Number.isNaN(this._threshold) && this.calCount >= 2) this.calibrate();
  }

  private transform(v: number): number {
    return this.cfg.logScale ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
  }

  /** x in model units in the reused row buffer; missing values become the training median. */
  private input(x: Float64Array): Float64Array {
    const r = this.row;
    for (let j = 0; j < this.cols; j++) {
      const v = x[j];
      r[j] = v !== undefined && Number.isFinite(v) ? this.transform(v) : this.fill[j];
    }
    return r;
  }

  private buffer(x: Float64Array): void {
    const c = this.cols;
    if ((this.rows + 1) * c > this.buf.length) {
      const next = new Float64Array(Math.min(this.buf.length * 2, this.cfg.trainingFlows * c));
      next.set(this.buf);
      this.buf = next;
    }
    const o = this.rows * c;
    for (let j = 0; j < c; j++) {
      const v = x[j];
      this.buf[o + j] = v !== undefined && Number.isFinite(v) ? v : Number.NaN;
    }
    this.rows++;
    this.trained++;
  }

  /** Grows the forest on the buffered flows (at least 2: callers check) and frees the buffer. */
  private grow(): void {
    const { cols, rows } = this;
    const data = this.buf.subarray(0, rows * cols);
    // Medians and 99th percentiles over the finite values of each feature, in raw units.
    const col = new Float64Array(rows);
    for (let j = 0; j < cols; j++) {
      let m = 0;
      for (let i = 0; i < rows; i++) {
        const v = data[i * cols + j]!;
        if (!Number.isNaN(v)) col[m++] = v;
      }
      const s = col.subarray(0, m).sort();
      this.median[j] = m > 0 ? s[Math.floor((m - 1) / 2)]! : 0;
      this.p99[j] = m > 0 ? s[Math.min(m - 1, Math.floor(0.99 * (m - 1)))]! : 0;
      this.fill[j] = this.transform(this.median[j]!);
    }
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      data[i] = Number.isNaN(v) ? this.fill[i % cols]! : this.transform(v);
    }
    this.forest = IsolationForest.fit(data, rows, cols, {
      trees: this.cfg.trees,
      sampleSize: this.cfg.sampleSize,
      seed: this.cfg.seed,
    });
    this.buf = new Float64Array(0);
  }

  private calibrate(): void {
    const scores = this.calScores.subarray(0, this.calCount);
    const q = this.cfg.falseAlarmRate;
    const trimFraction = this.cfg.trimFraction;
    // SPOT's initial quantile is lowered on a small calibration slice so that it still has enough peaks.
    const n = scores.length;
    const initialQuantile = n > 0 ? Math.min(0.98, Math.max(0.5, 1 - SPOT_MIN_PEAKS / n)) : 0.98;
    const spot = calibrateThreshold(scores, { method: "spot", q, trimFraction, initialQuantile });
    const logn = calibrateThreshold(scores, { method: "lognormal", q, trimFraction });
    const chosenFit = this.cfg.thresholdMethod === "spot" ? spot : logn;
    const fallback = this.cfg.thresholdMethod === "spot" ? logn : spot;
    const use = chosenFit.ok ? chosenFit : fallback;
    let max = 0;
    for (const s of scores) if (s > max) max = s;
    // Without any fit (too few or degenerate scores), the largest calibration score is the threshold.
    this._threshold = use.ok ? use.value.fit.threshold : max > 0 ? max : 1;
    this._calibration = {
      spot: spot.ok ? spot.value.fit : null,
      lognormal: logn.ok ? logn.value.fit : null,
      chosen: use.ok ? use.value.fit.method : "max",
      trimmed: use.ok ? use.value.trimmed : 0,
      samples: n,
    };
  }

  explain(x: Float64Array, score: number, topK: number): Explanation {
    const features: Explanation["features"] = [];
    if (this.forest !== null) {
      const c = this.contrib;
      this.forest.explain(this.input(x), 0, c);
      let sum = 0;
      for (let j = 0; j < this.cols; j++) sum += c[j]!;
      const order = Array.from({ length: this.cols }, (_, j) => j)
        .filter((j) => c[j]! > 0)
        .sort((a, b) => c[b]! - c[a]! || a - b)
        .slice(0, Math.min(topK, 32));
      for (const j of order) {
        const name = this.names[j] ?? `f${j}`;
        const v = x[j];
        const known = v !== undefined && Number.isFinite(v);
        const value = known ? v : this.median[j]!;
        const med = this.median[j]!;
        const above =
          value > this.p99[j]!
            ? `, above its training 99th percentile ${formatFlowValue(name, this.p99[j]!)}`
            : "";
        features.push({
          name,
          value,
          contribution: sum > 0 ? c[j]! / sum : 0,
          text: known
            ? `${name} is ${formatFlowValue(name, value)} (training median ${formatFlowValue(name, med)}${above})`
            : `${name} is missing (taken as its training median ${formatFlowValue(name, med)})`,
        });
      }
    }
    const thr = this._threshold;
    const vs = Number.isFinite(thr)
      ? `${score > thr ? "above" : "at or below"} the threshold ${thr.toPrecision(3)}`
      : "(no threshold yet)";
    return {
      summary: `Isolation-forest score ${score.toPrecision(3)} is ${vs}${features[0] ? `; isolated mostly by ${features[0].text}` : ""}`,
      features,
    };
  }

  modelVersion(): string {
    const c = this.cfg;
    return `iforest-1/t${c.trees}/psi${c.sampleSize}/s${c.seed}/${c.logScale ? "log" : "raw"}/n${this.trained}`;
  }
}
