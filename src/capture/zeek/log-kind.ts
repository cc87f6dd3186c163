// Which Zeek log a JSON row or a file name belongs to (#path), for JSON logs that carry no header.

/** Log kinds Vigil knows by their fields. */
export const ZEEK_LOG_PATHS = [
  "conn",
  "dns",
  "http",
  "ssl",
  "ssh",
  "notice",
  "weird",
  "files",
  "software",
  "known_hosts",
  "sip",
  "tunnel",
  "x509",
  "dhcp",
  "smtp",
] as const;

// Fields typical of one common log, and how many of them a row must have; checked in this order (sip
// before http: both have method and uri). Unset fields are left out of JSON rows, so a row need not
// have all of them.
const SIGNATURES: [path: string, keys: string[], need: number][] = [
  ["conn", ["conn_state", "orig_ip_bytes", "resp_ip_bytes", "history", "orig_pkts"], 2],
  ["dns", ["qtype_name", "rcode_name", "qclass", "query", "trans_id"], 2],
  ["sip", ["call_id", "request_from", "response_to"], 1],
  ["http", ["user_agent", "status_code", "trans_depth", "method", "uri"], 2],
  ["ssl", ["server_name", "cipher", "established", "cert_chain_fuids", "curve"], 2],
  ["ssh", ["auth_attempts", "auth_success", "host_key", "kex_alg", "direction", "client", "server"], 2],
  ["notice", ["note", "suppress_for", "actions"], 1],
  ["weird", ["addl", "peer", "name", "notice"], 2],
  ["files", ["fuid", "analyzers", "seen_bytes", "mime_type"], 2],
  ["software", ["software_type", "unparsed_version"], 1],
  ["tunnel", ["tunnel_type"], 1],
];

/** Guesses the #path of a JSON row from its keys (`_path` wins when present); null when unsure. */
export function pathFromKeys(row: Record<string, unknown>): string | null {
  const p = row._path;
  if (typeof p === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(p)) return p;
  for (const [path, keys, need] of SIGNATURES) {
    let hits = 0;
    for (const k of keys) if (Object.hasOwn(row, k)) hits++;
    if (hits >= need) return path;
  }
  const keys = Object.keys(row);
  if (keys.length === 2 && Object.hasOwn(row, "ts") && Object.hasOwn(row, "host")) return "known_hosts";
  return null;
}

/** The #path a file name suggests (`conn.log`, `conn.log.labeled.gz`, `dns.09:00:00-10:00:00.log.gz`). */
export function pathFromFileName(name: string): string | null {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const head = base.split(".")[0] ?? "";
  return (ZEEK_LOG_PATHS as readonly string[]).includes(head) ? head : null;
}
