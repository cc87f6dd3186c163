// The flow detectors inside `vigil analyze`, end to end on the lab capture (real tools, exact labels).
import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../test/shared-data.ts";
import { defaultConfig } from "../config/index.ts";
import { DetectionEvent } from "../schema/index.ts";
import { analyzeCapture } from "./analyze.ts";
import type { FlowDetectionSummary } from "./flow-detections.ts";
import { BENIGN, readAttackWindows, WindowLabeler } from "./labels.ts";

const LAB = sharedData("pcaps/lab/lab-dev-capture.pcap.gz");
const LABELS = sharedData("pcaps/lab/labels.csv");

describe.skipIf(!hasSharedData)("flow detectors in vigil analyze (lab capture)", () => {
  it("train on the benign lead-in, then flag attack flows and host windows with explanations", async () => {
    const windows = readAttackWindows(LABELS);
    if (!windows.ok) throw windows.error;
    const labeler = new WindowLabeler(windows.value);
    const events: DetectionEvent[] = [];
    const typeOf = new Map<string, string>(); // flow uid → type by the lab's flow rule
    const r = await analyzeCapture(LAB, {
      config: defaultConfig(),
      onDetection: (ev) => events.push(ev),
      onFlow: (rec) =>
        typeOf.set(
          rec.conn.uid,
          labeler.label(rec.firstUs / 1e6, rec.conn["id.orig_h"], rec.conn["id.resp_h"]),
        ),
      // The first attack starts 90.3 s in: train 60 s, calibrate 30 s; host windows of 10 s.
      flowDetectors: {
        iforest: { trainingSeconds: 60, calibrationSeconds: 30 },
        clusters: { windowS: 10, trainingSeconds: 90 },
      },
    });
    if (!r.ok) throw r.error;
    const [fi, fc] = r.value.detections as FlowDetectionSummary[];
    for (const ev of events) DetectionEvent.parse(ev);

    expect(fi!.detector).toBe("iforest");
    expect(fi!.phase).toBe("scoring");
    expect(fi!.unit).toBe("flows");
    expect(fi!.trainingUnits + fi!.scoredUnits).toBe(r.value.flows!.total);
    expect(fi!.top.length).toBe(20);
    const flowEvents = events.filter((e) => e.detection.detector === "iforest");
    expect(flowEvents.length).toBe(fi!.detections);
    const types = flowEvents.map((e) => typeOf.get(e.flow_id!));
    const benign = types.filter((t) => t === BENIGN).length;
    // Measured with seed 1: 7,281 flows above the threshold, 12 of them benign (of ~330 benign flows
    // scored). The scan, flood and slowloris flows (7,254 of them) are most of what is flagged.
    expect(flowEvents.length).toBeGreaterThan(5000);
    expect(benign).toBeLessThan(40);
    expect(fi!.top[0]!.detection.explanation.features[0]!.text).toMatch(/\(training median /);
    expect(fi!.top[0]!.flow_id).toMatch(/^C/);

    expect(fc!.detector).toBe("behaviour_clusters");
    expect(fc!.phase).toBe("scoring");
    expect(fc!.unit).toBe("host windows");
    expect(fc!.evictions).toBe(0);
    // Flows are released in end-time order after the flow table's idle timeout: none arrive late.
    expect(fc!.lateFlows).toBe(0);
    const hostEvents = events.filter((e) => e.detection.detector === "behaviour_clusters");
    expect(hostEvents.length).toBe(fc!.detections);
    // The SYN scan window: the victim web server and the attacker are the two strongest detections.
    const top = fc!.top[0]!;
    expect(top.src_ip).toBe("10.99.0.21");
    expect(top.detection.explanation.summary).toMatch(/usual cluster/);
    expect(top.detection.explanation.features[0]!.text).toMatch(
      /^distinct local ports contacted 2,0\d\d vs cluster centre 1$/,
    );
    const flagged = new Set(hostEvents.map((e) => e.src_ip));
    expect(flagged.has("10.99.0.66")).toBe(true);
    expect(flagged.has("10.99.0.53")).toBe(true); // the resolver relaying the DNS tunnel
  });
});
