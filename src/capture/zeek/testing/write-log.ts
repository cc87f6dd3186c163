// Test helper: writes rows back as Zeek TSV (escaping like Zeek) or JSON lines, for round-trip checks.
import type { ZeekHeader, ZeekRow, ZeekValue } from "../index.ts";

const enc = new TextEncoder();

/** Escapes a value as Zeek does (bytes outside printable ASCII as \xHH), plus separators and backslash. */
function zeekEscape(s: string, seps: string[]): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const special = c === 0x5c || seps.some((sep) => sep.length === 1 && sep === ch);
    if (c >= 0x21 && c < 0x7f && !special) out += ch;
    else for (const b of enc.encode(ch)) out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  // Multi-character separators cannot be escaped per character: escape their first character.
  for (const sep of seps) {
    if (sep.length > 1 && out.includes(sep)) {
      const first = `\\x${sep.charCodeAt(0).toString(16).padStart(2, "0")}`;
      out = out.split(sep).join(first + sep.slice(1));
    }
  }
  return out;
}

/** A value that equals a marker gets its first character escaped, as Zeek writes it. */
function reserved(s: string, h: ZeekHeader): string {
  if (s === h.unsetField || s === h.emptyField) {
    return `\\x${s.charCodeAt(0).toString(16).padStart(2, "0")}${s.slice(1)}`;
  }
  return s;
}

function field(v: ZeekValue, h: ZeekHeader): string {
  if (v === null) return h.unsetField;
  if (typeof v === "boolean") return v ? "T" : "F";
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return h.emptyField;
    return v.map((e) => reserved(zeekEscape(e, [h.separator, h.setSeparator]), h)).join(h.setSeparator);
  }
  if (v === "") return h.emptyField;
  return reserved(zeekEscape(v, [h.separator]), h);
}

/** The header and rows as a TSV log. */
export function writeTsv(h: ZeekHeader, rows: ZeekRow[], close = true): string {
  const sep = h.separator;
  const hex = [...enc.encode(sep)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
  const lines = [
    `#separator ${hex}`,
    `#set_separator${sep}${h.setSeparator}`,
    `#empty_field${sep}${h.emptyField}`,
    `#unset_field${sep}${h.unsetField}`,
    `#path${sep}${h.path ?? ""}`,
    `#open${sep}${h.open ?? "2026-01-01-00-00-00"}`,
    `#fields${sep}${h.fields.join(sep)}`,
    `#types${sep}${h.types.map((t) => t.name).join(sep)}`,
    ...rows.map((r) => h.fields.map((f) => field(r[f] ?? null, h)).join(sep)),
  ];
  if (close) lines.push(`#close${sep}2026-01-01-00-00-01`);
  return `${lines.join("\n")}\n`;
}

/** Rows as JSON lines, strings escaped as Zeek's JSON writer does. */
export function writeJsonLines(rows: ZeekRow[]): string {
  const esc = (v: ZeekValue): ZeekValue =>
    typeof v === "string" ? zeekEscape(v, []) : Array.isArray(v) ? v.map((e) => zeekEscape(e, [])) : v;
  return rows
    .map((r) => {
      const o: Record<string, ZeekValue> = {};
      for (const k of Object.keys(r)) Object.defineProperty(o, k, { value: esc(r[k]!), enumerable: true });
      return `${JSON.stringify(o)}\n`;
    })
    .join("");
}
