// Flow record output: CIC CSV, Zeek conn.log (CSV or TSV with #fields headers), and JSON events.
import { CIC_ID_COLUMNS } from "../core/index.ts";
import { CIC_COLUMNS, type ConnFields, type FlowRecord } from "../flows/index.ts";
import type { FlowEvent } from "../schema/index.ts";

export type FlowSchema = "cic" | "conn";
export type FlowFormat = "csv" | "jsonl" | "tsv";

const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };

/** Zeek conn.log columns Vigil writes, in Zeek's order. */
export const CONN_COLUMNS = [
  "ts",
  "uid",
  "id.orig_h",
  "id.orig_p",
  "id.resp_h",
  "id.resp_p",
  "proto",
  "service",
  "duration",
  "orig_bytes",
  "resp_bytes",
  "conn_state",
  "missed_bytes",
  "history",
  "orig_pkts",
  "orig_ip_bytes",
  "resp_pkts",
  "resp_ip_bytes",
  "vlan",
  "inner_vlan",
] as const satisfies readonly (keyof ConnFields)[];

const CONN_TYPES: Record<(typeof CONN_COLUMNS)[number], string> = {
  ts: "time",
  uid: "string",
  "id.orig_h": "addr",
  "id.orig_p": "port",
  "id.resp_h": "addr",
  "id.resp_p": "port",
  proto: "enum",
  service: "string",
  duration: "interval",
  orig_bytes: "count",
  resp_bytes: "count",
  conn_state: "string",
  missed_bytes: "count",
  history: "string",
  orig_pkts: "count",
  orig_ip_bytes: "count",
  resp_pkts: "count",
  resp_ip_bytes: "count",
  vlan: "int",
  inner_vlan: "int",
};

/** CICFlowMeter-style timestamp: "2017-07-06 12:39:06.818901" (UTC). */
export function cicTimestamp(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2017-07-06T12:39:06.818Z
  const frac = String(Math.round(us - Math.floor(us / 1e6) * 1e6)).padStart(6, "0");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
}

/** Quotes a CSV field only when it needs it (RFC 4180). */
function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function protoNumber(proto: string): number {
  return PROTO_NUM[proto] ?? 0;
}

/** Header line for a schema and format (none for jsonl). */
export function flowHeader(schema: FlowSchema, format: FlowFormat): string[] {
  if (format === "jsonl") return [];
  if (schema === "cic") {
    const cols = [...CIC_ID_COLUMNS, ...CIC_COLUMNS];
    return [format === "tsv" ? cols.join("\t") : cols.map(csvField).join(",")];
  }
  if (format === "tsv") {
    return [
      "#separator \\x09",
      "#set_separator\t,",
      "#empty_field\t(empty)",
      "#unset_field\t-",
      "#path\tconn",
      `#fields\t${[...CONN_COLUMNS, "community_id"].join("\t")}`,
      `#types\t${[...CONN_COLUMNS.map((c) => CONN_TYPES[c]), "string"].join("\t")}`,
    ];
  }
  return [[...CONN_COLUMNS, "community_id"].join(",")];
}

function connValue(c: ConnFields, col: (typeof CONN_COLUMNS)[number], tsv: boolean): string {
  const v = c[col];
  if (v === null || v === undefined) return tsv ? "-" : "";
  if (col === "ts") return (v as number).toFixed(6);
  if (col === "duration") return (v as number).toFixed(6);
  const s = String(v);
  if (tsv)
    return s === ""
      ? "(empty)"
      : s.replace(/[\t\n\\]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return csvField(s);
}

/** One output line for a flow record. */
export function flowLine(rec: FlowRecord, schema: FlowSchema, format: FlowFormat, sensor: string): string {
  if (format === "jsonl") return JSON.stringify(flowEvent(rec, sensor, schema));
  const c = rec.conn;
  const sep = format === "tsv" ? "\t" : ",";
  if (schema === "conn") {
    return [...CONN_COLUMNS.map((col) => connValue(c, col, format === "tsv")), rec.communityId].join(sep);
  }
  const proto = protoNumber(c.proto);
  const flowId = `${c["id.orig_h"]}-${c["id.resp_h"]}-${c["id.orig_p"]}-${c["id.resp_p"]}-${proto}`;
  const head = [
    c.uid,
    rec.communityId,
    flowId,
    c["id.orig_h"],
    c["id.orig_p"],
    c["id.resp_h"],
    c["id.resp_p"],
    proto,
    cicTimestamp(rec.firstUs),
  ];
  const vals: string[] = head.map((v) => String(v));
  for (let i = 0; i < rec.cic.length; i++) vals.push(String(rec.cic[i]));
  return vals.join(sep);
}

/** The flow as a Vigil event (schema/events.ts FlowEvent). */
export function flowEvent(rec: FlowRecord, sensor: string, schema: FlowSchema = "cic"): FlowEvent {
  const c = rec.conn;
  const cic: Record<string, number> = {};
  if (schema === "cic") for (let i = 0; i < CIC_COLUMNS.length; i++) cic[CIC_COLUMNS[i]!] = rec.cic[i]!;
  const vlan = [c.vlan, c.inner_vlan].filter((v): v is number => v !== null && v !== undefined);
  return {
    ts: rec.firstUs / 1e6,
    event_type: "flow",
    sensor,
    flow_id: c.uid,
    community_id: rec.communityId,
    src_ip: c["id.orig_h"],
    src_port: c["id.orig_p"],
    dest_ip: c["id.resp_h"],
    dest_port: c["id.resp_p"],
    proto: c.proto,
    ...(vlan.length > 0 ? { vlan } : {}),
    entities: { src_host: c["id.orig_h"], dest_host: c["id.resp_h"] },
    flow: {
      start: rec.firstUs / 1e6,
      end: rec.lastUs / 1e6,
      reason: rec.reason,
      interim: rec.interim,
      conn: {
        uid: c.uid,
        proto: c.proto,
        service: c.service,
        duration: c.duration,
        orig_bytes: c.orig_bytes,
        resp_bytes: c.resp_bytes,
        conn_state: c.conn_state,
        missed_bytes: c.missed_bytes,
        history: c.history,
        orig_pkts: c.orig_pkts,
        orig_ip_bytes: c.orig_ip_bytes,
        resp_pkts: c.resp_pkts,
        resp_ip_bytes: c.resp_ip_bytes,
      },
      cic,
    },
  };
}
