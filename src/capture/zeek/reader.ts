// Streaming Zeek log reader: TSV (#separator/#fields/#types headers) or JSON lines, plain or gzipped, to typed rows.
import { createReadStream, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { err, fileError, ok, type Result, VigilError } from "../../core/index.ts";
import { JSON_FIELD_TYPES } from "./json-types.ts";
import { pathFromKeys } from "./log-kind.ts";
import {
  type BadValue,
  type CapCounter,
  convertJsonField,
  convertTsvField,
  DEFAULT_ZEEK_CAPS,
  parseFieldType,
  STRING_TYPE,
  unescapeZeek,
  type ZeekCaps,
  type ZeekFieldType,
  type ZeekRow,
  type ZeekValue,
} from "./values.ts";

/** Why a line was skipped. Each is counted, with the first few line numbers. */
export type ZeekMalformedReason =
  | "field_count" // TSV row with more or fewer fields than #fields names
  | "bad_number" // a time/interval/count/int/double/port field that is not a number of that kind
  | "bad_bool" // a bool field that is not T/F (true/false in JSON)
  | "invalid_json" // a JSON-log line that does not parse
  | "json_not_object" // a JSON-log line that parses to something other than an object
  | "too_many_fields" // a row or #fields line over the field cap
  | "line_too_long" // a line over maxLineBytes (dropped without being held in memory)
  | "no_header" // a TSV data line before any #fields line
  | "bad_header" // a header line that cannot be used (#types count differs from #fields, bad #separator)
  | "read_error"; // the file or its gzip stream failed part way; reading stopped there

export const ZEEK_MALFORMED_REASONS: readonly ZeekMalformedReason[] = [
  "field_count",
  "bad_number",
  "bad_bool",
  "invalid_json",
  "json_not_object",
  "too_many_fields",
  "line_too_long",
  "no_header",
  "bad_header",
  "read_error",
];

/** Count of one reason and the first line numbers (1-based, of the decompressed text). */
export interface ZeekMalformed {
  count: number;
  firstLines: number[];
}

export interface ZeekReadStats {
  /** Lines seen (header, data, blank and malformed). */
  lines: number;
  /** Rows delivered. */
  rows: number;
  /** Usable `#` lines of a TSV log (an unusable one is counted as malformed instead). */
  headerLines: number;
  blankLines: number;
  /** Bytes of (decompressed) text read. */
  bytes: number;
  /** Strings cut to their cap and containers cut to their element cap. */
  capped: number;
  /** Skipped lines by reason; reasons that never occurred are absent. */
  malformed: Partial<Record<ZeekMalformedReason, ZeekMalformed>>;
}

/** Header state of a TSV log (the latest block, if the file holds several). */
export interface ZeekHeader {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  /** `#path` (conn, dns, …); for JSON, `_path` or a guess from the first row's fields. */
  path: string | null;
  open: string | null;
  close: string | null;
  fields: string[];
  types: ZeekFieldType[];
}

export interface ZeekReadOptions {
  /** Rows per batch from next(). Default 1024. */
  batchSize?: number;
  /** Longest line accepted, in bytes. Default 1 MiB. */
  maxLineBytes?: number;
  /** Most fields per row. Default 1024. */
  maxFields?: number;
  /** Line numbers kept per malformed reason. Default 5. */
  keepLineNumbers?: number;
  /** String and container caps. */
  caps?: Partial<ZeekCaps>;
  /** Bytes per read from the file (tests use small reads to split lines across chunks). Default 256 KiB. */
  readChunkBytes?: number;
}

/** A pull reader of typed rows. */
export interface ZeekLogReader {
  /** TSV or JSON, decided by the first non-blank line. */
  readonly format: "tsv" | "json";
  /** The file was gzip-compressed. */
  readonly compressed: boolean;
  /** Header of the current TSV block, or for JSON the separators' defaults and the guessed path. */
  readonly header: ZeekHeader;
  readonly stats: ZeekReadStats;
  /** The next rows (at most batchSize), or null at the end. Never throws on bad input. */
  next(): Promise<ZeekRow[] | null>;
  /** Every remaining row, one at a time. */
  rows(): AsyncGenerator<ZeekRow>;
  close(): Promise<void>;
}

// 1 MiB: some hundred times the longest line of a real http.log, small enough that a file with no
// newline at all cannot exhaust memory.
const DEFAULT_MAX_LINE = 1024 * 1024;
// 1024 fields: Zeek's widest standard logs have under 60 columns.
const DEFAULT_MAX_FIELDS = 1024;
const DEFAULT_BATCH = 1024;
const READ_CHUNK = 256 * 1024;

function defaultHeader(): ZeekHeader {
  return {
    separator: "\t",
    setSeparator: ",",
    emptyField: "(empty)",
    unsetField: "-",
    path: null,
    open: null,
    close: null,
    fields: [],
    types: [],
  };
}

/** Decodes a `#separator` value: `\x09` escapes or the literal text. */
function decodeSeparator(s: string): string {
  return unescapeZeek(s.trim());
}

class Reader implements ZeekLogReader {
  format: "tsv" | "json" = "tsv";
  readonly header: ZeekHeader = defaultHeader();
  readonly stats: ZeekReadStats = {
    lines: 0,
    rows: 0,
    headerLines: 0,
    blankLines: 0,
    bytes: 0,
    capped: 0,
    malformed: {},
  };
  private formatKnown = false;
  private readonly caps: ZeekCaps;
  private readonly counter: CapCounter = { capped: 0 };
  private readonly maxLine: number;
  private readonly maxFields: number;
  private readonly keepLines: number;
  private readonly batchSize: number;
  private readonly decoder = new TextDecoder("utf-8");
  private carry: Uint8Array[] = [];
  private carryLen = 0;
  private skipping = false;
  private ended = false;
  private closed = false;
  private pending: ZeekRow[] = [];
  private readonly iter: AsyncIterator<Buffer>;

  constructor(
    private readonly stream: Readable,
    readonly compressed: boolean,
    opts: ZeekReadOptions,
  ) {
    this.caps = { ...DEFAULT_ZEEK_CAPS, ...opts.caps };
    this.maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
    this.maxFields = opts.maxFields ?? DEFAULT_MAX_FIELDS;
    this.keepLines = opts.keepLineNumbers ?? 5;
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
    this.iter = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async next(): Promise<ZeekRow[] | null> {
    while (this.pending.length < this.batchSize && !this.ended) {
      let chunk: Buffer | undefined;
      try {
        const r = await this.iter.next();
        if (r.done) {
          this.finish();
          break;
        }
        chunk = r.value;
      } catch {
        // A truncated or corrupt gzip stream, or an I/O error: keep what was read, report, stop.
        this.malformed("read_error", this.stats.lines + 1);
        this.finish();
        break;
      }
      if (chunk && !this.closed) this.feed(chunk);
    }
    this.stats.capped = this.counter.capped;
    if (this.pending.length === 0) return null;
    if (this.pending.length > this.batchSize) return this.pending.splice(0, this.batchSize);
    const out = this.pending;
    this.pending = [];
    return out;
  }

  async *rows(): AsyncGenerator<ZeekRow> {
    for (;;) {
      const b = await this.next();
      if (b === null) return;
      yield* b;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.carry = [];
    this.stream.destroy();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.skipping) {
      this.stats.lines++;
      this.malformed("line_too_long", this.stats.lines);
      this.skipping = false;
    } else if (this.carryLen > 0) {
      this.line(this.joinCarry(null, 0, 0));
    }
    this.carry = [];
    this.carryLen = 0;
    this.stats.capped = this.counter.capped;
  }

  /** Splits a chunk into lines; an over-long line is dropped as it streams by, never buffered whole. */
  private feed(chunk: Uint8Array): void {
    this.stats.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) {
        const rest = chunk.length - start;
        if (rest === 0 || this.skipping) return;
        if (this.carryLen + rest > this.maxLine) {
          this.skipping = true;
          this.carry = [];
          this.carryLen = 0;
        } else {
          this.carry.push(chunk.subarray(start));
          this.carryLen += rest;
        }
        return;
      }
      if (this.skipping) {
        this.skipping = false;
        this.stats.lines++;
        this.malformed("line_too_long", this.stats.lines);
      } else if (this.carryLen + (nl - start) > this.maxLine) {
        this.carry = [];
        this.carryLen = 0;
        this.stats.lines++;
        this.malformed("line_too_long", this.stats.lines);
      } else {
        this.line(this.joinCarry(chunk, start, nl));
      }
      start = nl + 1;
    }
  }

  private joinCarry(chunk: Uint8Array | null, start: number, end: number): string {
    let bytes: Uint8Array;
    if (this.carryLen === 0) bytes = chunk ? chunk.subarray(start, end) : new Uint8Array(0);
    else {
      bytes = new Uint8Array(this.carryLen + (chunk ? end - start : 0));
      let o = 0;
      for (const c of this.carry) {
        bytes.set(c, o);
        o += c.length;
      }
      if (chunk) bytes.set(chunk.subarray(start, end), o);
      this.carry = [];
      this.carryLen = 0;
    }
    let n = bytes.length;
    if (n > 0 && bytes[n - 1] === 0x0d) n--;
    return this.decoder.decode(bytes.subarray(0, n));
  }

  private malformed(reason: ZeekMalformedReason, line: number): void {
    let m = this.stats.malformed[reason];
    if (!m) {
      m = { count: 0, firstLines: [] };
      this.stats.malformed[reason] = m;
    }
    m.count++;
    if (m.firstLines.length < this.keepLines) m.firstLines.push(line);
  }

  private line(text: string): void {
    const no = ++this.stats.lines;
    if (text.length === 0 || /^\s*$/.test(text)) {
      this.stats.blankLines++;
      return;
    }
    if (!this.formatKnown) {
      this.formatKnown = true;
      this.format = text.trimStart().startsWith("{") ? "json" : "tsv";
    }
    if (this.format === "json") this.jsonLine(text, no);
    else if (text.charCodeAt(0) === 0x23 /* # */) {
      if (this.headerLine(text, no)) this.stats.headerLines++;
    } else this.tsvLine(text, no);
  }

  /** Applies one `#` line; false (and counted as malformed) when it cannot be used. */
  private headerLine(text: string, no: number): boolean {
    const h = this.header;
    if (text.startsWith("#separator")) {
      // The one header line that cannot use the separator it declares: "#separator \x09".
      const sep = decodeSeparator(text.slice("#separator".length));
      if (sep.length === 0) return this.badHeader("bad_header", no);
      h.separator = sep;
      return true;
    }
    const parts = text.split(h.separator);
    const key = parts[0];
    const value = unescapeZeek(parts.slice(1).join(h.separator));
    switch (key) {
      case "#set_separator":
        if (value.length === 0) return this.badHeader("bad_header", no);
        h.setSeparator = value;
        return true;
      case "#empty_field":
        h.emptyField = value;
        return true;
      case "#unset_field":
        h.unsetField = value;
        return true;
      case "#path":
        h.path = value.slice(0, 64);
        return true;
      case "#open":
        h.open = value.slice(0, 64);
        h.close = null;
        return true;
      case "#close":
        h.close = value.slice(0, 64);
        return true;
      case "#fields": {
        const names = parts.slice(1);
        if (names.length > this.maxFields) {
          h.fields = [];
          h.types = [];
          return this.badHeader("too_many_fields", no);
        }
        h.fields = names.map((n) => unescapeZeek(n).slice(0, 256));
        h.types = h.fields.map(() => STRING_TYPE);
        return true;
      }
      case "#types": {
        const types = parts.slice(1);
        if (types.length !== h.fields.length) {
          // Without matching types every column reads as a string rather than being guessed.
          h.types = h.fields.map(() => STRING_TYPE);
          return this.badHeader("bad_header", no);
        }
        h.types = types.map(parseFieldType);
        return true;
      }
      default:
        return true; // other # lines are comments
    }
  }

  private badHeader(reason: ZeekMalformedReason, no: number): false {
    this.malformed(reason, no);
    return false;
  }

  private tsvLine(text: string, no: number): void {
    const h = this.header;
    if (h.fields.length === 0) {
      this.malformed("no_header", no);
      return;
    }
    const raw = text.split(h.separator, h.fields.length + 1);
    if (raw.length !== h.fields.length) {
      this.malformed("field_count", no);
      return;
    }
    const row: ZeekRow = Object.create(null);
    for (let i = 0; i < raw.length; i++) {
      const v = convertTsvField(raw[i]!, h.types[i]!, h, this.caps, this.counter);
      if (isBad(v)) {
        this.malformed(v, no);
        return;
      }
      row[h.fields[i]!] = v;
    }
    this.deliver(row);
  }

  private jsonLine(text: string, no: number): void {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      this.malformed("invalid_json", no);
      return;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      this.malformed("json_not_object", no);
      return;
    }
    const src = obj as Record<string, unknown>;
    const keys = Object.keys(src);
    if (keys.length > this.maxFields) {
      this.malformed("too_many_fields", no);
      return;
    }
    if (this.header.path === null && this.stats.rows === 0) this.header.path = pathFromKeys(src);
    const row: ZeekRow = Object.create(null);
    for (const k of keys) {
      const v = convertJsonField(src[k], JSON_FIELD_TYPES.get(k), this.caps, this.counter);
      if (isBad(v)) {
        this.malformed(v, no);
        return;
      }
      row[k.length > 256 ? k.slice(0, 256) : k] = v;
    }
    this.deliver(row);
  }

  private deliver(row: ZeekRow): void {
    this.stats.rows++;
    this.pending.push(row);
  }
}

function isBad(v: ZeekValue | BadValue): v is BadValue {
  return v === "bad_number" || v === "bad_bool";
}

/**
 * Opens a Zeek log (TSV or JSON lines, plain or gzip by magic bytes) for streaming. Fails only when the
 * file cannot be opened; everything wrong inside it is counted in `stats.malformed`.
 */
export async function openZeekLog(
  path: string,
  opts: ZeekReadOptions = {},
): Promise<Result<ZeekLogReader, VigilError>> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    return err(fileError(path, e));
  }
  if (st.isDirectory())
    return err(
      new VigilError("input.unreadable", `${path} is a directory`, "give one Zeek log file (conn.log, …)"),
    );
  let magic: Uint8Array;
  try {
    const fh = await open(path, "r");
    try {
      const b = new Uint8Array(2);
      const { bytesRead } = await fh.read(b, 0, 2, 0);
      magic = b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    return err(fileError(path, e));
  }
  const gz = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  const file = createReadStream(path, { highWaterMark: Math.max(1, opts.readChunkBytes ?? READ_CHUNK) });
  let stream: Readable = file;
  if (gz) {
    const gunzip = createGunzip({ chunkSize: READ_CHUNK });
    // Errors of either stream end the pipeline; the reader sees them as a failed read.
    stream = pipeline(file, gunzip, () => undefined);
  }
  return ok(new Reader(stream, gz, opts));
}

/** Reads a whole Zeek log into memory (for evaluation and tests; stream with openZeekLog otherwise). */
export async function readZeekLog(
  path: string,
  opts: ZeekReadOptions = {},
): Promise<
  Result<{ header: ZeekHeader; format: "tsv" | "json"; rows: ZeekRow[]; stats: ZeekReadStats }, VigilError>
> {
  const r = await openZeekLog(path, opts);
  if (!r.ok) return r;
  const reader = r.value;
  const rows: ZeekRow[] = [];
  for (;;) {
    const b = await reader.next();
    if (b === null) break;
    for (const row of b) rows.push(row);
  }
  await reader.close();
  return ok({ header: reader.header, format: reader.format, rows, stats: reader.stats });
}

/** Total of skipped lines over all reasons. */
export function malformedTotal(stats: ZeekReadStats): number {
  let n = 0;
  for (const m of Object.values(stats.malformed)) n += m?.count ?? 0;
  return n;
}
