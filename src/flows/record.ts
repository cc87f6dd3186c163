// FlowRecord: what the flow table emits for each finished (or interim) bidirectional flow.

import { CIC_COLUMNS } from "../core/index.ts";

export { CIC_COLUMNS };

export type CicColumn = (typeof CIC_COLUMNS)[number];

/** Index of each CIC column in `FlowRecord.cic`. */
export const CIC_INDEX: Readonly<Record<CicColumn, number>> = Object.fromEntries(
  CIC_COLUMNS.map((c, i) => [c, i]),
) as Record<CicColumn, number>;

/**
 * CIC columns whose value depends on `cicCompat`, i.e. on CICFlowMeter's quirks (docs/flows.md): subflows,
 * the backward "init" window, the forward counters that skip the first packet, the active periods. A model
 * trained on the CIC-IDS2017 CSVs without them scores Vigil's flows the same in either mode.
 */
export const CIC_QUIRK_COLUMNS: readonly CicColumn[] = [
  "Fwd RST Flags",
  "Subflow Fwd Packets",
  "Subflow Fwd Bytes",
  "Subflow Bwd Packets",
  "Subflow Bwd Bytes",
  "Bwd Init Win Bytes",
  "Fwd Act Data Pkts",
  "Fwd Seg Size Min",
  "Active Mean",
  "Active Std",
  "Active Max",
  "Active Min",
];

/** Why a flow record was emitted. */
export type FlowEndReason =
  | "idle" // no packet for the idle timeout
  | "active" // active timeout reached: an interim record, the flow goes on
  | "fin" // TCP FIN handshake finished
  | "rst" // TCP RST seen
  | "evicted" // table full, least recently used flow removed
  | "end"; // end of input

/** Zeek conn.log fields of a flow (names and meanings as in Zeek's conn.log). */
export interface ConnFields {
  ts: number; // first packet, seconds since epoch
  uid: string;
  "id.orig_h": string;
  "id.orig_p": number;
  "id.resp_h": string;
  "id.resp_p": number;
  proto: "tcp" | "udp" | "icmp" | string;
  service: string | null;
  duration: number;
  orig_bytes: number;
  resp_bytes: number;
  conn_state: string;
  missed_bytes: number;
  history: string;
  orig_pkts: number;
  orig_ip_bytes: number;
  resp_pkts: number;
  resp_ip_bytes: number;
  vlan: number | null;
  inner_vlan: number | null;
}

/** One bidirectional flow. Orig/forward = the side that sent the first packet. */
export interface FlowRecord {
  /** Community ID v1 of the 5-tuple ("1:base64"). */
  communityId: string;
  /** Microseconds since epoch of the first and last packet. */
  firstUs: number;
  lastUs: number;
  reason: FlowEndReason;
  /** True when the flow continues after this record (active-timeout interim record). */
  interim: boolean;
  /** CIC feature values, indexed like CIC_COLUMNS. */
  cic: Float64Array;
  conn: ConnFields;
}
