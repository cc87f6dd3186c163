// Behaviour clusters: per-host profiles per time window (fan-out, ports, bytes, protocol mix, failures),
// k-means++ clusters learnt on a benign period, and hosts flagged when a window lies far from their
// usual cluster (or from every cluster), with the profile dimensions that moved most.
import { finalizeHash, mixWord, seededRng } from "../../core/index.ts";
import {
  calibrateThreshold,
  type KMeans,
  kmeans,
  quantileSorted,
  standardize,
  type ThresholdFit,
} from "../../ml/index.ts";
import type { Explanation } from "../../schema/index.ts";
import type { DetectorInfo, WindowDetector } from "../types.ts";
import type { BehaviourClustersConfig } from "./config.ts";

export const BEHAVIOUR_CLUSTERS_INFO: DetectorInfo = {
  id: "behaviour_clusters",
  title: "Behaviour clusters: hosts acting unlike their usual kind of host",
  severity: "medium",
  entityKeys: ["src_host"],
  dedupKey: ["src_ip"],
  suppressionS: 600,
};

/** A host as the application names it (an address string, or a numeric id). */
export type HostKey = string | number;

/** One finished flow as plain numbers: what a host profile is built from (no feature vector, no strings but keys). */
export interface HostFlow {
  /** First packet, µs since the epoch. */
  startUs: number;
  /**
   * Seconds to the last packet. The flow counts in the window in which it ended (startUs + durationS),
   * when its record is complete; a long flow counts once, with its whole duration and bytes.
   */
  durationS: number;
  /** Originator and responder host. */
  orig: HostKey;
  resp: HostKey;
  /** Responder port (0 when the protocol has none). */
  respPort: number;
  /** IP protocol number (6 TCP, 17 UDP, 1/58 ICMP). */
  proto: number;
  /** IP bytes and packets each way. */
  origBytes: number;
  respBytes: number;
  origPkts: number;
  respPkts: number;
  /** Application payload bytes each way: a TCP flow with none "failed". */
  origPayload: number;
  respPayload: number;
}

/** One dimension of a host's window profile. */
export interface ProfileDimension {
  name: string;
  /** Plain words, e.g. "distinct destination ports". */
  text: string;
  /** Counted quantities are compared as ln(1 + x); shares as they are. */
  log: boolean;
  /** Shares are shown as percentages. */
  share: boolean;
}

const dim = (name: string, text: string, log: boolean, share = false): ProfileDimension => ({
  name,
  text,
  log,
  share,
});

/**
 * The profile of one host over one window. "Out" is the host as a flow's originator, "in" as its
 * responder. Distinct counts are estimated (linear counting over 1,024 bits: exact-looking below a
 * few hundred, saturating near 7,000).
 */
export const PROFILE_DIMENSIONS: readonly ProfileDimension[] = [
  dim("flows_out", "flows started", true),
  dim("flows_in", "flows received", true),
  dim("peers_out", "distinct peers contacted (fan-out)", true),
  dim("ports_out", "distinct destination ports", true),
  dim("peers_in", "distinct peers connecting in (fan-in)", true),
  dim("ports_in", "distinct local ports contacted", true),
  dim("bytes_out", "bytes sent", true),
  dim("bytes_in", "bytes received", true),
  dim("packets_out", "packets sent", true),
  dim("packets_in", "packets received", true),
  dim("tcp_share", "share of TCP flows", false, true),
  dim("udp_share", "share of UDP flows", false, true),
  dim("icmp_share", "share of ICMP flows", false, true),
  dim("failed_out_share", "share of started flows that failed (no payload / no reply)", false, true),
  dim("failed_in_share", "share of received flows that failed (no payload / no reply)", false, true),
  dim("mean_duration_s", "mean flow duration (s)", true),
];
const D = PROFILE_DIMENSIONS.length;

// Raw accumulators per host slot.
const A_FLOWS_OUT = 0;
const A_FLOWS_IN = 1;
const A_BYTES_OUT = 2;
const A_BYTES_IN = 3;
const A_PKTS_OUT = 4;
const A_PKTS_IN = 5;
const A_TCP = 6;
const A_UDP = 7;
const A_ICMP = 8;
const A_FAILED_OUT = 9;
const A_FAILED_IN = 10;
const A_DURATION = 11;
const ACC = 12;

// Distinct-count sketches per host slot: linear counting (Whang et al. 1990) over M bits.
const SK_PEERS_OUT = 0;
const SK_PORTS_OUT = 1;
const SK_PEERS_IN = 2;
const SK_PORTS_IN = 3;
const SKETCHES = 4;
const M_BITS = 1024; // 128 B per sketch; standard error < 2 % up to ~1,000 distinct values
const M_WORDS = M_BITS / 32;
const SLOT_WORDS = SKETCHES * M_WORDS;

// Smallest standard deviation a dimension is scaled by. One flow more among four moves ln(1 + x) by
// 0.18 and a share by 0.2; a dimension nearly constant in training must not turn that into many σ.
const MIN_SCALE = 0.25;

/** A closed host window: its profile, and its score once the clusters are learnt. */
export interface HostWindow {
  host: HostKey;
  /** Window bounds, µs since the epoch. */
  startUs: number;
  endUs: number;
  /** Raw profile values, indexed like PROFILE_DIMENSIONS (a fresh array). */
  profile: Float64Array;
  /** Flows counted in this window (either side). */
  flows: number;
  /** True for a window of the training period (not scored). */
  training: boolean;
  /** Distance (standardized units) to the host's usual cluster centre, or to the nearest one; NaN when training. */
  score: number;
  threshold: number;
  flagged: boolean;
  /** Nearest cluster and the distance to it; the host's usual cluster (−1: none known). */
  cluster: number;
  nearestDistance: number;
  usual: number;
}

export interface BehaviourClustersCalibration {
  k: number;
  /** Mean silhouette of every k tried (k = 1 has none). */
  silhouettes: { k: number; silhouette: number }[];
  profiles: number;
  /** Hosts with a usual cluster. */
  hostsWithUsual: number;
  /** Training profiles per cluster. */
  clusterSizes: number[];
  spot: ThresholdFit | null;
  lognormal: ThresholdFit | null;
  /** Empirical (1 − falseAlarmRate) quantile of the (trimmed) training distances. */
  quantile: number;
  chosen: "lognormal" | "spot" | "quantile";
  trimmed: number;
}

export interface BehaviourClustersStats {
  /** Hosts tracked now, hosts evicted from a full table (their open window is dropped). */
  hosts: number;
  evictions: number;
  /** Flows added to a later window than their end because the host's window had moved on. */
  lateFlows: number;
  /** Flows ignored: start time not finite. */
  droppedFlows: number;
  trainingWindows: number;
  /** Training profiles beyond maxTrainingProfiles (the reservoir keeps a sample). */
  trainingOverflow: number;
  scoredWindows: number;
  flaggedWindows: number;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** 32-bit hash of a host key (FNV-1a over a string's code units, murmur mixing of a number). */
function hashKey(k: HostKey): number {
  if (typeof k === "number") {
    const lo = k | 0;
    const hi = Number.isFinite(k) ? Math.floor(k / 4294967296) | 0 : 0x7ff00000;
    return finalizeHash(mixWord(mixWord(0x2545f491, lo), hi));
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return finalizeHash(h);
}

function hashPort(p: number): number {
  return finalizeHash(mixWord(0x9e3779b9, p | 0));
}

/** When a flow ended (µs): its start plus its duration (a missing duration counts as 0). */
export function flowEndUs(f: HostFlow): number {
  return f.startUs + num(f.durationS) * 1e6;
}

function num(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}

const FORMATS = [0, 1, 2].map((d) => new Intl.NumberFormat("en-US", { maximumFractionDigits: d }));

function fmt(d: ProfileDimension, v: number): string {
  if (d.share) return `${Math.round(v * 100)} %`;
  const a = Math.abs(v);
  return FORMATS[a >= 100 ? 0 : a >= 1 ? 1 : 2]!.format(v);
}

/**
 * The behaviour-clusters detector plugin. Feed finished flows (about in end-time order); closed host
 * windows go to `sink`, scored once the clusters are learnt. State is bounded: `maxHosts` host slots
 * (least recently active evicted, counted), `maxTrainingProfiles` training profiles, and windows closed
 * before the fit waiting to be scored (at most maxHosts·(lateWindows + 2)).
 */
export class BehaviourClustersDetector implements WindowDetector<HostFlow> {
  readonly info = BEHAVIOUR_CLUSTERS_INFO;
  private readonly cfg: BehaviourClustersConfig;
  private sink: (w: HostWindow) => void;
  private readonly windowUs: number;
  private readonly trainingWindowCount: number;
  // Host table: key → slot in LRU order (Map iteration order; re-inserted on every use).
  private readonly slots = new Map<HostKey, number>();
  private readonly slotKey: HostKey[];
  private readonly free: number[] = [];
  private readonly acc: Float64Array;
  private readonly sketch: Uint32Array;
  private readonly slotWindow: Float64Array;
  private originUs = Number.NaN;
  private clockWindow = -1;
  // Training reservoir (transformed profiles) and the host of each.
  private readonly trainX: Float64Array;
  private readonly trainHost: HostKey[] = [];
  private trainSeen = 0;
  private readonly rng: ReturnType<typeof seededRng>;
  private pending: HostWindow[] = [];
  // Model.
  private model: KMeans | null = null;
  private readonly mean = new Float64Array(D);
  private readonly scale = new Float64Array(D);
  private usualOf = new Map<HostKey, number>();
  private _threshold = Number.NaN;
  private _calibration: BehaviourClustersCalibration | null = null;
  private readonly z = new Float64Array(D);
  private readonly counters = {
    evictions: 0,
    lateFlows: 0,
    droppedFlows: 0,
    trainingWindows: 0,
    trainingOverflow: 0,
    scoredWindows: 0,
    flaggedWindows: 0,
  };

  constructor(cfg: BehaviourClustersConfig, sink: (w: HostWindow) => void) {
    this.cfg = cfg;
    this.sink = sink;
    this.windowUs = cfg.windowS * 1e6;
    this.trainingWindowCount = Math.max(1, Math.floor(cfg.trainingSeconds / cfg.windowS));
    const n = cfg.maxHosts;
    this.slotKey = new Array<HostKey>(n);
    this.acc = new Float64Array(n * ACC);
    this.sketch = new Uint32Array(n * SLOT_WORDS);
    this.slotWindow = new Float64Array(n).fill(-1);
    for (let s = n - 1; s >= 0; s--) this.free.push(s);
    this.trainX = new Float64Array(cfg.maxTrainingProfiles * D);
    this.rng = seededRng(cfg.seed);
  }

  get phase(): "training" | "scoring" {
    return this.model === null ? "training" : "scoring";
  }

  get threshold(): number {
    return this._threshold;
  }

  get calibration(): BehaviourClustersCalibration | null {
    return this._calibration;
  }

  get stats(): BehaviourClustersStats {
    return { hosts: this.slots.size, ...this.counters };
  }

  /** Cluster centres in raw profile units (k rows of PROFILE_DIMENSIONS), once learnt. */
  centres(): Float64Array[] {
    const m = this.model;
    if (m === null) return [];
    return Array.from({ length: m.k }, (_, c) => this.rawOf(m.centroids.subarray(c * D, c * D + D)));
  }

  modelVersion(): string {
    const c = this.cfg;
    const k = this.model?.k ?? 0;
    return `behaviour-clusters-1/w${c.windowS}/k${k}/s${c.seed}/n${this.counters.trainingWindows}`;
  }

  observe(f: HostFlow): void {
    if (!Number.isFinite(f.startUs) || f.orig === undefined || f.resp === undefined) {
      this.counters.droppedFlows++;
      return;
    }
    const endUs = flowEndUs(f);
    if (Number.isNaN(this.originUs)) this.originUs = endUs;
    const w = Math.max(0, Math.floor((endUs - this.originUs) / this.windowUs));
    if (w > this.clockWindow) {
      this.clockWindow = w;
      this.sweep();
    }
    const tcp = f.proto === 6;
    const failed = tcp ? num(f.origPayload) + num(f.respPayload) === 0 : num(f.respPkts) === 0;
    const dur = num(f.durationS);
    const proto = tcp ? A_TCP : f.proto === 17 ? A_UDP : f.proto === 1 || f.proto === 58 ? A_ICMP : -1;
    // Originator side.
    const so = this.slotFor(f.orig, w);
    let a = so * ACC;
    this.acc[a + A_FLOWS_OUT]++;
    this.acc[a + A_BYTES_OUT] += num(f.origBytes);
    this.acc[a + A_BYTES_IN] += num(f.respBytes);
    this.acc[a + A_PKTS_OUT] += num(f.origPkts);
    this.acc[a + A_PKTS_IN] += num(f.respPkts);
    if (proto >= 0) this.acc[a + proto]++;
    if (failed) this.acc[a + A_FAILED_OUT]++;
    this.acc[a + A_DURATION] += dur;
    this.mark(so, SK_PEERS_OUT, hashKey(f.resp));
    this.mark(so, SK_PORTS_OUT, hashPort(num(f.respPort)));
    // Responder side (a host talking to itself counts on both sides).
    const sr = this.slotFor(f.resp, w);
    a = sr * ACC;
    this.acc[a + A_FLOWS_IN]++;
    this.acc[a + A_BYTES_OUT] += num(f.respBytes);
    this.acc[a + A_BYTES_IN] += num(f.origBytes);
    this.acc[a + A_PKTS_OUT] += num(f.respPkts);
    this.acc[a + A_PKTS_IN] += num(f.origPkts);
    if (proto >= 0) this.acc[a + proto]++;
    if (failed) this.acc[a + A_FAILED_IN]++;
    this.acc[a + A_DURATION] += dur;
    this.mark(sr, SK_PEERS_IN, hashKey(f.orig));
    this.mark(sr, SK_PORTS_IN, hashPort(num(f.respPort)));
  }

  /** Sends later windows to `sink` (e.g. a trained detector reused on another capture). */
  setSink(sink: (w: HostWindow) => void): void {
    this.sink = sink;
  }

  /** Closes the open windows and fits the clusters on whatever training windows were seen (≥ 2). */
  finishTraining(): void {
    this.flush();
    if (this.model === null) {
      this.fit();
      this.drainPending();
    }
  }

  flush(): void {
    for (const [key, s] of this.slots) {
      if (this.slotWindow[s]! >= 0) this.close(key, s);
    }
    // Fit only when the input went past the training period; a shorter input stays in training.
    if (this.model === null && this.clockWindow >= this.trainingWindowCount) this.fit();
    this.drainPending();
  }

  /** Plain-words explanation of a scored window: the dimensions farthest from the cluster centre. */
  explain(w: HostWindow, topK = this.cfg.topDimensions): Explanation {
    const m = this.model;
    if (m === null || w.cluster < 0) {
      return { summary: `host ${String(w.host)}: no clusters learnt yet`, features: [] };
    }
    const ref = w.usual >= 0 ? w.usual : w.cluster;
    const z = this.standardized(w.profile, this.z);
    const centre = m.centroids.subarray(ref * D, ref * D + D);
    const raw = this.rawOf(centre);
    const d2 = new Float64Array(D);
    let total = 0;
    for (let j = 0; j < D; j++) {
      d2[j] = (z[j]! - centre[j]!) ** 2;
      total += d2[j]!;
    }
    const order = Array.from({ length: D }, (_, j) => j)
      .sort((a, b) => d2[b]! - d2[a]! || a - b)
      .slice(0, Math.min(topK, D));
    const features = order.map((j) => {
      const dm = PROFILE_DIMENSIONS[j]!;
      return {
        name: dm.name,
        value: w.profile[j]!,
        contribution: total > 0 ? d2[j]! / total : 0,
        text: `${dm.text} ${fmt(dm, w.profile[j]!)} vs cluster centre ${fmt(dm, raw[j]!)}`,
      };
    });
    const secs = Math.round((w.endUs - w.startUs) / 1e6);
    const where =
      w.usual >= 0 && w.cluster !== w.usual && w.nearestDistance <= this._threshold
        ? `left its usual cluster ${w.usual} for cluster ${w.cluster}`
        : w.usual >= 0
          ? `is ${w.score.toPrecision(3)} from its usual cluster ${w.usual}`
          : `is ${w.score.toPrecision(3)} from the nearest cluster ${w.cluster} (host not seen in training)`;
    return {
      summary: `Host ${String(w.host)} over ${secs} s ${where}; threshold ${this._threshold.toPrecision(3)}${features[0] ? `; mostly ${features[0].text}` : ""}`,
      features,
    };
  }

  // --- host table -----------------------------------------------------------------------------

  private slotFor(key: HostKey, w: number): number {
    let s = this.slots.get(key);
    if (s !== undefined) {
      this.slots.delete(key);
      this.slots.set(key, s);
      const open = this.slotWindow[s]!;
      if (w > open) {
        if (open >= 0) this.close(key, s);
        this.slotWindow[s] = w;
      } else if (w < open) {
        this.counters.lateFlows++;
      }
      return s;
    }
    if (this.free.length === 0) {
      const [oldKey, oldSlot] = this.slots.entries().next().value as [HostKey, number];
      this.slots.delete(oldKey);
      this.counters.evictions++;
      this.reset(oldSlot);
      this.free.push(oldSlot);
    }
    s = this.free.pop()!;
    this.slots.set(key, s);
    this.slotKey[s] = key;
    this.slotWindow[s] = w;
    return s;
  }

  private reset(s: number): void {
    this.acc.fill(0, s * ACC, s * ACC + ACC);
    this.sketch.fill(0, s * SLOT_WORDS, (s + 1) * SLOT_WORDS);
    this.slotWindow[s] = -1;
  }

  private mark(s: number, sk: number, h: number): void {
    const bit = h & (M_BITS - 1);
    this.sketch[s * SLOT_WORDS + sk * M_WORDS + (bit >>> 5)]! |= 1 << (bit & 31);
  }

  private distinct(s: number, sk: number): number {
    const o = s * SLOT_WORDS + sk * M_WORDS;
    let ones = 0;
    for (let i = 0; i < M_WORDS; i++) ones += popcount(this.sketch[o + i]!);
    const zeros = M_BITS - ones;
    // n ≈ −m·ln(V) with V the share of zero bits; with none left, the saturation value m·ln(m).
    return zeros === 0 ? M_BITS * Math.log(M_BITS) : -M_BITS * Math.log(zeros / M_BITS);
  }

  /** Closes the windows that no flow can reach any more (lateWindows after their end). */
  private sweep(): void {
    const last = this.clockWindow - 1 - this.cfg.lateWindows;
    if (last < 0) return;
    for (const [key, s] of this.slots) {
      const w = this.slotWindow[s]!;
      if (w >= 0 && w <= last) {
        this.close(key, s);
        this.slotWindow[s] = -1;
      }
    }
    if (this.model === null && last >= this.trainingWindowCount - 1) {
      this.fit();
      this.drainPending();
    }
  }

  /** Turns slot `s` into a window profile, hands it on, and clears the accumulators. */
  private close(key: HostKey, s: number): void {
    const w = this.slotWindow[s]!;
    const a = s * ACC;
    const acc = this.acc;
    const out = acc[a + A_FLOWS_OUT]!;
    const inn = acc[a + A_FLOWS_IN]!;
    const flows = out + inn;
    const p = new Float64Array(D);
    if (flows > 0) {
      p[0] = out;
      p[1] = inn;
      p[2] = out > 0 ? this.distinct(s, SK_PEERS_OUT) : 0;
      p[3] = out > 0 ? this.distinct(s, SK_PORTS_OUT) : 0;
      p[4] = inn > 0 ? this.distinct(s, SK_PEERS_IN) : 0;
      p[5] = inn > 0 ? this.distinct(s, SK_PORTS_IN) : 0;
      p[6] = acc[a + A_BYTES_OUT]!;
      p[7] = acc[a + A_BYTES_IN]!;
      p[8] = acc[a + A_PKTS_OUT]!;
      p[9] = acc[a + A_PKTS_IN]!;
      p[10] = acc[a + A_TCP]! / flows;
      p[11] = acc[a + A_UDP]! / flows;
      p[12] = acc[a + A_ICMP]! / flows;
      p[13] = out > 0 ? acc[a + A_FAILED_OUT]! / out : 0;
      p[14] = inn > 0 ? acc[a + A_FAILED_IN]! / inn : 0;
      p[15] = acc[a + A_DURATION]! / flows;
    }
    acc.fill(0, a, a + ACC);
    this.sketch.fill(0, s * SLOT_WORDS, (s + 1) * SLOT_WORDS);
    if (flows === 0) return;
    const startUs = this.originUs + w * this.windowUs;
    const hw: HostWindow = {
      host: key,
      startUs,
      endUs: startUs + this.windowUs,
      profile: p,
      flows,
      training: w < this.trainingWindowCount,
      score: Number.NaN,
      threshold: this._threshold,
      flagged: false,
      cluster: -1,
      nearestDistance: Number.NaN,
      usual: -1,
    };
    if (hw.training) {
      if (this.model === null) this.addTraining(key, p);
      this.counters.trainingWindows++;
      this.sink(hw);
    } else if (this.model === null) {
      // Closed before the clusters exist (the host moved on early): scored right after the fit.
      if (this.pending.length >= this.cfg.maxHosts * (this.cfg.lateWindows + 2)) this.pending.shift();
      this.pending.push(hw);
    } else {
      this.score(hw);
    }
  }

  // --- training -------------------------------------------------------------------------------

  private transformInto(p: Float64Array, out: Float64Array, off: number): void {
    for (let j = 0; j < D; j++) {
      const v = p[j]!;
      out[off + j] = PROFILE_DIMENSIONS[j]!.log ? Math.log1p(v) : v;
    }
  }

  private addTraining(key: HostKey, p: Float64Array): void {
    const cap = this.cfg.maxTrainingProfiles;
    let row = this.trainSeen;
    this.trainSeen++;
    if (row >= cap) {
      // Reservoir sampling (Vitter's algorithm R): every profile kept with probability cap/seen.
      this.counters.trainingOverflow++;
      row = this.rng.int(this.trainSeen);
      if (row >= cap) return;
      this.trainHost[row] = key;
    } else {
      this.trainHost.push(key);
    }
    this.transformInto(p, this.trainX, row * D);
  }

  private standardized(p: Float64Array, out: Float64Array): Float64Array {
    this.transformInto(p, out, 0);
    for (let j = 0; j < D; j++) out[j] = (out[j]! - this.mean[j]!) / this.scale[j]!;
    return out;
  }

  /** Raw profile values of a point in standardized units. */
  private rawOf(zrow: Float64Array): Float64Array {
    const out = new Float64Array(D);
    for (let j = 0; j < D; j++) {
      const t = zrow[j]! * this.scale[j]! + this.mean[j]!;
      out[j] = PROFILE_DIMENSIONS[j]!.log ? Math.expm1(t) : t;
    }
    return out;
  }

  /** Learns scaling, k (by silhouette), the clusters, every host's usual cluster and the threshold. */
  private fit(): void {
    const n = Math.min(this.trainSeen, this.cfg.maxTrainingProfiles);
    if (n < 2) return;
    const { data, mean, std } = standardize(this.trainX.subarray(0, n * D), n, D);
    for (let j = 0; j < D; j++) {
      this.mean[j] = mean[j]!;
      this.scale[j] = Math.max(std[j]!, MIN_SCALE);
      // standardize() divided by std (1 for a constant column); rescale to the floored scale.
      const f = std[j]! / this.scale[j]!;
      for (let i = 0; i < n; i++) data[i * D + j] *= f;
    }
    const { k, silhouettes } = this.chooseK(data, n);
    const fitted = kmeans(data, n, D, { k, seed: this.cfg.seed });
    const model = fitted.model;
    // Usual cluster of each host: the cluster most of its training windows fell in.
    const votes = new Map<HostKey, Int32Array>();
    for (let i = 0; i < n; i++) {
      const h = this.trainHost[i]!;
      let v = votes.get(h);
      if (!v) {
        v = new Int32Array(k);
        votes.set(h, v);
      }
      v[fitted.assignments[i]!]!++;
    }
    const usual: [HostKey, number, number][] = [];
    for (const [h, v] of votes) {
      let best = 0;
      let total = 0;
      for (let c = 0; c < k; c++) {
        total += v[c]!;
        if (v[c]! > v[best]!) best = c;
      }
      if (total >= this.cfg.minUsualWindows) usual.push([h, best, total]);
    }
    // Keep the usual clusters of at most maxHosts hosts: those with the most training windows.
    usual.sort((a, b) => b[2] - a[2]);
    this.usualOf = new Map(usual.slice(0, this.cfg.maxHosts).map(([h, c]) => [h, c]));
    this.model = model;
    // Threshold from the training distances, measured the way windows are scored.
    const dist = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const row = data.subarray(i * D, i * D + D);
      const u = this.cfg.usualCluster ? (this.usualOf.get(this.trainHost[i]!) ?? -1) : -1;
      dist[i] = u >= 0 ? Math.sqrt(sq(row, model.centroids, u * D)) : model.nearest(row).distance;
    }
    this.calibrate(dist, { k, silhouettes, n, sizes: clusterSizes(fitted.assignments, k) });
  }

  private calibrate(
    dist: Float64Array,
    m: { k: number; silhouettes: { k: number; silhouette: number }[]; n: number; sizes: number[] },
  ): void {
    const q = this.cfg.falseAlarmRate;
    const trimFraction = this.cfg.trimFraction;
    const n = dist.length;
    const initialQuantile = Math.min(0.98, Math.max(0.5, 1 - 10 / n));
    const spot = calibrateThreshold(dist, { method: "spot", q, trimFraction, initialQuantile });
    const logn = calibrateThreshold(dist, { method: "lognormal", q, trimFraction });
    const sorted = dist.slice().sort();
    const kept = sorted.subarray(0, n - Math.floor(n * trimFraction));
    const quantile = quantileSorted(kept, 1 - q);
    const want = this.cfg.thresholdMethod;
    let chosen: "lognormal" | "spot" | "quantile" = want;
    let thr = Number.NaN;
    if (want === "spot" && spot.ok) thr = spot.value.fit.threshold;
    else if (want === "lognormal" && logn.ok) thr = logn.value.fit.threshold;
    else if (want === "quantile") thr = quantile;
    if (!Number.isFinite(thr)) {
      // A tail fit failed (too few or degenerate distances): the empirical quantile.
      thr = quantile;
      chosen = "quantile";
    }
    // All training distances 0 (identical profiles): any distance at all is new.
    this._threshold = thr > 0 ? thr : Number.MIN_VALUE;
    const trimmed = Math.floor(n * trimFraction);
    this._calibration = {
      k: m.k,
      silhouettes: m.silhouettes,
      profiles: m.n,
      hostsWithUsual: this.usualOf.size,
      clusterSizes: m.sizes,
      spot: spot.ok ? spot.value.fit : null,
      lognormal: logn.ok ? logn.value.fit : null,
      quantile,
      chosen,
      trimmed,
    };
  }

  /**
   * k by the mean silhouette (Rousseeuw 1987) of k-means fits for k = 2 … min(kMax, √(n/2)) on a seeded sample of
   * the profiles; when the best is below minSilhouette (Kaufman & Rousseeuw: "no substantial
   * structure" under 0.25), one cluster.
   */
  private chooseK(
    data: Float64Array,
    n: number,
  ): { k: number; silhouettes: { k: number; silhouette: number }[] } {
    const distinctRows = countDistinct(data, n);
    // k ≤ √(n/2), the usual rule of thumb for n points: more clusters than that make single training
    // windows into centres, which then match only themselves.
    const kMax = Math.min(this.cfg.kMax, distinctRows - 1, Math.floor(Math.sqrt(n / 2)));
    const silhouettes: { k: number; silhouette: number }[] = [];
    if (kMax < 2) return { k: 1, silhouettes };
    const sampleIdx = sampleRows(n, this.cfg.silhouetteSample, this.cfg.seed);
    let bestK = 1;
    let best = Number.NEGATIVE_INFINITY;
    for (let k = 2; k <= kMax; k++) {
      const r = kmeans(data, n, D, { k, seed: this.cfg.seed });
      const s = silhouette(data, r.assignments, k, sampleIdx);
      silhouettes.push({ k, silhouette: s });
      if (s > best) {
        best = s;
        bestK = k;
      }
    }
    return { k: best >= this.cfg.minSilhouette ? bestK : 1, silhouettes };
  }

  private drainPending(): void {
    if (this.model === null) return;
    const p = this.pending;
    this.pending = [];
    for (const hw of p) this.score(hw);
  }

  // --- scoring --------------------------------------------------------------------------------

  private score(hw: HostWindow): void {
    const m = this.model!;
    const z = this.standardized(hw.profile, this.z);
    const near = m.nearest(z);
    const u = this.cfg.usualCluster ? (this.usualOf.get(hw.host) ?? -1) : -1;
    hw.cluster = near.cluster;
    hw.nearestDistance = near.distance;
    hw.usual = u;
    hw.score = u >= 0 ? Math.sqrt(sq(z, m.centroids, u * D)) : near.distance;
    hw.threshold = this._threshold;
    hw.flagged = hw.score > this._threshold;
    this.counters.scoredWindows++;
    if (hw.flagged) this.counters.flaggedWindows++;
    this.sink(hw);
  }
}

function sq(row: Float64Array, c: Float64Array, off: number): number {
  let s = 0;
  for (let j = 0; j < D; j++) s += (row[j]! - c[off + j]!) ** 2;
  return s;
}

function clusterSizes(assign: Int32Array, k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (const a of assign) out[a]!++;
  return out;
}

function countDistinct(data: Float64Array, n: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < n && seen.size <= 64; i++) seen.add(data.subarray(i * D, i * D + D).join(","));
  return seen.size;
}

/** Up to `m` row indices of n, a seeded uniform sample without replacement (all rows when n ≤ m). */
function sampleRows(n: number, m: number, seed: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= m) return idx;
  const rng = seededRng(seed ^ 0x5eed);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, m);
}

/** Mean silhouette over the sampled rows (distances to the other sampled rows). */
function silhouette(data: Float64Array, assign: Int32Array, k: number, idx: Int32Array): number {
  const m = idx.length;
  const sum = new Float64Array(k);
  const cnt = new Float64Array(k);
  for (let i = 0; i < m; i++) cnt[assign[idx[i]!]!]!++;
  let total = 0;
  for (let a = 0; a < m; a++) {
    const ia = idx[a]!;
    const ca = assign[ia]!;
    sum.fill(0);
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const ib = idx[b]!;
      let d = 0;
      for (let j = 0; j < D; j++) d += (data[ia * D + j]! - data[ib * D + j]!) ** 2;
      sum[assign[ib]!]! += Math.sqrt(d);
    }
    if (cnt[ca]! <= 1) continue; // a singleton's silhouette is 0
    const own = sum[ca]! / (cnt[ca]! - 1);
    let other = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) if (c !== ca && cnt[c]! > 0) other = Math.min(other, sum[c]! / cnt[c]!);
    if (!Number.isFinite(other)) continue;
    const den = Math.max(own, other);
    total += den > 0 ? (other - own) / den : 0;
  }
  return total / m;
}
