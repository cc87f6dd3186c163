// Class name → MITRE ATT&CK technique and severity for the supervised flow classifier. Names differ per
// dataset (CIC-IDS2017 "DoS Hulk", UNSW-NB15 "Reconnaissance", NSL-KDD "neptune" or "Probe"), so the
// mapping matches families by pattern, first match wins; a site can override any class by exact name.
import type { Severity } from "../types.ts";

/** What one attack class means for the analyst. */
export interface ClassMeaning {
  technique?: string;
  /** ATT&CK name of the technique, for explanations. */
  techniqueName?: string;
  severity: Severity;
}

interface Family extends ClassMeaning {
  pattern: RegExp;
}

// Order matters: "DDoS" must match before "DoS", "Infiltration - Portscan" before "Infiltration",
// "Web Attack - Brute Force" before generic brute force.
const FAMILIES: readonly Family[] = [
  {
    pattern: /ddos|smurf/i,
    technique: "T1498",
    techniqueName: "Network Denial of Service",
    severity: "high",
  },
  {
    pattern: /port ?scan|port ?sweep|ip ?sweep|probe|recon|nmap|satan|analysis/i,
    technique: "T1046",
    techniqueName: "Network Service Discovery",
    severity: "medium",
  },
  {
    pattern: /web attack.*(brute|force)/i,
    technique: "T1110",
    techniqueName: "Brute Force",
    severity: "high",
  },
  {
    pattern: /buffer_overflow|rootkit|loadmodule|perl|u2r/i,
    technique: "T1068",
    techniqueName: "Exploitation for Privilege Escalation",
    severity: "critical",
  },
  {
    pattern: /sql|xss|web attack|exploit|heartbleed|shellcode|phf|imap|ftp_write|multihop|r2l/i,
    technique: "T1190",
    techniqueName: "Exploit Public-Facing Application",
    severity: "high",
  },
  {
    pattern: /\bdos\b|dos |hulk|goldeneye|slowloris|slowhttp|neptune|teardrop|\bpod\b|\bback\b|\bland\b/i,
    technique: "T1499",
    techniqueName: "Endpoint Denial of Service",
    severity: "high",
  },
  {
    pattern: /patator|brute|guess_passwd|password/i,
    technique: "T1110",
    techniqueName: "Brute Force",
    severity: "high",
  },
  {
    pattern: /warez/i,
    technique: "T1105",
    techniqueName: "Ingress Tool Transfer",
    severity: "medium",
  },
  {
    pattern: /bot|c2|c&c|backdoor|infiltration|worm|spy/i,
    technique: "T1071",
    techniqueName: "Application Layer Protocol",
    severity: "high",
  },
];

/** How a class of a supervised flow model maps to ATT&CK: overrides by exact name first, then families. */
export function classMeaning(
  className: string,
  overrides: Readonly<Record<string, ClassMeaning>> = {},
): ClassMeaning {
  const own = overrides[className];
  if (own) return own;
  for (const f of FAMILIES) {
    if (f.pattern.test(className)) {
      const { pattern: _, ...meaning } = f;
      return meaning;
    }
  }
  // An attack class we cannot name (e.g. UNSW-NB15 "Generic", "Fuzzers"): still an alert, no technique.
  return { severity: "medium" };
}
