// `vigil eval`: run a detector over a capture in time order (train on the first part, score the rest)
// and measure it against ground-truth labels, per packet and per flow.
import { err, ok, type Result, type VigilError } from "../core/index.ts";
import { formatAddress } from "../decode/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../detect/index.ts";
import { afterImageFeatureNames } from "../features/index.ts";
import { type Confusion, classVsNegative, confusion, prAuc, rocAuc, tprAtFpr } from "../ml/index.ts";
import type { VigilConfig } from "../schema/index.ts";
import { analyzeCapture } from "./analyze.ts";
import { BENIGN, readAttackWindows, WindowLabeler } from "./labels.ts";

export interface EvalOptions {
  config: VigilConfig;
  /** KitNET settings (defaults from its schema); the lab needs short graces (its benign lead-in is 90 s). */
  kitnet?: Partial<KitNetDetectorConfig>;
  onProgress?: (p: { bytesRead: number; totalBytes: number | null }) => void;
}

export interface Metrics {
  rocAuc: number;
  prAuc: number;
  tprAtFpr0_1pct: { tpr: number; threshold: number };
  tprAtFpr1pct: { tpr: number; threshold: number };
  /** At the calibrated threshold. */
  atThreshold: Confusion;
}

export interface TypeResult {
  type: string;
  count: number;
  /** Share flagged at the calibrated threshold. */
  recall: number;
  /** AUC of this type's items against all benign items. */
  rocAuc: number;
}

export interface EvalReport {
  detector: string;
  modelVersion: string;
  input: string;
  labels: string;
  packets: { total: number; training: number; scored: number; attack: number; benign: number };
  threshold: ThresholdReport & {
    /** Training packets left out by the poisoning guard. */
    trainingTrimmed: number;
  };
  /** Features the stationarity guard kept out of the model (damped counts slower than training). */
  ignoredFeatures: string[];
  packetLevel: Metrics;
  packetTypes: TypeResult[];
  /** Flows are 5-tuples over the whole capture (no timeouts); score = max packet score, label = first packet's. */
  flowLevel: Metrics & { flows: number };
  flowTypes: TypeResult[];
  /**
   * What an analyst sees: detections at the threshold grouped into alerts by the detector's dedup key
   * (host pair) and suppression window; an alert is an attack alert when the packet that opened it is.
   */
  alerts: AlertResult;
  elapsedS: number;
  packetsPerS: number;
}

export interface WindowResult {
  type: string;
  attacker: string;
  victim: string;
  /** Window start, seconds since the epoch. */
  start: number;
  /** Packets of this window that were scored (not used for training). */
  packets: number;
  /** Seconds from the window's start to its first packet above the threshold; null if none. */
  firstDetectionS: number | null;
}

export interface AlertResult {
  suppressionS: number;
  total: number;
  attack: number;
  benign: number;
  /** Benign alerts per hour of scored traffic. */
  benignPerHour: number;
  /** Each attack window of the labels file: detected or not, and how fast. */
  windows: WindowResult[];
}

/**
 * Groups threshold crossings into alerts as Zeek suppresses notices: a host pair's first crossing opens
 * an alert, and crossings of that pair within the suppression interval after it belong to it.
 */
class AlertCounter {
  private readonly opened = new Map<string, number>();
  total = 0;
  attack = 0;
  constructor(private readonly suppressionS: number) {}
  add(pair: string, ts: number, isAttack: boolean): void {
    const prev = this.opened.get(pair);
    if (prev !== undefined && ts - prev <= this.suppressionS) return;
    this.opened.set(pair, ts);
    this.total++;
    if (isAttack) this.attack++;
  }
}

class Growable {
  data = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** A calibrated threshold as reported: the value in use, how it was chosen, both tail fits. */
export interface ThresholdReport {
  value: number;
  method: string;
  falseAlarmRate: number;
  spot: number | null;
  lognormal: number | null;
  /** Calibration scores dropped by the poisoning guard before the fit. */
  trimmed: number;
}

/** The threshold part of an eval report, from a detector's calibration (both tail fits, the chosen one). */
export function thresholdReport(
  value: number,
  cal: {
    chosen: string;
    spot: { threshold: number } | null;
    lognormal: { threshold: number } | null;
    trimmed: number;
  } | null,
  cfg: { thresholdMethod: string; falseAlarmRate: number },
): ThresholdReport {
  return {
    value,
    method: cal?.chosen ?? cfg.thresholdMethod,
    falseAlarmRate: cfg.falseAlarmRate,
    spot: cal?.spot?.threshold ?? null,
    lognormal: cal?.lognormal?.threshold ?? null,
    trimmed: cal?.trimmed ?? 0,
  };
}

/** ROC/PR AUC, TPR at 0.1 % and 1 % FPR, and the confusion matrix at `threshold`. */
export function evalMetrics(scores: Float64Array, labels: Uint8Array, threshold: number): Metrics {
  const a = tprAtFpr(scores, labels, 0.001);
  const b = tprAtFpr(scores, labels, 0.01);
  return {
    rocAuc: rocAuc(scores, labels),
    prAuc: prAuc(scores, labels),
    tprAtFpr0_1pct: { tpr: a.tpr, threshold: a.threshold },
    tprAtFpr1pct: { tpr: b.tpr, threshold: b.threshold },
    atThreshold: confusion(scores, labels, threshold),
  };
}

/** Per attack type: count, recall at `threshold`, and ROC AUC against every benign item. */
export function typeResults(scores: Float64Array, types: string[], threshold: number): TypeResult[] {
  return classVsNegative(scores, types, BENIGN, threshold).map((c) => ({
    type: c.name,
    count: c.count,
    recall: c.recall,
    rocAuc: c.rocAuc,
  }));
}

/** Runs KitNET over `input` with labels from a window file and reports packet- and flow-level metrics. */
export async function evalKitNet(
  input: string,
  labelsPath: string,
  opts: EvalOptions,
): Promise<Result<EvalReport, VigilError>> {
  const windows = readAttackWindows(labelsPath);
  if (!windows.ok) return err(windows.error);
  const labeler = new WindowLabeler(windows.value);
  const kcfg = KitNetDetectorConfig.parse(opts.kitnet ?? {});
  const det = new KitNetDetector(kcfg, afterImageFeatureNames(opts.config.afterimage.lambdas));
  const scores = new Growable();
  const types: string[] = [];
  const flowIndex = new Map<string, number>();
  const flowScore = new Growable();
  const flowTypes: string[] = [];
  let training = 0;
  let total = 0;
  const alerts = new AlertCounter(det.info.suppressionS);
  const windowStats = windows.value.map((w) => ({ w, packets: 0, first: Number.NaN }));
  let firstScoredTs = Number.NaN;
  let lastTs = Number.NaN;
  const t0 = performance.now();
  const run = await analyzeCapture(input, {
    config: opts.config,
    noFlows: true,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    onFeatures: (vec, p) => {
      total++;
      const s = det.process(vec, p.tsUs);
      if (Number.isNaN(s)) {
        training++;
        return;
      }
      const v = p.ipVersion;
      const src = v === 0 ? "" : formatAddress(p.src, v);
      const dst = v === 0 ? "" : formatAddress(p.dst, v);
      const type = v === 4 ? labeler.label(p.tsUs / 1e6, src, dst) : BENIGN;
      scores.push(s);
      types.push(type);
      const ts = p.tsUs / 1e6;
      if (Number.isNaN(firstScoredTs)) firstScoredTs = ts;
      lastTs = ts;
      if (type !== BENIGN) {
        for (const ws of windowStats) {
          const w = ws.w;
          if (w.type !== type || ts < w.start || ts > w.end) continue;
          if (!((src === w.attacker && dst === w.victim) || (src === w.victim && dst === w.attacker)))
            continue;
          ws.packets++;
          if (s > det.threshold && Number.isNaN(ws.first)) ws.first = ts;
        }
      }
      if (s > det.threshold) alerts.add(src < dst ? `${src}|${dst}` : `${dst}|${src}`, ts, type !== BENIGN);
      // Flow identity: the unordered 5-tuple (no timeouts), labelled by its first scored packet.
      const a = `${src}:${p.srcPort}`;
      const b = `${dst}:${p.dstPort}`;
      const key = `${p.ipProto}|${a < b ? a : b}|${a < b ? b : a}`;
      let f = flowIndex.get(key);
      if (f === undefined) {
        f = flowTypes.length;
        flowIndex.set(key, f);
        flowTypes.push(type);
        flowScore.push(s);
      } else if (s > flowScore.data[f]) flowScore.data[f] = s;
    },
  });
  if (!run.ok) return err(run.error);
  const elapsedS = (performance.now() - t0) / 1000;
  const sc = scores.view();
  const labels = Uint8Array.from(types, (t) => (t === BENIGN ? 0 : 1));
  const fsc = flowScore.view();
  const flabels = Uint8Array.from(flowTypes, (t) => (t === BENIGN ? 0 : 1));
  const thr = det.threshold;
  const cal = det.calibration;
  const attack = labels.reduce((a, b) => a + b, 0);
  return ok({
    detector: det.info.id,
    modelVersion: det.modelVersion(),
    input,
    labels: labelsPath,
    packets: { total, training, scored: sc.length, attack, benign: sc.length - attack },
    threshold: { ...thresholdReport(thr, cal, kcfg), trainingTrimmed: cal?.trainingTrimmed ?? 0 },
    ignoredFeatures: [...det.ignoredFeatures],
    packetLevel: evalMetrics(sc, labels, thr),
    packetTypes: typeResults(sc, types, thr),
    flowLevel: { flows: fsc.length, ...evalMetrics(fsc, flabels, thr) },
    flowTypes: typeResults(fsc, flowTypes, thr),
    alerts: {
      suppressionS: det.info.suppressionS,
      total: alerts.total,
      attack: alerts.attack,
      benign: alerts.total - alerts.attack,
      benignPerHour:
        lastTs > firstScoredTs ? ((alerts.total - alerts.attack) * 3600) / (lastTs - firstScoredTs) : 0,
      windows: windowStats.map((ws) => ({
        type: ws.w.type,
        attacker: ws.w.attacker,
        victim: ws.w.victim,
        start: ws.w.start,
        packets: ws.packets,
        firstDetectionS: Number.isNaN(ws.first) ? null : ws.first - ws.w.start,
      })),
    },
    elapsedS,
    packetsPerS: total / elapsedS,
  });
}
