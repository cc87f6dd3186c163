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
  threshold: {
    value: number;
    method: string;
    falseAlarmRate: number;
    spot: number | null;
    lognormal: number | null;
    trimmed: number;
  };
  /** Features the stationarity guard kept out of the model (damped counts slower than training). */
  ignoredFeatures: string[];
  packetLevel: Metrics;
  packetTypes: TypeResult[];
  /** Flows are 5-tuples over the whole capture (no timeouts); score = max packet score, label = first packet's. */
  flowLevel: Metrics & { flows: number };
  flowTypes: TypeResult[];
  elapsedS: number;
  packetsPerS: number;
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

function metrics(scores: Float64Array, labels: Uint8Array, threshold: number): Metrics {
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

function typeResults(scores: Float64Array, types: string[], threshold: number): TypeResult[] {
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
    threshold: {
      value: thr,
      method: cal?.chosen ?? kcfg.thresholdMethod,
      falseAlarmRate: kcfg.falseAlarmRate,
      spot: cal?.spot?.threshold ?? null,
      lognormal: cal?.lognormal?.threshold ?? null,
      trimmed: cal?.trimmed ?? 0,
    },
    ignoredFeatures: [...det.ignoredFeatures],
    packetLevel: metrics(sc, labels, thr),
    packetTypes: typeResults(sc, types, thr),
    flowLevel: { flows: fsc.length, ...metrics(fsc, flabels, thr) },
    flowTypes: typeResults(fsc, flowTypes, thr),
    elapsedS,
    packetsPerS: total / elapsedS,
  });
}
