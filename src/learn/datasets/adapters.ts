// One adapter per dataset source: which header columns are features, categorical, time, hosts and label, and how a label becomes a class.
import { capString, err, ok, type Result, VigilError } from "../../core/index.ts";
import type { CsvCursor, Table } from "./csv.ts";
import { BAD_LABEL, MAX_LABEL_CHARS, type RowPlan, type Skip } from "./rows.ts";
import {
  CIC_BENIGN,
  CIC_FEATURES,
  type DatasetSource,
  NSL_KDD_BENIGN,
  NSL_KDD_BINARY,
  NSL_KDD_CATEGORICAL,
  NSL_KDD_CATEGORIES,
  NSL_KDD_CATEGORY,
  NSL_KDD_FEATURES,
  UNKNOWN_CLASS,
  UNSW_BENIGN,
  UNSW_BINARY,
  UNSW_CATEGORICAL,
  UNSW_FEATURES,
} from "./schemas.ts";
import type { Dataset } from "./types.ts";

/** Options of {@link loadDataset}; each adapter reads the ones that concern it. */
export interface LoadOptions {
  /** Dataset source; detected from the header when absent. */
  source?: DatasetSource;
  /**
   * cicids2017 (and a vigil-flows table with an `Attempted Category` column): what to do with flows of an
   * attack that did not carry it (`<attack> - Attempted`, or `Attempted Category` ≥ 0). "benign"
   * (default, the common convention) counts them as BENIGN; "own-class" keeps `<attack> - Attempted` as a
   * class of its own; "drop" leaves them out (counted in `dropped.attempted`).
   */
  attempted?: "benign" | "own-class" | "drop";
  /** unsw-nb15: classes from the binary `label` column (Normal/Attack) instead of `attack_cat`. Default false. */
  binary?: boolean;
  /**
   * nsl-kdd: "attack" keeps each attack name as a class, "category" groups them into normal, DoS, Probe,
   * R2L, U2R (default), "binary" into normal/attack.
   */
  grouping?: "attack" | "category" | "binary";
  /**
   * Encode the categorical columns with the levels of this dataset (a model's training set) instead of
   * collecting them, so codes mean the same; levels it lacks become NaN (counted in `capped.unseen_level`).
   */
  levelsFrom?: Pick<Dataset, "featureNames" | "categorical">;
  /** Most bytes of (decompressed) text read. Default 2 GiB. */
  maxBytes?: number;
}

const DROP_ATTEMPTED: Skip = { skip: "dropped", reason: "attempted" };
const UNKNOWN_ATTACK: Skip = { skip: "rejected", reason: "unknown_attack" };
const ATTEMPTED_SUFFIX = " - Attempted";

function columnIndex(table: Table): Map<string, number> {
  const m = new Map<string, number>();
  table.header.forEach((h, i) => {
    if (!m.has(h)) m.set(h, i);
  });
  return m;
}

function missingColumns(path: string, source: string, missing: string[], hint: string): VigilError {
  const shown = missing
    .slice(0, 5)
    .map((c) => `"${c}"`)
    .join(", ");
  const more = missing.length > 5 ? ` and ${missing.length - 5} more` : "";
  return new VigilError(
    "usage",
    `${path} is not a ${source} table: it lacks the column(s) ${shown}${more}`,
    hint,
  );
}

/** Feature columns, their categorical ones (with fixed levels from `levelsFrom`), or the missing names. */
function features(
  cols: Map<string, number>,
  names: readonly string[],
  categorical: readonly string[],
  opts: LoadOptions,
): { featureCols: number[]; categorical: Map<number, readonly string[] | null>; missing: string[] } {
  const missing = names.filter((n) => !cols.has(n));
  const featureCols = names.map((n) => cols.get(n) ?? -1);
  const cat = new Map<number, readonly string[] | null>();
  for (const c of categorical) {
    const j = names.indexOf(c);
    const from = opts.levelsFrom;
    const k = from ? from.featureNames.indexOf(c) : -1;
    const fixed = from?.categorical.find((f) => f.index === k)?.levels ?? null;
    cat.set(j, fixed);
  }
  return { featureCols, categorical: cat, missing };
}

function cleanLabel(s: string): string {
  return capString(s.trim(), MAX_LABEL_CHARS);
}

/**
 * cicids2017 and vigil-flows: the 81 CICFlowMeter columns by name; Timestamp → time, Src/Dst IP → keys,
 * the other identifiers ignored. cicids2017 needs `Label`; vigil-flows reads one if present, else every
 * row is class "unknown".
 */
export function cicPlan(
  table: Table,
  source: "cicids2017" | "vigil-flows",
  opts: LoadOptions,
): Result<RowPlan, VigilError> {
  const cols = columnIndex(table);
  const f = features(cols, CIC_FEATURES, [], opts);
  const need = ["Timestamp", "Src IP", "Dst IP", ...(source === "cicids2017" ? ["Label"] : [])];
  const missing = [...need.filter((c) => !cols.has(c)), ...f.missing];
  if (missing.length > 0) {
    return err(
      missingColumns(
        table.path,
        source,
        missing,
        source === "cicids2017"
          ? "use the improved CIC-IDS2017 CSV (original-release column names differ)"
          : "use the CSV or TSV that `vigil flows --schema cic` writes",
      ),
    );
  }
  const labelCol = cols.get("Label") ?? -1;
  const attemptedCol = cols.get("Attempted Category") ?? -1;
  const mode = opts.attempted ?? "benign";
  const label = (cur: CsvCursor): string | Skip => {
    if (labelCol < 0) return UNKNOWN_CLASS;
    const raw = cur.str(labelCol).trim();
    if (raw === "") return BAD_LABEL;
    if (raw.toLowerCase() === "benign") return CIC_BENIGN;
    let attempted = raw.endsWith(ATTEMPTED_SUFFIX);
    if (!attempted && attemptedCol >= 0) {
      attempted = cur.num(attemptedCol) >= 0;
      cur.bad = false; // a broken Attempted Category reads as "not attempted"
    }
    if (!attempted) return cleanLabel(raw);
    if (mode === "benign") return CIC_BENIGN;
    if (mode === "drop") return DROP_ATTEMPTED;
    return cleanLabel(raw.endsWith(ATTEMPTED_SUFFIX) ? raw : `${raw}${ATTEMPTED_SUFFIX}`);
  };
  const labelled = labelCol >= 0;
  return ok({
    source,
    featureNames: [...CIC_FEATURES],
    featureCols: f.featureCols,
    categorical: f.categorical,
    timeCol: cols.get("Timestamp")!,
    srcCol: cols.get("Src IP")!,
    dstCol: cols.get("Dst IP")!,
    label,
    classes: { benign: labelled ? CIC_BENIGN : null },
    benign: labelled ? CIC_BENIGN : null,
  });
}

/** unsw-nb15: 42 features (`id` dropped; proto, service, state categorical); classes from attack_cat or label. */
export function unswPlan(table: Table, opts: LoadOptions): Result<RowPlan, VigilError> {
  const cols = columnIndex(table);
  const f = features(cols, UNSW_FEATURES, UNSW_CATEGORICAL, opts);
  const missing = [...["attack_cat", "label"].filter((c) => !cols.has(c)), ...f.missing];
  if (missing.length > 0) {
    return err(
      missingColumns(table.path, "unsw-nb15", missing, "use the UNSW-NB15 training/testing-set CSV"),
    );
  }
  const catCol = cols.get("attack_cat")!;
  const binCol = cols.get("label")!;
  const binary = opts.binary === true;
  const label = (cur: CsvCursor): string | Skip => {
    const b = cur.str(binCol).trim();
    if (binary) return b === "0" ? UNSW_BINARY[0] : b === "1" ? UNSW_BINARY[1] : BAD_LABEL;
    const cat = cur.str(catCol).trim();
    // The raw UNSW-NB15 CSVs leave attack_cat empty on normal rows.
    if (cat === "") return b === "0" ? UNSW_BENIGN : BAD_LABEL;
    return cat.toLowerCase() === "normal" ? UNSW_BENIGN : cleanLabel(cat);
  };
  return ok({
    source: "unsw-nb15",
    featureNames: [...UNSW_FEATURES],
    featureCols: f.featureCols,
    categorical: f.categorical,
    timeCol: -1,
    srcCol: -1,
    dstCol: -1,
    label,
    classes: binary ? { fixed: UNSW_BINARY } : { benign: UNSW_BENIGN },
    benign: UNSW_BENIGN,
  });
}

/** nsl-kdd: 41 features (protocol_type, service, flag categorical); `level` is never a feature. */
export function nslKddPlan(table: Table, opts: LoadOptions): Result<RowPlan, VigilError> {
  const cols = columnIndex(table);
  const f = features(cols, NSL_KDD_FEATURES, NSL_KDD_CATEGORICAL, opts);
  const missing = [...(cols.has("attack") ? [] : ["attack"]), ...f.missing];
  if (missing.length > 0) {
    return err(
      missingColumns(table.path, "nsl-kdd", missing, "use KDDTrain+/KDDTest+ (with or without header)"),
    );
  }
  const attackCol = cols.get("attack")!;
  const grouping = opts.grouping ?? "category";
  const label = (cur: CsvCursor): string | Skip => {
    let name = cur.str(attackCol).trim();
    if (name.endsWith(".")) name = name.slice(0, -1); // KDD'99 writes "normal."
    if (name === "") return BAD_LABEL;
    if (grouping === "attack") return cleanLabel(name);
    const lower = name.toLowerCase();
    if (grouping === "binary") return lower === NSL_KDD_BENIGN ? NSL_KDD_BINARY[0] : NSL_KDD_BINARY[1];
    return Object.hasOwn(NSL_KDD_CATEGORY, lower) ? NSL_KDD_CATEGORY[lower] : UNKNOWN_ATTACK;
  };
  return ok({
    source: "nsl-kdd",
    featureNames: [...NSL_KDD_FEATURES],
    featureCols: f.featureCols,
    categorical: f.categorical,
    timeCol: -1,
    srcCol: -1,
    dstCol: -1,
    label,
    classes:
      grouping === "category"
        ? { fixed: NSL_KDD_CATEGORIES }
        : grouping === "binary"
          ? { fixed: NSL_KDD_BINARY }
          : { benign: NSL_KDD_BENIGN },
    benign: NSL_KDD_BENIGN,
  });
}
