// FlowRecord: what the flow table emits for each finished (or interim) bidirectional flow.

/**
 * CIC-IDS2017 flow features, in the column order and with the names of the corrected
 * ("improved") CICFlowMeter output in ../shared/data/flows/cicids2017-improved. The values
 * of a record are in `FlowRecord.cic`, a Float64Array indexed like this list.
 */
export const CIC_COLUMNS = [
  "Flow Duration",
  "Total Fwd Packet",
  "Total Bwd packets",
  "Total Length of Fwd Packet",
  "Total Length of Bwd Packet",
  "Fwd Packet Length Max",
  "Fwd Packet Length Min",
  "Fwd Packet Length Mean",
  "Fwd Packet Length Std",
  "Bwd Packet Length Max",
  "Bwd Packet Length Min",
  "Bwd Packet Length Mean",
  "Bwd Packet Length Std",
  "Flow Bytes/s",
  "Flow Packets/s",
  "Flow IAT Mean",
  "Flow IAT Std",
  "Flow IAT Max",
  "Flow IAT Min",
  "Fwd IAT Total",
  "Fwd IAT Mean",
  "Fwd IAT Std",
  "Fwd IAT Max",
  "Fwd IAT Min",
  "Bwd IAT Total",
  "Bwd IAT Mean",
  "Bwd IAT Std",
  "Bwd IAT Max",
  "Bwd IAT Min",
  "Fwd PSH Flags",
  "Bwd PSH Flags",
  "Fwd URG Flags",
  "Bwd URG Flags",
  "Fwd RST Flags",
  "Bwd RST Flags",
  "Fwd Header Length",
  "Bwd Header Length",
  "Fwd Packets/s",
  "Bwd Packets/s",
  "Packet Length Min",
  "Packet Length Max",
  "Packet Length Mean",
  "Packet Length Std",
  "Packet Length Variance",
  "FIN Flag Count",
  "SYN Flag Count",
  "RST Flag Count",
  "PSH Flag Count",
  "ACK Flag Count",
  "URG Flag Count",
  "CWR Flag Count",
  "ECE Flag Count",
  "Down/Up Ratio",
  "Average Packet Size",
  "Fwd Segment Size Avg",
  "Bwd Segment Size Avg",
  "Fwd Bytes/Bulk Avg",
  "Fwd Packet/Bulk Avg",
  "Fwd Bulk Rate Avg",
  "Bwd Bytes/Bulk Avg",
  "Bwd Packet/Bulk Avg",
  "Bwd Bulk Rate Avg",
  "Subflow Fwd Packets",
  "Subflow Fwd Bytes",
  "Subflow Bwd Packets",
  "Subflow Bwd Bytes",
  "FWD Init Win Bytes",
  "Bwd Init Win Bytes",
  "Fwd Act Data Pkts",
  "Fwd Seg Size Min",
  "Active Mean",
  "Active Std",
  "Active Max",
  "Active Min",
  "Idle Mean",
  "Idle Std",
  "Idle Max",
  "Idle Min",
  "ICMP Code",
  "ICMP Type",
  "Total TCP Flow Time",
] as const;

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
