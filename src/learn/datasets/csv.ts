// Byte-level CSV/TSV reading for the dataset adapters: the whole (gunzipped) file in one Buffer, fields found by offset, numbers parsed from bytes.
import { readFileSync, statSync } from "node:fs";
import { gunzipSync, constants as zlibConstants } from "node:zlib";
import { capString, err, fileError, ok, type Result, VigilError } from "../../core/index.ts";

/** A decoded table file: its bytes, separator, header names and where the data rows begin. */
export interface Table {
  path: string;
  buf: Buffer;
  /** 0x2c (comma) or 0x09 (tab). */
  sep: number;
  /** Column names (trimmed, BOM removed); for a headerless file, names supplied by its adapter. */
  header: string[];
  /** Byte offset of the first data line. */
  dataStart: number;
  /** The gzip stream ended early; the rows before the cut were kept. */
  truncated: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;

// 64 KiB to 64 MiB output chunks for gunzip: zlib's minimum is 64 bytes, its default 16 KiB.
const MIN_GZIP_CHUNK = 64 * 1024;
const MAX_GZIP_CHUNK = 64 * 1024 * 1024;
// Deflate expands at most about 1032:1, so a trailer claiming more than that is a lie.
const DEFLATE_MAX_RATIO = 1032;
// 4096 columns: the widest table here (CIC-IDS2017) has 91; far more is not a flow table.
const MAX_COLUMNS = 4096;
// 128 characters per column name: the longest real one ("Total Length of Fwd Packet") has 26.
const MAX_COLUMN_NAME = 128;
// 2^-48: a bound on the relative error of a ≤ 19-digit mantissa accumulated in doubles (≤ 8 roundings
// past 2^53) and one scaling, with room to spare.
const NEAR = 2 ** -48;
// 1e22 is the largest power of ten that is an exact double: the limit of the exact fast path below.
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

function tooLarge(path: string, maxBytes: number): VigilError {
  return new VigilError(
    "input.unreadable",
    `${path} holds more than ${maxBytes} bytes of text, the dataset loader's limit`,
    "raise the maxBytes option, or split the file",
  );
}

/**
 * Reads a plain or gzip file (detected by its magic bytes) into memory, at most `maxBytes` of text. A gzip
 * stream that ends early keeps what it decoded (`truncated`); a corrupt one is an error.
 */
export function readText(
  path: string,
  maxBytes: number,
): Result<{ buf: Buffer; truncated: boolean }, VigilError> {
  let raw: Buffer;
  try {
    if (statSync(path).size > maxBytes) {
      // A gzip file larger than the text cap decompresses to more than the cap.
      return err(tooLarge(path, maxBytes));
    }
    raw = readFileSync(path);
  } catch (e) {
    return err(fileError(path, e));
  }
  if (!(raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b)) return ok({ buf: raw, truncated: false });
  // One output chunk of the size the gzip trailer states (mod 2^32; the last member's for a multi-member
  // file) spares zlib the copy that joins its default 16 KiB chunks: 40 ms of a 26 MB table. A wrong
  // trailer costs only more chunks; MAX_GZIP_CHUNK bounds what a lying one can allocate.
  const isize = raw.length >= 18 ? raw.readUInt32LE(raw.length - 4) : 0;
  const bound = Math.min(MAX_GZIP_CHUNK, raw.length * DEFLATE_MAX_RATIO, maxBytes);
  const chunkSize = Math.max(MIN_GZIP_CHUNK, Math.min(isize + 1, bound));
  try {
    return ok({ buf: gunzipSync(raw, { maxOutputLength: maxBytes, chunkSize }), truncated: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === "ERR_BUFFER_TOO_LARGE") return err(tooLarge(path, maxBytes));
    if (code !== "Z_BUF_ERROR") {
      return err(
        new VigilError(
          "input.corrupt",
          `${path} is not a readable gzip file: ${(e as Error).message}`,
          "check the download",
          { cause: e },
        ),
      );
    }
  }
  // Z_BUF_ERROR: the stream stops mid-way. A sync flush returns what was decoded up to the cut.
  try {
    const buf = gunzipSync(raw, { maxOutputLength: maxBytes, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return ok({ buf, truncated: true });
  } catch (e) {
    return err(
      new VigilError(
        "input.corrupt",
        `${path} is a damaged gzip file: ${(e as Error).message}`,
        "check the download",
        {
          cause: e,
        },
      ),
    );
  }
}

/** End of the line that starts at `pos` (index of its LF, or buf.length). */
function lineEnd(buf: Buffer, pos: number): number {
  const i = buf.indexOf(LF, pos);
  return i < 0 ? buf.length : i;
}

/** Finds the header: first line, BOM removed, separator guessed (a tab in the header line means TSV). */
export function readHeader(path: string, buf: Buffer, truncated: boolean): Table {
  let start = 0;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
  const end = lineEnd(buf, start);
  const sep = buf.subarray(start, end).includes(TAB) ? TAB : 0x2c;
  const cur = new CsvCursor(buf, sep, MAX_COLUMNS);
  cur.setLine(start, end);
  const n = Math.min(cur.split(), MAX_COLUMNS); // -1 (a broken quote) leaves no header at all
  const header: string[] = [];
  for (let i = 0; i < n; i++) header.push(capString(cur.str(i).trim(), MAX_COLUMN_NAME));
  return { path, buf, sep, header, dataStart: end + 1, truncated };
}

/**
 * Walks the lines of a table and splits each into fields by offset; no string is made unless asked for.
 * Quoted fields (RFC 4180, within one line) are understood; a line break inside quotes is not.
 */
export class CsvCursor {
  /** Field start and end offsets of the current line. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 1 for a field that was quoted (its text needs unquoting). */
  readonly quoted: Uint8Array;
  /** Set by {@link num} when a field is not a number; reset by the caller. */
  bad = false;
  private pos = 0;
  private a = 0;
  private b = 0;
  /** Where {@link numFrom} stopped. */
  private stop = 0;

  constructor(
    readonly buf: Buffer,
    readonly sep: number,
    readonly maxFields: number,
  ) {
    this.starts = new Int32Array(maxFields + 1);
    this.ends = new Int32Array(maxFields + 1);
    this.quoted = new Uint8Array(maxFields + 1);
  }

  /** Positions the cursor before the line that starts at byte `pos`. */
  seek(pos: number): void {
    this.pos = pos;
  }

  /** Sets the current line to bytes [a, b) (a trailing CR is dropped). */
  setLine(a: number, b: number): void {
    if (b > a && this.buf[b - 1] === CR) b--;
    this.a = a;
    this.b = b;
  }

  /** Moves to the next non-blank line; false at the end of the buffer. */
  nextLine(): boolean {
    const buf = this.buf;
    while (this.pos < buf.length) {
      const a = this.pos;
      const e = lineEnd(buf, a);
      this.pos = e + 1;
      this.setLine(a, e);
      if (this.b > this.a) return true;
    }
    return false;
  }

  /**
   * Splits the current line. Returns the number of fields, `maxFields + 1` when there are more, or -1 for
   * a quote that is never closed or is followed by text other than the separator.
   */
  split(): number {
    const { buf, sep, starts, ends, quoted, maxFields } = this;
    const end = this.b;
    let i = this.a;
    let n = 0;
    for (;;) {
      if (n > maxFields) return maxFields + 1;
      if (i < end && buf[i] === QUOTE) {
        let j = i + 1;
        for (;;) {
          j = buf.indexOf(QUOTE, j);
          if (j < 0 || j >= end) return -1;
          if (j + 1 < end && buf[j + 1] === QUOTE) j += 2;
          else break;
        }
        starts[n] = i + 1;
        ends[n] = j;
        quoted[n] = 1;
        n++;
        i = j + 1;
        if (i === end) return n;
        if (buf[i] !== sep) return -1;
        i++;
        continue;
      }
      // A byte loop: fields are short (a few bytes), where a native indexOf call per field costs more.
      let j = i;
      while (j < end && buf[j] !== sep) j++;
      starts[n] = i;
      ends[n] = j;
      quoted[n] = 0;
      n++;
      if (j === end) return n;
      i = j + 1;
    }
  }

  /** The text of field `i` (UTF-8, unquoted). */
  str(i: number): string {
    const s = this.buf.toString("utf8", this.starts[i], this.ends[i]);
    return this.quoted[i] === 1 ? s.replace(/""/g, '"') : s;
  }

  /** Field `i` is empty or only spaces. */
  blank(i: number): boolean {
    const buf = this.buf;
    for (let k = this.starts[i]; k < this.ends[i]; k++) if (buf[k] !== SPACE) return false;
    return true;
  }

  /**
   * Field `i` as a number: decimal (sign, digits, point, exponent), `NaN`/`nan`, `Infinity`/`inf` with an
   * optional sign, spaces around allowed; empty is NaN (missing). Anything else sets {@link bad} and
   * returns NaN. Rounded to float32 the value always equals `Math.fround(Number(text))`: see {@link numFrom}.
   */
  num(i: number): number {
    const b = this.ends[i];
    const v = this.numFrom(this.starts[i], b);
    return this.endOfToken(b) === b ? v : this.fail();
  }

  /**
   * Splits the current line like {@link split} and, in the same pass, parses each column `c` with
   * `slots[c] >= 0` as a number into `x[base + slots[c]]` (as {@link num}, setting {@link bad}). Returns
   * -2 when a field is quoted: the caller then uses split() and num().
   */
  scanLine(slots: Int32Array, x: Float32Array, base: number): number {
    const { buf, sep, starts, ends, quoted, maxFields } = this;
    const end = this.b;
    const nslots = slots.length;
    let i = this.a;
    let n = 0;
    for (;;) {
      if (n > maxFields) return maxFields + 1;
      if (i < end && buf[i] === QUOTE) return -2;
      starts[n] = i;
      quoted[n] = 0;
      const slot = n < nslots ? slots[n] : -1;
      let j: number;
      if (slot >= 0) {
        x[base + slot] = this.numFrom(i, end);
        j = this.endOfToken(end);
        if (j < end && buf[j] !== sep) {
          this.bad = true;
          while (j < end && buf[j] !== sep) j++;
        }
      } else {
        j = i;
        while (j < end && buf[j] !== sep) j++;
      }
      ends[n] = j;
      n++;
      if (j >= end) return n;
      i = j + 1;
    }
  }

  /** Where the last {@link numFrom} stopped, past trailing spaces (`limit` at most). */
  private endOfToken(limit: number): number {
    let k = this.stop;
    while (k < limit && this.buf[k] === SPACE) k++;
    return k;
  }

  /**
   * Parses a number from byte `a`, stopping at the first byte that cannot continue it (or at `limit`), and
   * leaves that position in `stop` for the caller to check. A field that starts with no digit is read up
   * to the separator as a word (NaN, Infinity) or is bad. A mantissa below 2^53 scaled by at most 10^±22
   * gives exactly Number(text) (Clinger's fast path: one rounding); a 16- to 19-digit one gives the float32
   * that Number(text) rounds to, when that is certain; anything else goes through Number().
   */
  private numFrom(a: number, limit: number): number {
    const buf = this.buf;
    while (a < limit && buf[a] === SPACE) a++;
    let k = a;
    let c = k < limit ? buf[k] : 0;
    if (c === 0 || c === this.sep) {
      this.stop = k;
      return Number.NaN; // empty: missing
    }
    const neg = c === 0x2d;
    if (neg || c === 0x2b) c = ++k < limit ? buf[k] : 0;
    let m = 0;
    let digits = 0;
    let frac = 0;
    while (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      c = ++k < limit ? buf[k] : 0;
    }
    if (c === 0x2e) {
      c = ++k < limit ? buf[k] : 0;
      while (c >= 0x30 && c <= 0x39) {
        m = m * 10 + (c - 0x30);
        digits++;
        frac++;
        c = ++k < limit ? buf[k] : 0;
      }
    }
    if (digits === 0) {
      let t = a;
      while (t < limit && buf[t] !== this.sep) t++;
      this.stop = t;
      while (t > a && buf[t - 1] === SPACE) t--;
      return this.word(a, t);
    }
    let exp = 0;
    if (c === 0x65 || c === 0x45) {
      c = ++k < limit ? buf[k] : 0;
      const eneg = c === 0x2d;
      if (eneg || c === 0x2b) c = ++k < limit ? buf[k] : 0;
      const e0 = k;
      while (c >= 0x30 && c <= 0x39) {
        if (exp < 100000) exp = exp * 10 + (c - 0x30);
        c = ++k < limit ? buf[k] : 0;
      }
      if (k === e0) {
        this.stop = k;
        return this.fail();
      }
      if (eneg) exp = -exp;
    }
    this.stop = k;
    const e = exp - frac;
    if (e >= -22 && e <= 22) {
      const v = e >= 0 ? m * POW10[e] : m / POW10[-e];
      if (m <= Number.MAX_SAFE_INTEGER) return neg ? -v : v;
      // 16 to 19 digits (printed doubles, 14 % of the CIC values): m is off by at most a few roundings,
      // so v is within 2^-48 of Number(text). When both ends of that interval round to the same float32,
      // so does Number(text): return that float32, what the caller stores anyway.
      if (digits <= 19) {
        const lo = Math.fround(v - v * NEAR);
        if (lo === Math.fround(v + v * NEAR)) return neg ? -lo : lo;
      }
    }
    return Number(buf.toString("latin1", a, k));
  }

  private word(a: number, b: number): number {
    if (b - a > 9) return this.fail();
    const w = this.buf.toString("latin1", a, b).toLowerCase();
    switch (w) {
      case "nan":
      case "+nan":
      case "-nan":
        return Number.NaN;
      case "inf":
      case "+inf":
      case "infinity":
      case "+infinity":
        return Number.POSITIVE_INFINITY;
      case "-inf":
      case "-infinity":
        return Number.NEGATIVE_INFINITY;
      default:
        return this.fail();
    }
  }

  private fail(): number {
    this.bad = true;
    return Number.NaN;
  }

  /**
   * Field `i` as a UTC time "YYYY-MM-DD HH:MM:SS[.fraction]" (or with T and a trailing Z), in µs since the
   * epoch; NaN when it is not one. Fractions beyond µs are cut.
   */
  time(i: number): number {
    const buf = this.buf;
    let a = this.starts[i];
    let b = this.ends[i];
    while (a < b && buf[a] === SPACE) a++;
    while (b > a && buf[b - 1] === SPACE) b--;
    if (b > a && buf[b - 1] === 0x5a) b--; // Z
    if (b - a < 19) return Number.NaN;
    const y = digitsAt(buf, a, 4);
    const mo = digitsAt(buf, a + 5, 2);
    const d = digitsAt(buf, a + 8, 2);
    const h = digitsAt(buf, a + 11, 2);
    const mi = digitsAt(buf, a + 14, 2);
    const s = digitsAt(buf, a + 17, 2);
    const t = buf[a + 10];
    if (
      buf[a + 4] !== 0x2d ||
      buf[a + 7] !== 0x2d ||
      (t !== SPACE && t !== 0x54) ||
      buf[a + 13] !== 0x3a ||
      buf[a + 16] !== 0x3a ||
      !(y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59) ||
      !(s >= 0 && s <= 60)
    )
      return Number.NaN;
    let us = 0;
    let k = a + 19;
    if (k < b) {
      if (buf[k] !== 0x2e) return Number.NaN;
      k++;
      let scale = 100000;
      if (k === b) return Number.NaN;
      for (; k < b; k++) {
        const c = buf[k] - 0x30;
        if (c < 0 || c > 9) return Number.NaN;
        us += c * scale;
        scale = Math.floor(scale / 10);
      }
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) * 1000 + us;
  }
}

/** The unsigned decimal of `n` digits at `at`, or -1. */
function digitsAt(buf: Buffer, at: number, n: number): number {
  let v = 0;
  for (let k = at; k < at + n; k++) {
    const c = buf[k] - 0x30;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}
