// Types of well-known Zeek fields, for JSON logs (which carry no #types line). Taken from the #types lines
// of Zeek's conn, dns, http, ssl, ssh, notice, weird, files, software, sip and tunnel logs; a name whose
// type differs between logs (host, version, request_body_len) is left out and read by its JSON value.
import { parseFieldType, type ZeekFieldType } from "./values.ts";

const RAW: Record<string, string> = {
  ts: "time",
  "id.orig_h": "addr",
  "id.orig_p": "port",
  "id.resp_h": "addr",
  "id.resp_p": "port",
  // conn
  duration: "interval",
  orig_bytes: "count",
  resp_bytes: "count",
  missed_bytes: "count",
  orig_pkts: "count",
  orig_ip_bytes: "count",
  resp_pkts: "count",
  resp_ip_bytes: "count",
  local_orig: "bool",
  local_resp: "bool",
  tunnel_parents: "set[string]",
  // dns
  trans_id: "count",
  rtt: "interval",
  qclass: "count",
  qtype: "count",
  rcode: "count",
  AA: "bool",
  TC: "bool",
  RD: "bool",
  RA: "bool",
  Z: "count",
  answers: "vector[string]",
  TTLs: "vector[interval]",
  rejected: "bool",
  // http
  trans_depth: "count",
  status_code: "count",
  info_code: "count",
  tags: "set[enum]",
  proxied: "set[string]",
  orig_fuids: "vector[string]",
  orig_mime_types: "vector[string]",
  resp_fuids: "vector[string]",
  resp_mime_types: "vector[string]",
  // ssl
  resumed: "bool",
  established: "bool",
  cert_chain_fuids: "vector[string]",
  client_cert_chain_fuids: "vector[string]",
  // ssh
  auth_success: "bool",
  auth_attempts: "count",
  // notice, weird
  src: "addr",
  dst: "addr",
  p: "port",
  n: "count",
  actions: "set[enum]",
  suppress_for: "interval",
  dropped: "bool",
  notice: "bool",
  // files
  tx_hosts: "set[addr]",
  rx_hosts: "set[addr]",
  conn_uids: "set[string]",
  analyzers: "set[string]",
  seen_bytes: "count",
  total_bytes: "count",
  missing_bytes: "count",
  overflow_bytes: "count",
  // software
  host_p: "port",
  "version.major": "count",
  "version.minor": "count",
  "version.minor2": "count",
  "version.minor3": "count",
};

/** Field name → type for JSON rows; a name not listed keeps the type of its JSON value. */
export const JSON_FIELD_TYPES: ReadonlyMap<string, ZeekFieldType> = new Map(
  Object.entries(RAW).map(([k, v]) => [k, parseFieldType(v)]),
);
