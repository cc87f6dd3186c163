// FlowTable: bidirectional flow tracking over a KeyTable with typed-array state, timeouts, TCP close and eviction.

import { KeyTable, UidGenerator } from "../core/index.ts";
import { type DecodedPacket, formatAddress, inspectPayload, serviceName } from "../decode/index.ts";
import { type CicParams, cicAddPacket, cicVector } from "./cic-features.ts";
import { communityId } from "./community-id.ts";
import { DEFAULT_FLOW_CONFIG, type FlowConfig } from "./config.ts";
import { FLOW_KEY_WIDTH, flowKey } from "./flow-key.ts";
import {
  B_CLOSING,
  B_FIN_BITS,
  B_IP_VERSION,
  B_ORIG_IS_A,
  B_PROTO,
  B_SERVICE,
  BD_INSPECTED,
  CLOSING_FIN,
  CLOSING_RST,
  F_CLOSE_DEADLINE_US,
  F_FIRST_US,
  F_LAST_US,
  F_REC_START_US,
  F_ZEEK_LAST_US,
  F64_STRIDE,
  FD_CONN_PAYLOAD,
  FD_IP_BYTES,
  FlowState,
  I_ICMP_CODE,
  I_ICMP_TYPE,
  I32_STRIDE,
  ID_CONN_PKTS,
  OPEN,
  U8_STRIDE,
} from "./flow-state.ts";
import type { ConnFields, FlowEndReason, FlowRecord } from "./record.ts";
import {
  zeekConnState,
  zeekHistory,
  zeekMissedBytes,
  zeekOtherPacket,
  zeekTcpPacket,
  zeekTcpSize,
} from "./zeek-conn.ts";

/**
 * Key words: address A (4), address B (4), port A << 16 | port B, proto << 24 | outer VLAN << 12 |
 * inner VLAN. A is the smaller (address, port) endpoint, so both directions build the same key.
 */
const KEY_WIDTH = FLOW_KEY_WIDTH;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP6 = 58;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

// Interned service names fit the Uint8Array service code; 0 means unknown.
const MAX_SERVICES = 255;

/** Counters of a FlowTable. */
export interface FlowTableStats {
  /** Flows in the table now. */
  active: number;
  /** Flows started (a new connection on a reused 5-tuple counts again; interim records do not). */
  created: number;
  /** Records emitted, interim ones included. */
  emitted: number;
  /** Flows removed to make room in a full table (emitted with reason "evicted"). */
  evicted: number;
  /** Flows emitted after idleTimeoutS without packets. */
  idleExpired: number;
  /** Interim records emitted by the active timeout. */
  activeTimeouts: number;
  /** TCP flows ended by FINs from both sides, or by a RST. */
  finClosed: number;
  rstClosed: number;
  /** Flows emitted by flush() at the end of input. */
  ended: number;
  /** Closing flows emitted before their linger ended because the close queue was full. */
  closeQueueOverflows: number;
  /** Packets that are not IP (ARP, LLDP, ...) and so belong to no flow. */
  nonIp: number;
  /** Non-first IP fragments: without their L4 header they cannot be keyed, so they are only counted. */
  fragments: number;
}

/**
 * Tracks bidirectional flows. `add()` takes each decoded packet (allocation-free in steady state),
 * `advance()` expires flows as time passes, `flush()` ends the input. Every finished, evicted or
 * interim flow is handed to `emit` as a FlowRecord.
 *
 * The first packet's sender is the originator (CICFlowMeter's forward side, Zeek's orig). A flow
 * ends when idle for idleTimeoutS, tcpCloseLingerS after FINs from both sides or a RST, when the
 * table is full and it is the least recently used, or at flush(). Past activeTimeoutS it emits an
 * interim record and continues with fresh CIC counters (its conn fields stay cumulative).
 *
 * Records are built only at emit time. Their `cic` arrays are views into shared 41 KB slabs (one
 * per 64 records, see cic-features.ts): copy one with `slice()` to keep a few records for long.
 */
export class FlowTable {
  /** Counters; read them at any time (`active` is computed on read). */
  readonly stats: FlowTableStats;

  private readonly counters = {
    created: 0,
    emitted: 0,
    evicted: 0,
    idleExpired: 0,
    activeTimeouts: 0,
    finClosed: 0,
    rstClosed: 0,
    ended: 0,
    closeQueueOverflows: 0,
    nonIp: 0,
    fragments: 0,
  };

  private readonly cfg: FlowConfig;
  private readonly emit: (rec: FlowRecord) => void;
  private readonly table: KeyTable;
  private readonly st: FlowState;
  private readonly key = new Uint32Array(KEY_WIDTH);
  // Scratch addresses for emitRecord (communityId and formatAddress only read them).
  private readonly origAddr = new Uint32Array(4);
  private readonly respAddr = new Uint32Array(4);
  private readonly prm: CicParams;
  private readonly idleUs: number;
  private readonly activeUs: number;
  private readonly lingerUs: number;
  private readonly maxInspect: number;
  private readonly uids: UidGenerator;
  /** Uids of flows that emitted an interim record, so later records of the connection share it. */
  private readonly keptUids = new Map<number, string>();
  private readonly serviceNames: string[] = [""];
  private readonly serviceCodes = new Map<string, number>();
  // FIFO of closing flows (slot, deadline): close times only grow, so deadlines come out in order.
  private readonly closeSlots: Int32Array;
  private readonly closeDeadlines: Float64Array;
  private closeHead = 0;
  private closeLen = 0;
  private nowUs = Number.NEGATIVE_INFINITY;

  /** `config` overrides DEFAULT_FLOW_CONFIG field by field. */
  constructor(config: Partial<FlowConfig>, emit: (rec: FlowRecord) => void) {
    const cfg: FlowConfig = { ...DEFAULT_FLOW_CONFIG, ...config };
    if (!(cfg.capacity >= 1) || !Number.isInteger(cfg.capacity)) {
      throw new RangeError("FlowConfig.capacity must be a positive integer");
    }
    this.cfg = cfg;
    this.emit = emit;
    this.table = new KeyTable(KEY_WIDTH, cfg.capacity);
    const table = this.table;
    this.stats = Object.defineProperty(this.counters, "active", {
      enumerable: true,
      get: () => table.size,
    }) as FlowTableStats;
    this.st = new FlowState(cfg.capacity);
    this.closeSlots = new Int32Array(cfg.capacity);
    this.closeDeadlines = new Float64Array(cfg.capacity);
    this.idleUs = cfg.idleTimeoutS * 1e6;
    this.activeUs = cfg.activeTimeoutS * 1e6;
    this.lingerUs = cfg.tcpCloseLingerS * 1e6;
    this.maxInspect = Math.max(0, Math.min(255, cfg.servicePayloadPackets));
    this.prm = {
      activityUs: cfg.cicActivityTimeoutS * 1e6,
      bulkGapUs: cfg.bulkMaxGapS * 1e6,
      bulkMinPackets: cfg.bulkMinPackets,
      subflowGapUs: cfg.subflowGapS * 1e6,
      compat: cfg.cicCompat,
    };
    this.uids = new UidGenerator("C", cfg.uidSeed);
    this.table.onEvict = (slot) => {
      this.counters.evicted++;
      this.emitRecord(slot, "evicted", false);
    };
  }

  /** Adds one decoded packet. Expires due flows first (its timestamp is the clock). */
  add(p: DecodedPacket): void {
    if (p.ipVersion === 0) {
      this.counters.nonIp++;
      return;
    }
    if (p.isFragment && p.fragOffset > 0) {
      this.counters.fragments++;
      return;
    }
    const ts = p.tsUs;
    if (ts > this.nowUs) {
      // Inline the cheap "is anything due?" test; advance() does the work when something is.
      const o = this.table.oldest();
      if (
        (o !== -1 && ts - this.st.f64[o * F64_STRIDE + F_LAST_US] > this.idleUs) ||
        (this.closeLen > 0 && this.closeDeadlines[this.closeHead] <= ts)
      ) {
        this.advance(ts);
      } else this.nowUs = ts;
    }

    const isA = this.buildKey(p);
    const table = this.table;
    const st = this.st;
    const key = this.key;
    const h = table.hash(key);
    let s = table.find(key, 0, h);
    const proto = p.ipProto;
    const tcpOk = proto === PROTO_TCP && p.tcpHeaderLen >= 20;
    const flags = tcpOk ? p.tcpFlags : 0;
    let dir = 0;
    if (s !== -1) {
      if (st.u8[s * U8_STRIDE + B_CLOSING] !== OPEN && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
        // A new connection on the 5-tuple of a closed one: finish the old flow, reuse the slot.
        this.emitFinal(s, st.u8[s * U8_STRIDE + B_CLOSING] === CLOSING_RST ? "rst" : "fin");
        this.initFlow(s, p, isA, ts);
      } else {
        dir = isA === st.u8[s * U8_STRIDE + B_ORIG_IS_A] ? 0 : 1;
        if (ts - st.f64[s * F64_STRIDE + F_REC_START_US] > this.activeUs) {
          this.counters.activeTimeouts++;
          this.emitRecord(s, "active", true);
          st.resetRecord(s, ts);
        }
      }
      table.touch(s);
    } else {
      s = table.insert(key, 0, h); // evicts (and emits) the LRU flow when full
      this.initFlow(s, p, isA, ts);
    }

    const fd = s * F64_STRIDE + dir;
    st.i32[s * I32_STRIDE + dir + ID_CONN_PKTS]++;
    st.f64[fd + FD_IP_BYTES] += p.ipTotalLen;
    if (tcpOk) zeekTcpPacket(st, s, dir, p, ts);
    else zeekOtherPacket(st, s, dir, proto, p.payloadLen, ts);

    let payload = p.payloadLen;
    let hdr = p.l4HeaderLen;
    // CICFlowMeter never sets lengths for ICMP packets.
    if (this.prm.compat && (proto === PROTO_ICMP || proto === PROTO_ICMP6)) payload = hdr = 0;
    cicAddPacket(st, this.prm, s, dir, ts, payload, hdr, tcpOk ? p.tcpWindow : 0, flags);

    // Service guess from the first payload packets of each direction (allocates only here).
    const bb = s * U8_STRIDE;
    if (
      st.u8[bb + B_SERVICE] === 0 &&
      p.payloadCapLen > 0 &&
      st.u8[bb + dir + BD_INSPECTED] < this.maxInspect
    ) {
      st.u8[bb + dir + BD_INSPECTED]++;
      const info = inspectPayload(p);
      if (info !== null) st.u8[s * U8_STRIDE + B_SERVICE] = this.serviceCode(serviceName(info));
    }

    if (tcpOk && st.u8[s * U8_STRIDE + B_CLOSING] === OPEN) {
      if ((flags & TCP_RST) !== 0) this.startClosing(s, CLOSING_RST, ts);
      else if ((flags & TCP_FIN) !== 0) {
        const bits = st.u8[s * U8_STRIDE + B_FIN_BITS] | (1 << dir);
        st.u8[s * U8_STRIDE + B_FIN_BITS] = bits;
        if (bits === 3) this.startClosing(s, CLOSING_FIN, ts);
      }
    }
  }

  /** Emits every flow that is due at time `tsUs` (µs): closed TCP flows past their linger, idle flows. */
  advance(tsUs: number): void {
    if (!(tsUs > this.nowUs)) return;
    this.nowUs = tsUs;
    const st = this.st;
    const table = this.table;
    while (this.closeLen > 0 && this.closeDeadlines[this.closeHead] <= tsUs) {
      const s = this.closeSlots[this.closeHead];
      this.closeHead = this.closeHead + 1 === this.closeSlots.length ? 0 : this.closeHead + 1;
      this.closeLen--;
      // The entry may be stale (flow evicted, slot reused): only a flow still closing and due goes.
      if (
        table.isUsed(s) &&
        st.u8[s * U8_STRIDE + B_CLOSING] !== OPEN &&
        st.f64[s * F64_STRIDE + F_CLOSE_DEADLINE_US] <= tsUs
      ) {
        this.emitFinal(s, st.u8[s * U8_STRIDE + B_CLOSING] === CLOSING_RST ? "rst" : "fin");
        table.remove(s);
      }
    }
    let o = table.oldest();
    while (o !== -1 && tsUs - st.f64[o * F64_STRIDE + F_LAST_US] > this.idleUs) {
      const closing = st.u8[o * U8_STRIDE + B_CLOSING];
      this.emitFinal(o, closing === CLOSING_RST ? "rst" : closing === CLOSING_FIN ? "fin" : "idle");
      table.remove(o);
      o = table.oldest();
    }
  }

  /** End of input: emits every flow still in the table (reason "end", or "fin"/"rst" when closing). */
  flush(): void {
    const st = this.st;
    const table = this.table;
    let o = table.oldest();
    while (o !== -1) {
      const closing = st.u8[o * U8_STRIDE + B_CLOSING];
      this.emitFinal(o, closing === CLOSING_RST ? "rst" : closing === CLOSING_FIN ? "fin" : "end");
      table.remove(o);
      o = table.oldest();
    }
    this.closeHead = this.closeLen = 0;
    this.keptUids.clear();
  }

  /** Bytes of state per tracked flow: every typed array per slot, the close queue and the key index. */
  bytesPerFlow(): number {
    const queue = (this.closeSlots.byteLength + this.closeDeadlines.byteLength) / this.cfg.capacity;
    return this.st.bytesPerSlot() + queue + this.table.bytesPerSlot();
  }

  // ---- internals

  /** Fills `this.key` for packet `p`; returns 1 when the sender is endpoint A. */
  private buildKey(p: DecodedPacket): number {
    return flowKey(p, this.key);
  }

  private initFlow(s: number, p: DecodedPacket, isA: number, ts: number): void {
    const st = this.st;
    st.resetConnection(s, ts);
    st.u8[s * U8_STRIDE + B_ORIG_IS_A] = isA;
    st.u8[s * U8_STRIDE + B_PROTO] = p.ipProto;
    st.u8[s * U8_STRIDE + B_IP_VERSION] = p.ipVersion;
    if (p.ipProto === PROTO_ICMP || p.ipProto === PROTO_ICMP6) {
      st.i32[s * I32_STRIDE + I_ICMP_TYPE] = p.icmpType;
      st.i32[s * I32_STRIDE + I_ICMP_CODE] = p.icmpCode;
    }
    if (this.keptUids.size > 0) this.keptUids.delete(s);
    this.counters.created++;
  }

  private startClosing(s: number, kind: number, ts: number): void {
    const st = this.st;
    st.u8[s * U8_STRIDE + B_CLOSING] = kind;
    if (this.lingerUs <= 0) {
      this.emitFinal(s, kind === CLOSING_RST ? "rst" : "fin");
      this.table.remove(s);
      return;
    }
    const deadline = ts + this.lingerUs;
    st.f64[s * F64_STRIDE + F_CLOSE_DEADLINE_US] = deadline;
    const cap = this.closeSlots.length;
    if (this.closeLen === cap) {
      // Queue full (more closes in one linger than table slots): the oldest closing flow goes now.
      const old = this.closeSlots[this.closeHead];
      this.closeHead = this.closeHead + 1 === cap ? 0 : this.closeHead + 1;
      this.closeLen--;
      if (old !== s && this.table.isUsed(old) && st.u8[old * U8_STRIDE + B_CLOSING] !== OPEN) {
        this.counters.closeQueueOverflows++;
        this.emitFinal(old, st.u8[old * U8_STRIDE + B_CLOSING] === CLOSING_RST ? "rst" : "fin");
        this.table.remove(old);
      }
    }
    let tail = this.closeHead + this.closeLen;
    if (tail >= cap) tail -= cap;
    this.closeSlots[tail] = s;
    this.closeDeadlines[tail] = deadline;
    this.closeLen++;
  }

  /** Emits the final record of slot `s` and counts it by reason; the caller removes or reuses the slot. */
  private emitFinal(s: number, reason: FlowEndReason): void {
    const stats = this.counters;
    if (reason === "fin") stats.finClosed++;
    else if (reason === "rst") stats.rstClosed++;
    else if (reason === "idle") stats.idleExpired++;
    else if (reason === "end") stats.ended++;
    this.emitRecord(s, reason, false);
  }

  private serviceCode(name: string): number {
    let code = this.serviceCodes.get(name);
    if (code === undefined) {
      if (this.serviceNames.length > MAX_SERVICES) return 0;
      code = this.serviceNames.length;
      this.serviceNames.push(name);
      this.serviceCodes.set(name, code);
    }
    return code;
  }

  /** Builds and emits the record of slot `s` (allocation happens here only). */
  private emitRecord(s: number, reason: FlowEndReason, interim: boolean): void {
    const st = this.st;
    const keys = this.table.keys;
    const base = this.table.keyOffset(s);
    const origIsA = st.u8[s * U8_STRIDE + B_ORIG_IS_A] === 1;
    const origOff = base + (origIsA ? 0 : 4);
    const respOff = base + (origIsA ? 4 : 0);
    const origAddr = this.origAddr;
    const respAddr = this.respAddr;
    for (let i = 0; i < 4; i++) {
      origAddr[i] = keys[origOff + i];
      respAddr[i] = keys[respOff + i];
    }
    const ports = keys[base + 8];
    const origPort = origIsA ? ports >>> 16 : ports & 0xffff;
    const respPort = origIsA ? ports & 0xffff : ports >>> 16;
    const w9 = keys[base + 9];
    const vlanOuter = (w9 >>> 12) & 0xfff;
    const vlanInner = w9 & 0xfff;
    const proto = st.u8[s * U8_STRIDE + B_PROTO];
    const version = st.u8[s * U8_STRIDE + B_IP_VERSION];
    const isIcmp = proto === PROTO_ICMP || proto === PROTO_ICMP6;
    const icmpType = st.i32[s * I32_STRIDE + I_ICMP_TYPE];

    const cid = isIcmp
      ? communityId(
          origAddr,
          respAddr,
          version,
          proto,
          Math.max(0, icmpType),
          Math.max(0, st.i32[s * I32_STRIDE + I_ICMP_CODE]),
          this.cfg.communityIdSeed,
        )
      : communityId(origAddr, respAddr, version, proto, origPort, respPort, this.cfg.communityIdSeed);

    const kept = this.keptUids;
    let uid = kept.size > 0 ? kept.get(s) : undefined;
    if (uid === undefined) uid = this.uids.next();
    if (interim) kept.set(s, uid);
    else if (kept.size > 0) kept.delete(s);

    const fb = s * F64_STRIDE;
    const ib = s * I32_STRIDE;
    const isTcp = proto === PROTO_TCP;
    const service = st.u8[s * U8_STRIDE + B_SERVICE];
    const conn: ConnFields = {
      ts: st.f64[s * F64_STRIDE + F_FIRST_US] / 1e6,
      uid,
      "id.orig_h": formatAddress(origAddr, version),
      "id.orig_p": origPort,
      "id.resp_h": formatAddress(respAddr, version),
      "id.resp_p": respPort,
      proto: isTcp ? "tcp" : proto === PROTO_UDP ? "udp" : isIcmp ? "icmp" : "unknown_transport",
      service: service === 0 ? null : this.serviceNames[service],
      duration: (st.f64[s * F64_STRIDE + F_ZEEK_LAST_US] - st.f64[s * F64_STRIDE + F_FIRST_US]) / 1e6,
      orig_bytes: isTcp ? zeekTcpSize(st, s, 0) : st.f64[fb + FD_CONN_PAYLOAD],
      resp_bytes: isTcp ? zeekTcpSize(st, s, 1) : st.f64[fb + FD_CONN_PAYLOAD + 1],
      conn_state: zeekConnState(st, s, proto),
      missed_bytes: zeekMissedBytes(st, s),
      history: zeekHistory(st, s),
      orig_pkts: st.i32[ib + ID_CONN_PKTS],
      orig_ip_bytes: st.f64[fb + FD_IP_BYTES],
      resp_pkts: st.i32[ib + ID_CONN_PKTS + 1],
      resp_ip_bytes: st.f64[fb + FD_IP_BYTES + 1],
      vlan: vlanOuter !== 0 ? vlanOuter : null,
      inner_vlan: vlanInner !== 0 ? vlanInner : null,
    };
    const rec: FlowRecord = {
      communityId: cid,
      firstUs: st.f64[s * F64_STRIDE + F_REC_START_US],
      lastUs: st.f64[s * F64_STRIDE + F_LAST_US],
      reason,
      interim,
      cic: cicVector(st, this.prm, s, isTcp),
      conn,
    };
    this.counters.emitted++;
    this.emit(rec);
  }
}
