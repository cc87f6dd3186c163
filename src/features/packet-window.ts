// Packet windows per flow (LUCID-style): sizes, directions, gaps and flags of the first K packets, first N payload bytes.

import { KeyTable } from "../core/index.ts";
import type { DecodedPacket } from "../decode/index.ts";
import { FLOW_KEY_WIDTH, flowKey } from "../flows/index.ts";

/** Settings of a PacketWindows extractor. */
export interface PacketWindowConfig {
  /** Packets per window (K): a flow's window is complete, and emitted, at its K-th packet. */
  packets: number;
  /** Payload bytes kept per window (N), from the window's packets in arrival order, both directions. */
  bytes: number;
  /** Hard cap of tracked flows; a new flow in a full table evicts the least recently used one. */
  capacity: number;
  /** A flow with no packet for this long is finished and emitted (seconds). */
  idleTimeoutS: number;
}

export const DEFAULT_PACKET_WINDOW_CONFIG: Readonly<PacketWindowConfig> = Object.freeze({
  packets: 20, // LUCID uses 10 packets per flow window; 20 also covers a TLS/SSH handshake and first request
  bytes: 128, // a request line and its first headers, a DNS query name, an SSH banner
  capacity: 65_536, // ~33 MB at ~500 B per flow with the defaults (see bytesPerFlow)
  idleTimeoutS: 60, // longer than the 6 s beacons and 10 s slowloris header gaps of the lab capture
});

/** Channels of a window's packet grid, one value per packet position (0 past the flow's last packet). */
export const PACKET_CHANNELS = [
  "pkt.present", // 1 for a recorded packet
  "pkt.dir", // +1 originator → responder, −1 back
  "pkt.ip_len", // IP total length (bytes on the wire from the IP header on)
  "pkt.payload_len", // L4 payload length from the headers
  "pkt.gap_us", // µs since the flow's previous packet (0 for the first)
  "pkt.fin",
  "pkt.syn",
  "pkt.rst",
  "pkt.psh",
  "pkt.ack",
  "pkt.urg",
  "pkt.ece",
  "pkt.cwr",
  "pkt.tcp_window", // raw window field
  "pkt.tcp",
  "pkt.udp",
  "pkt.icmp",
] as const;

/** Channels of a window's byte grid, one value per payload byte position (0 past the last byte). */
export const BYTE_CHANNELS = [
  "byte.b7", // bit planes, most significant first
  "byte.b6",
  "byte.b5",
  "byte.b4",
  "byte.b3",
  "byte.b2",
  "byte.b1",
  "byte.b0",
  "byte.value", // 0..255
  "byte.dir", // +1 sent by the originator, −1 by the responder
] as const;

/** Layout of a window vector: packet grid [P, K] then byte grid [B, N], each channel-major. */
export interface PacketWindowLayout {
  packets: number;
  bytes: number;
  /** Offset of the byte grid and the total length. */
  byteOffset: number;
  size: number;
  /** One name per vector entry (`pkt.ip_len@3`, `byte.value@17`), e.g. for a flat model. */
  names: string[];
}

/** The vector layout for a config. */
export function packetWindowLayout(cfg: Pick<PacketWindowConfig, "packets" | "bytes">): PacketWindowLayout {
  const names: string[] = [];
  for (const c of PACKET_CHANNELS) for (let k = 0; k < cfg.packets; k++) names.push(`${c}@${k}`);
  for (const c of BYTE_CHANNELS) for (let i = 0; i < cfg.bytes; i++) names.push(`${c}@${i}`);
  const byteOffset = PACKET_CHANNELS.length * cfg.packets;
  return { packets: cfg.packets, bytes: cfg.bytes, byteOffset, size: names.length, names };
}

/** Why a window was emitted. */
export type PacketWindowReason = "complete" | "closed" | "idle" | "evicted" | "end";

/** Counters of a PacketWindows extractor. */
export interface PacketWindowStats {
  /** Flows tracked now. */
  active: number;
  created: number;
  emitted: number;
  /** Flows removed to make room in a full table (their window is emitted with reason "evicted"). */
  evicted: number;
  /** Packets that belong to no flow (not IP) or cannot be keyed (non-first fragments). */
  skipped: number;
}

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP6 = 58;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
const KEY_WIDTH = FLOW_KEY_WIDTH;
const OPEN = 0;
const DONE = 1; // window emitted; later packets of the connection are ignored

/**
 * The window of one flow at emission time. One instance is reused for every emission: read it inside the
 * callback, copy what you keep. Addresses and ports identify the flow for labelling; they are not features.
 */
export class PacketWindowView {
  /** Originator (first packet's sender) and responder, four words each, IPv4 mapped as in DecodedPacket. */
  readonly origAddr = new Uint32Array(4);
  readonly respAddr = new Uint32Array(4);
  ipVersion = 0;
  proto = 0;
  origPort = 0;
  respPort = 0;
  /** First and last recorded packet (µs since the epoch). */
  firstUs = 0;
  lastUs = 0;
  /** Packets and payload bytes in the window. */
  packets = 0;
  bytes = 0;
  reason: PacketWindowReason = "end";
  /** @internal the extractor that filled this view and the flow's slot. */
  owner: PacketWindows | null = null;
  slot = -1;

  /** Writes the window vector (see `packetWindowLayout`) into out[off .. off + layout.size). */
  write(out: Float32Array | Float64Array, off = 0): void {
    this.owner?.writeVector(this.slot, out, off);
  }
}

/**
 * Per-flow packet windows from decoded packets. Flows are keyed like the flow table (bidirectional
 * 5-tuple plus VLANs; the first packet's sender is the originator). A flow's window is emitted once: at
 * its K-th packet, when it closes (RST, or FIN from both sides), when it idles out, when it is evicted,
 * or at `flush()`. State lives in typed arrays sized for `capacity` flows: `add()` allocates nothing.
 */
export class PacketWindows {
  readonly cfg: PacketWindowConfig;
  readonly layout: PacketWindowLayout;
  private readonly table: KeyTable;
  private readonly onWindow: (w: PacketWindowView) => void;
  private readonly view = new PacketWindowView();
  private readonly key = new Uint32Array(KEY_WIDTH);
  private readonly idleUs: number;
  // Per flow.
  private readonly firstUs: Float64Array;
  private readonly lastUs: Float64Array;
  private readonly origIsA: Uint8Array;
  private readonly status: Uint8Array;
  private readonly finBits: Uint8Array;
  private readonly version: Uint8Array;
  private readonly count: Uint16Array;
  private readonly nbytes: Uint16Array;
  // Per flow and packet position (flow s, packet k at s·K + k).
  private readonly ipLen: Uint16Array;
  private readonly payLen: Uint16Array;
  private readonly gap: Float32Array;
  private readonly flags: Uint8Array;
  /** bit 0: from the responder; bits 1-2: 1 TCP, 2 UDP, 3 ICMP. */
  private readonly dirProto: Uint8Array;
  private readonly win: Uint16Array;
  private readonly byteStart: Uint16Array;
  // Per flow and byte position.
  private readonly payload: Uint8Array;
  private readonly counters = { created: 0, emitted: 0, evicted: 0, skipped: 0 };

  constructor(config: Partial<PacketWindowConfig>, onWindow: (w: PacketWindowView) => void) {
    const cfg: PacketWindowConfig = { ...DEFAULT_PACKET_WINDOW_CONFIG, ...config };
    if (!(Number.isInteger(cfg.packets) && cfg.packets >= 1 && cfg.packets <= 1024))
      throw new RangeError("PacketWindowConfig.packets must be an integer 1..1024");
    if (!(Number.isInteger(cfg.bytes) && cfg.bytes >= 0 && cfg.bytes <= 65_535))
      throw new RangeError("PacketWindowConfig.bytes must be an integer 0..65535");
    if (!(Number.isInteger(cfg.capacity) && cfg.capacity >= 1))
      throw new RangeError("PacketWindowConfig.capacity must be a positive integer");
    if (!(cfg.idleTimeoutS > 0)) throw new RangeError("PacketWindowConfig.idleTimeoutS must be > 0");
    this.cfg = cfg;
    this.layout = packetWindowLayout(cfg);
    this.onWindow = onWindow;
    this.idleUs = cfg.idleTimeoutS * 1e6;
    const cap = cfg.capacity;
    const K = cfg.packets;
    this.table = new KeyTable(KEY_WIDTH, cap);
    this.firstUs = new Float64Array(cap);
    this.lastUs = new Float64Array(cap);
    this.origIsA = new Uint8Array(cap);
    this.status = new Uint8Array(cap);
    this.finBits = new Uint8Array(cap);
    this.version = new Uint8Array(cap);
    this.count = new Uint16Array(cap);
    this.nbytes = new Uint16Array(cap);
    this.ipLen = new Uint16Array(cap * K);
    this.payLen = new Uint16Array(cap * K);
    this.gap = new Float32Array(cap * K);
    this.flags = new Uint8Array(cap * K);
    this.dirProto = new Uint8Array(cap * K);
    this.win = new Uint16Array(cap * K);
    this.byteStart = new Uint16Array(cap * K);
    this.payload = new Uint8Array(cap * cfg.bytes);
    this.view.owner = this;
    this.table.onEvict = (slot) => {
      this.counters.evicted++;
      if (this.status[slot] === OPEN) this.emit(slot, "evicted");
    };
  }

  /** Counters (read any time). */
  get stats(): PacketWindowStats {
    return { active: this.table.size, ...this.counters };
  }

  /** Bytes of state per tracked flow (every typed array per slot and the key index). */
  bytesPerFlow(): number {
    const K = this.cfg.packets;
    return (
      8 +
      8 +
      1 +
      1 +
      1 +
      1 +
      2 +
      2 +
      K * (2 + 2 + 4 + 1 + 1 + 2 + 2) +
      this.cfg.bytes +
      this.table.bytesPerSlot()
    );
  }

  /** Adds one decoded packet (its time is the clock: flows idle past the timeout are emitted first). */
  add(p: DecodedPacket): void {
    if (p.ipVersion === 0 || (p.isFragment && p.fragOffset > 0)) {
      this.counters.skipped++;
      return;
    }
    const ts = p.tsUs;
    this.expire(ts);
    const isA = this.buildKey(p);
    const table = this.table;
    const h = table.hash(this.key);
    let s = table.find(this.key, 0, h);
    const tcp = p.ipProto === PROTO_TCP && p.tcpHeaderLen >= 20;
    const fl = tcp ? p.tcpFlags : 0;
    if (s === -1) {
      s = table.insert(this.key, 0, h);
      this.init(s, p, isA, ts);
    } else {
      table.touch(s);
      if (this.status[s] === DONE) {
        // A new connection on the 5-tuple of a closed one starts a new window.
        const closed = this.finBits[s] === 3 || (this.finBits[s] & 4) !== 0;
        if (closed && (fl & (TCP_SYN | TCP_ACK)) === TCP_SYN) this.init(s, p, isA, ts);
        else {
          // Past the window: only the close is tracked, so that a later SYN can start a new one.
          if ((fl & TCP_RST) !== 0) this.finBits[s] |= 4;
          else if ((fl & TCP_FIN) !== 0) this.finBits[s] |= isA === this.origIsA[s] ? 1 : 2;
          this.lastUs[s] = ts;
          return;
        }
      }
    }
    const dir = isA === this.origIsA[s] ? 0 : 1;
    const K = this.cfg.packets;
    const k = this.count[s];
    const at = s * K + k;
    this.ipLen[at] = p.ipTotalLen > 65_535 ? 65_535 : p.ipTotalLen;
    this.payLen[at] = p.payloadLen > 65_535 ? 65_535 : p.payloadLen;
    this.gap[at] = k === 0 ? 0 : ts - this.lastUs[s];
    this.flags[at] = fl;
    const proto = p.ipProto;
    const pc =
      proto === PROTO_TCP
        ? 1
        : proto === PROTO_UDP
          ? 2
          : proto === PROTO_ICMP || proto === PROTO_ICMP6
            ? 3
            : 0;
    this.dirProto[at] = dir | (pc << 1);
    this.win[at] = tcp ? p.tcpWindow : 0;
    // Payload bytes of this packet, as far as captured, up to the window's N.
    const N = this.cfg.bytes;
    let nb = this.nbytes[s];
    this.byteStart[at] = nb;
    if (p.payloadCapLen > 0 && nb < N) {
      const take = Math.min(p.payloadCapLen, N - nb);
      const from = p.start + p.payloadOffset;
      const buf = p.buf;
      const pl = this.payload;
      const to = s * N + nb;
      for (let i = 0; i < take; i++) pl[to + i] = buf[from + i];
      nb += take;
      this.nbytes[s] = nb;
    }
    this.count[s] = k + 1;
    this.lastUs[s] = ts;
    if (tcp) {
      if ((fl & TCP_RST) !== 0) this.finBits[s] |= 4;
      else if ((fl & TCP_FIN) !== 0) this.finBits[s] |= 1 << dir;
    }
    if (k + 1 === K) this.emit(s, "complete");
    else if (this.finBits[s] === 3 || (this.finBits[s] & 4) !== 0) this.emit(s, "closed");
  }

  /** Emits the windows of flows idle for longer than the timeout at time `tsUs` (µs). */
  expire(tsUs: number): void {
    const table = this.table;
    let o = table.oldest();
    while (o !== -1 && tsUs - this.lastUs[o] > this.idleUs) {
      if (this.status[o] === OPEN) this.emit(o, "idle");
      table.remove(o);
      o = table.oldest();
    }
  }

  /** End of input: emits every window not yet emitted and forgets every flow. */
  flush(): void {
    const table = this.table;
    let o = table.oldest();
    while (o !== -1) {
      if (this.status[o] === OPEN) this.emit(o, "end");
      table.remove(o);
      o = table.oldest();
    }
  }

  /** Writes slot `s`'s window vector (see `packetWindowLayout`) into out[off..]. Used by PacketWindowView. */
  writeVector(s: number, out: Float32Array | Float64Array, off: number): void {
    const K = this.cfg.packets;
    const N = this.cfg.bytes;
    const n = this.count[s];
    const size = this.layout.size;
    out.fill(0, off, off + size);
    for (let k = 0; k < n; k++) {
      const at = s * K + k;
      const dp = this.dirProto[at];
      const f = this.flags[at];
      out[off + k] = 1;
      out[off + K + k] = (dp & 1) === 0 ? 1 : -1;
      out[off + 2 * K + k] = this.ipLen[at];
      out[off + 3 * K + k] = this.payLen[at];
      out[off + 4 * K + k] = this.gap[at];
      for (let b = 0; b < 8; b++) out[off + (5 + b) * K + k] = (f >> b) & 1;
      out[off + 13 * K + k] = this.win[at];
      const pc = dp >> 1;
      if (pc >= 1) out[off + (13 + pc) * K + k] = 1;
    }
    const bo = off + this.layout.byteOffset;
    const total = this.nbytes[s];
    for (let k = 0; k < n; k++) {
      const at = s * K + k;
      const start = this.byteStart[at];
      const end = k + 1 < n ? this.byteStart[at + 1] : total;
      const d = (this.dirProto[at] & 1) === 0 ? 1 : -1;
      for (let i = start; i < end; i++) {
        const v = this.payload[s * N + i];
        for (let b = 0; b < 8; b++) out[bo + b * N + i] = (v >> (7 - b)) & 1;
        out[bo + 8 * N + i] = v;
        out[bo + 9 * N + i] = d;
      }
    }
  }

  // ---- internals

  private init(s: number, p: DecodedPacket, isA: number, ts: number): void {
    this.firstUs[s] = ts;
    this.lastUs[s] = ts;
    this.origIsA[s] = isA;
    this.status[s] = OPEN;
    this.finBits[s] = 0;
    this.version[s] = p.ipVersion;
    this.count[s] = 0;
    this.nbytes[s] = 0;
    this.counters.created++;
  }

  private emit(s: number, reason: PacketWindowReason): void {
    const v = this.view;
    const keys = this.table.keys;
    const base = this.table.keyOffset(s);
    const origIsA = this.origIsA[s] === 1;
    const oo = base + (origIsA ? 0 : 4);
    const ro = base + (origIsA ? 4 : 0);
    for (let i = 0; i < 4; i++) {
      v.origAddr[i] = keys[oo + i];
      v.respAddr[i] = keys[ro + i];
    }
    const ports = keys[base + 8];
    v.origPort = origIsA ? ports >>> 16 : ports & 0xffff;
    v.respPort = origIsA ? ports & 0xffff : ports >>> 16;
    v.proto = keys[base + 9] >>> 24;
    v.ipVersion = this.version[s];
    v.firstUs = this.firstUs[s];
    v.lastUs = this.lastUs[s];
    v.packets = this.count[s];
    v.bytes = this.nbytes[s];
    v.reason = reason;
    v.slot = s;
    this.status[s] = DONE;
    this.counters.emitted++;
    this.onWindow(v);
  }

  /** Fills `this.key` for packet `p` (the flow table's key); returns 1 when the sender is endpoint A. */
  private buildKey(p: DecodedPacket): number {
    return flowKey(p, this.key);
  }
}
