// The row loop shared by every adapter: numeric and categorical features, time, host keys and class per line; bad lines counted by reason.
import { capString } from "../../core/index.ts";
import { CsvCursor, type Table } from "./csv.ts";
import type { CategoricalFeature, Dataset } from "./types.ts";

/** A line that yields no row: counted under `rejected` (unreadable) or `dropped` (left out by an option). */
export interface Skip {
  readonly skip: "rejected" | "dropped";
  readonly reason: string;
}

export const BAD_LABEL: Skip = { skip: "rejected", reason: "bad_label" };

/** What an adapter tells the row loop about its columns. */
export interface RowPlan {
  source: string;
  featureNames: string[];
  /** Header index of each feature. */
  featureCols: number[];
  /** Levels per categorical feature index: fixed (encode with exactly these), or null to collect them. */
  categorical: Map<number, readonly string[] | null>;
  /** Header index of the UTC start time, or -1. */
  timeCol: number;
  /** Header indices of the source and destination host, or -1. */
  srcCol: number;
  dstCol: number;
  /** Class name of the current line, or why it yields no row. Called after the features parsed. */
  label: (cur: CsvCursor) => string | Skip;
  /**
   * Class order: a closed list (every label is one of them, in this order, rows or not), or the benign
   * class first (always listed) and the other labels sorted, or null for no benign class.
   */
  classes: { fixed: readonly string[] } | { benign: string | null };
  /** Name of the benign class, or null (unlabelled data). */
  benign: string | null;
}

// 1024 classes: the full improved CIC-IDS2017 has about 30 labels with the Attempted ones, NSL-KDD 40
// attack names; the cap keeps a hostile label column from growing the class table without bound.
export const MAX_CLASSES = 1024;
// 4096 levels per categorical column: UNSW-NB15 `proto` has 133 in the full data, NSL-KDD `service` 70.
export const MAX_LEVELS = 4096;
// 2^22 distinct hosts per file: far above any labelled set here (a few thousand), bounded memory.
export const MAX_HOSTS = 1 << 22;
// 64 characters for labels and levels: the longest real one ("Web Attack - SQL Injection - Attempted") has 38.
export const MAX_LABEL_CHARS = 64;
// 64 characters for a host: the longest IPv6 text with a zone id fits.
const MAX_HOST_CHARS = 64;

function bump(counts: Record<string, number>, reason: string): void {
  counts[reason] = (counts[reason] ?? 0) + 1;
}

/** An interning table of capped strings with a size cap; -1 when full. */
class Interner {
  readonly index = new Map<string, number>();
  readonly names: string[] = [];
  constructor(private readonly cap: number) {}
  /** Code of `s`, added if new; -1 when the table is full. */
  add(s: string): number {
    let c = this.index.get(s);
    if (c !== undefined) return c;
    if (this.names.length >= this.cap) return -1;
    c = this.names.length;
    this.index.set(s, c);
    this.names.push(s);
    return c;
  }
}

/** `first`, then the other `names` in code-unit order; remap[old code] = new code. */
function sortedRemap(names: string[], first: readonly string[] = []): { names: string[]; remap: Int32Array } {
  const rest = names.filter((n) => !first.includes(n)).sort();
  const out = [...first, ...rest];
  const pos = new Map(out.map((n, i) => [n, i]));
  return { names: out, remap: Int32Array.from(names, (n) => pos.get(n)!) };
}

/** Reads every data line of `table` under `plan` into a Dataset (never fails: bad lines are counted). */
export function readRows(table: Table, plan: RowPlan): Dataset {
  const { buf, header } = table;
  const ncols = header.length;
  const cols = plan.featureCols.length;
  const rejected: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  const capped: Record<string, number> = {};
  if (table.truncated) rejected.truncated_gzip = 1;

  // Capacity: the lines left, but at most one row per ncols bytes (an accepted line has ncols fields, so
  // ncols - 1 separators and an end), which bounds x by 4× the text whatever the file holds.
  let lines = 0;
  for (let i = buf.indexOf(0x0a, table.dataStart); i >= 0; i = buf.indexOf(0x0a, i + 1)) lines++;
  if (buf.length > table.dataStart && buf[buf.length - 1] !== 0x0a) lines++;
  const bytes = Math.max(0, buf.length - table.dataStart);
  const cap = Math.min(lines, Math.floor(bytes / Math.max(1, ncols)) + 1);
  let x = new Float32Array(cap * cols);
  let y = new Int32Array(cap);
  let time = plan.timeCol >= 0 ? new Float64Array(cap) : null;
  const withKeys = plan.srcCol >= 0 && plan.dstCol >= 0;
  let src = withKeys ? new Int32Array(cap) : null;
  let dst = withKeys ? new Int32Array(cap) : null;

  const fc = Int32Array.from(plan.featureCols);
  const isCat = new Uint8Array(cols);
  const catFeatures = [...plan.categorical.keys()].sort((a, b) => a - b);
  const catTables = new Map<number, Interner>();
  const catFixed = new Map<number, Map<string, number>>();
  for (const j of catFeatures) {
    isCat[j] = 1;
    const fixed = plan.categorical.get(j);
    if (fixed) catFixed.set(j, new Map(fixed.map((l, i) => [l, i])));
    else catTables.set(j, new Interner(MAX_LEVELS));
  }
  const fixedClasses = "fixed" in plan.classes ? new Map(plan.classes.fixed.map((c, i) => [c, i])) : null;
  const classes = new Interner(MAX_CLASSES);
  const openBenign = "benign" in plan.classes ? plan.classes.benign : null;
  if (openBenign !== null) classes.add(openBenign); // listed even without rows, and within the cap
  const hosts = new Interner(MAX_HOSTS);

  // Header column → numeric feature slot (-1: not a feature, or categorical), for the one-pass scan.
  const slots = new Int32Array(ncols).fill(-1);
  for (let j = 0; j < cols; j++) if (isCat[j] === 0) slots[fc[j]] = j;
  const cur = new CsvCursor(buf, table.sep, ncols);
  cur.seek(table.dataStart);
  let rows = 0;
  while (cur.nextLine()) {
    const base = rows * cols;
    cur.bad = false;
    let n = cur.scanLine(slots, x, base);
    if (n === -2) {
      // A quoted field: split first, then parse the numeric fields one by one.
      n = cur.split();
      if (n === ncols) for (let j = 0; j < cols; j++) if (isCat[j] === 0) x[base + j] = cur.num(fc[j]);
    }
    if (n !== ncols) {
      bump(rejected, n < 0 ? "bad_quote" : "field_count");
      continue;
    }
    if (cur.bad) {
      bump(rejected, "bad_number");
      continue;
    }
    let t = 0;
    if (time) {
      t = cur.time(plan.timeCol);
      if (Number.isNaN(t)) {
        bump(rejected, "bad_time");
        continue;
      }
    }
    const label = plan.label(cur);
    if (typeof label !== "string") {
      bump(label.skip === "rejected" ? rejected : dropped, label.reason);
      continue;
    }
    let cls: number;
    if (fixedClasses) {
      cls = fixedClasses.get(label) ?? -1;
      if (cls < 0) {
        bump(rejected, "bad_label");
        continue;
      }
    } else {
      cls = classes.add(label);
      if (cls < 0) {
        bump(rejected, "too_many_classes");
        continue;
      }
    }
    for (const j of catFeatures) {
      const c = fc[j];
      if (cur.blank(c)) {
        x[base + j] = Number.NaN;
        continue;
      }
      const s = capString(cur.str(c).trim(), MAX_LABEL_CHARS);
      const fixed = catFixed.get(j);
      let code: number;
      if (fixed) {
        code = fixed.get(s) ?? -1;
        if (code < 0) bump(capped, "unseen_level");
      } else {
        code = catTables.get(j)!.add(s);
        if (code < 0) bump(capped, "level_cap");
      }
      x[base + j] = code < 0 ? Number.NaN : code;
    }
    y[rows] = cls;
    if (time) time[rows] = t;
    if (src && dst) {
      src[rows] = hostCode(cur, plan.srcCol, hosts, capped);
      dst[rows] = hostCode(cur, plan.dstCol, hosts, capped);
    }
    rows++;
  }

  if (rows < cap) {
    x = x.slice(0, rows * cols);
    y = y.slice(0, rows);
    if (time) time = time.slice(0, rows);
    if (src) src = src.slice(0, rows);
    if (dst) dst = dst.slice(0, rows);
  }

  // Levels in code-unit order (fixed levels keep theirs), so equal level sets encode equally.
  const categorical: CategoricalFeature[] = [];
  for (const j of catFeatures) {
    const fixed = plan.categorical.get(j);
    if (fixed) {
      categorical.push({ index: j, levels: [...fixed] });
      continue;
    }
    const { names, remap } = sortedRemap(catTables.get(j)!.names);
    for (let r = 0; r < rows; r++) {
      const v = x[r * cols + j];
      if (!Number.isNaN(v)) x[r * cols + j] = remap[v];
    }
    categorical.push({ index: j, levels: names });
  }

  let classNames: string[];
  if (fixedClasses) {
    classNames = [...(plan.classes as { fixed: readonly string[] }).fixed];
  } else {
    const { names, remap } = sortedRemap(classes.names, openBenign === null ? [] : [openBenign]);
    for (let r = 0; r < rows; r++) y[r] = remap[y[r]];
    classNames = names;
  }

  const out: Dataset = {
    source: plan.source,
    path: table.path,
    featureNames: [...plan.featureNames],
    categorical,
    x,
    rows,
    cols,
    y,
    classes: classNames,
    benign: plan.benign === null ? -1 : classNames.indexOf(plan.benign),
    time,
    keys: src && dst ? { src, dst, hosts: hosts.names } : null,
    rejected,
  };
  if (Object.keys(dropped).length > 0) out.dropped = dropped;
  if (Object.keys(capped).length > 0) out.capped = capped;
  return out;
}

function hostCode(cur: CsvCursor, col: number, hosts: Interner, capped: Record<string, number>): number {
  if (cur.blank(col)) return -1;
  const code = hosts.add(capString(cur.str(col).trim(), MAX_HOST_CHARS));
  if (code < 0) bump(capped, "host_cap");
  return code;
}
