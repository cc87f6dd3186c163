// `vigil eval --detector iforest|clusters <capture> -l labels.csv`: Vigil's own flow records of a capture,
// in start-time order; the flow detectors train on the benign lead-in (flows starting before the first
// attack window) and are measured per flow (iforest) or per host window (behaviour clusters).
import { err, ok, type Result, VigilError } from "../core/index.ts";
import {
  BehaviourClustersConfig,
  BehaviourClustersDetector,
  flowEndUs,
  type HostFlow,
  type HostWindow,
  IForestDetector,
  IForestDetectorConfig,
} from "../detect/index.ts";
import { CIC_COLUMNS } from "../flows/index.ts";
import type { VigilConfig } from "../schema/index.ts";
import { analyzeCapture } from "./analyze.ts";
import {
  evalMetrics,
  type Metrics,
  type ThresholdReport,
  type TypeResult,
  thresholdReport,
  typeResults,
} from "./eval.ts";
import { hostFlowOf } from "./flow-detections.ts";
import { type AttackWindow, BENIGN, readAttackWindows, WindowLabeler } from "./labels.ts";

export interface CaptureFlowEvalOptions {
  config: VigilConfig;
  /** Isolation-forest settings; training and calibration counts are set from the lead-in. */
  iforest?: Partial<IForestDetectorConfig>;
  /** Behaviour-clusters settings; trainingSeconds is set from the lead-in. Window default here: 10 s. */
  clusters?: Partial<BehaviourClustersConfig>;
  /** Share of the lead-in flows that grow the forest; the rest calibrate its threshold. */
  trainShare?: number;
  onProgress?: (p: { bytesRead: number; totalBytes: number | null }) => void;
}

export interface CaptureFlowEvalReport {
  detector: "iforest" | "behaviour_clusters";
  modelVersion: string;
  input: string;
  labels: string;
  /** What one scored item is. */
  unit: "flow" | "host window";
  /** How items are labelled, in words. */
  labelRule: string;
  /** Flow records of the capture, and those starting before the first attack window. */
  flows: {
    total: number;
    leadIn: number;
    leadInSeconds: number;
    /** For a flow table rather than a capture: which rows trained and calibrated, in words. */
    pool?: string;
  };
  items: { training: number; calibration: number; scored: number; attack: number; benign: number };
  threshold: ThresholdReport & { quantile?: number | null };
  /** Behaviour clusters: the k chosen and the silhouettes tried. */
  clusters?: {
    k: number;
    silhouettes: { k: number; silhouette: number }[];
    sizes: number[];
    windowS: number;
  };
  metrics: Metrics;
  types: TypeResult[];
  /** Features (iforest) or profile dimensions (clusters) most blamed on the 200 highest-scored attack items. */
  topExplained: { feature: string; share: number }[];
  elapsedS: number;
}

/** A flow of the capture: CIC features, host-profile numbers, start time and true type. */
export interface LabelledFlow {
  startUs: number;
  cic: Float64Array;
  host: HostFlow;
  type: string;
}

/** What the isolation forest is measured on: a flow's CIC features, start time and true type. */
export type TypedFlow = Pick<LabelledFlow, "startUs" | "cic" | "type">;

/** Mean share of blame per name over the `top` highest-scored attack items. */
function blame(
  scores: Float64Array,
  labels: Uint8Array,
  explain: (i: number) => { name: string; contribution: number }[],
  top = 200,
): { feature: string; share: number }[] {
  const idx = Array.from(scores.keys())
    .filter((i) => labels[i] === 1)
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, top);
  const sum = new Map<string, number>();
  for (const i of idx) for (const f of explain(i)) sum.set(f.name, (sum.get(f.name) ?? 0) + f.contribution);
  return [...sum]
    .map(([feature, v]) => ({ feature, share: idx.length > 0 ? v / idx.length : 0 }))
    .sort((a, b) => b.share - a.share || (a.feature < b.feature ? -1 : 1))
    .slice(0, 8);
}

/** Reads the capture's flow records, labelled by the lab's flow rule, in start-time order. */
async function labelledFlows(
  input: string,
  windows: AttackWindow[],
  opts: CaptureFlowEvalOptions,
): Promise<Result<LabelledFlow[], VigilError>> {
  const labeler = new WindowLabeler(windows);
  const flows: LabelledFlow[] = [];
  const run = await analyzeCapture(input, {
    config: opts.config,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    onFlow: (rec) => {
      const c = rec.conn;
      flows.push({
        startUs: rec.firstUs,
        cic: rec.cic.slice(), // rec.cic is a view into a shared block
        host: hostFlowOf(rec),
        type: labeler.label(rec.firstUs / 1e6, c["id.orig_h"], c["id.resp_h"]),
      });
    },
  });
  if (!run.ok) return err(run.error);
  flows.sort((a, b) => a.startUs - b.startUs);
  return ok(flows);
}

function leadIn(
  flows: LabelledFlow[],
  windows: AttackWindow[],
): { n: number; seconds: number; firstAttackUs: number } {
  const firstAttackUs = Math.min(...windows.map((w) => w.start)) * 1e6;
  let n = 0;
  while (n < flows.length && flows[n]!.startUs < firstAttackUs) n++;
  const seconds = flows.length > 0 ? (firstAttackUs - flows[0]!.startUs) / 1e6 : 0;
  return { n, seconds, firstAttackUs };
}

/** The labelled flows of a capture, its attack windows and its benign lead-in. */
export async function readLabelledCapture(
  input: string,
  labelsPath: string,
  opts: CaptureFlowEvalOptions,
): Promise<
  Result<{ flows: LabelledFlow[]; windows: AttackWindow[]; lead: ReturnType<typeof leadIn> }, VigilError>
> {
  const windows = readAttackWindows(labelsPath);
  if (!windows.ok) return err(windows.error);
  const read = await labelledFlows(input, windows.value, opts);
  if (!read.ok) return err(read.error);
  return ok({ flows: read.value, windows: windows.value, lead: leadIn(read.value, windows.value) });
}

function noLeadIn(input: string, n: number): VigilError {
  return new VigilError(
    "usage",
    `${input}: only ${n} flows start before the first attack window; the flow detectors need a benign lead-in`,
    "use a capture that begins with benign traffic, or a labels file whose first window starts later",
  );
}

/** Isolation forest per flow: grown on the first share of the lead-in flows, calibrated on the rest. */
export async function evalIForestCapture(
  input: string,
  labelsPath: string,
  opts: CaptureFlowEvalOptions,
): Promise<Result<CaptureFlowEvalReport, VigilError>> {
  const t0 = performance.now();
  const read = await readLabelledCapture(input, labelsPath, opts);
  if (!read.ok) return err(read.error);
  const { flows, lead } = read.value;
  if (lead.n < 32) return err(noLeadIn(input, lead.n));
  const nTrain = Math.max(16, Math.round(lead.n * (opts.trainShare ?? 0.7)));
  return ok({
    ...scoreIForest(flows, nTrain, Math.max(10, lead.n - nTrain), opts.iforest ?? {}),
    input,
    labels: labelsPath,
    labelRule:
      "a flow takes the type of the window whose attacker/victim pair matches its addresses and whose time holds its first packet",
    flows: { total: flows.length, leadIn: lead.n, leadInSeconds: lead.seconds },
    elapsedS: (performance.now() - t0) / 1000,
  });
}

/**
 * The isolation-forest plugin as deployed, measured on flows in the given order: the first `nTrain` grow
 * the forest, the next `nCal` calibrate its threshold, every later one is scored against its type.
 */
export function scoreIForest(
  flows: readonly TypedFlow[],
  nTrain: number,
  nCal: number,
  settings: Partial<IForestDetectorConfig>,
): Omit<CaptureFlowEvalReport, "input" | "labels" | "labelRule" | "flows" | "elapsedS"> {
  const cfg = IForestDetectorConfig.parse({
    ...settings,
    trainingFlows: nTrain,
    trainingSeconds: 0,
    calibrationFlows: nCal,
    calibrationSeconds: 0,
  });
  const det = new IForestDetector(cfg, CIC_COLUMNS);
  const scored: TypedFlow[] = [];
  const sc: number[] = [];
  for (const f of flows) {
    const s = det.process(f.cic, f.startUs);
    if (Number.isNaN(s)) continue;
    scored.push(f);
    sc.push(s);
  }
  const scores = Float64Array.from(sc);
  const types = scored.map((f) => f.type);
  const labels = Uint8Array.from(types, (t) => (t === BENIGN ? 0 : 1));
  const thr = det.threshold;
  const cal = det.calibration;
  const attack = labels.reduce((a, b) => a + b, 0);
  return {
    detector: "iforest",
    modelVersion: det.modelVersion(),
    unit: "flow",
    items: {
      training: det.trainedOn.flows,
      calibration: det.trainedOn.calibrationFlows,
      scored: scores.length,
      attack,
      benign: scores.length - attack,
    },
    threshold: thresholdReport(thr, cal, cfg),
    metrics: evalMetrics(scores, labels, thr),
    types: typeResults(scores, types, thr),
    topExplained: blame(scores, labels, (i) => det.explain(scored[i]!.cic, scores[i]!, 5).features),
  };
}

/**
 * Host-window label: a window of host h is of type T when h is the attacker or the victim of a window
 * of type T whose time overlaps it; with several such types, the one most of h's flows in the window
 * carry by the flow rule (else the earliest window). Every other host window is benign.
 */
export function hostWindowType(
  w: { host: string; startUs: number; endUs: number },
  windows: readonly AttackWindow[],
  flowTypes: ReadonlyMap<string, number>,
): string {
  const s = w.startUs / 1e6;
  const e = w.endUs / 1e6;
  const over = windows
    .filter((a) => (a.attacker === w.host || a.victim === w.host) && a.start < e && a.end >= s)
    .sort((a, b) => a.start - b.start);
  if (over.length === 0) return BENIGN;
  let best = over[0]!.type;
  let bestN = 0;
  for (const a of over) {
    const n = flowTypes.get(a.type) ?? 0;
    if (n > bestN) {
      best = a.type;
      bestN = n;
    }
  }
  return best;
}

/**
 * Behaviour clusters per host window (a flow counts in the window in which it ended): trained on the
 * windows that end before the first attack window starts, scored on every later one.
 */
export async function evalClustersCapture(
  input: string,
  labelsPath: string,
  opts: CaptureFlowEvalOptions,
): Promise<Result<CaptureFlowEvalReport, VigilError>> {
  const t0 = performance.now();
  const read = await readLabelledCapture(input, labelsPath, opts);
  if (!read.ok) return err(read.error);
  const { flows, lead, windows } = read.value;
  const windowS = opts.clusters?.windowS ?? 10;
  // Host windows hold the flows that ended in them: windows ending before the first attack train.
  const byEnd = flows.slice().sort((a, b) => flowEndUs(a.host) - flowEndUs(b.host));
  const originUs = byEnd[0] ? flowEndUs(byEnd[0].host) : 0;
  const trainingSeconds = (lead.firstAttackUs - originUs) / 1e6;
  if (lead.n < 2 || trainingSeconds < windowS) return err(noLeadIn(input, lead.n));
  const cfg = BehaviourClustersConfig.parse({ ...opts.clusters, windowS, trainingSeconds });
  const out: HostWindow[] = [];
  const det = new BehaviourClustersDetector(cfg, (w) => {
    if (!w.training) out.push(w);
  });
  // Flow-rule types of each host's flows per window, for hostWindowType.
  const typesAt = new Map<string, Map<string, number>>();
  const windowUs = windowS * 1e6;
  for (const f of byEnd) {
    det.observe(f.host);
    if (f.type === BENIGN) continue;
    const w = Math.floor((flowEndUs(f.host) - originUs) / windowUs);
    for (const h of [f.host.orig, f.host.resp]) {
      const key = `${String(h)}|${w}`;
      const m = typesAt.get(key) ?? new Map<string, number>();
      m.set(f.type, (m.get(f.type) ?? 0) + 1);
      typesAt.set(key, m);
    }
  }
  det.flush();
  const types = out.map((w) => {
    const k = `${String(w.host)}|${Math.round((w.startUs - originUs) / windowUs)}`;
    return hostWindowType(
      { host: String(w.host), startUs: w.startUs, endUs: w.endUs },
      windows,
      typesAt.get(k) ?? new Map(),
    );
  });
  const scores = Float64Array.from(out, (w) => w.score);
  const labels = Uint8Array.from(types, (t) => (t === BENIGN ? 0 : 1));
  const thr = det.threshold;
  const cal = det.calibration;
  const attack = labels.reduce((a, b) => a + b, 0);
  return ok({
    detector: "behaviour_clusters",
    modelVersion: det.modelVersion(),
    input,
    labels: labelsPath,
    unit: "host window",
    labelRule:
      "a host window is of type T when the host is the attacker or victim of a type-T window overlapping it in time (several: the type most of its flows carry)",
    flows: { total: flows.length, leadIn: lead.n, leadInSeconds: lead.seconds },
    items: {
      training: det.stats.trainingWindows,
      calibration: 0,
      scored: scores.length,
      attack,
      benign: scores.length - attack,
    },
    threshold: { ...thresholdReport(thr, cal, cfg), quantile: cal?.quantile ?? null },
    clusters: {
      k: cal?.k ?? 0,
      silhouettes: cal?.silhouettes ?? [],
      sizes: cal?.clusterSizes ?? [],
      windowS,
    },
    metrics: evalMetrics(scores, labels, thr),
    types: typeResults(scores, types, thr),
    topExplained: blame(scores, labels, (i) => det.explain(out[i]!).features),
    elapsedS: (performance.now() - t0) / 1000,
  });
}
