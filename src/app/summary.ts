// Capture summary: packet, protocol, anomaly and top-talker counters, kept in bounded typed tables.
import { KeyTable, linkTypeName } from "../core/index.ts";
import { ANOMALY_NAMES, anomalyDescription, type DecodedPacket, formatAddress } from "../decode/index.ts";
import type { FlowRecord } from "../flows/index.ts";
import type { DetectionSummary } from "./detections.ts";

export interface ProtocolCounts {
  ipv4: number;
  ipv6: number;
  arp: number;
  tcp: number;
  udp: number;
  icmp: number;
  icmpv6: number;
  otherIp: number;
  nonIp: number;
  fragments: number;
  vlanTagged: number;
}

export interface AnomalyCount {
  code: string;
  count: number;
  /** 1-based frame number of the first packet that raised it. */
  firstFrame: number;
  description: string;
}

export interface Talker {
  host: string;
  packets: number;
  bytes: number;
}

export interface PortCount {
  proto: string;
  port: number;
  flows: number;
  service: string | null;
}

/** Counts everything `vigil analyze` reports about packets; one instance per run. */
export class PacketCounters {
  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  firstUs = Number.POSITIVE_INFINITY;
  lastUs = Number.NEGATIVE_INFINITY;
  outOfOrder = 0;
  readonly proto: ProtocolCounts = {
    ipv4: 0,
    ipv6: 0,
    arp: 0,
    tcp: 0,
    udp: 0,
    icmp: 0,
    icmpv6: 0,
    otherIp: 0,
    nonIp: 0,
    fragments: 0,
    vlanTagged: 0,
  };
  private readonly anomalyCounts = new Float64Array(ANOMALY_NAMES.length);
  private readonly anomalyFirst = new Float64Array(ANOMALY_NAMES.length);
  private readonly hosts: KeyTable;
  private readonly hostPackets: Float64Array;
  private readonly hostBytes: Float64Array;
  private readonly hostVersion: Uint8Array;

  constructor(maxHosts: number) {
    this.hosts = new KeyTable(4, maxHosts);
    this.hostPackets = new Float64Array(maxHosts);
    this.hostBytes = new Float64Array(maxHosts);
    this.hostVersion = new Uint8Array(maxHosts);
    this.hosts.onEvict = (s) => {
      this.hostPackets[s] = 0;
      this.hostBytes[s] = 0;
    };
  }

  /** Counts one decoded packet; `frame` is its 1-based number in the capture. */
  count(p: DecodedPacket, frame: number): void {
    this.packets++;
    this.bytes += p.wireLen;
    this.capturedBytes += p.capLen;
    if (p.tsUs < this.lastUs) this.outOfOrder++;
    if (p.tsUs < this.firstUs) this.firstUs = p.tsUs;
    if (p.tsUs > this.lastUs) this.lastUs = p.tsUs;
    const c = this.proto;
    if (p.vlanCount > 0) c.vlanTagged++;
    if (p.ipVersion === 4) c.ipv4++;
    else if (p.ipVersion === 6) c.ipv6++;
    else if (p.isArp) c.arp++;
    else c.nonIp++;
    if (p.ipVersion !== 0) {
      if (p.isFragment) c.fragments++;
      switch (p.ipProto) {
        case 6:
          c.tcp++;
          break;
        case 17:
          c.udp++;
          break;
        case 1:
          c.icmp++;
          break;
        case 58:
          c.icmpv6++;
          break;
        default:
          c.otherIp++;
      }
      const s = this.hosts.upsert(p.src);
      this.hosts.touch(s);
      this.hostPackets[s]++;
      this.hostBytes[s] += p.wireLen;
      this.hostVersion[s] = p.ipVersion;
    }
    for (let i = 0; i < p.anomalyCount; i++) {
      const code = p.anomalies[i];
      if (this.anomalyCounts[code] === 0) this.anomalyFirst[code] = frame;
      this.anomalyCounts[code]++;
    }
  }

  anomalies(): AnomalyCount[] {
    const out: AnomalyCount[] = [];
    for (let code = 0; code < this.anomalyCounts.length; code++) {
      const n = this.anomalyCounts[code];
      if (n > 0) {
        out.push({
          code: ANOMALY_NAMES[code]!,
          count: n,
          firstFrame: this.anomalyFirst[code],
          description: anomalyDescription(code),
        });
      }
    }
    return out.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  }

  /** Hosts that sent the most bytes (approximate when more hosts than the table holds were seen). */
  topTalkers(n: number): Talker[] {
    const rows: { s: number; bytes: number }[] = [];
    for (let s = this.hosts.oldest(); s !== -1; s = this.hosts.newerThan(s))
      rows.push({ s, bytes: this.hostBytes[s] });
    rows.sort((a, b) => b.bytes - a.bytes);
    const words = new Uint32Array(4);
    return rows.slice(0, n).map(({ s, bytes }) => {
      words.set(this.hosts.keys.subarray(this.hosts.keyOffset(s), this.hosts.keyOffset(s) + 4));
      return { host: formatAddress(words, this.hostVersion[s]), packets: this.hostPackets[s], bytes };
    });
  }

  hostEvictions(): number {
    return this.hosts.evictions;
  }
}

/** Counts of finished flows by protocol, service, state and responder port. */
export class FlowCounters {
  total = 0;
  interim = 0;
  readonly byProto: Record<string, number> = {};
  readonly byService: Record<string, number> = {};
  readonly byState: Record<string, number> = {};
  readonly byReason: Record<string, number> = {};
  // Bounded by construction: at most 3 protocols × 65 536 ports.
  private readonly ports = new Map<number, { flows: number; services: Map<string, number> }>();

  count(rec: FlowRecord): void {
    const c = rec.conn;
    this.byReason[rec.reason] = (this.byReason[rec.reason] ?? 0) + 1;
    if (rec.interim) {
      this.interim++;
      return; // an interim record is not a new flow; the final record counts it
    }
    this.total++;
    this.byProto[c.proto] = (this.byProto[c.proto] ?? 0) + 1;
    const svc = c.service ?? "-";
    this.byService[svc] = (this.byService[svc] ?? 0) + 1;
    this.byState[c.conn_state] = (this.byState[c.conn_state] ?? 0) + 1;
    const protoId = c.proto === "tcp" ? 0 : c.proto === "udp" ? 1 : 2;
    if (protoId === 2) return;
    const key = protoId * 65536 + c["id.resp_p"];
    let e = this.ports.get(key);
    if (!e) {
      e = { flows: 0, services: new Map() };
      this.ports.set(key, e);
    }
    e.flows++;
    if (c.service) e.services.set(c.service, (e.services.get(c.service) ?? 0) + 1);
  }

  topPorts(n: number): PortCount[] {
    return [...this.ports.entries()]
      .sort((a, b) => b[1].flows - a[1].flows || a[0] - b[0])
      .slice(0, n)
      .map(([key, e]) => {
        let service: string | null = null;
        let best = 0;
        for (const [s, k] of e.services) if (k > best) [service, best] = [s, k];
        return { proto: key >= 65536 ? "udp" : "tcp", port: key % 65536, flows: e.flows, service };
      });
  }
}

/** What `vigil analyze` prints (text or --json). Field names are a stable contract. */
export interface AnalysisSummary {
  input: string;
  format: string;
  linkTypes: string[];
  packets: number;
  /** Bytes on the wire and bytes captured. */
  bytes: number;
  capturedBytes: number;
  /** First and last packet, seconds since epoch; null for an empty capture. */
  start: number | null;
  end: number | null;
  durationS: number;
  outOfOrderPackets: number;
  protocols: ProtocolCounts;
  flows: {
    total: number;
    interimRecords: number;
    byProto: Record<string, number>;
    byService: Record<string, number>;
    byState: Record<string, number>;
    byEndReason: Record<string, number>;
    evicted: number;
    bytesPerFlow: number;
  } | null;
  anomalies: AnomalyCount[];
  captureAnomalies: Record<string, number>;
  topTalkers: Talker[];
  topPorts: PortCount[];
  /** Wall time of the run and packets per second achieved. */
  elapsedS: number;
  packetsPerS: number;
  aborted: boolean;
  /** The benign capture the detectors learnt from (`--baseline`), when one was given. */
  baseline?: { input: string; packets: number; flows: number; durationS: number };
  /** Detector results, when detectors ran. */
  detections?: DetectionSummary[];
}

/** Counters of the packets read, as both the single-thread and the sharded path keep them. */
export interface PacketTotals {
  packets: number;
  bytes: number;
  capturedBytes: number;
  firstUs: number;
  lastUs: number;
  outOfOrder: number;
}

/** The capture-level fields of an AnalysisSummary. */
export function captureFields(
  input: string,
  reader: { format: string; stats: { interfaces: readonly { linkType: number }[] } },
  c: PacketTotals,
): Pick<
  AnalysisSummary,
  | "input"
  | "format"
  | "linkTypes"
  | "packets"
  | "bytes"
  | "capturedBytes"
  | "start"
  | "end"
  | "durationS"
  | "outOfOrderPackets"
> {
  const empty = c.packets === 0;
  return {
    input,
    format: reader.format,
    linkTypes: [...new Set(reader.stats.interfaces.map((i) => linkTypeName(i.linkType)))],
    packets: c.packets,
    bytes: c.bytes,
    capturedBytes: c.capturedBytes,
    start: empty ? null : c.firstUs / 1e6,
    end: empty ? null : c.lastUs / 1e6,
    durationS: empty ? 0 : (c.lastUs - c.firstUs) / 1e6,
    outOfOrderPackets: c.outOfOrder,
  };
}
