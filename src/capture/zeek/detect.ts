// detectZeekLog: is this file a Zeek log, in which format, and which log (#path)? Reads at most 64 KiB.
import { createReadStream } from "node:fs";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { pathFromFileName, pathFromKeys } from "./log-kind.ts";
import { unescapeZeek } from "./values.ts";

/** What detectZeekLog found. */
export interface ZeekLogInfo {
  format: "tsv" | "json";
  /** `#path` (or for JSON `_path`, or a guess from the fields, or the file name); null when unknown. */
  path: string | null;
  compressed: boolean;
  /** Column names of a TSV log, or the keys of the first JSON row. */
  fields: string[];
}

// 64 KiB holds every header and the first rows of any real log; detection never reads further.
const SNIFF_BYTES = 64 * 1024;

async function head(file: string): Promise<{ text: string; cut: boolean; compressed: boolean } | null> {
  let raw: Uint8Array;
  try {
    raw = await readPrefix(createReadStream(file, { end: SNIFF_BYTES - 1 }), SNIFF_BYTES);
  } catch {
    return null;
  }
  const compressed = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (compressed) {
    try {
      raw = await readPrefix(
        pipeline(createReadStream(file), createGunzip(), () => undefined),
        SNIFF_BYTES,
      );
    } catch {
      return null;
    }
  }
  return { text: new TextDecoder("utf-8").decode(raw), cut: raw.length >= SNIFF_BYTES, compressed };
}

/** Reads up to `max` bytes of a stream, then destroys it. A stream error before any byte rejects. */
function readPrefix(s: Readable, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    const finish = (e: Error | null): void => {
      if (done) return;
      done = true;
      s.destroy();
      const buf = Buffer.concat(chunks).subarray(0, max);
      if (e && buf.length === 0) reject(e);
      else resolve(buf);
    };
    s.on("data", (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (n >= max) finish(null);
    });
    s.on("end", () => finish(null));
    s.on("error", (e) => finish(e));
  });
}

/**
 * Says whether `file` is a Zeek log: TSV with a `#separator` or `#fields` header, or JSON lines whose first
 * object has a `ts` (and is not Suricata EVE, which has `event_type`). Null for anything else, including
 * unreadable files (openZeekLog gives the precise error).
 */
export async function detectZeekLog(file: string): Promise<ZeekLogInfo | null> {
  const h = await head(file);
  if (!h) return null;
  const lines = h.text.split("\n");
  // The last line may be cut by the sniff limit: use it only if the text ended there.
  if (h.cut) lines.pop();
  const first = lines.findIndex((l) => l.trim().length > 0);
  if (first < 0) return null;
  const line0 = lines[first]!.replace(/\r$/, "");
  if (line0.startsWith("#")) {
    let sep = "\t";
    let path: string | null = null;
    let fields: string[] | null = null;
    for (const raw of lines.slice(first)) {
      const l = raw.replace(/\r$/, "");
      if (!l.startsWith("#")) break;
      if (l.startsWith("#separator")) {
        const s = unescapeZeek(l.slice("#separator".length).trim());
        if (s.length > 0) sep = s;
        continue;
      }
      const parts = l.split(sep);
      if (parts[0] === "#path") path = unescapeZeek(parts[1] ?? "").slice(0, 64) || null;
      else if (parts[0] === "#fields") fields = parts.slice(1).map((f) => unescapeZeek(f).slice(0, 256));
    }
    if (!line0.startsWith("#separator") && fields === null) return null;
    return {
      format: "tsv",
      path: path ?? pathFromFileName(file),
      compressed: h.compressed,
      fields: fields ?? [],
    };
  }
  if (!line0.trimStart().startsWith("{")) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(line0);
  } catch {
    return null;
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return null;
  const row = obj as Record<string, unknown>;
  const ts = row.ts;
  if ((typeof ts !== "number" && typeof ts !== "string") || Object.hasOwn(row, "event_type")) return null;
  return {
    format: "json",
    path: pathFromKeys(row) ?? pathFromFileName(file),
    compressed: h.compressed,
    fields: Object.keys(row).map((k) => k.slice(0, 256)),
  };
}
