// `vigil eval --detector iforest <labelled conn.log>`: an isolation forest over conn-record features of a
// labelled Zeek conn log (Stratosphere style: label Malicious/Benign/Background, family in detailedlabel),
// trained on the earliest benign flows, scored on the flows after them; Background is unknown.
import { readZeekLog, type ZeekReadStats, type ZeekRow } from "../capture/index.ts";
import { err, ok, type Result, VigilError } from "../core/index.ts";
import {
  ZEEK_CONN_FEATURE_COUNT,
  ZEEK_CONN_FEATURES,
  type ZeekConnFields,
  zeekConnFeatures,
} from "../features/zeek-conn-features.ts";
import { classVsNegative, IsolationForest, rankScores, recallByClass } from "../ml/index.ts";
import type { FamilyResult } from "./eval-flows.ts";

export { detectZeekLog, type ZeekLogInfo } from "../capture/index.ts";

export interface ZeekEvalOptions {
  /** Share of the training pool, earliest first, that trains the forest. Default 0.5. */
  trainShare?: number;
  /**
   * benign: train on the earliest Benign flows (default). all: train on the earliest flows whatever
   * their label, as an unsupervised deployment would (attack and unknown flows included, and reported).
   */
  trainOn?: "benign" | "all";
  /** Fewest training flows to build a forest from; fewer is reported, not trained on. Default 100. */
  minTrain?: number;
  trees?: number;
  sampleSize?: number;
  seed?: number;
}

/** Attack flows of one direction/answer slice against every held-out benign flow. */
export interface ZeekSliceResult {
  slice: string;
  attack: number;
  rocAuc: number;
  prAuc: number;
}

export interface ZeekEvalReport {
  detector: "iforest";
  input: string;
  /** What the reader saw: rows, skipped lines by reason (with first line numbers), capped strings. */
  log: {
    format: "tsv" | "json";
    rows: number;
    malformed: ZeekReadStats["malformed"];
    capped: number;
  };
  features: number;
  trainOn: "benign" | "all";
  /** ok, or insufficient_training when the earliest part holds too few flows to train on. */
  status: "ok" | "insufficient_training";
  /** Caveats in words: small benign sets, contaminated training, why nothing was trained. */
  notes: string[];
  rows: {
    total: number;
    /** Malicious / Benign / Background (and any other label) over the whole log. */
    byLabel: Record<string, number>;
    training: number;
    /** Labels of the training flows (with trainOn all: how contaminated the training was). */
    trainingByLabel: Record<string, number>;
    scored: number;
    attack: number;
    benignHeldOut: number;
    /** Background (and unlabelled) flows after the training window: scored, left out of every metric. */
    unknownHeldOut: number;
    /** Flows inside the training window that were not trained on (other labels): neither trained nor scored. */
    notScored: number;
  };
  /** Times of the first and last training flow (ISO 8601); null when nothing was trained. */
  trainedFrom: string | null;
  trainedUntil: string | null;
  overall: { rocAuc: number; prAuc: number; tprAtFpr0_1pct: number; tprAtFpr1pct: number } | null;
  /** Per family (detailedlabel) of the Malicious flows, each against all held-out Benign flows. */
  families: FamilyResult[];
  /** Attack flows by direction (from local_orig/local_resp, never a feature) and whether they were answered. */
  slices: ZeekSliceResult[];
  /** Share of each benign family's held-out flows above the threshold that flags 1 % of benign flows. */
  benignFamilies: { family: string; flows: number; flaggedAt1pctFpr: number }[];
  /** Features most often blamed by the forest's explanations on the 200 highest-scored attack flows. */
  topExplained: { feature: string; doc: string; share: number }[];
}

// 100 flows: below this a forest's sub-samples are tiny and the held-out benign reference is as thin.
const DEFAULT_MIN_TRAIN = 100;
// Fewer held-out benign flows than this make AUCs and FPR-based figures rest on a handful of flows.
const FEW_BENIGN = 30;
const NO_DETAIL = "(no detail)";

type Cls = "attack" | "benign" | "unknown";

function classOf(label: unknown): Cls {
  const l = typeof label === "string" ? label.trim().toLowerCase() : "";
  if (l === "malicious") return "attack";
  if (l === "benign") return "benign";
  return "unknown"; // Background, (empty), anything else
}

function num(v: unknown): number | null {
  return typeof v === "number" ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function connFields(r: ZeekRow): ZeekConnFields {
  return {
    duration: num(r.duration),
    orig_bytes: num(r.orig_bytes),
    resp_bytes: num(r.resp_bytes),
    orig_pkts: num(r.orig_pkts),
    resp_pkts: num(r.resp_pkts),
    orig_ip_bytes: num(r.orig_ip_bytes),
    resp_ip_bytes: num(r.resp_ip_bytes),
    missed_bytes: num(r.missed_bytes),
    proto: str(r.proto),
    conn_state: str(r.conn_state),
    history: str(r.history),
  };
}

/** Direction from Zeek's local_orig/local_resp (address-derived, so only for slicing results). */
function direction(r: ZeekRow): string {
  const lo = r.local_orig === true;
  const lr = r.local_resp === true;
  if (lo && lr) return "internal";
  if (lo) return "outbound";
  if (lr) return "inbound";
  return "not local";
}

function family(r: ZeekRow): string {
  const d = str(r.detailedlabel)?.trim();
  return d && d !== "-" ? d : NO_DETAIL;
}

function iso(ts: number): string {
  return new Date(ts * 1000).toISOString();
}

function count<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) {
    const k = key(t);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Evaluates an isolation forest on a labelled Zeek conn log (TSV or JSON, plain or gzipped). */
export async function evalZeekConn(
  path: string,
  opts: ZeekEvalOptions = {},
): Promise<Result<ZeekEvalReport, VigilError>> {
  const read = await readZeekLog(path);
  if (!read.ok) return read;
  const { header, rows: all, stats, format } = read.value;
  const fields = new Set(header.fields.length > 0 ? header.fields : Object.keys(all[0] ?? {}));
  const isConn = header.path === "conn" || (fields.has("conn_state") && fields.has("orig_pkts"));
  if (!isConn)
    return err(
      new VigilError(
        "usage",
        `${path} is not a Zeek conn log${header.path ? ` (#path ${header.path})` : ""}`,
        "evaluate a conn.log (the per-flow log); other Zeek logs have no flow sizes to score",
      ),
    );
  if (!fields.has("label"))
    return err(
      new VigilError(
        "usage",
        `${path} has no label column`,
        "use a labelled conn log (Stratosphere conn.log.labeled: label Malicious/Benign/Background, detailedlabel)",
      ),
    );
  const trainShare = opts.trainShare ?? 0.5;
  if (!(trainShare > 0 && trainShare < 1))
    return err(new VigilError("usage", `the training share must be between 0 and 1, got ${trainShare}`));
  const trainOn = opts.trainOn ?? "benign";
  const minTrain = opts.minTrain ?? DEFAULT_MIN_TRAIN;
  const notes: string[] = [];

  // Time order; rows without a time cannot be placed and are left out.
  const rows = all.filter((r) => typeof r.ts === "number");
  if (rows.length < all.length) notes.push(`${all.length - rows.length} rows have no ts and were left out`);
  rows.sort((a, b) => (a.ts as number) - (b.ts as number));
  const n = rows.length;
  const cls = rows.map((r) => classOf(r.label));
  const byLabel = count(rows, (r) => str(r.label) ?? "(unset)");

  // Training set: the earliest share of the pool; everything after its last flow is scored.
  const pool = rows.map((_, i) => i).filter((i) => trainOn === "all" || cls[i] === "benign");
  const nTrain = Math.floor(pool.length * trainShare);
  const trainIdx = pool.slice(0, nTrain);
  const lastTrain = trainIdx.length > 0 ? trainIdx[trainIdx.length - 1]! : -1;
  const trainingByLabel = count(trainIdx, (i) => str(rows[i]!.label) ?? "(unset)");
  const base = {
    detector: "iforest" as const,
    input: path,
    log: { format, rows: stats.rows, malformed: stats.malformed, capped: stats.capped },
    features: ZEEK_CONN_FEATURE_COUNT,
    trainOn,
  };
  if (nTrain < minTrain) {
    const what = trainOn === "benign" ? "Benign flows" : "flows";
    notes.push(
      `only ${nTrain} ${what} in the earliest ${Math.round(trainShare * 100)} % of ${pool.length} ${what}: too few to train on (at least ${minTrain}); nothing was trained or scored` +
        (trainOn === "benign"
          ? ". Training on later flows would score the past with a model of the future, so it is not done; --train-on all learns from the earliest flows whatever their label"
          : ""),
    );
    return ok({
      ...base,
      status: "insufficient_training",
      notes,
      rows: {
        total: n,
        byLabel,
        training: 0,
        trainingByLabel: {},
        scored: 0,
        attack: 0,
        benignHeldOut: 0,
        unknownHeldOut: 0,
        notScored: n,
      },
      trainedFrom: null,
      trainedUntil: null,
      overall: null,
      families: [],
      slices: [],
      benignFamilies: [],
      topExplained: [],
    });
  }

  const cols = ZEEK_CONN_FEATURE_COUNT;
  const x = new Float64Array(n * cols);
  rows.forEach((r, i) => {
    zeekConnFeatures(connFields(r), x, i * cols);
  });
  const train = new Float64Array(nTrain * cols);
  trainIdx.forEach((i, k) => {
    train.set(x.subarray(i * cols, (i + 1) * cols), k * cols);
  });
  const forest = IsolationForest.fit(train, nTrain, cols, {
    trees: opts.trees ?? 100,
    sampleSize: opts.sampleSize ?? 256,
    seed: opts.seed ?? 1,
  });

  const trained = new Set(trainIdx);
  const later: number[] = [];
  for (let i = lastTrain + 1; i < n; i++) later.push(i);
  const notScored = lastTrain + 1 - nTrain;
  const scoreOf = new Float64Array(n).fill(Number.NaN);
  for (const i of later) scoreOf[i] = forest.score(x, i * cols);
  const held = later.filter((i) => cls[i] !== "unknown");
  const unknownHeldOut = later.length - held.length;
  const scores = Float64Array.from(held, (i) => scoreOf[i]!);
  const y = Uint8Array.from(held, (i) => (cls[i] === "attack" ? 1 : 0));
  const attack = y.reduce((a, b) => a + b, 0);
  const benignHeldOut = held.length - attack;

  if (trainOn === "all") {
    const bad = (trainingByLabel.Malicious ?? 0) + (trainingByLabel.Background ?? 0);
    notes.push(
      `trained on the earliest ${nTrain} flows whatever their label (${Object.entries(trainingByLabel)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}): an unsupervised deployment's view, with ${bad} non-benign flows in training`,
    );
  }
  if (trained.size > 0 && notScored > 0)
    notes.push(
      `${notScored} flows inside the training window (other labels) were neither trained on nor scored`,
    );
  if (benignHeldOut < FEW_BENIGN)
    notes.push(
      `only ${benignHeldOut} held-out Benign flows: AUCs and rates at a false-positive rate rest on very few benign flows`,
    );
  if (attack === 0) notes.push("no Malicious flows after the training window: nothing to detect");

  const ranking = rankScores(scores, y);
  const at1 = ranking.tprAtFpr(0.01);
  const overall = {
    rocAuc: ranking.rocAuc(),
    prAuc: ranking.prAuc(),
    tprAtFpr0_1pct: ranking.tprAtFpr(0.001).tpr,
    tprAtFpr1pct: at1.tpr,
  };
  // Families: Malicious flows by detailedlabel, each against every held-out Benign flow.
  const BENIGN_KEY = "\u0000benign";
  const famOf = held.map((i) => (cls[i] === "attack" ? family(rows[i]!) : BENIGN_KEY));
  const families: FamilyResult[] = classVsNegative(scores, famOf, BENIGN_KEY).map((c) => ({
    family: c.name,
    flows: c.count,
    rocAuc: c.rocAuc,
    prAuc: c.prAuc,
  }));
  const sliceOf = held.map((i) => {
    if (cls[i] !== "attack") return BENIGN_KEY;
    const r = rows[i]!;
    return `${direction(r)}, ${(num(r.resp_pkts) ?? 0) > 0 ? "answered" : "unanswered"}`;
  });
  const slices: ZeekSliceResult[] = classVsNegative(scores, sliceOf, BENIGN_KEY).map((c) => ({
    slice: c.name,
    attack: c.count,
    rocAuc: c.rocAuc,
    prAuc: c.prAuc,
  }));
  const benignJ = held.map((_, j) => j).filter((j) => y[j] === 0);
  const benignFamilies = recallByClass(
    Float64Array.from(benignJ, (j) => scores[j]!),
    benignJ.map((j) => family(rows[held[j]!]!)),
    at1.threshold,
  )
    .map((c) => ({ family: c.name, flows: c.count, flaggedAt1pctFpr: c.recall }))
    .sort((a, b) => a.family.localeCompare(b.family));

  // Which features the forest blames for its most anomalous attack flows.
  const top = held
    .map((_, j) => j)
    .filter((j) => y[j] === 1)
    .sort((a, b) => scores[b]! - scores[a]!)
    .slice(0, 200);
  const blame = new Float64Array(cols);
  const contrib = new Float64Array(cols);
  for (const j of top) {
    forest.explain(x, held[j]! * cols, contrib);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += contrib[c]!;
    if (sum > 0) for (let c = 0; c < cols; c++) blame[c] += contrib[c]! / sum;
  }
  const topExplained = [...blame]
    .map((v, c) => ({
      feature: ZEEK_CONN_FEATURES[c]!.name,
      doc: ZEEK_CONN_FEATURES[c]!.doc,
      share: top.length > 0 ? v / top.length : 0,
    }))
    .sort((a, b) => b.share - a.share)
    .slice(0, 8);

  return ok({
    ...base,
    status: "ok",
    notes,
    rows: {
      total: n,
      byLabel,
      training: nTrain,
      trainingByLabel,
      scored: later.length,
      attack,
      benignHeldOut,
      unknownHeldOut,
      notScored,
    },
    trainedFrom: iso(rows[trainIdx[0]!]!.ts as number),
    trainedUntil: iso(rows[lastTrain]!.ts as number),
    overall,
    families,
    slices,
    benignFamilies,
    topExplained,
  });
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "-");
const auc = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : "-");

function counts(c: Record<string, number>): string {
  return Object.entries(c)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
}

/** The report as text for the terminal. */
export function formatZeekEval(r: ZeekEvalReport): string {
  const out = [
    `Vigil eval: isolation forest over ${r.features} conn-record features of ${r.input}`,
    `  log        ${r.log.format.toUpperCase()}, ${r.log.rows} rows (${counts(r.rows.byLabel)})${
      Object.keys(r.log.malformed).length > 0
        ? `; skipped lines: ${Object.entries(r.log.malformed)
            .map(([k, m]) => `${k} ${m!.count} (lines ${m!.firstLines.join(", ")})`)
            .join("; ")}`
        : "; no malformed lines"
    }`,
  ];
  if (r.status !== "ok") {
    out.push("  result     not measured", ...r.notes.map((n) => `  note       ${n}`));
    return out.join("\n");
  }
  const ro = r.rows;
  const o = r.overall!;
  out.push(
    `  training   ${ro.training} earliest ${r.trainOn === "benign" ? "Benign " : ""}flows (${counts(ro.trainingByLabel)}), ${r.trainedFrom} to ${r.trainedUntil}`,
    `  scored     ${ro.scored} later flows: ${ro.attack} Malicious, ${ro.benignHeldOut} Benign, ${ro.unknownHeldOut} Background/unlabelled (not in the metrics)`,
    `  overall    ROC AUC ${auc(o.rocAuc)}   PR AUC ${auc(o.prAuc)}   TPR at FPR 0.1 % ${pct(o.tprAtFpr0_1pct)}   at FPR 1 % ${pct(o.tprAtFpr1pct)}`,
  );
  const w = Math.max(6, ...r.families.map((f) => f.family.length), ...r.slices.map((s) => s.slice.length));
  out.push(
    "  per family (Malicious detailedlabel, against the held-out Benign flows)",
    `    ${"family".padEnd(w)}  ${"flows".padStart(6)}  ${"ROC AUC".padStart(8)}  ${"PR AUC".padStart(8)}`,
    ...r.families.map(
      (f) =>
        `    ${f.family.padEnd(w)}  ${String(f.flows).padStart(6)}  ${auc(f.rocAuc).padStart(8)}  ${auc(f.prAuc).padStart(8)}`,
    ),
    "  per direction (local_orig/local_resp) and answer, Malicious flows against the held-out Benign flows",
    ...r.slices.map(
      (s) =>
        `    ${s.slice.padEnd(w)}  ${String(s.attack).padStart(6)}  ${auc(s.rocAuc).padStart(8)}  ${auc(s.prAuc).padStart(8)}`,
    ),
    `  benign families flagged at the 1 % FPR threshold: ${r.benignFamilies.map((b) => `${b.family} ${pct(b.flaggedAt1pctFpr)} of ${b.flows}`).join(", ")}`,
    `  most blamed features (top attack flows): ${r.topExplained.map((t) => `${t.feature} ${pct(t.share)}`).join(", ")}`,
    ...r.notes.map((n) => `  note       ${n}`),
  );
  return out.join("\n");
}
