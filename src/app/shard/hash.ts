// Symmetric shard key of a packet: both directions of a conversation (the unordered address pair) land on
// the same worker, so its flows and its channel and socket statistics stay whole. See ADR 0004.
import type { PacketBatch } from "../../capture/index.ts";
import { LinkType } from "../../core/index.ts";
import type { DecodedPacket } from "../../decode/index.ts";

// murmur3's 32-bit finaliser: every input bit affects every output bit.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function step(h: number, w: number): number {
  return Math.imul(h ^ w, 0x9e3779b1) ^ (h >>> 15);
}

/**
 * Hash of the unordered pair of the packet's IP addresses (the lower address first, so A→B and B→A agree),
 * or for a frame without IP of its unordered MAC pair. Fixed seed: the same packet always gets the same
 * shard, so runs repeat. Allocates nothing.
 */
export function pairHash(p: DecodedPacket): number {
  let h = 0x3c6ef372;
  if (p.ipVersion !== 0) {
    const s = p.src;
    const d = p.dst;
    let srcFirst = true;
    for (let i = 0; i < 4; i++) {
      if (s[i] !== d[i]) {
        srcFirst = s[i] < d[i];
        break;
      }
    }
    const a = srcFirst ? s : d;
    const b = srcFirst ? d : s;
    for (let i = 0; i < 4; i++) h = step(h, a[i]);
    for (let i = 0; i < 4; i++) h = step(h, b[i]);
    return fmix(h);
  }
  const sHi = p.srcMacHi;
  const sLo = p.srcMacLo;
  const dHi = p.dstMacHi;
  const dLo = p.dstMacLo;
  const srcFirst = sHi < dHi || (sHi === dHi && sLo <= dLo);
  h = step(h, srcFirst ? sHi : dHi);
  h = step(h, srcFirst ? sLo : dLo);
  h = step(h, srcFirst ? dHi : sHi);
  h = step(h, srcFirst ? dLo : sLo);
  return fmix(h ^ 0x5bd1e995);
}

/** The shard (0 .. shards−1) of a decoded packet. */
export function shardOf(p: DecodedPacket, shards: number): number {
  return shards <= 1 ? 0 : pairHash(p) % shards;
}

// Hash of an ordered pair of addresses given as four words each (a before b): pairHash's IP branch.
function wordsHash(
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
) {
  let h = 0x3c6ef372;
  h = step(step(step(step(h, a0), a1), a2), a3);
  h = step(step(step(step(h, b0), b1), b2), b3);
  return fmix(h);
}

const u32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/**
 * The shard of packet i of a capture batch without decoding it, for the common case (Ethernet, up to two
 * VLAN tags, an IPv4 or IPv6 header within the captured bytes): the same value as shardOf() after
 * decodePacket, which reads the addresses from the same bytes. −1 for anything else (decode and use
 * shardOf). Allocates nothing.
 */
export function quickShard(b: PacketBatch, i: number, shards: number): number {
  if (shards <= 1) return 0;
  if (b.linkType[i] !== LinkType.ETHERNET) return -1;
  const d = b.data;
  let o = b.offset[i];
  const lim = Math.min(o + b.capLen[i], d.length);
  if (o + 14 > lim) return -1;
  let type = (d[o + 12] << 8) | d[o + 13];
  o += 14;
  for (let tags = 0; type === 0x8100 || type === 0x88a8 || type === 0x9100; tags++) {
    if (tags === 2 || o + 4 > lim) return -1;
    type = (d[o + 2] << 8) | d[o + 3];
    o += 4;
  }
  if (type === 0x0800) {
    if (o + 20 > lim || d[o] >> 4 !== 4) return -1;
    const s3 = u32(d, o + 12);
    const d3 = u32(d, o + 16);
    const lo = s3 <= d3 ? s3 : d3;
    const hi = s3 <= d3 ? d3 : s3;
    return wordsHash(0, 0, 0xffff, lo, 0, 0, 0xffff, hi) % shards;
  }
  if (type === 0x86dd) {
    if (o + 40 > lim || d[o] >> 4 !== 6) return -1;
    const s0 = u32(d, o + 8);
    const s1 = u32(d, o + 12);
    const s2 = u32(d, o + 16);
    const s3 = u32(d, o + 20);
    const d0 = u32(d, o + 24);
    const d1 = u32(d, o + 28);
    const d2 = u32(d, o + 32);
    const d3 = u32(d, o + 36);
    // The lower address first, word by word, as pairHash orders them.
    let srcFirst = true;
    if (s0 !== d0) srcFirst = s0 < d0;
    else if (s1 !== d1) srcFirst = s1 < d1;
    else if (s2 !== d2) srcFirst = s2 < d2;
    else if (s3 !== d3) srcFirst = s3 < d3;
    return (
      (srcFirst ? wordsHash(s0, s1, s2, s3, d0, d1, d2, d3) : wordsHash(d0, d1, d2, d3, s0, s1, s2, s3)) %
      shards
    );
  }
  return -1;
}
