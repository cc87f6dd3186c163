// Zeek log reader on small synthetic logs: conversions, escaping, headers, JSON, gzip, caps, malformed lines.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  detectZeekLog,
  malformedTotal,
  openZeekLog,
  parseIsoTime,
  readZeekLog,
  unescapeZeek,
  type ZeekReadOptions,
} from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-zeek-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function file(text: string | Uint8Array, name = `t${n++}.log`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function read(text: string | Uint8Array, opts: ZeekReadOptions = {}) {
  const r = await readZeekLog(file(text), opts);
  if (!r.ok) throw r.error;
  return r.value;
}

const T = "\t";
const HEAD = [
  "#separator \\x09",
  "#set_separator\t,",
  "#empty_field\t(empty)",
  "#unset_field\t-",
  "#path\tconn",
  "#open\t2022-06-17-00-00-07",
];

function tsv(fields: [string, string][], rows: string[][], extra: string[] = []): string {
  return `${[
    ...HEAD,
    `#fields${T}${fields.map((f) => f[0]).join(T)}`,
    `#types${T}${fields.map((f) => f[1]).join(T)}`,
    ...rows.map((r) => r.join(T)),
    ...extra,
  ].join("\n")}\n`;
}

const ALL_TYPES: [string, string][] = [
  ["ts", "time"],
  ["duration", "interval"],
  ["n", "count"],
  ["delta", "int"],
  ["ratio", "double"],
  ["port", "port"],
  ["flag", "bool"],
  ["host", "addr"],
  ["net", "subnet"],
  ["name", "string"],
  ["proto", "enum"],
  ["tags", "set[string]"],
  ["ttls", "vector[interval]"],
];

describe("Zeek TSV", () => {
  it("converts each field by its #types entry", async () => {
    const r = await read(
      tsv(ALL_TYPES, [
        [
          "1655071198.444458",
          "0.000010",
          "18446744073709551615",
          "-42",
          "1e-3",
          "443",
          "T",
          "fd2d:ab8c:225::1",
          "10.0.0.0/8",
          "hello\\x20world",
          "tcp",
          "a,b\\x2cc",
          "1.0,2.5",
        ],
        ["-", "-", "-", "-", "-", "-", "F", "-", "-", "(empty)", "-", "(empty)", "-"],
      ]),
    );
    expect(r.format).toBe("tsv");
    expect(r.header.path).toBe("conn");
    expect(r.stats.malformed).toEqual({});
    expect({ ...r.rows[0] }).toEqual({
      ts: 1655071198.444458,
      duration: 0.00001,
      n: 2 ** 64, // a count above 2^53 keeps its magnitude, not its last digits
      delta: -42,
      ratio: 0.001,
      port: 443,
      flag: true,
      host: "fd2d:ab8c:225::1",
      net: "10.0.0.0/8",
      name: "hello world",
      proto: "tcp",
      tags: ["a", "b,c"],
      ttls: ["1.0", "2.5"],
    });
    const empty = r.rows[1]!;
    expect(empty.ts).toBeNull();
    expect(empty.flag).toBe(false);
    expect(empty.name).toBe("");
    expect(empty.tags).toEqual([]);
    expect(empty.ttls).toBeNull();
  });

  it("reads a value equal to a marker, written with its first byte escaped, as text", async () => {
    const r = await read(tsv([["s", "string"]], [["\\x2d"], ["\\x28empty)"], ["-"]]));
    expect(r.rows.map((x) => x.s)).toEqual(["-", "(empty)", null]);
  });

  it("undoes \\xHH escapes, decoding escaped UTF-8 bytes together, and keeps other backslashes", () => {
    expect(unescapeZeek("a\\x09b")).toBe("a\tb");
    expect(unescapeZeek("caf\\xc3\\xa9!")).toBe("café!");
    expect(unescapeZeek("C:\\temp\\x5cx")).toBe("C:\\temp\\x");
    expect(unescapeZeek("bad \\xZZ end \\x4")).toBe("bad \\xZZ end \\x4");
    // Binary that is not UTF-8 stays escaped rather than turning into U+FFFD.
    expect(unescapeZeek("bin \\x16\\x03\\xff!")).toBe("bin \\x16\\x03\\xff!");
  });

  it("honours other separators and markers from the header", async () => {
    const text = [
      "#separator \\x7c",
      "#set_separator|;",
      "#empty_field|EMPTY",
      "#unset_field|NONE",
      "#path|dns",
      "#fields|ts|answers|rtt|query",
      "#types|time|vector[string]|interval|string",
      "1.5|a;b\\x7cc|NONE|x\\x7cy",
      "2|EMPTY|0.25|-",
      "#close|2026-01-01-00-00-00",
      "",
    ].join("\n");
    const r = await read(text);
    expect(r.header.separator).toBe("|");
    expect(r.header.close).toBe("2026-01-01-00-00-00");
    expect(r.rows.map((x) => ({ ...x }))).toEqual([
      { ts: 1.5, answers: ["a", "b|c"], rtt: null, query: "x|y" },
      { ts: 2, answers: [], rtt: 0.25, query: "-" },
    ]);
  });

  it("keeps label columns that #fields names, and follows a second header block", async () => {
    const conn = tsv(
      [
        ["ts", "time"],
        ["label", "string"],
        ["detailedlabel", "string"],
      ],
      [["1", "Malicious", "CC"]],
      ["#fields\tts\tquery", "#types\ttime\tstring", "2\texample.org"],
    );
    const r = await read(conn);
    expect(r.rows.map((x) => ({ ...x }))).toEqual([
      { ts: 1, label: "Malicious", detailedlabel: "CC" },
      { ts: 2, query: "example.org" },
    ]);
  });

  it("counts malformed lines per reason with their first line numbers, and goes on", async () => {
    const f: [string, string][] = [
      ["ts", "time"],
      ["n", "count"],
      ["ok", "bool"],
    ];
    const rows = [
      ["1", "2", "T"],
      ["1", "2"],
      ["1", "2", "T", "extra"],
      ["x", "2", "T"],
      ["1", "-3", "T"],
      ["1", "0x10", "T"],
      ["1", "2", "yes"],
      ["1", "2", "F"],
    ];
    const r = await read(`12\t3\n${tsv(f, rows)}`);
    expect(r.rows).toHaveLength(2);
    expect(r.stats.malformed).toEqual({
      no_header: { count: 1, firstLines: [1] },
      field_count: { count: 2, firstLines: [11, 12] },
      bad_number: { count: 3, firstLines: [13, 14, 15] },
      bad_bool: { count: 1, firstLines: [16] },
    });
    expect(r.stats.lines).toBe(17);
    expect(r.stats.headerLines).toBe(8);
  });

  it("keeps only the first few line numbers of a reason", async () => {
    const rows = Array.from({ length: 50 }, () => ["oops"]);
    const r = await read(tsv([["n", "count"]], rows), { keepLineNumbers: 3 });
    expect(r.stats.malformed.bad_number).toEqual({ count: 50, firstLines: [9, 10, 11] });
  });

  it("reads every column as a string when #types does not match #fields", async () => {
    const text = `${HEAD.join("\n")}\n#fields\tts\tn\n#types\ttime\n1.5\t7\n`;
    const r = await read(text);
    expect(r.stats.malformed.bad_header).toEqual({ count: 1, firstLines: [8] });
    expect({ ...r.rows[0] }).toEqual({ ts: "1.5", n: "7" });
  });

  it("handles CRLF line ends, blank lines and a last line without a newline", async () => {
    const text = tsv([["n", "count"]], [["1"]]).replace(/\n/g, "\r\n");
    const r = await read(`${text}\r\n\n2`);
    expect(r.rows.map((x) => x.n)).toEqual([1, 2]);
    expect(r.stats.blankLines).toBe(2);
    expect(malformedTotal(r.stats)).toBe(0);
  });

  it("drops over-long lines without holding them, across read chunks", async () => {
    const long = "9".repeat(5000);
    const text = tsv([["n", "count"]], [["1"], [long], ["3"]]);
    for (const chunk of [1, 7, 64, 100_000]) {
      const r = await read(`${text}${"x".repeat(3000)}`, { maxLineBytes: 1000, readChunkBytes: chunk });
      expect(r.rows.map((x) => x.n)).toEqual([1, 3]);
      expect(r.stats.malformed.line_too_long).toEqual({ count: 2, firstLines: [10, 12] });
    }
  });

  it("caps strings, addresses and containers, counting what it cut", async () => {
    const r = await read(
      tsv(
        [
          ["s", "string"],
          ["a", "addr"],
          ["v", "vector[string]"],
        ],
        [["x".repeat(5000), "y".repeat(100), Array.from({ length: 300 }, (_, i) => String(i)).join(",")]],
      ),
    );
    const row = r.rows[0]!;
    expect((row.s as string).length).toBe(1024);
    expect((row.s as string).endsWith("…")).toBe(true);
    expect((row.a as string).length).toBe(64);
    expect(row.v).toHaveLength(256);
    expect(r.stats.capped).toBe(3);
  });

  it("gives rows in batches and as an async iterator", async () => {
    const p = file(
      tsv(
        [["n", "count"]],
        Array.from({ length: 25 }, (_, i) => [String(i)]),
      ),
    );
    const r = await openZeekLog(p, { batchSize: 10 });
    if (!r.ok) throw r.error;
    const sizes: number[] = [];
    for (let b = await r.value.next(); b !== null; b = await r.value.next()) sizes.push(b.length);
    expect(sizes).toEqual([10, 10, 5]);
    const again = await openZeekLog(p);
    if (!again.ok) throw again.error;
    let count = 0;
    for await (const row of again.value.rows()) count += row.n === count ? 1 : 0;
    expect(count).toBe(25);
  });

  it("treats a field named __proto__ as a plain key", async () => {
    const r = await read(tsv([["__proto__", "string"]], [["x"]]));
    expect(Object.keys(r.rows[0]!)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("Zeek JSON", () => {
  it("keeps keys and converts known types; ts as number or ISO 8601", async () => {
    const lines = [
      '{"ts":1599755438.238535,"uid":"C1","id.orig_h":"192.168.1.194","id.orig_p":41220,"proto":"tcp","duration":0.5,"orig_bytes":"12","conn_state":"SF","history":"ShAD","local_orig":"T","tunnel_parents":[],"extra":{"a":1},"list":[1,"x"]}',
      '{"ts":"2020-09-10T16:30:38.238535Z","uid":"C2","conn_state":"S0","history":"S"}',
      '{"ts":"2020-09-10T18:30:38.5+02:00"}',
    ];
    const r = await read(`${lines.join("\n")}\n`);
    expect(r.format).toBe("json");
    expect(r.header.path).toBe("conn");
    expect(r.stats.malformed).toEqual({});
    expect({ ...r.rows[0] }).toEqual({
      ts: 1599755438.238535,
      uid: "C1",
      "id.orig_h": "192.168.1.194",
      "id.orig_p": 41220,
      proto: "tcp",
      duration: 0.5,
      orig_bytes: 12,
      conn_state: "SF",
      history: "ShAD",
      local_orig: true,
      tunnel_parents: [],
      extra: '{"a":1}',
      list: ["1", "x"],
    });
    expect(r.rows[1]!.ts).toBeCloseTo(1599755438.238535, 6);
    expect(r.rows[2]!.ts).toBe(1599755438.5);
  });

  it("counts invalid JSON, non-objects and wrongly typed known fields", async () => {
    const lines = [
      '{"ts":1,"ok":true}',
      "{not json",
      "[1,2]",
      "42",
      '{"ts":1,"orig_bytes":"lots"}',
      '{"ts":1,"id.resp_p":70000}',
      '{"ts":1,"local_orig":"maybe"}',
      '{"ts":1e999}',
      "#fields\tts",
      '{"__proto__":{"polluted":1},"ts":2}',
    ];
    const r = await read(`${lines.join("\n")}\n`);
    expect(r.stats.malformed).toEqual({
      invalid_json: { count: 2, firstLines: [2, 9] },
      json_not_object: { count: 2, firstLines: [3, 4] },
      bad_number: { count: 3, firstLines: [5, 6, 8] },
      bad_bool: { count: 1, firstLines: [7] },
    });
    expect(r.rows).toHaveLength(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(r.rows[1], "__proto__")?.value).toBe('{"polluted":1}');
  });

  it("parses ISO 8601 times to the microsecond", () => {
    expect(parseIsoTime("2022-06-12T22:00:00.000001Z")).toBeCloseTo(1655071200.000001, 6);
    expect(parseIsoTime("2022-06-12T22:00:00Z")).toBe(1655071200);
    expect(Number.isNaN(parseIsoTime("2022-13-12T22:00:00Z"))).toBe(true);
    expect(Number.isNaN(parseIsoTime("yesterday"))).toBe(true);
  });
});

describe("gzip and errors", () => {
  it("detects gzip by its magic bytes, not the file name", async () => {
    const text = tsv([["n", "count"]], [["1"], ["2"]]);
    const a = await readZeekLog(file(gzipSync(text), "plain-name.log"));
    const b = await readZeekLog(file(text, "looks-compressed.log.gz"));
    if (!a.ok || !b.ok) throw new Error("read failed");
    expect(a.value.rows).toHaveLength(2);
    expect(b.value.rows).toHaveLength(2);
  });

  it("reports a truncated gzip stream as a read error and keeps the rows before it", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => [String(i), `host-${(i * 7919) % 1000}`]);
    const gz = gzipSync(
      tsv(
        [
          ["n", "count"],
          ["s", "string"],
        ],
        rows,
      ),
    );
    const r = await read(gz.subarray(0, Math.floor(gz.length / 2)));
    expect(r.stats.malformed.read_error?.count).toBe(1);
    expect(r.rows.length).toBeGreaterThan(0);
    expect(r.rows.length).toBeLessThan(3000);
  });

  it("fails to open a missing file or a directory with a typed error", async () => {
    const missing = await openZeekLog(join(dir, "nope.log"));
    expect(!missing.ok && missing.error.code).toBe("input.not_found");
    const sub = join(dir, "a-dir");
    mkdirSync(sub);
    const d = await openZeekLog(sub);
    expect(!d.ok && d.error.code).toBe("input.unreadable");
  });

  it("never throws on an empty file", async () => {
    const r = await read("");
    expect(r.rows).toEqual([]);
    expect(r.stats.lines).toBe(0);
  });
});

describe("detectZeekLog", () => {
  it("recognises TSV and JSON logs, plain or gzipped, and names the log", async () => {
    const conn = tsv([["ts", "time"]], [["1"]]);
    expect(await detectZeekLog(file(conn))).toEqual({
      format: "tsv",
      path: "conn",
      compressed: false,
      fields: ["ts"],
    });
    expect((await detectZeekLog(file(gzipSync(conn))))?.compressed).toBe(true);
    const dns = '{"ts":1.0,"uid":"C1","query":"example.org","qtype_name":"A"}\n';
    expect((await detectZeekLog(file(dns)))?.path).toBe("dns");
    expect(
      (await detectZeekLog(file('{"ts":"2020-01-01T00:00:00Z","note":"Scan::Port_Scan"}\n')))?.path,
    ).toBe("notice");
    expect((await detectZeekLog(file('{"ts":1,"x":2}\n', "weird.log")))?.path).toBe("weird");
  });

  it("says no to captures, Suricata EVE, CSV, empty and missing files", async () => {
    const pcap = new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await detectZeekLog(file(pcap))).toBeNull();
    expect(await detectZeekLog(file('{"timestamp":"2020-01-01","event_type":"flow","ts":1}\n'))).toBeNull();
    expect(await detectZeekLog(file("a,b,c\n1,2,3\n"))).toBeNull();
    expect(await detectZeekLog(file(""))).toBeNull();
    expect(await detectZeekLog(join(dir, "missing.log"))).toBeNull();
    expect(await detectZeekLog(file(gzipSync("hello\n")))).toBeNull();
  });
});
