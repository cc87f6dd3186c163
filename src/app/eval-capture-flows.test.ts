// `vigil eval --detector iforest|clusters` on the lab capture: Vigil's own flows, trained on the benign
// lead-in, measured against the lab's exact labels. Floors sit below the measured figures (seed 1).
import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../test/shared-data.ts";
import { defaultConfig } from "../config/index.ts";
import { evalClustersCapture, evalIForestCapture, hostWindowType } from "./eval-capture-flows.ts";
import type { AttackWindow } from "./labels.ts";

const LAB = sharedData("pcaps/lab/lab-dev-capture.pcap.gz");
const LABELS = sharedData("pcaps/lab/labels.csv");

const auc = (types: { type: string; rocAuc: number }[], t: string): number =>
  types.find((x) => x.type === t)?.rocAuc ?? Number.NaN;

describe.skipIf(!hasSharedData)("flow detectors measured on the lab capture", () => {
  it("iforest: per-flow AUC and TPR at 1 % FPR far above chance, per attack type", async () => {
    const r = await evalIForestCapture(LAB, LABELS, { config: defaultConfig() });
    if (!r.ok) throw r.error;
    const rep = r.value;
    // 214 flows start before the first attack window: 70 % grow the forest, the rest calibrate.
    expect(rep.flows.leadIn).toBe(214);
    expect(rep.items.training).toBe(150);
    expect(rep.items.calibration).toBe(64);
    expect(rep.items.attack).toBe(7577);
    expect(rep.items.benign).toBe(329);
    // Measured: ROC AUC 0.994, TPR at 1 % FPR 96 %. A random score gives 0.5 and about 1 %.
    expect(rep.metrics.rocAuc).toBeGreaterThan(0.97);
    expect(rep.metrics.tprAtFpr1pct.tpr).toBeGreaterThan(0.8);
    for (const t of ["syn_scan", "service_scan", "syn_flood", "slowloris", "dns_tunnel"])
      expect(auc(rep.types, t)).toBeGreaterThan(0.95);
    // The calibrated threshold (log-normal, 1 % false alarms) holds on the held-out benign flows.
    expect(rep.metrics.atThreshold.fpr).toBeLessThan(0.03);
    expect(rep.threshold.spot).not.toBeNull();
    expect(rep.threshold.lognormal).not.toBeNull();
    expect(rep.topExplained.length).toBeGreaterThan(0);
  });

  it("behaviour clusters: per host-window AUC, scans and floods found at the calibrated threshold", async () => {
    const r = await evalClustersCapture(LAB, LABELS, { config: defaultConfig() });
    if (!r.ok) throw r.error;
    const rep = r.value;
    expect(rep.clusters!.windowS).toBe(10);
    expect(rep.clusters!.k).toBe(3); // clients, servers, the resolver
    expect(rep.items.training).toBe(45);
    expect(rep.items.scored).toBe(87);
    // Measured: ROC AUC 0.762 (beacon and brute-force windows look like their host's usual ones).
    expect(rep.metrics.rocAuc).toBeGreaterThan(0.7);
    for (const t of ["syn_scan", "service_scan", "syn_flood"]) {
      expect(auc(rep.types, t)).toBeGreaterThan(0.9);
      expect(rep.types.find((x) => x.type === t)!.recall).toBe(1);
    }
    expect(auc(rep.types, "dns_tunnel")).toBeGreaterThan(0.85);
    expect(rep.metrics.atThreshold.recall).toBeGreaterThan(0.3);
  });
});

describe("hostWindowType", () => {
  const W: AttackWindow[] = [
    { start: 100, end: 110, attacker: "a", victim: "v", type: "scan" },
    { start: 105, end: 200, attacker: "a", victim: "w", type: "beacon" },
  ];
  const win = (host: string, s: number) => ({ host, startUs: s * 1e6, endUs: (s + 10) * 1e6 });
  it("labels a host window by the attack windows it overlaps, preferring the type of the host's flows", () => {
    expect(hostWindowType(win("v", 90), W, new Map())).toBe("benign");
    expect(hostWindowType(win("v", 95), W, new Map())).toBe("scan");
    expect(hostWindowType(win("x", 100), W, new Map())).toBe("benign");
    expect(hostWindowType(win("a", 100), W, new Map())).toBe("scan");
    expect(hostWindowType(win("a", 100), W, new Map([["beacon", 2]]))).toBe("beacon");
    expect(hostWindowType(win("w", 190), W, new Map())).toBe("beacon");
    expect(hostWindowType(win("w", 200), W, new Map())).toBe("beacon"); // bounds included
    expect(hostWindowType(win("w", 201), W, new Map())).toBe("benign");
  });
});
