// Seeded fuzzing of the Zeek log reader: real Stratosphere log lines with random byte mutations, header
// damage, truncation, garbage and over-long lines, read plain or gzipped in odd-sized chunks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { type Rng, seededRng } from "../../core/index.ts";
import { malformedTotal, readZeekLog, type ZeekReadOptions, type ZeekRow } from "./index.ts";

const CASES_PER_KIND = 200;
const CALL_TIMEOUT_MS = 5000;
const LINES_PER_SEED = 150;
const dir = mkdtempSync(join(tmpdir(), "vigil-zeek-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Real logs of both formats and several kinds; the first lines of each are the fuzz seeds. */
const SOURCES = [
  "zeek/stratosphere/001-zeek-scenario-malicious/labeled-conn.log",
  "zeek/stratosphere/008-zeek-mixed/data/conn.log.labeled.gz",
  "zeek/stratosphere/005-zeek-scenario-malicious/http.log.gz",
  "zeek/stratosphere/006-zeek-scenario-ssh/ssh.log",
  "zeek/stratosphere/010-zeek-mixed/data/weird.log.labeled",
  "zeek/stratosphere/002-zeek-scenario-port-scanning/conn.log.gz",
  "zeek/stratosphere/007-zeek-scenario-ssh-infected/notice.log",
  "zeek/stratosphere/004-zeek-scenario-ssh/ssh.log",
];

interface Seed {
  name: string;
  /** Header lines (TSV) followed by data lines, each without its newline. */
  lines: string[];
  /** Index of the first data line. */
  firstData: number;
  /** Rows the unmodified seed gives. */
  rows: ZeekRow[];
}

const enc = new TextEncoder();

function toBytes(lines: string[]): Uint8Array {
  return enc.encode(`${lines.join("\n")}\n`);
}

async function readBytes(bytes: Uint8Array, rng: Rng, extra: ZeekReadOptions = {}) {
  const p = join(dir, "case.log");
  writeFileSync(p, rng.int(3) === 0 ? gzipSync(bytes) : bytes);
  // Mostly reads of a few KiB; one in eight of 16-79 bytes, so that lines straddle many reads.
  const chunk = rng.int(8) === 0 ? 16 + rng.int(64) : 1024 + rng.int(8192);
  let t: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    readZeekLog(p, { readChunkBytes: chunk, ...extra }).finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error("read did not finish")), CALL_TIMEOUT_MS);
    }),
  ]);
  if (!r.ok) throw r.error;
  return r.value;
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

type Kind =
  | "valid"
  | "one-line"
  | "bitflip"
  | "byte-edit"
  | "separators"
  | "header"
  | "truncate"
  | "garbage-line"
  | "long-line";

interface Mutant {
  bytes: Uint8Array;
  maxLineBytes?: number;
  /** Data line (index into seed.lines) that alone was damaged; every other row must come out intact. */
  onlyLine?: number;
}

function mutate(kind: Kind, seed: Seed, rng: Rng): Mutant {
  const lines = [...seed.lines];
  const dataLine = (): number => seed.firstData + rng.int(lines.length - seed.firstData);
  switch (kind) {
    case "valid":
      return { bytes: toBytes(lines) };
    case "one-line": {
      // Byte edits inside one data line that never add or remove a newline.
      const i = dataLine();
      const b = Array.from(enc.encode(lines[i]!));
      const edits = 1 + rng.int(6);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(b.length + 1);
        let v = rng.int(256);
        if (v === 0x0a) v = 0x09;
        const op = rng.int(3);
        if (op === 0 && b.length > 0) b.splice(Math.min(at, b.length - 1), 1);
        else if (op === 1) b.splice(at, 0, v);
        else if (b.length > 0) b[Math.min(at, b.length - 1)] = v;
      }
      // A line that starts with '#' would be a header line, and an empty one blank: neither is damage.
      if (b.length === 0) b.push(0x78);
      if (b[0] === 0x23) b[0] = 0x78;
      const before = toBytes(lines.slice(0, i));
      const after = toBytes(lines.slice(i + 1));
      return {
        bytes: concat([
          before,
          Uint8Array.from(b),
          enc.encode("\n"),
          i + 1 < lines.length ? after : new Uint8Array(0),
        ]),
        onlyLine: i,
      };
    }
    case "bitflip": {
      const b = toBytes(lines);
      const flips = 1 + rng.int(16);
      for (let f = 0; f < flips; f++) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return { bytes: b };
    }
    case "byte-edit": {
      const b = Array.from(toBytes(lines));
      const edits = 1 + rng.int(12);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(b.length);
        if (rng.int(2) === 0) b.splice(at, 1 + rng.int(8));
        else b.splice(at, 0, ...randomBytes(rng, 1 + rng.int(8)));
      }
      return { bytes: Uint8Array.from(b) };
    }
    case "separators": {
      // Add or remove the characters the formats are built on.
      const chars = ["\t", ",", "{", "}", '"', ":", "\\", "-", "(empty)", "\\x09", "#"];
      const edits = 1 + rng.int(6);
      for (let e = 0; e < edits; e++) {
        const i = dataLine();
        const l = lines[i]!;
        const at = rng.int(l.length + 1);
        lines[i] =
          rng.int(2) === 0
            ? l.slice(0, at) + chars[rng.int(chars.length)] + l.slice(at)
            : l.slice(0, at) + l.slice(at + 1 + rng.int(3));
      }
      return { bytes: toBytes(lines) };
    }
    case "header": {
      if (seed.firstData === 0) {
        // JSON has no header: damage the first object instead.
        lines[0] = lines[0]!.slice(0, rng.int(lines[0]!.length));
        return { bytes: toBytes(lines) };
      }
      const h = rng.int(seed.firstData);
      const op = rng.int(4);
      if (op === 0) lines.splice(h, 1);
      else if (op === 1) lines.splice(seed.firstData + rng.int(10), 0, lines[h]!);
      else if (op === 2) {
        const parts = lines[h]!.split("\t");
        parts.splice(1 + rng.int(Math.max(1, parts.length - 1)), 1);
        lines[h] = parts.join("\t");
      } else {
        const b = enc.encode(lines[h]!);
        b[rng.int(b.length)] ^= 1 << rng.int(8);
        lines[h] = new TextDecoder().decode(b);
      }
      return { bytes: toBytes(lines) };
    }
    case "truncate": {
      const b = toBytes(lines);
      return { bytes: b.subarray(0, rng.int(b.length)) };
    }
    case "garbage-line": {
      const i = seed.firstData + rng.int(lines.length - seed.firstData + 1);
      const g = randomBytes(rng, 1 + rng.int(400)).map((x) => (x === 0x0a ? 0x20 : x));
      const before = toBytes(lines.slice(0, i));
      const after = i < lines.length ? toBytes(lines.slice(i)) : new Uint8Array(0);
      return { bytes: concat([i > 0 ? before : new Uint8Array(0), g, enc.encode("\n"), after]) };
    }
    case "long-line": {
      const i = seed.firstData + rng.int(lines.length - seed.firstData);
      lines[i] = lines[i]!.repeat(50 + rng.int(50));
      return { bytes: toBytes(lines), maxLineBytes: 4096 };
    }
  }
}

/** Values a reader may produce: finite numbers, booleans, null, capped strings, capped string arrays. */
function badValue(row: ZeekRow): string | null {
  for (const [k, v] of Object.entries(row)) {
    if (k.length > 256) return `key of ${k.length} characters`;
    if (v === null || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return `${k}: ${v}`;
    } else if (typeof v === "string") {
      if (v.length > 1024) return `${k}: string of ${v.length}`;
    } else if (!Array.isArray(v) || v.length > 256) return `${k}: not a capped array`;
    else if (v.some((e) => typeof e !== "string" || e.length > 1024)) return `${k}: bad element`;
  }
  return null;
}

/** Rows as one string: comparing thousands of rows with toEqual per case is slow. */
const text = (rows: ZeekRow[]): string => JSON.stringify(rows.map((r) => ({ ...r })));

describe.skipIf(!hasSharedData)("Zeek reader fuzz", () => {
  const seeds: Seed[] = [];
  beforeAll(async () => {
    for (const rel of SOURCES) {
      const raw = readFileSync(sharedData(rel));
      const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString("utf8");
      const all = text.split("\n").filter((l) => l.length > 0);
      const header = all.filter((l) => l.startsWith("#") && !l.startsWith("#close"));
      const data = all.filter((l) => !l.startsWith("#")).slice(0, LINES_PER_SEED);
      const lines = [...header, ...data];
      const r = await readZeekLog(sharedData(rel));
      if (!r.ok) throw r.error;
      seeds.push({ name: rel, lines, firstData: header.length, rows: r.value.rows.slice(0, data.length) });
    }
  });

  const kinds: Kind[] = [
    "valid",
    "one-line",
    "bitflip",
    "byte-edit",
    "separators",
    "header",
    "truncate",
    "garbage-line",
    "long-line",
  ];
  for (const kind of kinds) {
    it(`survives ${CASES_PER_KIND} "${kind}" cases`, async () => {
      const rng = seededRng(0x2ee4 + kinds.indexOf(kind));
      let malformedSeen = 0;
      for (let c = 0; c < CASES_PER_KIND; c++) {
        const seed = seeds[c % seeds.length]!;
        const m = mutate(kind, seed, rng);
        const label = `${kind} #${c} of ${seed.name}`;
        const r = await readBytes(m.bytes, rng, m.maxLineBytes ? { maxLineBytes: m.maxLineBytes } : {});
        const s = r.stats;
        // Every line is accounted for exactly once: a row, a header, a blank line or a malformed line.
        const readErrors = s.malformed.read_error?.count ?? 0;
        expect(s.lines, label).toBe(s.rows + s.headerLines + s.blankLines + malformedTotal(s) - readErrors);
        expect(s.rows, label).toBe(r.rows.length);
        for (const row of r.rows) {
          const bad = badValue(row);
          if (bad) expect.fail(`${label}: ${bad}`);
        }
        for (const m of Object.values(s.malformed)) {
          expect(m!.firstLines.length).toBeLessThanOrEqual(Math.min(5, m!.count));
          for (const l of m!.firstLines) expect(l).toBeGreaterThanOrEqual(1);
        }
        malformedSeen += malformedTotal(s);
        if (kind === "valid") {
          expect(malformedTotal(s), label).toBe(0);
          expect(text(r.rows), label).toBe(text(seed.rows));
        }
        if (m.onlyLine !== undefined) {
          // Damage stays in its line: the other rows come out exactly as before.
          const k = m.onlyLine - seed.firstData;
          const others = seed.rows.filter((_, j) => j !== k);
          const got = r.rows;
          expect(got.length === seed.rows.length || got.length === seed.rows.length - 1, label).toBe(true);
          expect(malformedTotal(s), label).toBe(seed.rows.length - got.length);
          const without = got.length === seed.rows.length ? got.filter((_, j) => j !== k) : got;
          expect(text(without), label).toBe(text(others));
        }
        if (kind === "long-line") expect(s.malformed.line_too_long?.count ?? 0, label).toBeGreaterThan(0);
      }
      if (kind !== "valid" && kind !== "truncate") expect(malformedSeen).toBeGreaterThan(0);
    });
  }
});
