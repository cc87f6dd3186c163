import { describe, expect, it } from "vitest";
import { type DecodedPacket, formatAddress } from "../decode/index.ts";
import { ascii, decodeBytes, eth, ipv4, tcp, udp } from "../decode/test-builders.ts";
import {
  BYTE_CHANNELS,
  PACKET_CHANNELS,
  PacketWindows,
  type PacketWindowView,
  packetWindowLayout,
} from "./index.ts";

const T0 = 1_700_000_000_000_000;
const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;

/** A decoded TCP/IPv4 packet at time `t` µs. */
function tcpPacket(
  t: number,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  flags: number,
  payload = "",
): DecodedPacket {
  const p = decodeBytes(eth(0x0800, ipv4(tcp(ascii(payload), { sport, dport, flags }), { src, dst })));
  p.tsUs = t;
  return p;
}

interface Kept {
  vec: Float32Array;
  orig: string;
  resp: string;
  respPort: number;
  packets: number;
  bytes: number;
  reason: string;
  firstUs: number;
}

function collector(K: number, N: number, extra: { capacity?: number; idleTimeoutS?: number } = {}) {
  const layout = packetWindowLayout({ packets: K, bytes: N });
  const out: Kept[] = [];
  const pw = new PacketWindows({ packets: K, bytes: N, ...extra }, (w: PacketWindowView) => {
    const vec = new Float32Array(layout.size);
    w.write(vec);
    out.push({
      vec,
      orig: formatAddress(w.origAddr, w.ipVersion),
      resp: formatAddress(w.respAddr, w.ipVersion),
      respPort: w.respPort,
      packets: w.packets,
      bytes: w.bytes,
      reason: w.reason,
      firstUs: w.firstUs,
    });
  });
  // Channel c at packet/byte position i.
  const pkt = (k: Kept, ch: (typeof PACKET_CHANNELS)[number], i: number) =>
    k.vec[PACKET_CHANNELS.indexOf(ch) * K + i]!;
  const byte = (k: Kept, ch: (typeof BYTE_CHANNELS)[number], i: number) =>
    k.vec[layout.byteOffset + BYTE_CHANNELS.indexOf(ch) * N + i]!;
  return { pw, out, pkt, byte, layout };
}

describe("packet windows", () => {
  it("records sizes, directions, gaps, flags and both directions' bytes of a TCP exchange", () => {
    const { pw, out, pkt, byte } = collector(8, 16);
    const c = "10.0.0.1";
    const s = "10.0.0.2";
    pw.add(tcpPacket(T0, c, s, 40000, 80, SYN));
    pw.add(tcpPacket(T0 + 100, s, c, 80, 40000, SYN | ACK));
    pw.add(tcpPacket(T0 + 250, c, s, 40000, 80, ACK));
    pw.add(tcpPacket(T0 + 300, c, s, 40000, 80, PSH_ACK, "GET /x"));
    pw.add(tcpPacket(T0 + 900, s, c, 80, 40000, PSH_ACK, "HTTP/1.1 200 OK"));
    pw.add(tcpPacket(T0 + 1000, c, s, 40000, 80, FIN_ACK));
    pw.add(tcpPacket(T0 + 1100, s, c, 80, 40000, FIN_ACK));
    expect(out).toHaveLength(1); // closed by the second FIN
    const w = out[0]!;
    expect([w.orig, w.resp, w.respPort, w.packets, w.bytes, w.reason]).toEqual([c, s, 80, 7, 16, "closed"]);
    expect(Array.from({ length: 8 }, (_, i) => pkt(w, "pkt.dir", i))).toEqual([1, -1, 1, 1, -1, 1, -1, 0]);
    expect(Array.from({ length: 8 }, (_, i) => pkt(w, "pkt.present", i))).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    expect(Array.from({ length: 3 }, (_, i) => pkt(w, "pkt.gap_us", i))).toEqual([0, 100, 150]);
    expect(pkt(w, "pkt.syn", 0)).toBe(1);
    expect(pkt(w, "pkt.ack", 0)).toBe(0);
    expect(pkt(w, "pkt.ip_len", 3)).toBe(20 + 20 + 6);
    expect(pkt(w, "pkt.payload_len", 4)).toBe(15);
    expect(pkt(w, "pkt.tcp", 4)).toBe(1);
    expect(pkt(w, "pkt.tcp_window", 0)).toBe(65535);
    // "GET /x" (+1) then the first 10 bytes of the reply (−1): N = 16 bytes in all.
    const text = String.fromCharCode(...Array.from({ length: 16 }, (_, i) => byte(w, "byte.value", i)));
    expect(text).toBe("GET /xHTTP/1.1 2");
    expect(Array.from({ length: 16 }, (_, i) => byte(w, "byte.dir", i))).toEqual([
      ...new Array(6).fill(1),
      ...new Array(10).fill(-1),
    ]);
    // Bit planes, most significant first: 'G' = 0x47 = 0100 0111.
    const bits = BYTE_CHANNELS.slice(0, 8).map((ch) => byte(w, ch, 0));
    expect(bits).toEqual([0, 1, 0, 0, 0, 1, 1, 1]);
  });

  it("emits a window at its K-th packet, ignores the rest of the connection, and restarts after a close", () => {
    const { pw, out } = collector(3, 4);
    const c = "10.0.0.1";
    const s = "10.0.0.2";
    for (let i = 0; i < 6; i++) pw.add(tcpPacket(T0 + i, c, s, 1234, 22, ACK));
    expect(out.map((w) => [w.packets, w.reason])).toEqual([[3, "complete"]]);
    pw.add(tcpPacket(T0 + 10, c, s, 1234, 22, 0x04)); // RST: the done flow is closed
    pw.add(tcpPacket(T0 + 20, c, s, 1234, 22, SYN)); // a new connection on the same 5-tuple
    pw.flush();
    expect(out.map((w) => [w.packets, w.reason, w.firstUs])).toEqual([
      [3, "complete", T0],
      [1, "end", T0 + 20],
    ]);
  });

  it("keeps at most `capacity` flows, counts evictions, and expires idle flows", () => {
    const { pw, out } = collector(4, 4, { capacity: 3, idleTimeoutS: 5 });
    for (let i = 0; i < 5; i++) {
      const p = decodeBytes(eth(0x0800, ipv4(udp(ascii("q"), { sport: 5000 + i, dport: 53 }))));
      p.tsUs = T0 + i;
      pw.add(p);
    }
    expect(pw.stats).toMatchObject({ active: 3, created: 5, evicted: 2, emitted: 2 });
    expect(out.map((w) => w.reason)).toEqual(["evicted", "evicted"]);
    pw.add(tcpPacket(T0 + 6_000_000, "10.0.0.9", "10.0.0.2", 1, 2, SYN)); // 6 s later: the three UDP flows idle out
    expect(out.map((w) => w.reason)).toEqual(["evicted", "evicted", "idle", "idle", "idle"]);
    expect(pw.stats.active).toBe(1);
  });
});
