// Zeek field types and value conversion: TSV text or JSON values to numbers, booleans, strings and string arrays.
import { capString } from "../../core/index.ts";

/** One converted field: null for unset, string[] for sets and vectors. */
export type ZeekValue = number | string | boolean | null | string[];

/** A log row: field name → converted value. Null prototype, so a field named `__proto__` is just a key. */
export type ZeekRow = Record<string, ZeekValue>;

/** How a field is converted. Zeek types without a kind of their own (enum, pattern, func…) are strings. */
export type ZeekKind =
  | "time"
  | "interval"
  | "count"
  | "int"
  | "double"
  | "port"
  | "bool"
  | "addr"
  | "subnet"
  | "string";

/** A column type from `#types`, e.g. `set[string]` → { kind: "string", container: "set" }. */
export interface ZeekFieldType {
  /** The Zeek type name as written (capped). */
  name: string;
  /** Conversion of the value, or of each element of a container. */
  kind: ZeekKind;
  /** set/vector (and old `table[...]`) fields become string arrays. */
  container: "set" | "vector" | null;
}

/** Length caps for strings taken from a log (the values mirror schema/caps.ts; capture may not import schema). */
export interface ZeekCaps {
  /** Free text: strings, enums, URIs, user agents. Default 1024 (schema MAX_TEXT). */
  text: number;
  /** Addresses and subnets. Default 64 (schema MAX_ADDR: IPv6 text with zone). */
  addr: number;
  /** Elements kept per set/vector; the rest are dropped and counted as capped. */
  elements: number;
}

export const DEFAULT_ZEEK_CAPS: Readonly<ZeekCaps> = { text: 1024, addr: 64, elements: 256 };

const KINDS: Record<string, ZeekKind> = {
  time: "time",
  interval: "interval",
  count: "count",
  counter: "count", // Bro 1.x name of count
  int: "int",
  double: "double",
  port: "port",
  bool: "bool",
  addr: "addr",
  subnet: "subnet",
};

/** Parses one `#types` entry; unknown and exotic types read as strings. */
export function parseFieldType(raw: string): ZeekFieldType {
  const name = capString(raw, 64);
  const m = /^(set|vector|table)\[(.*)\]$/.exec(raw);
  if (m) {
    return { name, kind: KINDS[m[2]!] ?? "string", container: m[1] === "vector" ? "vector" : "set" };
  }
  return { name, kind: KINDS[raw] ?? "string", container: null };
}

export const STRING_TYPE: ZeekFieldType = { name: "string", kind: "string", container: null };

/** Why a value could not be converted. */
export type BadValue = "bad_number" | "bad_bool";

const COUNT_RE = /^\d{1,20}$/;
const INT_RE = /^[-+]?\d{1,20}$/;
const REAL_RE = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?$/;
// ISO 8601 as Zeek writes it with json_timestamps = JSON::TS_ISO8601 (UTC, 'Z'); offsets are accepted too.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[-+]\d{2}:?\d{2})?$/;

/** Epoch seconds of an ISO 8601 time, keeping the sub-millisecond digits Date.parse would drop; NaN if invalid. */
export function parseIsoTime(s: string): number {
  const m = ISO_RE.exec(s);
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return Number.NaN;
  let t = Date.UTC(y, mo - 1, d, h, mi, se) / 1000;
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const off = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60;
    t -= sign * off;
  }
  return m[7] ? t + Number(`0${m[7]}`) : t;
}

/** Converts the text of a numeric field; NaN when it is not a number of that kind. */
export function parseNumber(s: string, kind: ZeekKind): number {
  switch (kind) {
    case "count":
      return COUNT_RE.test(s) ? Number(s) : Number.NaN;
    case "int":
      return INT_RE.test(s) ? Number(s) : Number.NaN;
    case "port": {
      if (!COUNT_RE.test(s)) return Number.NaN;
      const p = Number(s);
      return p <= 65535 ? p : Number.NaN;
    }
    default: {
      // time, interval, double
      if (!REAL_RE.test(s)) return kind === "time" ? parseIsoTime(s) : Number.NaN;
      const x = Number(s);
      return Number.isFinite(x) ? x : Number.NaN;
    }
  }
}

export function isNumericKind(kind: ZeekKind): boolean {
  return (
    kind === "time" ||
    kind === "interval" ||
    kind === "count" ||
    kind === "int" ||
    kind === "double" ||
    kind === "port"
  );
}

/** Counts what the caps cut, across a whole read. */
export interface CapCounter {
  capped: number;
}

export function capValue(s: string, kind: ZeekKind, caps: ZeekCaps, counter: CapCounter): string {
  const max = kind === "addr" || kind === "subnet" ? caps.addr : caps.text;
  if (s.length <= max) return s;
  counter.capped++;
  return capString(s, max);
}

const HEX = /^[0-9a-fA-F]{2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A run of escaped bytes as text: UTF-8 when it is valid UTF-8, else left escaped as written. */
function decodeRun(bytes: number[], written: string): string {
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return written;
  }
}

/**
 * Undoes Zeek's escaping: `\xHH` becomes the byte 0xHH. Runs of escaped bytes are decoded together as
 * UTF-8, so escaped multi-byte characters come back whole; a run that is not valid UTF-8 (binary junk
 * sent to a text protocol) stays escaped, so nothing is lost or replaced. Anything else, a lone
 * backslash included, is kept as written, as Zeek's own reader does.
 */
export function unescapeZeek(s: string): string {
  let i = s.indexOf("\\x");
  if (i < 0) return s;
  let out = s.slice(0, i);
  const bytes: number[] = [];
  let runStart = i;
  while (i < s.length) {
    if (s.charCodeAt(i) === 0x5c && s.charCodeAt(i + 1) === 0x78 && HEX.test(s.slice(i + 2, i + 4))) {
      if (bytes.length === 0) runStart = i;
      bytes.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
      continue;
    }
    if (bytes.length > 0) {
      out += decodeRun(bytes, s.slice(runStart, i));
      bytes.length = 0;
    }
    const next = s.indexOf("\\x", i + 1);
    const end = next < 0 ? s.length : next;
    out += s.slice(i, end);
    i = end;
  }
  if (bytes.length > 0) out += decodeRun(bytes, s.slice(runStart));
  return out;
}

/** Per-header settings a TSV value needs. */
export interface TsvSeparators {
  setSeparator: string;
  emptyField: string;
  unsetField: string;
}

/**
 * Converts one raw TSV field (still escaped) by its type. Unset → null; the empty marker → [] for a
 * container and "" for a string; a value equal to a marker was written with its first byte escaped, so
 * it is compared before unescaping. Returns a BadValue for text that is not of the type.
 */
export function convertTsvField(
  raw: string,
  t: ZeekFieldType,
  sep: TsvSeparators,
  caps: ZeekCaps,
  counter: CapCounter,
): ZeekValue | BadValue {
  if (raw === sep.unsetField) return null;
  if (t.container) {
    if (raw === sep.emptyField) return [];
    const parts = raw.split(sep.setSeparator);
    if (parts.length > caps.elements) {
      counter.capped++;
      parts.length = caps.elements;
    }
    return parts.map((p) => capValue(unescapeZeek(p), t.kind, caps, counter));
  }
  switch (t.kind) {
    case "bool":
      return raw === "T" ? true : raw === "F" ? false : "bad_bool";
    case "addr":
    case "subnet":
    case "string":
      if (raw === sep.emptyField) return "";
      return capValue(unescapeZeek(raw), t.kind, caps, counter);
    default: {
      const x = parseNumber(raw, t.kind);
      return Number.isNaN(x) ? "bad_number" : x;
    }
  }
}

/** A JSON value as an array of capped strings. */
function jsonArray(v: unknown[], kind: ZeekKind, caps: ZeekCaps, counter: CapCounter): string[] {
  const n = Math.min(v.length, caps.elements);
  if (v.length > n) counter.capped++;
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = capValue(jsonText(v[i]), kind, caps, counter);
  return out;
}

function jsonText(v: unknown): string {
  // Zeek's JSON writer, like its TSV writer, writes bytes that are not printable text as \xHH.
  if (typeof v === "string") return unescapeZeek(v);
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v) ?? "";
  return String(v);
}

/**
 * Converts one JSON value. With a known type it gets the same conversion as in TSV (time as an epoch
 * number or ISO string, numbers given as text parsed, bool as true/false or T/F); without one, numbers,
 * booleans and null are kept, strings unescaped (\xHH) and capped, arrays become string arrays and
 * objects capped JSON text.
 */
export function convertJsonField(
  v: unknown,
  t: ZeekFieldType | undefined,
  caps: ZeekCaps,
  counter: CapCounter,
): ZeekValue | BadValue {
  if (v === null || v === undefined) return null;
  if (!t) {
    if (typeof v === "number") return Number.isFinite(v) ? v : "bad_number";
    if (typeof v === "boolean") return v;
    if (Array.isArray(v)) return jsonArray(v, "string", caps, counter);
    return capValue(jsonText(v), "string", caps, counter);
  }
  if (t.container) {
    return Array.isArray(v) ? jsonArray(v, t.kind, caps, counter) : jsonArray([v], t.kind, caps, counter);
  }
  if (isNumericKind(t.kind)) {
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return "bad_number";
      if ((t.kind === "count" || t.kind === "port") && (v < 0 || !Number.isInteger(v))) return "bad_number";
      if (t.kind === "port" && v > 65535) return "bad_number";
      return v;
    }
    if (typeof v === "string") {
      const x = parseNumber(v, t.kind);
      return Number.isNaN(x) ? "bad_number" : x;
    }
    return "bad_number";
  }
  if (t.kind === "bool") {
    if (typeof v === "boolean") return v;
    if (v === "T" || v === "true") return true;
    if (v === "F" || v === "false") return false;
    return "bad_bool";
  }
  return capValue(jsonText(v), t.kind, caps, counter);
}
