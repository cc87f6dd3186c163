// The feature schema of each dataset source: feature columns by header name, categorical columns, identifier columns, label vocabularies.
import { CIC_COLUMNS, CIC_ID_COLUMNS } from "../../core/index.ts";

/** Dataset sources that {@link loadDataset} reads. */
export const DATASET_SOURCES = ["cicids2017", "vigil-flows", "unsw-nb15", "nsl-kdd"] as const;
export type DatasetSource = (typeof DATASET_SOURCES)[number];

/**
 * The 81 CICFlowMeter feature columns of the improved CIC-IDS2017 release, in file order; `vigil flows
 * --schema cic` writes the same names in the same order (both come from core's CIC_COLUMNS).
 */
export const CIC_FEATURES = CIC_COLUMNS;

/**
 * Identifier columns of the CIC tables: never features, because they leak the label (nearly every attack
 * is 172.16.0.1 → 192.168.10.50, each attack ran on one day). Timestamp becomes `time`, the IPs `keys`.
 * `uid` and `Community ID` are the extra identifiers of `vigil flows` output.
 */
export const CIC_IDENTIFIERS = ["id", ...CIC_ID_COLUMNS] as const;

/** Benign class name of the CIC sources (labels matching it case-insensitively map to it). */
export const CIC_BENIGN = "BENIGN";
/** The single class of an unlabelled `vigil flows` table. */
export const UNKNOWN_CLASS = "unknown";

/** UNSW-NB15 features: every column but `id`, `attack_cat`, `label`, in file order. */
export const UNSW_FEATURES = [
  "dur",
  "proto",
  "service",
  "state",
  "spkts",
  "dpkts",
  "sbytes",
  "dbytes",
  "rate",
  "sttl",
  "dttl",
  "sload",
  "dload",
  "sloss",
  "dloss",
  "sinpkt",
  "dinpkt",
  "sjit",
  "djit",
  "swin",
  "stcpb",
  "dtcpb",
  "dwin",
  "tcprtt",
  "synack",
  "ackdat",
  "smean",
  "dmean",
  "trans_depth",
  "response_body_len",
  "ct_srv_src",
  "ct_state_ttl",
  "ct_dst_ltm",
  "ct_src_dport_ltm",
  "ct_dst_sport_ltm",
  "ct_dst_src_ltm",
  "is_ftp_login",
  "ct_ftp_cmd",
  "ct_flw_http_mthd",
  "ct_src_ltm",
  "ct_srv_dst",
  "is_sm_ips_ports",
] as const;
export const UNSW_CATEGORICAL = ["proto", "service", "state"] as const;
export const UNSW_BENIGN = "Normal";
/** Class names of `binary: true`: label 0 and 1. */
export const UNSW_BINARY = ["Normal", "Attack"] as const;

/** NSL-KDD's 41 features, in file order. */
export const NSL_KDD_FEATURES = [
  "duration",
  "protocol_type",
  "service",
  "flag",
  "src_bytes",
  "dst_bytes",
  "land",
  "wrong_fragment",
  "urgent",
  "hot",
  "num_failed_logins",
  "logged_in",
  "num_compromised",
  "root_shell",
  "su_attempted",
  "num_root",
  "num_file_creations",
  "num_shells",
  "num_access_files",
  "num_outbound_cmds",
  "is_host_login",
  "is_guest_login",
  "count",
  "srv_count",
  "serror_rate",
  "srv_serror_rate",
  "rerror_rate",
  "srv_rerror_rate",
  "same_srv_rate",
  "diff_srv_rate",
  "srv_diff_host_rate",
  "dst_host_count",
  "dst_host_srv_count",
  "dst_host_same_srv_rate",
  "dst_host_diff_srv_rate",
  "dst_host_same_src_port_rate",
  "dst_host_srv_diff_host_rate",
  "dst_host_serror_rate",
  "dst_host_srv_serror_rate",
  "dst_host_rerror_rate",
  "dst_host_srv_rerror_rate",
] as const;
export const NSL_KDD_CATEGORICAL = ["protocol_type", "service", "flag"] as const;
/** Column names of a headerless NSL-KDD file (the UNB originals): features, `attack`, `level`. */
export const NSL_KDD_COLUMNS = [...NSL_KDD_FEATURES, "attack", "level"] as const;
export const NSL_KDD_BENIGN = "normal";
/** Classes of `grouping: "category"`, in this fixed order. */
export const NSL_KDD_CATEGORIES = ["normal", "DoS", "Probe", "R2L", "U2R"] as const;
/** Classes of `grouping: "binary"`. */
export const NSL_KDD_BINARY = ["normal", "attack"] as const;

/**
 * Attack name → category: the usual NSL-KDD grouping (data README for the names of the 20 % training
 * file; the names that occur only in KDDTest+ follow the common published mapping, where `worm` counts as
 * DoS and `httptunnel` as R2L).
 */
export const NSL_KDD_CATEGORY: Readonly<Record<string, (typeof NSL_KDD_CATEGORIES)[number]>> = {
  normal: "normal",
  back: "DoS",
  land: "DoS",
  neptune: "DoS",
  pod: "DoS",
  smurf: "DoS",
  teardrop: "DoS",
  apache2: "DoS",
  mailbomb: "DoS",
  processtable: "DoS",
  udpstorm: "DoS",
  worm: "DoS",
  ipsweep: "Probe",
  nmap: "Probe",
  portsweep: "Probe",
  satan: "Probe",
  mscan: "Probe",
  saint: "Probe",
  ftp_write: "R2L",
  guess_passwd: "R2L",
  imap: "R2L",
  multihop: "R2L",
  phf: "R2L",
  spy: "R2L",
  warezclient: "R2L",
  warezmaster: "R2L",
  httptunnel: "R2L",
  named: "R2L",
  sendmail: "R2L",
  snmpgetattack: "R2L",
  snmpguess: "R2L",
  xlock: "R2L",
  xsnoop: "R2L",
  buffer_overflow: "U2R",
  loadmodule: "U2R",
  perl: "U2R",
  rootkit: "U2R",
  ps: "U2R",
  sqlattack: "U2R",
  xterm: "U2R",
};
