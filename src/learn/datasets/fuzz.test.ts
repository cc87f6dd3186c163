// Fuzz of loadDataset: truncated and mutated lines, broken headers and cut gzip streams never throw, and every data line is a row, a reject or a drop.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { seededRng } from "../../core/index.ts";
import { type Dataset, loadDataset } from "../index.ts";

const tmp = mkdtempSync(join(tmpdir(), "vigil-learn-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Bytes that matter to the reader: separators, quotes, line ends, number syntax, multi-byte UTF-8.
const NOISE = [
  ",",
  ",",
  '"',
  "\r",
  "\n",
  "\t",
  "-",
  ".",
  "e",
  "E",
  "+",
  "0",
  "9",
  "x",
  " ",
  "é",
  "NaN",
  "inf",
  "",
];
const ROUNDS = 60;
// Data lines kept from each real file: enough for every column kind, small enough to stay quick.
const REAL_LINES = 150;

function sources(): { name: string; text: string }[] {
  const fixture = (f: string) => readFileSync(new URL(`./testdata/${f}`, import.meta.url), "utf8");
  const out = [
    { name: "cic-attempted", text: fixture("cic-attempted.csv") },
    { name: "vigil-flows", text: fixture("vigil-flows-sqli.csv") },
    { name: "vigil-flows-tsv", text: fixture("vigil-flows-sqli-labelled.tsv") },
  ];
  if (hasSharedData) {
    for (const [name, rel] of [
      ["cic", "flows/cicids2017-improved/cicids2017-improved-dev.csv.gz"],
      ["unsw", "flows/unsw-nb15/unsw-nb15-dev.csv.gz"],
      ["nsl", "flows/nsl-kdd/KDDTrain+_20Percent.txt.gz"],
    ]) {
      const text = gunzipSync(readFileSync(sharedData(rel))).toString("utf8");
      out.push({
        name,
        text: text
          .split("\n")
          .slice(0, REAL_LINES + 1)
          .join("\n"),
      });
    }
  } else {
    console.log("../shared/data is missing: the loader fuzz runs on the fixtures only");
  }
  return out;
}

/** Non-blank lines after the header, as the reader counts them (LF ends a line, one trailing CR dropped). */
function dataLines(text: string): number {
  return text
    .split("\n")
    .slice(1)
    .filter((l) => l.replace(/\r$/, "").length > 0).length;
}

function total(counts: Record<string, number> | undefined): number {
  return Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
}

function mutateLine(line: string, rng: ReturnType<typeof seededRng>): string {
  switch (rng.int(5)) {
    case 0: // truncate
      return line.slice(0, rng.int(line.length + 1));
    case 1: {
      // replace one character
      const at = rng.int(line.length + 1);
      return line.slice(0, at) + NOISE[rng.int(NOISE.length)] + line.slice(at + 1);
    }
    case 2: {
      // drop or duplicate a field
      const f = line.split(",");
      const at = rng.int(f.length);
      if (rng.next() < 0.5) f.splice(at, 1);
      else f.splice(at, 0, f[at]);
      return f.join(",");
    }
    case 3: {
      // replace a field with noise
      const f = line.split(",");
      f[rng.int(f.length)] = NOISE[rng.int(NOISE.length)].repeat(1 + rng.int(3));
      return f.join(",");
    }
    default: // a very long label-like field
      return `${line},${"A".repeat(rng.int(500))}`;
  }
}

function check(path: string, text: string, opts: Parameters<typeof loadDataset>[1] = {}): Dataset | null {
  let r: ReturnType<typeof loadDataset> | undefined;
  expect(() => {
    r = loadDataset(path, opts);
  }).not.toThrow();
  if (!r!.ok) return null;
  const ds = r!.value;
  expect(ds.rows + total(ds.rejected) + total(ds.dropped)).toBe(dataLines(text));
  expect(ds.x.length).toBe(ds.rows * ds.cols);
  for (const c of ds.classes) expect(c.length).toBeLessThanOrEqual(64);
  for (const c of ds.categorical) for (const l of c.levels) expect(l.length).toBeLessThanOrEqual(64);
  return ds;
}

describe("loadDataset fuzz", () => {
  const all = sources();

  it("mutated data lines: no throw, every line accounted for", () => {
    const rng = seededRng(20240601);
    let rejected = 0;
    for (const { name, text } of all) {
      const lines = text.split("\n");
      for (let round = 0; round < ROUNDS; round++) {
        const out = [...lines];
        const edits = 1 + rng.int(4);
        for (let e = 0; e < edits; e++) {
          const at = 1 + rng.int(Math.max(1, out.length - 1));
          if (at < out.length) out[at] = mutateLine(out[at], rng);
        }
        const mutated = out.join("\n");
        const p = join(tmp, `${name}-${round}.csv`);
        writeFileSync(p, mutated);
        const ds = check(p, mutated, { attempted: round % 3 === 0 ? "drop" : "benign" });
        expect(ds).not.toBeNull(); // the header is intact, so the file must load
        rejected += total(ds!.rejected);
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it("mutated headers and cut files: no throw (an error or an accounted load)", () => {
    const rng = seededRng(7);
    for (const { name, text } of all) {
      for (let round = 0; round < 20; round++) {
        const nl = text.indexOf("\n");
        const header = mutateLine(text.slice(0, nl), rng);
        const mutated = rng.next() < 0.5 ? header + text.slice(nl) : text.slice(0, rng.int(text.length));
        const p = join(tmp, `${name}-h${round}.csv`);
        writeFileSync(p, mutated);
        check(p, mutated);
      }
    }
  });

  it("gzip streams cut short keep the rows before the cut and say so", () => {
    const rng = seededRng(99);
    let loaded = 0;
    for (const { name, text } of all) {
      const gz = gzipSync(text);
      for (let round = 0; round < 10; round++) {
        const p = join(tmp, `${name}-g${round}.csv.gz`);
        writeFileSync(p, gz.subarray(0, 10 + rng.int(gz.length - 10)));
        let r: ReturnType<typeof loadDataset> | undefined;
        expect(() => {
          r = loadDataset(p);
        }).not.toThrow();
        if (r!.ok) {
          loaded++;
          expect(r!.value.rejected.truncated_gzip).toBe(1);
        } else expect(["input.corrupt", "usage"]).toContain(r!.error.code);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  });

  it("caps label length and the number of classes", () => {
    const { text } = all[0];
    const [header, ...rows] = text.trimEnd().split("\n");
    const base = rows[1].split(",");
    const lines = [header];
    for (let i = 0; i < 1100; i++) {
      const f = [...base];
      f[f.length - 2] = `attack-${i}-${"x".repeat(i % 2 === 0 ? 100 : 0)}`;
      lines.push(f.join(","));
    }
    const body = `${lines.join("\n")}\n`;
    const p = join(tmp, "many-classes.csv");
    writeFileSync(p, body);
    const ds = check(p, body)!;
    expect(ds.classes.length).toBe(1024);
    expect(ds.rejected.too_many_classes).toBe(1100 - 1023);
    expect(ds.classes.some((c) => c.endsWith("…"))).toBe(true);
  });
});

describe("numbers and times", () => {
  it("parse as Number() does (then float32); NaN/Infinity words and blanks are values, junk is rejected", () => {
    const rng = seededRng(5);
    const text = readFileSync(new URL("./testdata/vigil-flows-sqli.csv", import.meta.url), "utf8").trimEnd();
    const [header, first] = text.split("\n");
    const f = first.split(",");
    const start = 9; // the 81 CIC columns follow 9 identifier columns
    const ROWS = 500;
    const gen = (): string => {
      switch (rng.int(10)) {
        case 0:
          return String(rng.int(1e9));
        case 1:
          return String((rng.next() - 0.5) * 10 ** rng.int(30));
        case 2:
          return `${rng.int(100)}.${String(rng.int(1e9)).padStart(9, "0")}${rng.int(1e9)}`;
        case 3:
          return `${rng.next() < 0.5 ? "-" : "+"}${rng.int(1000)}e${rng.int(40) - 20}`;
        case 4:
          return `.${rng.int(1000)}`;
        case 5:
          return `${rng.int(1000)}.`;
        case 6:
          return String(rng.next() * 1e-300);
        case 7: // a printed double, as CICFlowMeter writes them: 15 to 17 significant digits
        case 8:
          return String(rng.next() * 10 ** (rng.int(24) - 8));
        default:
          return `${"9".repeat(1 + rng.int(25))}.${"3".repeat(rng.int(25))}`;
      }
    };
    const values: string[][] = [];
    const lines = [header];
    for (let r = 0; r < ROWS; r++) {
      const v = Array.from({ length: 81 }, gen);
      values.push(v);
      lines.push([...f.slice(0, start), ...v].join(","));
    }
    const special = [
      "NaN",
      "nan",
      "Infinity",
      "-Infinity",
      "inf",
      "-inf",
      "",
      " 12 ",
      "-0",
      "1e400",
      "-1e-400",
    ];
    lines.push([...f.slice(0, start), ...special, ...f.slice(start + special.length)].join(","));
    for (const junk of ["0x10", "1_0", "12abc", "1e", "--1", "1.2.3", ".", "-", "e5", "Infinityx", "١٢"]) {
      lines.push([...f.slice(0, start), junk, ...f.slice(start + 1)].join(","));
    }
    lines.push([...f.slice(0, 8), "2017-13-06 13:40:07.419016", ...f.slice(start)].join(","));
    lines.push([...f.slice(0, 8), "2017-07-06T13:40:07Z", ...f.slice(start)].join(","));
    const body = `${lines.join("\n")}\n`;
    const p = join(tmp, "numbers.csv");
    writeFileSync(p, body);
    const ds = check(p, body)!;
    expect(ds.rejected).toEqual({ bad_number: 11, bad_time: 1 });
    expect(ds.rows).toBe(ROWS + 2);
    let wrong = 0;
    for (let r = 0; r < ROWS; r++) {
      for (let j = 0; j < 81; j++)
        if (!Object.is(ds.x[r * 81 + j], Math.fround(Number(values[r][j])))) wrong++;
    }
    expect(wrong).toBe(0);
    const sp = Array.from(ds.x.subarray(ROWS * 81, ROWS * 81 + special.length));
    expect(sp).toEqual([
      Number.NaN,
      Number.NaN,
      Infinity,
      -Infinity,
      Infinity,
      -Infinity,
      Number.NaN,
      12,
      -0,
      Infinity,
      -0,
    ]);
    expect(ds.time![ROWS + 1]).toBe(Date.UTC(2017, 6, 6, 13, 40, 7) * 1000);
  });

  it("reads quoted fields (RFC 4180) and rejects an unclosed quote", () => {
    const text = readFileSync(new URL("./testdata/cic-attempted.csv", import.meta.url), "utf8").trimEnd();
    const [header, first] = text.split("\n");
    const f = first.split(",");
    const quoted = [...f.slice(0, -2), '"Web ""Attack"", XSS"', '"-1"'].join(",");
    const unclosed = [...f.slice(0, -2), '"DoS', "-1"].join(",");
    const body = `${header}\n${quoted}\n${unclosed}\n`;
    const p = join(tmp, "quoted.csv");
    writeFileSync(p, body);
    const ds = check(p, body)!;
    expect(ds.classes).toEqual(["BENIGN", 'Web "Attack", XSS']);
    expect(ds.rejected).toEqual({ bad_quote: 1 });
  });
});
