// Features of one Zeek conn.log record for per-flow detectors: sizes, rates, protocol, state and history, never identifiers.
//
// Addresses, ports, uid and ts are left out on purpose: in labelled datasets they tell a model *who*
// attacked (shortcut learning), not what the traffic looked like. local_orig/local_resp are left out too,
// since they are derived from the addresses (Site::local_nets), and so is service, which Zeek's protocol
// detection fills in only for some flows.

/** The conn.log fields the features are computed from; unset fields are null. */
export interface ZeekConnFields {
  duration: number | null;
  orig_bytes: number | null;
  resp_bytes: number | null;
  orig_pkts: number | null;
  resp_pkts: number | null;
  orig_ip_bytes: number | null;
  resp_ip_bytes: number | null;
  missed_bytes: number | null;
  proto: string | null;
  conn_state: string | null;
  history: string | null;
}

/** One feature: a short name and what it means, in words for explanations. */
export interface ZeekConnFeature {
  name: string;
  doc: string;
}

const PROTOS = ["tcp", "udp", "icmp"] as const;
// Zeek's conn_state values (base/protocols/conn/main.zeek); anything else counts as "other".
const STATES = [
  ["S0", "a connection attempt that got no reply"],
  ["S1", "a connection established and never closed"],
  ["SF", "a connection established and closed normally"],
  ["REJ", "a connection attempt that was rejected"],
  ["S2", "a connection established, closed by the originator only, no reply to that close"],
  ["S3", "a connection established, closed by the responder only, no reply to that close"],
  ["RSTO", "a connection established and reset by the originator"],
  ["RSTR", "a connection established and reset by the responder"],
  ["RSTOS0", "a SYN followed by a reset from the originator, with no SYN-ACK seen"],
  ["RSTRH", "a SYN-ACK followed by a reset from the responder, with no SYN seen"],
  ["SH", "a SYN followed by a FIN from the originator, with no SYN-ACK seen"],
  ["SHR", "a SYN-ACK followed by a FIN from the responder, with no SYN seen"],
  ["OTH", "no SYN seen: midstream traffic"],
] as const;
// History letters, upper case for the originator and lower case for the responder (conn.log docs).
const LETTERS = [
  ["S", "SYN"],
  ["H", "SYN-ACK"],
  ["A", "pure ACK"],
  ["D", "packet with payload"],
  ["F", "FIN"],
  ["R", "reset"],
  ["T", "retransmitted packet (counted in steps of 1, 10, 100…)"],
  ["W", "zero-window packet (steps of 1, 10, 100…)"],
  ["G", "content gap (steps of 1, 10, 100…)"],
] as const;
// C bad checksum, I inconsistent packet, Q multi-flag packet: rare, pooled per direction.
const OTHER = "CIQ";

const BASE: ZeekConnFeature[] = [
  { name: "duration", doc: "how long the connection lasted (log of 1 + seconds)" },
  { name: "orig_bytes", doc: "payload bytes the originator sent (log of 1 + bytes)" },
  { name: "resp_bytes", doc: "payload bytes the responder sent (log of 1 + bytes)" },
  { name: "orig_pkts", doc: "packets the originator sent (log of 1 + packets)" },
  { name: "resp_pkts", doc: "packets the responder sent (log of 1 + packets)" },
  { name: "orig_ip_bytes", doc: "IP-level bytes the originator sent, headers included (log of 1 + bytes)" },
  { name: "resp_ip_bytes", doc: "IP-level bytes the responder sent, headers included (log of 1 + bytes)" },
  { name: "missed_bytes", doc: "bytes lost in capture gaps (log of 1 + bytes)" },
  {
    name: "orig_bytes_per_pkt",
    doc: "mean size of the originator's packets (log of 1 + IP bytes per packet)",
  },
  {
    name: "resp_bytes_per_pkt",
    doc: "mean size of the responder's packets (log of 1 + IP bytes per packet)",
  },
  { name: "resp_byte_share", doc: "share of the IP bytes that the responder sent (0 to 1)" },
  { name: "resp_pkt_share", doc: "share of the packets that the responder sent (0 to 1)" },
  {
    name: "pkt_rate",
    doc: "packets per second over the connection's duration (log of 1 + rate; 0 if no duration)",
  },
  { name: "payload_share", doc: "share of the IP bytes that is payload rather than headers (0 to 1)" },
];

/** Every feature in vector order, with its meaning. */
export const ZEEK_CONN_FEATURES: readonly ZeekConnFeature[] = [
  ...BASE,
  ...PROTOS.map((p) => ({ name: `proto_${p}`, doc: `transport protocol is ${p.toUpperCase()} (1 or 0)` })),
  { name: "proto_other", doc: "transport protocol is neither TCP, UDP nor ICMP (1 or 0)" },
  ...STATES.map(([s, d]) => ({ name: `state_${s}`, doc: `connection state ${s}: ${d} (1 or 0)` })),
  { name: "state_other", doc: "connection state unset or not one of Zeek's values (1 or 0)" },
  ...LETTERS.flatMap(([l, d]) => [
    { name: `hist_${l}`, doc: `${d} from the originator, as history letters "${l}"` },
    {
      name: `hist_${l.toLowerCase()}`,
      doc: `${d} from the responder, as history letters "${l.toLowerCase()}"`,
    },
  ]),
  { name: "hist_other_orig", doc: "bad-checksum, inconsistent or multi-flag packets from the originator" },
  { name: "hist_other_resp", doc: "bad-checksum, inconsistent or multi-flag packets from the responder" },
  { name: "hist_flipped", doc: "Zeek swapped originator and responder (history has ^) (1 or 0)" },
  { name: "hist_orig_letters", doc: "history letters for the originator (upper case)" },
  { name: "hist_resp_letters", doc: "history letters for the responder (lower case)" },
];

/** Number of features per record. */
export const ZEEK_CONN_FEATURE_COUNT = ZEEK_CONN_FEATURES.length;

const STATE_INDEX = new Map<string, number>(STATES.map(([s], i) => [s, i]));
const N_BASE = BASE.length;
const OFF_PROTO = N_BASE;
const OFF_STATE = OFF_PROTO + PROTOS.length + 1;
const OFF_HIST = OFF_STATE + STATES.length + 1;
const OFF_HIST_TAIL = OFF_HIST + 2 * LETTERS.length;
// Slot of each history letter (char code → feature index), -1 for letters without one.
const LETTER_SLOT = new Int16Array(128).fill(-1);
LETTERS.forEach(([l], i) => {
  LETTER_SLOT[l.charCodeAt(0)] = OFF_HIST + 2 * i;
  LETTER_SLOT[l.toLowerCase().charCodeAt(0)] = OFF_HIST + 2 * i + 1;
});
for (const c of OTHER) {
  LETTER_SLOT[c.charCodeAt(0)] = OFF_HIST_TAIL;
  LETTER_SLOT[c.toLowerCase().charCodeAt(0)] = OFF_HIST_TAIL + 1;
}
// History is at most a few dozen letters; a hostile log line could hold more, and only these are read.
const MAX_HISTORY = 256;

/** A count or size: unset, negative or non-finite reads as 0. */
function nz(x: number | null): number {
  return x !== null && Number.isFinite(x) && x > 0 ? x : 0;
}

function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, part / whole) : 0;
}

/**
 * Writes the {@link ZEEK_CONN_FEATURE_COUNT} features of one conn record to `out[off …]`. Unset fields
 * count as 0; every output is finite. Allocation-free.
 */
export function zeekConnFeatures(r: ZeekConnFields, out: Float64Array, off = 0): void {
  out.fill(0, off, off + ZEEK_CONN_FEATURE_COUNT);
  const dur = nz(r.duration);
  const ob = nz(r.orig_bytes);
  const rb = nz(r.resp_bytes);
  const op = nz(r.orig_pkts);
  const rp = nz(r.resp_pkts);
  const oib = nz(r.orig_ip_bytes);
  const rib = nz(r.resp_ip_bytes);
  out[off] = Math.log1p(dur);
  out[off + 1] = Math.log1p(ob);
  out[off + 2] = Math.log1p(rb);
  out[off + 3] = Math.log1p(op);
  out[off + 4] = Math.log1p(rp);
  out[off + 5] = Math.log1p(oib);
  out[off + 6] = Math.log1p(rib);
  out[off + 7] = Math.log1p(nz(r.missed_bytes));
  out[off + 8] = op > 0 ? Math.log1p(oib / op) : 0;
  out[off + 9] = rp > 0 ? Math.log1p(rib / rp) : 0;
  out[off + 10] = share(rib, oib + rib);
  out[off + 11] = share(rp, op + rp);
  out[off + 12] = dur > 0 ? Math.log1p((op + rp) / dur) : 0;
  // Payload sizes come from sequence numbers and can exceed the IP bytes seen (gaps): capped at 1.
  out[off + 13] = share(ob + rb, oib + rib);

  const proto = r.proto === null ? -1 : PROTOS.indexOf(r.proto as (typeof PROTOS)[number]);
  out[off + OFF_PROTO + (proto < 0 ? PROTOS.length : proto)] = 1;
  const state = r.conn_state === null ? undefined : STATE_INDEX.get(r.conn_state);
  out[off + OFF_STATE + (state ?? STATES.length)] = 1;

  const h = r.history ?? "";
  const n = Math.min(h.length, MAX_HISTORY);
  let upper = 0;
  let lower = 0;
  for (let i = 0; i < n; i++) {
    const c = h.charCodeAt(i);
    if (c === 0x5e /* ^ */) {
      out[off + OFF_HIST_TAIL + 2] = 1;
      continue;
    }
    if (c >= 128) continue;
    const slot = LETTER_SLOT[c]!;
    if (slot >= 0) out[off + slot] += 1;
    if (c >= 0x41 && c <= 0x5a) upper++;
    else if (c >= 0x61 && c <= 0x7a) lower++;
  }
  out[off + OFF_HIST_TAIL + 3] = upper;
  out[off + OFF_HIST_TAIL + 4] = lower;
}
