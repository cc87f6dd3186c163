// Golden tests (as Zeek's btest): small real traces in, the emitted flow events compared with blessed
// files in test/golden. Rewrite them after an intended change with `npm run golden -- --update`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeCapture, flowEvent, learnBaseline, loadFlowClassifier } from "../src/app/index.ts";
import { defaultConfig } from "../src/config/index.ts";
import { DetectionEvent, FlowEvent } from "../src/schema/index.ts";
import { REPO_ROOT, sharedData } from "./shared-data.ts";

const UPDATE = process.env.UPDATE_GOLDEN === "1";
const GOLDEN = join(REPO_ROOT, "test/golden");

const TRACES = [
  "pcaps/zeek-traces/Traces/http/testmyids.pcap",
  "pcaps/zeek-traces/Traces/tcp/rst-inject-rae.pcap",
  "pcaps/zeek-traces/Traces/tls/heartbleed.pcap",
  "pcaps/zeek-traces/Traces/rfb/vnc-scanner.pcap",
  "pcaps/zeek-traces/Traces/dns53.pcap",
  "pcaps/zeek-traces/Traces/http/cooper-grill-dvwa.pcapng",
  "pcaps/scans/nmap/nmap_80_vanilla.pcap",
  "pcaps/nfstream/WebattackSQLinj.pcap",
];

async function flowLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  const r = await analyzeCapture(file, {
    config: defaultConfig(),
    onFlow: (rec) => {
      const ev = flowEvent(rec, "golden", "cic");
      FlowEvent.parse(ev); // every emitted event satisfies the published schema
      lines.push(JSON.stringify(ev));
    },
  });
  if (!r.ok) throw r.error;
  return lines;
}

function compare(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) console.log(`golden: ${name} did not exist and was written; review and commit it`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual).toBe(readFileSync(path, "utf8"));
}

describe("golden flow records", () => {
  it.each(TRACES)("%s", async (rel) => {
    const lines = await flowLines(sharedData(rel));
    expect(lines.length).toBeGreaterThan(0);
    compare(`${basename(rel).replace(/\.(pcap|pcapng)$/, "")}.flows.jsonl`, `${lines.join("\n")}\n`);
  });

  it("every detector's strongest detections on the sample, learnt from the bundled baseline (npm start)", async () => {
    const config = defaultConfig();
    const b = await learnBaseline(join(REPO_ROOT, "samples/baseline.pcap.gz"), {
      config,
      kitnet: {},
      iforest: {},
      clusters: { windowS: 10 },
    });
    if (!b.ok) throw b.error;
    const { kitnet, iforest, clusters } = b.value;
    expect(kitnet && iforest && clusters).toBeTruthy();
    const classifier = loadFlowClassifier("");
    if (!classifier.ok) throw classifier.error;
    const r = await analyzeCapture(join(REPO_ROOT, "samples/sample.pcap.gz"), {
      config,
      kitnet: kitnet!,
      kitnetOrigin: "baseline",
      flowDetectors: { iforest: iforest!, clusters: clusters!, classifier: classifier.value },
    });
    if (!r.ok) throw r.error;
    const lines = r.value.detections!.flatMap((d) =>
      d.top.map((ev, i) => JSON.stringify({ detections_in_group: d.topCounts![i], ...ev })),
    );
    expect(new Set(r.value.detections!.map((d) => d.detector))).toEqual(
      new Set(["kitnet", "iforest", "behaviour_clusters", "flow.classifier"]),
    );
    compare("sample.detections.jsonl", `${lines.join("\n")}\n`);
  });

  it("the flow classifier's detections on the sample with the small committed model", async () => {
    const classifier = loadFlowClassifier(join(REPO_ROOT, "test/fixtures/models/flow-classifier-small.json"));
    if (!classifier.ok) throw classifier.error;
    const events: DetectionEvent[] = [];
    const r = await analyzeCapture(join(REPO_ROOT, "samples/sample.pcap.gz"), {
      config: defaultConfig(),
      flowDetectors: { classifier: classifier.value },
      onDetection: (ev) => events.push(DetectionEvent.parse(ev)),
    });
    if (!r.ok) throw r.error;
    const [d] = r.value.detections!;
    expect(d!.detector).toBe("flow.classifier");
    expect(events.length).toBe(d!.detections);
    // Every detection names an ATT&CK technique and explains itself by SHAP values.
    for (const ev of events) {
      expect(ev.detection.technique).toMatch(/^T\d{4}/);
      expect(ev.detection.explanation.features.length).toBeGreaterThan(0);
    }
    const lines = d!.top.map((ev, i) => JSON.stringify({ detections_in_group: d!.topCounts![i], ...ev }));
    compare("sample.classifier.jsonl", `${lines.join("\n")}\n`);
  });

  it("the sample capture's summary", async () => {
    const r = await analyzeCapture(join(REPO_ROOT, "samples/sample.pcap.gz"), { config: defaultConfig() });
    if (!r.ok) throw r.error;
    const { elapsedS: _e, packetsPerS: _p, input: _i, ...stable } = r.value;
    expect(stable.packets).toBe(27530);
    compare("sample.summary.json", `${JSON.stringify(stable, null, 2)}\n`);
  });
});
