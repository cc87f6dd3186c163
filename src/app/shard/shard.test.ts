import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openCapture } from "../../capture/index.ts";
import { defaultConfig } from "../../config/index.ts";
import { DecodedPacket } from "../../decode/index.ts";
import { DetectionEvent } from "../../schema/index.ts";
import { analyzeCapture, decodeFromBatch } from "../index.ts";
import { pairHash, quickShard, shardOf } from "./index.ts";

const ROOT = join(import.meta.dirname, "../../..");
const SAMPLE = join(ROOT, "samples/sample.pcap.gz");
const FIXTURES = join(ROOT, "test/fixtures/captures");
const captures = [
  SAMPLE,
  ...readdirSync(FIXTURES)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => join(FIXTURES, f)),
];

describe("shard key", () => {
  it("is symmetric and agrees with the no-decode fast path on every packet of the test captures", async () => {
    const p = new DecodedPacket();
    const rev = new DecodedPacket();
    let quick = 0;
    let packets = 0;
    for (const file of captures) {
      const r = await openCapture(file);
      if (!r.ok) throw r.error;
      for (let b = await r.value.next(); b !== null; b = await r.value.next()) {
        for (let i = 0; i < b.count; i++) {
          decodeFromBatch(p, b, i);
          packets++;
          // The reverse direction: addresses and MACs swapped.
          rev.ipVersion = p.ipVersion;
          rev.src.set(p.dst);
          rev.dst.set(p.src);
          rev.srcMacHi = p.dstMacHi;
          rev.srcMacLo = p.dstMacLo;
          rev.dstMacHi = p.srcMacHi;
          rev.dstMacLo = p.srcMacLo;
          expect(pairHash(rev)).toBe(pairHash(p));
          for (const n of [2, 3, 7]) {
            const q = quickShard(b, i, n);
            if (q >= 0) {
              quick++;
              expect(q).toBe(shardOf(p, n));
            }
          }
        }
      }
    }
    expect(packets).toBeGreaterThan(27_000);
    expect(quick).toBeGreaterThan(3 * 25_000); // Ethernet IP packets take the fast path
  });

  it("spreads address pairs evenly", () => {
    const p = new DecodedPacket();
    p.ipVersion = 4;
    const counts = [0, 0, 0, 0];
    for (let a = 0; a < 4000; a++) {
      p.src[2] = p.dst[2] = 0xffff;
      p.src[3] = (10 << 24) | a;
      p.dst[3] = (10 << 24) | (1 << 16) | ((a * 7) & 0xff);
      counts[shardOf(p, 4)]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
});

describe("analyze --workers 2", () => {
  it("counts what one thread counts and emits schema-valid detections", async () => {
    const config = defaultConfig();
    const opts = {
      config,
      kitnet: { fmGrace: 300, adGrace: 1000, calibrationPackets: 400 },
      flowDetectors: { iforest: {}, clusters: {} },
    };
    const one = await analyzeCapture(SAMPLE, opts);
    const detections: unknown[] = [];
    let flowRecords = 0;
    const two = await analyzeCapture(SAMPLE, {
      ...opts,
      workers: 2,
      onDetection: (ev) => detections.push(ev),
      onFlow: () => flowRecords++,
    });
    if (!one.ok) throw one.error;
    if (!two.ok) throw two.error;
    const a = one.value;
    const b = two.value;
    for (const k of [
      "packets",
      "bytes",
      "capturedBytes",
      "start",
      "end",
      "outOfOrderPackets",
      "protocols",
      "flows",
      "anomalies",
      "topTalkers",
      "topPorts",
      "linkTypes",
      "captureAnomalies",
    ] as const) {
      expect(b[k], k).toEqual(a[k]);
    }
    expect(flowRecords).toBe(b.flows!.total + b.flows!.interimRecords);
    // Each shard trains its own detectors: the same detectors report, over the same units.
    expect(b.detections!.map((d) => d.detector)).toEqual(a.detections!.map((d) => d.detector));
    const kit = b.detections!.find((d) => d.detector === "kitnet")!;
    expect(kit.trainingPackets + kit.scoredPackets).toBe(a.packets);
    expect(kit.threshold).not.toBeNull();
    expect(detections.length).toBeGreaterThan(0);
    for (const ev of detections) DetectionEvent.parse(ev);
    for (const d of b.detections!) for (const ev of d.top) DetectionEvent.parse(ev);
    // Frame numbers are the capture's, not a shard's.
    for (const ev of detections) {
      const f = (ev as DetectionEvent).detection.frame;
      if (f !== undefined) expect(f).toBeLessThanOrEqual(a.packets);
    }
  });

  it("refuses what only one thread can do", async () => {
    const config = defaultConfig();
    await expect(analyzeCapture(SAMPLE, { config, workers: 2, onFeatures: () => {} })).rejects.toThrow(
      /not available with --workers/,
    );
  });
});
