import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { BYTE_CHANNELS } from "../../features/index.ts";
import { loadNnModel, saveNnModel } from "../../ml/index.ts";
import {
  type LabelledCapture,
  payloadSplit,
  readPayloadSamples,
  scorePayloadModel,
  trainPayloadModel,
  trainPayloadOnSamples,
} from "./index.ts";

const LAB: LabelledCapture = {
  path: sharedData("pcaps/lab/lab-dev-capture.pcap.gz"),
  labels: { windows: sharedData("pcaps/lab/labels.csv") },
};

describe("payload CNN settings", () => {
  it("refuses settings the extractor or the network cannot take, before reading anything", async () => {
    const none: LabelledCapture[] = [{ path: "/nonexistent.pcap", labels: { every: "x" } }];
    for (const bad of [
      { byteConv: [{ outChannels: 4, kernel: 500 }] },
      { window: { packets: 0 } },
      { packetConv: [] },
      { fit: { maxEpochs: 0 } },
    ]) {
      const r = await trainPayloadModel(none, bad);
      expect(r.ok ? "" : r.error.code).toBe("usage");
    }
  });
});

describe.skipIf(!hasSharedData)("payload CNN on the lab capture", () => {
  it("reads each flow's packet window, labelled by the lab's rule", async () => {
    const r = await readPayloadSamples([LAB], { window: {}, maxPerGroup: 1_000_000 });
    if (!r.ok) throw r.error;
    const s = r.value;
    // One window per flow; the lab's attacks by flow (hping3 sends 5000 SYNs from new ports, nmap 2000 probes).
    expect(s.seen[LAB.path]).toMatchObject({ syn_flood: 5000, syn_scan: 2000, c2_beacon: 10 });
    expect(s.classes[0]).toBe("benign");
    // The first C2 beacon: curl's request from 10.99.0.12 to the attacker's :8080.
    const c2 = s.classes.indexOf("c2_beacon");
    const first = s.y.indexOf(c2);
    const N = s.layout.bytes;
    const value = s.layout.byteOffset + BYTE_CHANNELS.indexOf("byte.value") * N;
    const row = s.x.subarray(first * s.layout.size, (first + 1) * s.layout.size);
    const text = String.fromCharCode(...Array.from(row.subarray(value, value + 23)));
    expect(text).toBe("GET /api/v1/checkin?id=");
    expect(row[s.layout.byteOffset + BYTE_CHANNELS.indexOf("byte.dir") * N]).toBe(1);
  });

  it("trains a small CNN in a few epochs, far above what a broken trainer reaches", async () => {
    const r = await readPayloadSamples([LAB], { window: { packets: 10, bytes: 64 }, maxPerGroup: 300 });
    if (!r.ok) throw r.error;
    const s = r.value;
    const split = payloadSplit(s, { train: 0.7, valid: 0.1, test: 0.2 });
    const res = trainPayloadOnSamples(s, split, {
      packetConv: [{ outChannels: 8, kernel: 3 }],
      byteConv: [{ outChannels: 8, kernel: 4 }],
      headHidden: [8],
      fit: { maxEpochs: 12, patience: 12, learningRate: 1e-2 },
    });
    if (!res.ok) throw res.error;
    const { model, report } = res.value;
    // The big, distinct classes: a constant or broken model gets at most one of them right.
    const f1 = (name: string) => report.metrics.perClass.find((c) => c.name === name)!.f1;
    for (const c of ["benign", "syn_flood", "syn_scan", "dns_tunnel", "slowloris"])
      expect(f1(c)).toBeGreaterThan(0.8);
    expect(report.attack.rocAuc).toBeGreaterThan(0.95);
    expect(report.counts.test).toBe(split.test.length);
    // A saved and loaded model scores the capture like the trained one.
    const loaded = loadNnModel(saveNnModel(model), { kind: "payload-cnn" });
    if (!loaded.ok) throw loaded.error;
    const a = await scorePayloadModel(loaded.value, [LAB]);
    const b = await scorePayloadModel(model, [LAB]);
    if (!a.ok || !b.ok) throw new Error("scoring failed");
    expect(Array.from(a.value.metrics.matrix)).toEqual(Array.from(b.value.metrics.matrix));
    expect(a.value.counts.test).toBe(Object.values(s.seen[LAB.path]!).reduce((x, y) => x + y, 0));
  });
});
