// Runs the flow detectors inside `vigil analyze`: the isolation forest on every flow record's CIC
// features and the behaviour clusters on per-host windows, keeping the strongest detections (bounded)
// as schema events with their explanations.
import {
  BehaviourClustersConfig,
  BehaviourClustersDetector,
  type FlowClassifierConfig,
  FlowClassifierDetector,
  flowEndUs,
  type HostFlow,
  type HostWindow,
  IForestDetector,
  IForestDetectorConfig,
  PROFILE_DIMENSIONS,
} from "../detect/index.ts";
import { CIC_COLUMNS, type FlowRecord } from "../flows/index.ts";
import type { DetectionEvent, VigilConfig } from "../schema/index.ts";
import { type DetectionSummary, KeyedTop, type ModelOrigin } from "./detections.ts";
import { loadFlowClassifier } from "./supervised/classifier.ts";

/** Which flow detectors run: settings for new ones (defaults from their schemas), or detectors to reuse. */
export interface FlowDetectorOptions {
  iforest?: Partial<IForestDetectorConfig> | IForestDetector;
  clusters?: Partial<BehaviourClustersConfig> | BehaviourClustersDetector;
  /**
   * The supervised flow classifier: a loaded detector, or the model file ("" = bundled) and settings to
   * load it from (plain data, so worker threads can load their own).
   */
  classifier?: FlowClassifierDetector | ClassifierSpec;
}

/** Where the flow classifier's model is and its settings. */
export interface ClassifierSpec {
  model: string;
  settings?: Partial<FlowClassifierConfig>;
}

/** A detection summary of a flow detector: packet counts are the packets of the flows it saw. */
export type FlowDetectionSummary = DetectionSummary & {
  /** Host-table evictions and late flows (behaviour clusters only). */
  evictions?: number;
  lateFlows?: number;
};

const PACKETS_OUT = PROFILE_DIMENSIONS.findIndex((d) => d.name === "packets_out");
const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, "ipv6-icmp": 58, icmp6: 58 };

/** The plain numbers of a flow record that a host profile needs. */
export function hostFlowOf(rec: FlowRecord): HostFlow {
  const c = rec.conn;
  return {
    startUs: rec.firstUs,
    durationS: (rec.lastUs - rec.firstUs) / 1e6,
    orig: c["id.orig_h"],
    resp: c["id.resp_h"],
    respPort: c["id.resp_p"],
    proto: PROTO[c.proto] ?? -1,
    origBytes: c.orig_ip_bytes,
    respBytes: c.resp_ip_bytes,
    origPkts: c.orig_pkts,
    respPkts: c.resp_pkts,
    origPayload: c.orig_bytes,
    respPayload: c.resp_bytes,
  };
}

/** The flow envelope of a detection about one flow. */
function flowEnvelope(rec: FlowRecord): Partial<DetectionEvent> {
  const c = rec.conn;
  const ports = c.proto === "tcp" || c.proto === "udp";
  return {
    flow_id: c.uid,
    community_id: rec.communityId,
    src_ip: c["id.orig_h"],
    dest_ip: c["id.resp_h"],
    proto: c.proto,
    ...(ports ? { src_port: c["id.orig_p"], dest_port: c["id.resp_p"] } : {}),
    entities: { src_host: c["id.orig_h"], dest_host: c["id.resp_h"] },
  };
}

/** Min-heap of held flows by end time. */
class StartHeap {
  private readonly items: HostFlow[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): HostFlow | undefined {
    return this.items[0];
  }
  push(f: HostFlow): void {
    const a = this.items;
    const end = flowEndUs(f);
    a.push(f);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (flowEndUs(a[p]!) <= end) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = f;
  }
  pop(): HostFlow | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      const end = flowEndUs(last);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && flowEndUs(a[r]!) < flowEndUs(a[l]!) ? r : l;
        if (flowEndUs(a[c]!) >= end) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

// Flows held for time ordering at most; beyond it the earliest is released at once.
const MAX_HELD_FLOWS = 200_000;

/**
 * Feeds the flow detectors from the flow table. The isolation forest takes records as they come. The
 * behaviour clusters put a flow in the window of its last packet, but records arrive later than that
 * (an idle flow is reported idleTimeoutS after its last packet, a closed one tcpCloseLingerS after), so
 * their flows are held in a bounded heap until the capture clock is that far past their end, and
 * released in end-time order.
 */
export class FlowDetectorsRunner {
  readonly iforest: IForestDetector | null;
  readonly clusters: BehaviourClustersDetector | null;
  readonly classifier: FlowClassifierDetector | null;
  private readonly sensor: string;
  private readonly holdUs: number;
  private readonly held = new StartHeap();
  private clockUs = Number.NEGATIVE_INFINITY;
  private readonly ifOrigin: ModelOrigin;
  private readonly clOrigin: ModelOrigin;
  private readonly ifTop: KeyedTop;
  private readonly clTop: KeyedTop;
  private readonly fcTop: KeyedTop;
  private readonly n = {
    fcScorePkts: 0,
    fcScored: 0,
    fcDetections: 0,
    ifTrainPkts: 0,
    ifScorePkts: 0,
    ifScored: 0,
    ifDetections: 0,
    clTrainPkts: 0,
    clScorePkts: 0,
    clScored: 0,
    clTrainWindows: 0,
    clDetections: 0,
  };

  constructor(
    opts: FlowDetectorOptions,
    config: VigilConfig,
    keep = 20,
    private readonly onDetection?: (ev: DetectionEvent) => void,
  ) {
    this.sensor = config.sensor;
    // +1 s: the flow table expires flows on the first packet past their deadline.
    this.holdUs = (config.flows.idleTimeoutS + config.flows.tcpCloseLingerS + 1) * 1e6;
    const fi = opts.iforest;
    this.ifOrigin = fi instanceof IForestDetector ? "baseline" : "trained here";
    this.clOrigin = opts.clusters instanceof BehaviourClustersDetector ? "baseline" : "trained here";
    this.iforest =
      fi instanceof IForestDetector
        ? fi
        : fi
          ? new IForestDetector(IForestDetectorConfig.parse(fi), CIC_COLUMNS)
          : null;
    const fc = opts.clusters;
    const sink = (w: HostWindow): void => this.onWindow(w);
    if (fc instanceof BehaviourClustersDetector) fc.setSink(sink);
    this.clusters =
      fc instanceof BehaviourClustersDetector
        ? fc
        : fc
          ? new BehaviourClustersDetector(BehaviourClustersConfig.parse(fc), sink)
          : null;
    this.ifTop = new KeyedTop(keep);
    this.clTop = new KeyedTop(keep);
    const cs = opts.classifier;
    if (cs === undefined) this.classifier = null;
    else if (cs instanceof FlowClassifierDetector) this.classifier = cs;
    else {
      const loaded = loadFlowClassifier(cs.model, cs.settings ?? {});
      if (!loaded.ok) throw loaded.error;
      this.classifier = loaded.value;
    }
    this.fcTop = new KeyedTop(keep);
  }

  /** One flow record; `nowUs` is the capture clock (time of the latest packet), when known. */
  onFlow(rec: FlowRecord, nowUs = rec.lastUs): void {
    const pkts = rec.conn.orig_pkts + rec.conn.resp_pkts;
    if (this.iforest) this.scoreFlow(this.iforest, rec, pkts);
    if (this.classifier) this.classifyFlow(this.classifier, rec, pkts);
    if (this.clusters) {
      if (nowUs > this.clockUs) this.clockUs = nowUs;
      if (this.held.size >= MAX_HELD_FLOWS) this.clusters.observe(this.held.pop()!);
      this.held.push(hostFlowOf(rec));
      this.release(this.clockUs - this.holdUs);
    }
  }

  /** End of input: releases every held flow and closes the open host windows. */
  finish(): void {
    if (this.clusters) {
      this.release(Number.POSITIVE_INFINITY);
      this.clusters.flush();
    }
    this.iforest?.finishTraining();
  }

  private release(untilUs: number): void {
    const c = this.clusters!;
    for (let f = this.held.peek(); f !== undefined && flowEndUs(f) <= untilUs; f = this.held.peek()) {
      c.observe(this.held.pop()!);
    }
  }

  private scoreFlow(d: IForestDetector, rec: FlowRecord, pkts: number): void {
    const s = d.process(rec.cic, rec.firstUs);
    if (Number.isNaN(s)) {
      this.n.ifTrainPkts += pkts;
      return;
    }
    this.n.ifScored++;
    this.n.ifScorePkts += pkts;
    if (!(s > d.threshold)) return;
    this.n.ifDetections++;
    // The forest's dedup key: originator, responder and service port.
    const c = rec.conn;
    const key = `${c["id.orig_h"]}|${c["id.resp_h"]}|${c["id.resp_p"]}`;
    this.emitFlow(this.ifTop, key, s, rec, () => ({
      detector: d.info.id,
      severity: d.info.severity,
      score: s,
      threshold: d.threshold,
      model_version: d.modelVersion(),
      explanation: d.explain(rec.cic, s, 5),
    }));
  }

  /**
   * Counts a flow detection in `top` under `key`; builds its event (only when it is kept or a listener
   * wants every detection), hands it to the listener and keeps it when it is its key's strongest.
   */
  private emitFlow(
    top: KeyedTop,
    key: string,
    score: number,
    rec: FlowRecord,
    body: () => DetectionEvent["detection"],
  ): void {
    const wanted = top.offer(key, score);
    if (!this.onDetection && !wanted) return;
    const ev: DetectionEvent = {
      ts: rec.lastUs / 1e6,
      event_type: "detection",
      sensor: this.sensor,
      ...flowEnvelope(rec),
      detection: body(),
    };
    this.onDetection?.(ev);
    if (wanted) top.put(key, score, ev);
  }

  private classifyFlow(d: FlowClassifierDetector, rec: FlowRecord, pkts: number): void {
    const p = d.process(rec.cic, rec.firstUs);
    this.n.fcScored++;
    this.n.fcScorePkts += pkts;
    const cls = d.lastClass;
    if (cls === null || !(p >= d.threshold)) return;
    this.n.fcDetections++;
    // Grouped by host pair and class: a scan's many ports are one alert, a scan and a flood two.
    const c = rec.conn;
    const key = `${c["id.orig_h"]}|${c["id.resp_h"]}|${cls.name}`;
    const technique = cls.meaning.technique;
    this.emitFlow(this.fcTop, key, p, rec, () => ({
      detector: d.info.id,
      ...(technique ? { technique } : {}),
      severity: d.severity(),
      score: p,
      threshold: d.threshold,
      model_version: d.modelVersion(),
      explanation: d.explain(rec.cic, p, 5),
    }));
  }

  private onWindow(w: HostWindow): void {
    // Every flow's packets are counted once as "sent": by its originator and by its responder.
    const pkts = w.profile[PACKETS_OUT]!;
    if (w.training) {
      this.n.clTrainWindows++;
      this.n.clTrainPkts += pkts;
      return;
    }
    this.n.clScored++;
    this.n.clScorePkts += pkts;
    if (!w.flagged) return;
    this.n.clDetections++;
    const d = this.clusters!;
    const host = String(w.host);
    const wanted = this.clTop.offer(host, w.score);
    if (!this.onDetection && !wanted) return;
    const ev: DetectionEvent = {
      ts: w.endUs / 1e6,
      event_type: "detection",
      sensor: this.sensor,
      src_ip: host,
      entities: { src_host: host },
      detection: {
        detector: d.info.id,
        severity: d.info.severity,
        score: w.score,
        threshold: w.threshold,
        model_version: d.modelVersion(),
        explanation: d.explain(w),
      },
    };
    this.onDetection?.(ev);
    if (wanted) this.clTop.put(host, w.score, ev);
  }

  summaries(): FlowDetectionSummary[] {
    const out: FlowDetectionSummary[] = [];
    const n = this.n;
    const d = this.iforest;
    if (d) {
      out.push({
        detector: d.info.id,
        modelVersion: d.modelVersion(),
        phase: d.phase,
        threshold: Number.isNaN(d.threshold) ? null : d.threshold,
        trainingPackets: n.ifTrainPkts,
        scoredPackets: n.ifScorePkts,
        detections: n.ifDetections,
        model: this.ifOrigin,
        trainingRemaining: d.trainingRemaining,
        ignoredFeatures: [],
        ...this.ifTop.result(),
        unit: "flows",
        groupedBy: "originator, responder and port",
        trainingUnits: d.trainedOn.flows + d.trainedOn.calibrationFlows,
        scoredUnits: n.ifScored,
      });
    }
    const fc = this.classifier;
    if (fc) {
      out.push({
        detector: fc.info.id,
        modelVersion: fc.modelVersion(),
        phase: fc.phase,
        threshold: fc.threshold,
        trainingPackets: 0,
        scoredPackets: n.fcScorePkts,
        detections: n.fcDetections,
        model: "loaded",
        trainingRemaining: 0,
        ignoredFeatures: [],
        ...this.fcTop.result(),
        unit: "flows",
        groupedBy: "originator, responder and class",
        trainingUnits: fc.trainedRows,
        scoredUnits: n.fcScored,
      });
    }
    const c = this.clusters;
    if (c) {
      out.push({
        detector: c.info.id,
        modelVersion: c.modelVersion(),
        phase: c.phase,
        threshold: Number.isNaN(c.threshold) ? null : c.threshold,
        trainingPackets: n.clTrainPkts,
        scoredPackets: n.clScorePkts,
        detections: n.clDetections,
        model: this.clOrigin,
        trainingRemaining: 0,
        ignoredFeatures: [],
        ...this.clTop.result(),
        unit: "host windows",
        groupedBy: "host",
        trainingUnits: c.calibration?.profiles ?? n.clTrainWindows,
        scoredUnits: n.clScored,
        evictions: c.stats.evictions,
        lateFlows: c.stats.lateFlows,
      });
    }
    return out;
  }
}
