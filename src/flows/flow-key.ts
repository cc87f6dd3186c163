// The bidirectional flow key of a decoded packet: both directions of a connection get the same key, and
// the return value says which endpoint sent the packet. Shared by every table keyed by flow.
import type { DecodedPacket } from "../decode/index.ts";
import { icmpCounterpart } from "./community-id.ts";

/** Words of a flow key: address A (4), address B (4), ports, protocol and VLANs. */
export const FLOW_KEY_WIDTH = 10;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP6 = 58;
const PROTO_SCTP = 132;

/**
 * Fills `k` (FLOW_KEY_WIDTH words) with the flow key of packet `p`: endpoint A is the lower (address,
 * port), so both directions meet. Returns 1 when the sender is endpoint A. Allocation-free.
 */
export function flowKey(p: DecodedPacket, k: Uint32Array): number {
  const proto = p.ipProto;
  let sp = 0;
  let dp = 0;
  if (proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP) {
    sp = p.srcPort;
    dp = p.dstPort;
  } else if ((proto === PROTO_ICMP || proto === PROTO_ICMP6) && p.icmpType >= 0) {
    // ICMP ports as in Community ID / Zeek: request and reply meet as (type, counterpart).
    sp = p.icmpType;
    const c = icmpCounterpart(proto, sp);
    dp = c >= 0 ? c : p.icmpCode;
  }
  const src = p.src;
  const dst = p.dst;
  let cmp = 0;
  for (let i = 0; i < 4 && cmp === 0; i++) {
    const a = src[i]!;
    const b = dst[i]!;
    if (a !== b) cmp = a < b ? -1 : 1;
  }
  if (cmp === 0) cmp = sp - dp;
  const isA = cmp <= 0 ? 1 : 0;
  const x = isA === 1 ? src : dst;
  const y = isA === 1 ? dst : src;
  k[0] = x[0]!;
  k[1] = x[1]!;
  k[2] = x[2]!;
  k[3] = x[3]!;
  k[4] = y[0]!;
  k[5] = y[1]!;
  k[6] = y[2]!;
  k[7] = y[3]!;
  k[8] = isA === 1 ? ((sp << 16) | dp) >>> 0 : ((dp << 16) | sp) >>> 0;
  k[9] = ((proto << 24) | ((p.vlanOuter & 0xfff) << 12) | (p.vlanInner & 0xfff)) >>> 0;
  return isA;
}
