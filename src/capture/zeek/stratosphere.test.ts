// Every Stratosphere Zeek log in ../shared/data/zeek/stratosphere: row counts of the data README, no
// malformed lines, the right #path, label counts of the labelled conn logs, and a write/read round trip.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { detectZeekLog, malformedTotal, readZeekLog, type ZeekRow } from "./index.ts";
import { writeJsonLines, writeTsv } from "./testing/write-log.ts";

const S = "zeek/stratosphere";

/** File, format, #path and rows, as in the table of ../shared/data/README.md. */
const FILES: [file: string, format: "tsv" | "json", path: string, rows: number][] = [
  ["001-zeek-scenario-malicious/conn.log", "tsv", "conn", 992],
  ["001-zeek-scenario-malicious/labeled-conn.log", "tsv", "conn", 992],
  ["002-zeek-scenario-port-scanning/conn.log.gz", "json", "conn", 4504],
  ["003-zeek-scenario-malicious/conn.log", "tsv", "conn", 361],
  ["003-zeek-scenario-malicious/dns.log", "tsv", "dns", 1],
  ["004-zeek-scenario-ssh/ssh.log", "json", "ssh", 396],
  ["005-zeek-scenario-malicious/conn.log", "tsv", "conn", 992],
  ["005-zeek-scenario-malicious/dns.log", "tsv", "dns", 992],
  ["005-zeek-scenario-malicious/http.log.gz", "tsv", "http", 992],
  ["006-zeek-scenario-ssh/conn.log", "tsv", "conn", 18],
  ["006-zeek-scenario-ssh/ssh.log", "tsv", "ssh", 10],
  ["007-zeek-scenario-ssh-infected/ssh.log.gz", "json", "ssh", 8528],
  ["007-zeek-scenario-ssh-infected/http.log.gz", "json", "http", 6721],
  ["007-zeek-scenario-ssh-infected/notice.log", "json", "notice", 345],
  ["007-zeek-scenario-ssh-infected/software.log", "json", "software", 724],
  ["008-zeek-mixed/data/conn.log.labeled.gz", "tsv", "conn", 5663],
  ["008-zeek-mixed/data/http.log.labeled", "tsv", "http", 342],
  ["008-zeek-mixed/data/ssl.log.labeled", "tsv", "ssl", 545],
  ["008-zeek-mixed/data/sip.log.labeled", "tsv", "sip", 33],
  ["008-zeek-mixed/data/weird.log.labeled", "tsv", "weird", 56],
  ["008-zeek-mixed/data/notice.log.labeled", "tsv", "notice", 16],
  ["008-zeek-mixed/data/tunnel.log.labeled", "tsv", "tunnel", 6],
  ["010-zeek-mixed/data/conn.log.labeled.gz", "tsv", "conn", 5347],
  ["010-zeek-mixed/data/ssl.log.labeled", "tsv", "ssl", 1039],
  ["010-zeek-mixed/data/weird.log.labeled", "tsv", "weird", 298],
  ["010-zeek-mixed/data/sip.log.labeled", "tsv", "sip", 17],
  ["010-zeek-mixed/data/tunnel.log.labeled", "tsv", "tunnel", 14],
  ["010-zeek-mixed/data/dns.log.labeled", "tsv", "dns", 8],
  ["010-zeek-mixed/data/http.log.labeled", "tsv", "http", 5],
  ["010-zeek-mixed/data/notice.log.labeled", "tsv", "notice", 2],
  ["010-zeek-mixed/data/files.log.labeled", "tsv", "files", 0],
  ["010-zeek-mixed/data/known_hosts.log.labeled", "tsv", "known_hosts", 0],
  ["010-zeek-mixed/data/software.log.labeled", "tsv", "software", 0],
];

/** Label and detailedlabel counts of the labelled conn logs (data README). */
const LABELS: Record<string, Record<string, number>> = {
  "001-zeek-scenario-malicious/labeled-conn.log": {
    "Malicious/CC": 244,
    "Benign/Google": 9,
    "Background/": 739,
  },
  "008-zeek-mixed/data/conn.log.labeled.gz": {
    "Malicious/External-Attack-to-Device": 4201,
    "Benign/Microsoft": 652,
    "Benign/ESET": 604,
    "Benign/Dropbox": 135,
    "Benign/Cert-Validation": 11,
    "Background/": 60,
  },
  "010-zeek-mixed/data/conn.log.labeled.gz": {
    "Malicious/External-Attack-to-Device": 3373,
    "Benign/": 1689,
    "Benign/Microsoft": 245,
    "Benign/Cert-Validation": 3,
    "Background/": 37,
  },
};

const dir = mkdtempSync(join(tmpdir(), "vigil-zeek-rt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plain = (rows: ZeekRow[]) => rows.map((r) => ({ ...r }));

describe.skipIf(!hasSharedData)("Stratosphere Zeek logs", () => {
  it("lists every log file of the folder", () => {
    expect(FILES).toHaveLength(33);
  });

  for (const [rel, format, path, rows] of FILES) {
    it(`${rel}: ${rows} rows, no malformed lines, round trip`, async () => {
      const file = sharedData(`${S}/${rel}`);
      const info = await detectZeekLog(file);
      expect(info?.format).toBe(format);
      expect(info?.path).toBe(path);
      const r = await readZeekLog(file);
      if (!r.ok) throw r.error;
      const { header, stats } = r.value;
      expect(r.value.format).toBe(format);
      expect(header.path).toBe(path);
      expect(stats.rows).toBe(rows);
      expect(malformedTotal(stats), JSON.stringify(stats.malformed)).toBe(0);
      expect(stats.lines).toBe(stats.rows + stats.headerLines + stats.blankLines);
      if (format === "tsv") {
        expect(header.fields.length).toBe(header.types.length);
        // Every value has the JavaScript type its Zeek type promises.
        for (const row of r.value.rows) {
          header.fields.forEach((f, i) => {
            const t = header.types[i]!;
            const v = row[f];
            if (v === null) return;
            if (t.container) expect(Array.isArray(v)).toBe(true);
            else if (t.kind === "bool") expect(typeof v).toBe("boolean");
            else if (["time", "interval", "count", "int", "double", "port"].includes(t.kind))
              expect(Number.isFinite(v)).toBe(true);
            else expect(typeof v).toBe("string");
          });
        }
      }
      // Write the rows back (escaping as Zeek does) and read them again: the same rows.
      const out = join(dir, rel.replace(/\//g, "_"));
      writeFileSync(out, format === "tsv" ? writeTsv(header, r.value.rows) : writeJsonLines(r.value.rows));
      const again = await readZeekLog(out);
      if (!again.ok) throw again.error;
      expect(malformedTotal(again.value.stats)).toBe(0);
      expect(plain(again.value.rows)).toEqual(plain(r.value.rows));
    });
  }

  for (const [rel, want] of Object.entries(LABELS)) {
    it(`${rel}: label and detailedlabel are #fields columns with the README counts`, async () => {
      const r = await readZeekLog(sharedData(`${S}/${rel}`));
      if (!r.ok) throw r.error;
      expect(r.value.header.fields.slice(-2)).toEqual(["label", "detailedlabel"]);
      const got: Record<string, number> = {};
      for (const row of r.value.rows) {
        const k = `${row.label}/${row.detailedlabel}`;
        got[k] = (got[k] ?? 0) + 1;
      }
      expect(got).toEqual(want);
    });
  }
});
