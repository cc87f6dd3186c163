// Text rendering of a `vigil eval` report.
import type { CaptureFlowEvalReport, EvalReport, Metrics, TypeResult } from "../app/index.ts";

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "-");
const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : "-");

function metricLines(m: Metrics): string[] {
  const c = m.atThreshold;
  return [
    `    ROC AUC ${num(m.rocAuc)}   PR AUC ${num(m.prAuc)}   TPR at FPR 0.1 % ${pct(m.tprAtFpr0_1pct.tpr)}   at FPR 1 % ${pct(m.tprAtFpr1pct.tpr)}`,
    `    at the threshold: TP ${c.tp}  FP ${c.fp}  TN ${c.tn}  FN ${c.fn}   precision ${pct(c.precision)}  recall ${pct(c.recall)}  FPR ${pct(c.fpr)}`,
  ];
}

function typeLines(rows: TypeResult[]): string[] {
  const w = Math.max(4, ...rows.map((r) => r.type.length));
  return [
    `    ${"type".padEnd(w)}  ${"count".padStart(7)}  ${"recall".padStart(8)}  ${"ROC AUC".padStart(8)}`,
    ...rows.map(
      (r) =>
        `    ${r.type.padEnd(w)}  ${String(r.count).padStart(7)}  ${pct(r.recall).padStart(8)}  ${num(r.rocAuc).padStart(8)}`,
    ),
  ];
}

export function formatEval(r: EvalReport): string {
  const t = r.threshold;
  return [
    `Vigil eval: ${r.detector} (${r.modelVersion}) on ${r.input}`,
    `  labels     ${r.labels}`,
    `  packets    ${r.packets.total} total: ${r.packets.training} to train and calibrate, ${r.packets.scored} scored (${r.packets.attack} attack, ${r.packets.benign} benign)`,
    `  threshold  ${t.value.toPrecision(4)} by ${t.method} for a false-alarm rate of ${t.falseAlarmRate} (spot ${t.spot?.toPrecision(4) ?? "-"}, log-normal ${t.lognormal?.toPrecision(4) ?? "-"}; ${t.trimmed} calibration scores trimmed; ${t.trainingTrimmed} training packets left out by the poisoning guard)`,
    `  ignored    ${r.ignoredFeatures.length === 0 ? "no features" : `${r.ignoredFeatures.length} damped counts slower than the training span (${r.ignoredFeatures.join(", ")})`}`,
    "  per packet",
    ...metricLines(r.packetLevel),
    ...typeLines(r.packetTypes),
    `  per flow (${r.flowLevel.flows} 5-tuples; score = highest packet score)`,
    ...metricLines(r.flowLevel),
    ...typeLines(r.flowTypes),
    ...alertLines(r.alerts),
    `  ran at ${Math.round(r.packetsPerS).toLocaleString("en-US")} packets/s`,
  ].join("\n");
}

function alertLines(a: EvalReport["alerts"]): string[] {
  const w = Math.max(4, ...a.windows.map((x) => x.type.length));
  return [
    `  alerts (one per host pair per ${a.suppressionS} s): ${a.total} — ${a.attack} on attack traffic, ${a.benign} false (${a.benignPerHour.toFixed(1)} per hour)`,
    `    ${"window".padEnd(w)}  ${"packets".padStart(7)}  first detection`,
    ...a.windows.map(
      (x) =>
        `    ${x.type.padEnd(w)}  ${String(x.packets).padStart(7)}  ${
          x.firstDetectionS === null
            ? x.packets === 0
              ? "(no scored packets)"
              : "missed"
            : `${x.firstDetectionS.toFixed(2)} s after it began`
        }`,
    ),
  ];
}

export function formatCaptureFlowEval(r: CaptureFlowEvalReport): string {
  const t = r.threshold;
  const c = r.clusters;
  const units = r.unit === "flow" ? "flows" : "host windows";
  return [
    `Vigil eval: ${r.detector} (${r.modelVersion}) per ${r.unit} on ${r.input}`,
    `  labels     ${r.labels}: ${r.labelRule}`,
    r.flows.pool === undefined
      ? `  flows      ${r.flows.total} records; ${r.flows.leadIn} start in the ${r.flows.leadInSeconds.toFixed(1)} s before the first attack window (the benign lead-in)`
      : `  flows      ${r.flows.total} rows; ${r.flows.pool}`,
    `  training   ${r.items.training} ${units} to train${r.items.calibration > 0 ? `, ${r.items.calibration} to calibrate` : ""}; ${r.items.scored} scored (${r.items.attack} attack, ${r.items.benign} benign)`,
    ...(c
      ? [
          `  clusters   k = ${c.k} over ${c.windowS} s windows (sizes ${c.sizes.join(", ")}); mean silhouette by k: ${c.silhouettes.map((s) => `${s.k}: ${s.silhouette.toFixed(2)}`).join(", ") || "-"}`,
        ]
      : []),
    `  threshold  ${t.value.toPrecision(4)} by ${t.method} for a false-alarm rate of ${t.falseAlarmRate} (log-normal ${t.lognormal?.toPrecision(4) ?? "-"}, spot ${t.spot?.toPrecision(4) ?? "-"}${t.quantile !== undefined ? `, quantile ${t.quantile?.toPrecision(4) ?? "-"}` : ""}; ${t.trimmed} trimmed)`,
    `  per ${r.unit}`,
    ...metricLines(r.metrics),
    ...typeLines(r.types),
    `  most blamed (top attack ${units}): ${r.topExplained.map((x) => `${x.feature} ${pct(x.share)}`).join(", ")}`,
  ].join("\n");
}
