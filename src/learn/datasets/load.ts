// loadDataset: reads a labelled flow table of a known source (given, or detected from its header) into a Dataset; datasetSchemaHash.
import { createHash } from "node:crypto";
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { cicPlan, type LoadOptions, nslKddPlan, unswPlan } from "./adapters.ts";
import { readHeader, readText, type Table } from "./csv.ts";
import { type RowPlan, readRows } from "./rows.ts";
import { CIC_FEATURES, DATASET_SOURCES, type DatasetSource, NSL_KDD_COLUMNS } from "./schemas.ts";
import type { Dataset } from "./types.ts";

// 2 GiB of text: the full improved CIC-IDS2017 (about 2 M flows) fits; the file is held in memory once.
const DEFAULT_MAX_BYTES = 2 ** 31;

const PROTOCOLS = new Set(["tcp", "udp", "icmp"]);

/** A headerless NSL-KDD file (the UNB originals): 43 (or 42 without `level`) fields, a protocol name second. */
function looksLikeNslKddRow(table: Table): boolean {
  const h = table.header;
  return (
    (h.length === NSL_KDD_COLUMNS.length || h.length === NSL_KDD_COLUMNS.length - 1) && PROTOCOLS.has(h[1])
  );
}

/** Treats the first line as data and names the columns as the UNB files' documentation does. */
function asHeaderless(table: Table): Table {
  const names = NSL_KDD_COLUMNS.slice(0, table.header.length);
  const bom =
    table.buf.length >= 3 && table.buf[0] === 0xef && table.buf[1] === 0xbb && table.buf[2] === 0xbf;
  return { ...table, header: names, dataStart: bom ? 3 : 0 };
}

/** The source whose columns the header has, or null. */
export function detectSource(header: readonly string[]): DatasetSource | null {
  const has = new Set(header);
  if (CIC_FEATURES.every((c) => has.has(c)) && has.has("Timestamp")) {
    if (has.has("Community ID") || has.has("uid")) return "vigil-flows";
    return has.has("Label") ? "cicids2017" : "vigil-flows";
  }
  if (has.has("attack_cat") && has.has("sttl")) return "unsw-nb15";
  if (has.has("protocol_type") && has.has("dst_host_srv_rerror_rate")) return "nsl-kdd";
  return null;
}

/**
 * Loads a labelled flow table (CSV or TSV, plain or gzip) as typed arrays. The source is `opts.source`
 * or detected from the header (a headerless NSL-KDD file by its shape). Identifier columns (ids, addresses,
 * ports, timestamps) are never features. Malformed lines are counted in `rejected` by reason and skipped;
 * errors are only for a file that cannot be read or is not a table of the source.
 */
export function loadDataset(path: string, opts: LoadOptions = {}): Result<Dataset, VigilError> {
  if (opts.source !== undefined && !(DATASET_SOURCES as readonly string[]).includes(opts.source)) {
    return err(
      new VigilError(
        "usage",
        `unknown dataset source "${String(opts.source).slice(0, 40)}"`,
        `use one of ${DATASET_SOURCES.join(", ")}, or leave it out to detect it from the header`,
      ),
    );
  }
  const text = readText(path, opts.maxBytes ?? DEFAULT_MAX_BYTES);
  if (!text.ok) return text;
  let table = readHeader(path, text.value.buf, text.value.truncated);
  let source = opts.source ?? detectSource(table.header);
  if (
    (source === null || source === "nsl-kdd") &&
    !table.header.includes("protocol_type") &&
    looksLikeNslKddRow(table)
  ) {
    source = "nsl-kdd";
    table = asHeaderless(table);
  }
  if (source === null) {
    return err(
      new VigilError(
        "usage",
        `cannot tell which dataset ${path} is: its header matches none of ${DATASET_SOURCES.join(", ")}`,
        "pass the source explicitly, or check that the first line is the header",
      ),
    );
  }
  let plan: Result<RowPlan, VigilError>;
  switch (source) {
    case "cicids2017":
    case "vigil-flows":
      plan = cicPlan(table, source, opts);
      break;
    case "unsw-nb15":
      plan = unswPlan(table, opts);
      break;
    case "nsl-kdd":
      plan = nslKddPlan(table, opts);
      break;
  }
  if (!plan.ok) return plan;
  return ok(readRows(table, plan.value));
}

/**
 * Feature family of a source: sources whose tables share a feature schema hash alike, so a model trained
 * on CIC-IDS2017 scores `vigil flows` output.
 */
const SCHEMA_FAMILY: Record<string, string> = { cicids2017: "cic", "vigil-flows": "cic" };

/** Whether a source's features are the CIC flow columns (those of Vigil's own flow records). */
export function hasCicFeatures(source: string): boolean {
  return SCHEMA_FAMILY[source] === "cic";
}

/**
 * A stable hash (sha256, hex) of what a model's inputs mean: the source's feature family, the feature names
 * in order, and each categorical column's index and levels. Classes, rows and path do not enter it. A model
 * should score only data whose hash equals its training set's.
 */
export function datasetSchemaHash(ds: Pick<Dataset, "source" | "featureNames" | "categorical">): string {
  const family = SCHEMA_FAMILY[ds.source] ?? ds.source;
  const cats = [...ds.categorical].sort((a, b) => a.index - b.index).map((c) => [c.index, c.levels]);
  return createHash("sha256")
    .update(JSON.stringify({ v: 1, family, features: ds.featureNames, categorical: cats }))
    .digest("hex");
}
