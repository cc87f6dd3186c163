// loadDataset on the three real labelled sets (counts of the data README) and on the fixtures: sources, identifiers, Attempted, groupings, schema hash.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import {
  CIC_FEATURES,
  CIC_IDENTIFIERS,
  type Dataset,
  datasetSchemaHash,
  detectSource,
  loadDataset,
  NSL_KDD_FEATURES,
  UNSW_FEATURES,
} from "../index.ts";

const CIC = "flows/cicids2017-improved/cicids2017-improved-dev.csv.gz";
const UNSW = "flows/unsw-nb15/unsw-nb15-dev.csv.gz";
const NSL = "flows/nsl-kdd/KDDTrain+_20Percent.txt.gz";
// Rows whose every feature is compared with Number(): 4 % of the file, about 300,000 values.
const CHECKED_ROWS = 4000;
const fixture = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

if (!hasSharedData)
  console.log("../shared/data is missing: dataset tests on the real CIC, UNSW and NSL-KDD files are skipped");

function load(path: string, opts: Parameters<typeof loadDataset>[1] = {}): Dataset {
  const r = loadDataset(path, opts);
  if (!r.ok) throw r.error;
  return r.value;
}

/** Element-wise equality, NaN equal to NaN (vitest's deep equality is slow on millions of elements). */
function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return false;
  return true;
}

const cicOnce: { ds?: Dataset } = {};
/** The CIC sample, loaded once for the tests that need it. */
function cic(): Dataset {
  cicOnce.ds ??= load(sharedData(CIC));
  return cicOnce.ds;
}

function classCounts(ds: Dataset): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < ds.rows; i++) out[ds.classes[ds.y[i]]] = (out[ds.classes[ds.y[i]]] ?? 0) + 1;
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), "vigil-learn-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!hasSharedData)("cicids2017 (improved, dev sample)", () => {
  let ds: Dataset;
  beforeAll(() => {
    ds = cic();
  });

  it("has the README's 43,419 rows in 16 classes, BENIGN first", () => {
    expect(ds.source).toBe("cicids2017");
    expect(ds.rows).toBe(43419);
    expect(ds.cols).toBe(81);
    expect(ds.x.length).toBe(43419 * 81);
    expect(ds.classes).toHaveLength(16);
    expect(ds.benign).toBe(0);
    expect(ds.classes[0]).toBe("BENIGN");
    expect(classCounts(ds)).toEqual({
      BENIGN: 5000,
      DDoS: 5000,
      "DoS Hulk": 5000,
      "DoS GoldenEye": 5000,
      Portscan: 5000,
      "Infiltration - Portscan": 5000,
      "FTP-Patator": 3972,
      "DoS Slowloris": 3859,
      "SSH-Patator": 2961,
      "DoS Slowhttptest": 1740,
      Botnet: 736,
      "Web Attack - Brute Force": 73,
      Infiltration: 36,
      "Web Attack - XSS": 18,
      "Web Attack - SQL Injection": 13,
      Heartbleed: 11,
    });
    expect(ds.rejected).toEqual({});
  });

  it("keeps identifiers out of the features: time and host keys instead", () => {
    expect(ds.featureNames).toEqual([...CIC_FEATURES]);
    for (const id of CIC_IDENTIFIERS) expect(ds.featureNames).not.toContain(id);
    expect(ds.categorical).toEqual([]);
    // First row: 2017-07-06 12:39:06.818901 UTC, 192.168.10.5 → 192.168.10.3, Flow Duration 245.
    expect(ds.time![0]).toBe(Date.UTC(2017, 6, 6, 12, 39, 6) * 1000 + 818901);
    expect(ds.keys!.hosts[ds.keys!.src[0]]).toBe("192.168.10.5");
    expect(ds.keys!.hosts[ds.keys!.dst[0]]).toBe("192.168.10.3");
    expect(ds.x[0]).toBe(245);
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const t of ds.time!) {
      min = Math.min(min, t);
      max = Math.max(max, t);
    }
    expect(new Date(min / 1000).toISOString().slice(0, 10)).toBe("2017-07-03");
    expect(new Date(max / 1000).toISOString().slice(0, 10)).toBe("2017-07-07");
    expect(ds.x.every((v) => Number.isFinite(v))).toBe(true); // the README: no empty, NaN or infinite values
  });

  it("parses feature values as Math.fround(Number(text))", () => {
    // Row 2 of the file (the second data line), spot-checked against its text.
    expect(ds.x[81 + CIC_FEATURES.indexOf("Flow Bytes/s")]).toBe(Math.fround(324.8846332212384));
    expect(ds.x[81 + CIC_FEATURES.indexOf("Idle Std")]).toBe(Math.fround(3190853.998336574));
    // The first CHECKED_ROWS rows, every feature, against a plain split of the text.
    const lines = gunzipSync(readFileSync(sharedData(CIC)))
      .toString("latin1")
      .split("\n", CHECKED_ROWS + 1);
    let wrong = 0;
    for (let r = 0; r < CHECKED_ROWS; r++) {
      const f = lines[r + 1].split(",");
      for (let j = 0; j < 81; j++) if (!Object.is(ds.x[r * 81 + j], Math.fround(Number(f[8 + j])))) wrong++;
    }
    expect(wrong).toBe(0);
  });
});

describe.skipIf(!hasSharedData)("unsw-nb15 (dev half of the testing partition)", () => {
  let ds: Dataset;
  beforeAll(() => {
    ds = load(sharedData(UNSW));
  });

  it("has the README's 41,168 rows in 10 classes; id is not a feature; no time", () => {
    expect(ds.source).toBe("unsw-nb15");
    expect(ds.rows).toBe(41168);
    expect(ds.featureNames).toEqual([...UNSW_FEATURES]);
    expect(ds.featureNames).toHaveLength(42);
    expect(ds.featureNames).not.toContain("id");
    expect(ds.time).toBeNull();
    expect(ds.keys).toBeNull();
    expect(ds.classes[ds.benign]).toBe("Normal");
    expect(classCounts(ds)).toEqual({
      Normal: 18500,
      Generic: 9436,
      Exploits: 5566,
      Fuzzers: 3031,
      DoS: 2045,
      Reconnaissance: 1748,
      Analysis: 339,
      Backdoor: 292,
      Shellcode: 189,
      Worms: 22,
    });
    expect(ds.rejected).toEqual({});
  });

  it("encodes proto, service, state as sorted levels; '-' (unknown service) is a level", () => {
    const names = ds.categorical.map((c) => ds.featureNames[c.index]);
    expect(names).toEqual(["proto", "service", "state"]);
    for (const c of ds.categorical) {
      expect([...c.levels].sort()).toEqual(c.levels);
      let bad = 0;
      for (let r = 0; r < ds.rows; r++) {
        const v = ds.x[r * ds.cols + c.index];
        if (!(Number.isInteger(v) && v >= 0 && v < c.levels.length)) bad++;
      }
      expect(bad).toBe(0);
    }
    const service = ds.categorical[1];
    expect(service.levels).toContain("-");
    // First data row: udp, service "-", state INT.
    expect(ds.categorical[0].levels[ds.x[ds.categorical[0].index]]).toBe("udp");
    expect(service.levels[ds.x[service.index]]).toBe("-");
    expect(ds.categorical[2].levels[ds.x[ds.categorical[2].index]]).toBe("INT");
  });

  it("binary: true uses the label column (Normal/Attack)", () => {
    const b = load(sharedData(UNSW), { binary: true });
    expect(b.classes).toEqual(["Normal", "Attack"]);
    expect(classCounts(b)).toEqual({ Normal: 18500, Attack: 22668 });
  });

  it("re-encodes with a training set's levels (levelsFrom): same codes, same schema hash", () => {
    const again = load(sharedData(UNSW), { levelsFrom: ds });
    expect(datasetSchemaHash(again)).toBe(datasetSchemaHash(ds));
    expect(sameFloats(again.x, ds.x)).toBe(true);
    const narrow = {
      ...ds,
      categorical: ds.categorical.map((c) => ({ ...c, levels: c.levels.slice(0, 2) })),
    };
    const unseen = load(sharedData(UNSW), { levelsFrom: narrow });
    expect(unseen.capped?.unseen_level).toBeGreaterThan(0);
    expect(unseen.rows).toBe(ds.rows);
  });
});

describe.skipIf(!hasSharedData)("nsl-kdd (KDDTrain+ 20 %)", () => {
  it("has the README's 25,192 rows; 41 features without level; category grouping by default", () => {
    const ds = load(sharedData(NSL));
    expect(ds.source).toBe("nsl-kdd");
    expect(ds.rows).toBe(25192);
    expect(ds.featureNames).toEqual([...NSL_KDD_FEATURES]);
    expect(ds.featureNames).not.toContain("level");
    expect(ds.classes).toEqual(["normal", "DoS", "Probe", "R2L", "U2R"]);
    expect(ds.benign).toBe(0);
    // DoS = neptune, smurf, back, teardrop, pod, land; Probe = ipsweep, satan, portsweep, nmap; …
    expect(classCounts(ds)).toEqual({
      normal: 13449,
      DoS: 8282 + 529 + 196 + 188 + 38 + 1,
      Probe: 710 + 691 + 587 + 301,
      R2L: 181 + 10 + 7 + 5 + 2 + 2 + 1 + 1,
      U2R: 6 + 4 + 1,
    });
    expect(ds.categorical.map((c) => [ds.featureNames[c.index], c.levels.length])).toEqual([
      ["protocol_type", 3],
      ["service", 66],
      ["flag", 11],
    ]);
    expect(ds.rejected).toEqual({});
  });

  it("grouping attack keeps the 22 names; binary gives normal/attack", () => {
    const a = load(sharedData(NSL), { grouping: "attack" });
    expect(a.classes).toHaveLength(22);
    expect(a.classes[0]).toBe("normal");
    expect(classCounts(a).neptune).toBe(8282);
    const b = load(sharedData(NSL), { grouping: "binary" });
    expect(classCounts(b)).toEqual({ normal: 13449, attack: 25192 - 13449 });
  });
});

describe("cicids2017 Attempted flows (synthetic fixture)", () => {
  const path = fixture("cic-attempted.csv");
  const labels = (ds: Dataset) => Array.from(ds.y, (c) => ds.classes[c]);

  it("counts them as BENIGN by default (suffix or Attempted Category ≥ 0)", () => {
    const ds = load(path);
    expect(ds.source).toBe("cicids2017");
    expect(labels(ds)).toEqual(["BENIGN", "DoS Hulk", "BENIGN", "BENIGN", "FTP-Patator", "BENIGN", "BENIGN"]);
    expect(ds.classes).toEqual(["BENIGN", "DoS Hulk", "FTP-Patator"]);
  });

  it("own-class keeps <attack> - Attempted as a class", () => {
    const ds = load(path, { attempted: "own-class" });
    expect(labels(ds)).toEqual([
      "BENIGN",
      "DoS Hulk",
      "DoS Hulk - Attempted",
      "FTP-Patator - Attempted",
      "FTP-Patator",
      "SSH-Patator - Attempted",
      "BENIGN",
    ]);
    expect(ds.classes[0]).toBe("BENIGN");
  });

  it("drop leaves them out and counts them", () => {
    const ds = load(path, { attempted: "drop" });
    expect(labels(ds)).toEqual(["BENIGN", "DoS Hulk", "FTP-Patator", "BENIGN"]);
    expect(ds.dropped).toEqual({ attempted: 3 });
    expect(ds.rejected).toEqual({});
    expect(ds.time![1]).toBe(Date.UTC(2017, 6, 5, 10, 0, 0) * 1000 + 250000);
    expect(ds.time![2]).toBe(Date.UTC(2017, 6, 4, 9, 21, 0) * 1000 + 500000);
  });
});

describe("vigil-flows (fixtures from `vigil flows --schema cic`)", () => {
  it("reads the unlabelled CSV: every row 'unknown', no benign class, times and hosts", () => {
    const ds = load(fixture("vigil-flows-sqli.csv"));
    expect(ds.source).toBe("vigil-flows");
    expect(ds.rows).toBe(9);
    expect(ds.classes).toEqual(["unknown"]);
    expect(ds.benign).toBe(-1);
    expect(ds.featureNames).toEqual([...CIC_FEATURES]);
    expect(ds.rejected).toEqual({});
    // The SQL-injection flows of 2017-07-06 13:40-13:42 UTC (data README), 172.16.0.1 → 192.168.10.50.
    for (const t of ds.time!) {
      expect(t).toBeGreaterThanOrEqual(Date.UTC(2017, 6, 6, 13, 40) * 1000);
      expect(t).toBeLessThan(Date.UTC(2017, 6, 6, 13, 43) * 1000);
    }
    expect(ds.time![0]).toBe(Date.UTC(2017, 6, 6, 13, 40, 7) * 1000 + 419016);
    expect(new Set(Array.from(ds.keys!.src, (h) => ds.keys!.hosts[h]))).toEqual(new Set(["172.16.0.1"]));
    expect(ds.x[CIC_FEATURES.indexOf("Flow Duration")]).toBe(5006912);
  });

  it("reads the labelled TSV with the same features", () => {
    const csv = load(fixture("vigil-flows-sqli.csv"));
    const ds = load(fixture("vigil-flows-sqli-labelled.tsv"));
    expect(ds.source).toBe("vigil-flows");
    expect(ds.classes).toEqual(["BENIGN", "Web Attack - SQL Injection"]);
    expect(ds.benign).toBe(0);
    expect(Array.from(ds.y)).toEqual(new Array(9).fill(1));
    expect(ds.x).toEqual(csv.x);
    expect(ds.time).toEqual(csv.time);
  });

  it.skipIf(!hasSharedData)(
    "shares the schema hash of cicids2017, so a CIC model scores Vigil's flows",
    () => {
      const flows = load(fixture("vigil-flows-sqli.csv"));
      expect(datasetSchemaHash(flows)).toBe(datasetSchemaHash(cic()));
    },
  );
});

describe("source detection and errors", () => {
  it("detects each source from its header", () => {
    const cic = ["id", "Flow ID", "Timestamp", ...CIC_FEATURES, "Label"];
    expect(detectSource(cic)).toBe("cicids2017");
    expect(detectSource(["uid", "Community ID", "Timestamp", ...CIC_FEATURES])).toBe("vigil-flows");
    expect(detectSource(["id", ...UNSW_FEATURES, "attack_cat", "label"])).toBe("unsw-nb15");
    expect(detectSource([...NSL_KDD_FEATURES, "attack", "level"])).toBe("nsl-kdd");
    expect(detectSource(["a", "b"])).toBeNull();
  });

  it("reads a headerless NSL-KDD file (the UNB originals), gzipped", () => {
    const line = (svc: string, attack: string) =>
      `0,tcp,${svc},SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,${attack},20`;
    const p = join(tmp, "KDDTest-headerless.txt.gz");
    writeFileSync(
      p,
      gzipSync(`${line("http", "normal")}\n${line("ftp", "apache2")}\n${line("x", "mystery")}\n`),
    );
    const ds = load(p);
    expect(ds.source).toBe("nsl-kdd");
    expect(ds.rows).toBe(2);
    expect(Array.from(ds.y, (c) => ds.classes[c])).toEqual(["normal", "DoS"]);
    expect(ds.rejected).toEqual({ unknown_attack: 1 });
    expect(ds.categorical[1].levels).toEqual(["ftp", "http"]);
  });

  it("returns typed errors for a missing file, an unknown table, missing columns, a bad source", () => {
    const missing = loadDataset(join(tmp, "nope.csv"));
    expect(!missing.ok && missing.error.code).toBe("input.not_found");
    const p = join(tmp, "other.csv");
    writeFileSync(p, "a,b,c\n1,2,3\n");
    const unknown = loadDataset(p);
    expect(!unknown.ok && unknown.error.code).toBe("usage");
    expect(!unknown.ok && unknown.error.message).toMatch(/cannot tell which dataset/);
    const forced = loadDataset(p, { source: "unsw-nb15" });
    expect(!forced.ok && forced.error.message).toMatch(
      /lacks the column\(s\) "attack_cat", "label", "dur".* and \d+ more/,
    );
    const bad = loadDataset(p, { source: "kdd99" as never });
    expect(!bad.ok && bad.error.code).toBe("usage");
    const g = join(tmp, "broken.csv.gz");
    writeFileSync(
      g,
      Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(40, 0xff)]),
    );
    const corrupt = loadDataset(g);
    expect(!corrupt.ok && corrupt.error.code).toBe("input.corrupt");
  });

  it("enforces maxBytes", () => {
    const r = loadDataset(fixture("cic-attempted.csv"), { maxBytes: 1000 });
    expect(!r.ok && r.error.message).toMatch(/more than 1000 bytes/);
  });
});

describe("datasetSchemaHash", () => {
  const base = {
    source: "unsw-nb15",
    featureNames: ["a", "b"],
    categorical: [{ index: 1, levels: ["tcp", "udp"] }],
  };
  it("is stable and changes with feature names, order or levels, not with classes or rows", () => {
    const h = datasetSchemaHash(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(datasetSchemaHash({ ...base })).toBe(h);
    expect(datasetSchemaHash({ ...base, featureNames: ["b", "a"] })).not.toBe(h);
    expect(datasetSchemaHash({ ...base, categorical: [{ index: 1, levels: ["udp", "tcp"] }] })).not.toBe(h);
    expect(datasetSchemaHash({ ...base, source: "nsl-kdd" })).not.toBe(h);
    expect(datasetSchemaHash({ ...base, source: "cicids2017" })).toBe(
      datasetSchemaHash({ ...base, source: "vigil-flows" }),
    );
  });
});
