// Text rendering of the analysis summary for humans; --json prints the summary object instead.
import type { AnalysisSummary, LiveSummary } from "../app/index.ts";

const n = (x: number): string => Math.round(x).toLocaleString("en-US");

function bytes(b: number): string {
  if (b < 1024) return `${b} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function iso(ts: number | null): string {
  return ts === null ? "-" : new Date(ts * 1000).toISOString().replace("T", " ").replace("Z", " UTC");
}

function counts(rec: Record<string, number>, limit = 8): string {
  const rows = Object.entries(rec).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = rows.slice(0, limit).map(([k, v]) => `${k} ${n(v)}`);
  if (rows.length > limit) shown.push(`+${rows.length - limit} more`);
  return shown.join(", ") || "none";
}

/** Multi-line text summary of a run. */
export function formatSummary(s: AnalysisSummary | LiveSummary): string {
  const L: string[] = [];
  const p = s.protocols;
  L.push(`Vigil analyze: ${s.input} (${s.format}, ${s.linkTypes.join("/") || "no interfaces"})`);
  L.push("");
  L.push(
    `  packets      ${n(s.packets)}  (${bytes(s.bytes)} on the wire, ${bytes(s.capturedBytes)} captured)`,
  );
  L.push(`  time         ${iso(s.start)} → ${iso(s.end)}  (${s.durationS.toFixed(3)} s)`);
  if (s.outOfOrderPackets > 0) L.push(`               ${n(s.outOfOrderPackets)} packets out of time order`);
  L.push(
    `  protocols    IPv4 ${n(p.ipv4)}, IPv6 ${n(p.ipv6)}, ARP ${n(p.arp)}, other L2 ${n(p.nonIp)} | ` +
      `TCP ${n(p.tcp)}, UDP ${n(p.udp)}, ICMP ${n(p.icmp + p.icmpv6)}, other ${n(p.otherIp)}` +
      (p.fragments > 0 ? ` | fragments ${n(p.fragments)}` : "") +
      (p.vlanTagged > 0 ? ` | VLAN-tagged ${n(p.vlanTagged)}` : ""),
  );
  if (s.flows) {
    const f = s.flows;
    L.push(
      `  flows        ${n(f.total)}  (${counts(f.byProto)})${f.evicted > 0 ? `, ${n(f.evicted)} evicted (table full)` : ""}`,
    );
    L.push(`    services   ${counts(f.byService)}`);
    L.push(`    states     ${counts(f.byState)}`);
    if (f.interimRecords > 0)
      L.push(`    interim    ${n(f.interimRecords)} records of long flows (active timeout)`);
  }
  const anomalyPackets = s.anomalies.reduce((a, b) => a + b.count, 0);
  const capAnoms = Object.entries(s.captureAnomalies).filter(([, v]) => v > 0);
  L.push(
    `  anomalies    ${s.anomalies.length} kinds, ${n(anomalyPackets)} occurrences${capAnoms.length ? `; capture: ${capAnoms.map(([k, v]) => `${k} ${n(v)}`).join(", ")}` : ""}`,
  );
  const w = Math.max(0, ...s.anomalies.slice(0, 10).map((a) => a.code.length));
  for (const a of s.anomalies.slice(0, 10)) {
    L.push(
      `    ${a.code.padEnd(w)}  ${n(a.count).padStart(8)}  first frame ${n(a.firstFrame)}: ${a.description}`,
    );
  }
  if (s.anomalies.length > 10) L.push(`    … ${s.anomalies.length - 10} more kinds (--json lists all)`);
  if (s.topTalkers.length > 0) {
    L.push("  top talkers  (bytes sent)");
    const hw = Math.max(...s.topTalkers.map((t) => t.host.length));
    for (const t of s.topTalkers)
      L.push(`    ${t.host.padEnd(hw)}  ${bytes(t.bytes).padStart(10)}  ${n(t.packets).padStart(9)} packets`);
  }
  if (s.topPorts.length > 0) {
    L.push("  top ports    (responder side, by flows)");
    for (const t of s.topPorts)
      L.push(
        `    ${`${t.proto}/${t.port}`.padEnd(10)} ${(t.service ?? "-").padEnd(6)} ${n(t.flows).padStart(8)} flows`,
      );
  }
  if ("drops" in s) {
    const d = s.drops;
    L.push(
      `  capture      received ${d.received ?? "?"}, dropped by kernel ${d.droppedByKernel ?? "?"}, by interface ${d.droppedByInterface ?? "?"}`,
    );
  }
  if ("baseline" in s && s.baseline) {
    const b = s.baseline;
    L.push(
      `  baseline     detectors learnt normal traffic from ${b.input}: ${n(b.packets)} packets, ${n(b.flows)} flows, ${b.durationS.toFixed(1)} s`,
    );
  }
  for (const d of s.detections ?? []) {
    const origin =
      d.model === "loaded"
        ? "model loaded"
        : d.model === "baseline"
          ? "learnt from the baseline"
          : "trained here";
    L.push(
      d.threshold === null
        ? `  detector     ${d.detector}: still training at the end of the capture (${n(d.trainingUnits)} ${d.unit} seen${d.trainingRemaining > 0 ? `, ${n(d.trainingRemaining)} more needed` : ""}); give it a longer benign lead-in${d.detector === "kitnet" ? ", score with --model FILE, or lower --ad-grace" : " or a shorter training setting"}`
        : `  detector     ${d.detector} (${origin} on ${n(d.trainingUnits)} ${d.unit}): ${n(d.scoredUnits)} ${d.unit} scored, ${n(d.detections)} above the threshold ${d.threshold.toPrecision(3)}`,
    );
    if (d.ignoredFeatures.length > 0)
      L.push(
        `               ignores ${d.ignoredFeatures.length} damped counts slower than its training span`,
      );
    if (d.top.length > 0) L.push(`               strongest per ${d.groupedBy}:`);
    for (const [i, ev] of d.top.slice(0, 5).entries()) {
      const x = ev.detection;
      const port = (p: number | undefined): string => (p === undefined ? "" : `:${p}`);
      const who = !ev.src_ip
        ? "non-IP"
        : ev.dest_ip
          ? `${ev.src_ip}${port(ev.src_port)} → ${ev.dest_ip}${port(ev.dest_port)}`
          : `host ${ev.src_ip}`;
      const where =
        x.frame !== undefined ? `frame ${n(x.frame)}` : ev.flow_id ? `flow ${ev.flow_id}` : "window";
      const more = (d.topCounts?.[i] ?? 1) - 1;
      L.push(
        `    ${where}  ${who}  score ${x.score.toPrecision(3)}${more > 0 ? `  (+${n(more)} more)` : ""}`,
      );
      L.push(`      ${x.explanation.summary}`);
    }
  }
  L.push("");
  L.push(
    `  read in ${s.elapsedS.toFixed(2)} s (${n(s.packetsPerS)} packets/s)${s.aborted ? ", stopped early" : ""}`,
  );
  if (!s.detections)
    L.push("  No detector ran (--no-detectors, or every detector disabled in the configuration).");
  return L.join("\n");
}
