// KitNET detector: online autoencoder ensemble over AfterImage vectors, a calibrated threshold, and
// explanations from per-feature reconstruction-error shares.
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { describeAfterImageFeature } from "../../features/index.ts";
import {
  calibrateThreshold,
  createExplanation,
  hashFeatureSchema,
  KitNet,
  type KitNetExplanation,
  type ModelThreshold,
  readKitNetFile,
  saveKitNet,
} from "../../ml/index.ts";
import type { Explanation } from "../../schema/index.ts";
import type { DetectorInfo, VectorDetector } from "../types.ts";
import type { KitNetDetectorConfig } from "./config.ts";

export const KITNET_INFO: DetectorInfo = {
  id: "kitnet",
  title: "KitNET: packets unlike the traffic learnt as normal",
  severity: "medium",
  entityKeys: ["src_host", "dest_host"],
  dedupKey: ["src_ip", "dest_ip"],
  suppressionS: 60,
};

/** A calibrated threshold: the score at the target false-alarm rate `q` by one tail model. */
export interface CalibratedThreshold {
  threshold: number;
  method: string;
  q: number;
}

export interface KitNetCalibration {
  /** Both fits on the calibration scores; `chosen` is the one in use. */
  spot: CalibratedThreshold | null;
  lognormal: CalibratedThreshold | null;
  chosen: "spot" | "lognormal";
  /** Calibration scores dropped by the poisoning guard. */
  trimmed: number;
  samples: number;
  /** Training packets the poisoning guard did not learn (extreme running scores). */
  trainingTrimmed: number;
}

/** The KitNET detector plugin. One instance per packet stream, fed in time order. */
export class KitNetDetector implements VectorDetector {
  readonly info = KITNET_INFO;
  readonly kit: KitNet;
  private readonly cfg: KitNetDetectorConfig;
  private readonly names: readonly string[];
  private readonly calScores: Float64Array;
  private calCount = 0;
  private _threshold = Number.NaN;
  private _calibration: KitNetCalibration | null = null;
  private readonly expl: KitNetExplanation;
  // Running mean and M2 of each feature while training, to say how far a value is from normal.
  private readonly featMean: Float64Array;
  private readonly featM2: Float64Array;
  private featN = 0;
  private trainedPackets = 0;
  private firstUs = Number.NaN;
  private lastTrainUs = Number.NaN;
  // Stationarity guard: features fed to the model as 0 (decided when the feature-mapping grace ends).
  private readonly halfLifeS: Float64Array;
  private ignored: number[] = [];
  private readonly masked: Float64Array;
  private guardDecided = false;

  constructor(cfg: KitNetDetectorConfig, featureNames: readonly string[], trained?: KitNet) {
    this.cfg = cfg;
    this.names = featureNames;
    const n = featureNames.length;
    this.kit =
      trained ??
      new KitNet({
        n,
        maxGroup: cfg.maxGroup,
        fmGrace: cfg.fmGrace,
        adGrace: cfg.adGrace,
        hiddenRatio: cfg.hiddenRatio,
        learningRate: cfg.learningRate,
        seed: cfg.seed,
        trainingTrim: cfg.trainingTrim,
        kernel: cfg.kernel,
      });
    if (trained) trained.setKernel(cfg.kernel);
    this.calScores = new Float64Array(cfg.calibrationPackets);
    this.expl = createExplanation(cfg.topFeatures);
    this.featMean = new Float64Array(n);
    this.featM2 = new Float64Array(n);
    this.masked = new Float64Array(n);
    // Half-life of each damped count (AfterImage weight): 2^(−λt) halves in 1/λ seconds.
    this.halfLifeS = Float64Array.from(featureNames, (name) => {
      const m = /_L([0-9.]+)_weight$/.exec(name);
      const lambda = m ? Number(m[1]) : Number.NaN;
      return lambda > 0 ? 1 / lambda : Number.NaN;
    });
  }

  /**
   * Features the model ignores (fed as 0): damped counts whose half-life is longer than 1/k of the
   * training span. Such a count is still warming up when training ends (it needs several half-lives to
   * reach its steady level), so every later value lies above all training values and scores as an
   * anomaly, for benign and attack traffic alike.
   */
  get ignoredFeatures(): readonly string[] {
    return this.ignored.map((i) => this.names[i] ?? `f${i}`);
  }

  /** Decides the ignored features from the span of the feature-mapping grace, extrapolated to all training. */
  private decideGuard(tsUs: number): void {
    this.guardDecided = true;
    const k = this.cfg.stationarityGuard;
    if (k <= 0) return;
    const fmSpanS = Math.max(0, (tsUs - this.firstUs) / 1e6);
    const trainSpanS = (fmSpanS * (this.cfg.fmGrace + this.cfg.adGrace)) / this.cfg.fmGrace;
    const out: number[] = [];
    for (let i = 0; i < this.halfLifeS.length; i++) {
      if (this.halfLifeS[i] > trainSpanS / k) out.push(i);
    }
    this.ignored = out;
  }

  /** x with the ignored features zeroed (a reused buffer), or x itself when none are ignored. */
  private input(x: Float64Array): Float64Array {
    const ign = this.ignored;
    if (ign.length === 0) return x;
    const m = this.masked;
    m.set(x.length === m.length ? x : x.subarray(0, m.length));
    for (let j = 0; j < ign.length; j++) m[ign[j]] = 0;
    return m;
  }

  get phase(): "training" | "scoring" {
    return Number.isNaN(this._threshold) ? "training" : "scoring";
  }

  get threshold(): number {
    return this._threshold;
  }

  get calibration(): KitNetCalibration | null {
    return this._calibration;
  }

  /** Packets still to see before scoring starts (0 once scoring). */
  get trainingRemaining(): number {
    if (this.phase === "scoring") return 0;
    const c = this.cfg;
    return Math.max(0, c.fmGrace + c.adGrace + c.calibrationPackets - this.trainedPackets);
  }

  /** Packets used to train and calibrate, and the time span they cover. */
  get trainedOn(): { packets: number; firstTs: number; lastTs: number } {
    return { packets: this.trainedPackets, firstTs: this.firstUs / 1e6, lastTs: this.lastTrainUs / 1e6 };
  }

  process(x: Float64Array, tsUs: number): number {
    if (this.kit.phase !== "execute") {
      if (Number.isNaN(this.firstUs)) this.firstUs = tsUs;
      if (!this.guardDecided && this.kit.phase === "ad") this.decideGuard(tsUs);
      this.lastTrainUs = tsUs;
      this.trainedPackets++;
      this.observe(x);
      this.kit.process(this.input(x), 0);
      return Number.NaN;
    }
    if (Number.isNaN(this._threshold)) {
      // Calibration window: score without learning; the scores set the threshold.
      this.lastTrainUs = tsUs;
      this.trainedPackets++;
      this.observe(x);
      this.calScores[this.calCount++] = this.kit.score(this.input(x), 0);
      if (this.calCount === this.calScores.length) this.calibrate();
      return Number.NaN;
    }
    return this.kit.process(this.input(x), 0);
  }

  private observe(x: Float64Array): void {
    const n = ++this.featN;
    const mean = this.featMean;
    const m2 = this.featM2;
    for (let i = 0; i < mean.length; i++) {
      const v = x[i];
      if (!Number.isFinite(v)) continue;
      const d = v - mean[i];
      mean[i] += d / n;
      m2[i] += d * (v - mean[i]);
    }
  }

  private calibrate(): void {
    const base = { q: this.cfg.falseAlarmRate, trimFraction: this.cfg.trimFraction };
    const spot = calibrateThreshold(this.calScores, { ...base, method: "spot" });
    const logn = calibrateThreshold(this.calScores, { ...base, method: "lognormal" });
    const chosenFit = this.cfg.thresholdMethod === "spot" ? spot : logn;
    const fallback = this.cfg.thresholdMethod === "spot" ? logn : spot;
    const use = chosenFit.ok ? chosenFit : fallback;
    let max = 0;
    for (const s of this.calScores) if (s > max) max = s;
    // Without any fit (degenerate scores), fall back to the largest calibration score.
    this._threshold = use.ok ? use.value.fit.threshold : max;
    this._calibration = {
      spot: spot.ok ? spot.value.fit : null,
      lognormal: logn.ok ? logn.value.fit : null,
      chosen: use.ok ? use.value.fit.method : this.cfg.thresholdMethod,
      trimmed: use.ok ? use.value.trimmed : 0,
      samples: this.calScores.length,
      trainingTrimmed: this.kit.trimmed,
    };
    if (this.cfg.continueTraining) this.kit.setTrainBelow(this._threshold);
  }

  explain(x: Float64Array, score: number, topK: number): Explanation {
    const k = this.kit.explain(this.expl);
    const features: Explanation["features"] = [];
    for (let r = 0; r < Math.min(k, topK); r++) {
      const f = this.expl.feature[r];
      const name = this.names[f] ?? `f${f}`;
      const v = x[f];
      const sd = this.featN > 1 ? Math.sqrt(this.featM2[f] / (this.featN - 1)) : 0;
      const z = sd > 0 ? (v - this.featMean[f]) / sd : Number.NaN;
      const what = describeAfterImageFeature(name)?.text ?? name;
      const how = Number.isFinite(z)
        ? `${Math.abs(z) >= 10 ? Math.round(Math.abs(z)) : Math.abs(z).toFixed(1)}σ ${z >= 0 ? "above" : "below"} its training mean`
        : "a value never seen in training";
      features.push({
        name,
        value: Number.isFinite(v) ? v : 0,
        contribution: this.expl.share[r],
        text: `${what} is ${how}`,
      });
    }
    const ratio = this._threshold > 0 ? score / this._threshold : Number.POSITIVE_INFINITY;
    return {
      summary: `KitNET reconstruction error ${score.toPrecision(3)} is ${ratio.toFixed(1)}× the threshold ${this._threshold.toPrecision(3)}${features[0] ? `; mostly ${features[0].text}` : ""}`,
      features,
    };
  }

  modelVersion(): string {
    if (this.loadedVersion !== null) return this.loadedVersion;
    const c = this.cfg;
    return `kitnet-1/fm${c.fmGrace}/ad${c.adGrace}/s${c.seed}/n${this.trainedPackets}`;
  }

  private loadedVersion: string | null = null;

  /** The trained, calibrated model as a model file (text); an error while still training. */
  saveModel(): Result<string, VigilError> {
    if (this.phase !== "scoring")
      return err(
        new VigilError(
          "usage",
          `KitNET is still training (${this.trainedPackets} of ${this.cfg.fmGrace + this.cfg.adGrace + this.cfg.calibrationPackets} packets seen), so there is no model to save`,
          "train on a longer capture or lower --fm-grace/--ad-grace/--calibration",
        ),
      );
    const cal = this._calibration;
    const thresholds: Record<string, ModelThreshold> = {
      alert: { value: this._threshold, method: cal?.chosen ?? "manual", q: this.cfg.falseAlarmRate },
    };
    if (cal?.spot) thresholds.spot = { value: cal.spot.threshold, method: "spot", q: cal.spot.q };
    if (cal?.lognormal)
      thresholds.lognormal = { value: cal.lognormal.threshold, method: "lognormal", q: cal.lognormal.q };
    return ok(
      saveKitNet(this.kit, {
        featureSchemaHash: hashFeatureSchema(this.names),
        featureNames: [...this.names],
        trainedOn: { firstTs: this.firstUs, lastTs: this.lastTrainUs, packets: this.trainedPackets },
        thresholds,
        ignoredFeatures: [...this.ignored],
        featureStats: { count: this.featN, mean: this.featMean.slice(), m2: this.featM2.slice() },
      }),
    );
  }

  /**
   * A detector that scores from its first packet with a saved model. `cfg` supplies what the file does
   * not hold (explanation size, continued training); the model's own graces, seed and threshold win.
   */
  static fromModel(
    text: string,
    cfg: KitNetDetectorConfig,
    featureNames: readonly string[],
  ): Result<KitNetDetector, VigilError> {
    const r = readKitNetFile(text, { expectedSchemaHash: hashFeatureSchema(featureNames) });
    if (!r.ok) return r;
    const { model, meta } = r.value;
    const alert = meta.thresholds.alert;
    if (alert === undefined)
      return err(
        new VigilError(
          "input.corrupt",
          "KitNET model file has no alert threshold",
          "save the model with `vigil analyze --save-model` after training and calibration",
        ),
      );
    const mc = model.config;
    const d = new KitNetDetector(
      { ...cfg, fmGrace: mc.fmGrace, adGrace: mc.adGrace, seed: mc.seed, maxGroup: mc.maxGroup },
      featureNames,
      model,
    );
    d._threshold = alert.value;
    const calibrated = (t: ModelThreshold | undefined): CalibratedThreshold | null =>
      t ? { threshold: t.value, method: t.method, q: t.q ?? cfg.falseAlarmRate } : null;
    d._calibration = {
      spot: calibrated(meta.thresholds.spot),
      lognormal: calibrated(meta.thresholds.lognormal),
      chosen: alert.method === "lognormal" ? "lognormal" : "spot",
      trimmed: 0,
      samples: 0,
      trainingTrimmed: 0,
    };
    d.ignored = [...(meta.ignoredFeatures ?? [])];
    d.guardDecided = true;
    if (meta.featureStats) {
      d.featN = meta.featureStats.count;
      d.featMean.set(meta.featureStats.mean);
      d.featM2.set(meta.featureStats.m2);
    }
    d.trainedPackets = meta.trainedOn.packets;
    d.firstUs = meta.trainedOn.firstTs;
    d.lastTrainUs = meta.trainedOn.lastTs;
    d.loadedVersion = `kitnet-1/fm${mc.fmGrace}/ad${mc.adGrace}/s${mc.seed}/n${meta.trainedOn.packets}`;
    if (cfg.continueTraining) model.setTrainBelow(alert.value);
    return ok(d);
  }
}
