// `vigil eval --detector iforest <flows.csv>`: the isolation-forest plugin over the CIC flow features of
// a labelled flow CSV, trained and calibrated on the earliest benign flows (time order), scored on every
// other flow, per attack family.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { err, ok, type Result, VigilError } from "../core/index.ts";
import type { IForestDetectorConfig } from "../detect/index.ts";
import { CIC_COLUMNS } from "../flows/index.ts";
import { type CaptureFlowEvalReport, scoreIForest, type TypedFlow } from "./eval-capture-flows.ts";
import { BENIGN } from "./labels.ts";

export interface FlowEvalOptions {
  /** Column holding the class ("BENIGN" or the attack name). */
  labelColumn?: string;
  /** Value of the label column for benign rows. */
  benignLabel?: string;
  /** Share of benign rows, earliest first, that train (4/5) and calibrate (1/5) the detector. */
  trainShare?: number;
  /** Detector settings (trees, sample size, seed, threshold method, …). */
  iforest?: Partial<IForestDetectorConfig>;
}

/** Per-family figures (also the Zeek conn-log evaluation's). */
export interface FamilyResult {
  family: string;
  flows: number;
  rocAuc: number;
  prAuc: number;
}

// Of the benign training pool, this share grows the forest; the later rest calibrates its threshold.
const GROW_SHARE = 0.8;

/** Splits one CSV line on commas (the CIC files have no quoted fields). */
function splitCsv(line: string): string[] {
  return line.split(",");
}

/** Evaluates the isolation-forest detector on a CIC-IDS2017-style flow CSV (plain or gzipped). */
export function evalIsolationForest(
  path: string,
  opts: FlowEvalOptions = {},
): Result<CaptureFlowEvalReport, VigilError> {
  const t0 = performance.now();
  let text: string;
  try {
    const buf = readFileSync(path);
    text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString("utf8");
  } catch (e) {
    return err(new VigilError("input.not_found", `cannot read ${path}: ${(e as Error).message}`));
  }
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = splitCsv(lines.shift() ?? "").map((h) => h.trim().replace(/^\uFEFF/, ""));
  const labelName = opts.labelColumn ?? "Label";
  const labelCol = header.indexOf(labelName);
  const tsCol = header.indexOf("Timestamp");
  // Identifiers (addresses, ports, flow ids, timestamps) are never features: only the CIC columns.
  const featCols = CIC_COLUMNS.map((c) => header.indexOf(c));
  if (labelCol < 0 || tsCol < 0 || featCols.some((c) => c < 0)) {
    return err(
      new VigilError(
        "usage",
        `${path} is not a CIC flow table: it needs Timestamp, ${labelName} and the ${CIC_COLUMNS.length} CICFlowMeter columns`,
        "use a CIC-IDS2017 (improved) CSV or `vigil flows --schema cic` output with a label column",
      ),
    );
  }
  const benign = opts.benignLabel ?? "BENIGN";
  const rows: TypedFlow[] = [];
  let bad = 0;
  for (const line of lines) {
    const f = splitCsv(line);
    const label = (f[labelCol] ?? "").trim();
    const ms = Date.parse(`${(f[tsCol] ?? "").trim().replace(" ", "T")}Z`);
    if (!Number.isFinite(ms)) bad++;
    rows.push({
      startUs: ms * 1000,
      cic: Float64Array.from(featCols, (c) => Number(f[c])),
      type: label === benign ? BENIGN : label,
    });
  }
  if (bad > 0)
    return err(new VigilError("input.corrupt", `${path}: ${bad} rows have an unreadable Timestamp`));
  // Time order; the earliest share of benign rows trains and calibrates, in that order, before all else.
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.startUs - rows[b]!.startUs || a - b);
  const benignIdx = order.filter((i) => rows[i]!.type === BENIGN);
  const pool = Math.max(26, Math.floor(benignIdx.length * (opts.trainShare ?? 0.5)));
  if (benignIdx.length < pool)
    return err(
      new VigilError(
        "usage",
        `${path}: ${benignIdx.length} ${benign} rows; the forest needs at least ${pool}`,
      ),
    );
  const nTrain = Math.max(16, Math.floor(pool * GROW_SHARE));
  const inPool = new Set(benignIdx.slice(0, pool));
  const feed = [...benignIdx.slice(0, pool), ...order.filter((i) => !inPool.has(i))].map((i) => rows[i]!);
  const last = rows[benignIdx[pool - 1]!]!.startUs;
  return ok({
    ...scoreIForest(feed, nTrain, pool - nTrain, opts.iforest ?? {}),
    input: path,
    labels: `${labelName} column`,
    labelRule: `${benign} rows are benign, every other ${labelName} value is an attack family`,
    flows: {
      total: rows.length,
      leadIn: pool,
      leadInSeconds: (last - rows[benignIdx[0]!]!.startUs) / 1e6,
      pool: `the earliest ${pool} ${benign} rows (until ${new Date(last / 1000).toISOString()}) train (${nTrain}) and calibrate (${pool - nTrain}); all later rows are scored`,
    },
    elapsedS: (performance.now() - t0) / 1000,
  });
}
