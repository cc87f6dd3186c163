// Text rendering of a supervised model's report (`vigil train`, `vigil eval --model`): per-class figures,
// macro-F1, the confusion matrix and the attack-vs-benign AUC.
import type { ClassifierCaptureReport, SupervisedReport } from "../app/index.ts";

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "-");
const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : "-");

/** Abbreviates a class name to a confusion-matrix column head. */
function head(name: string, w: number): string {
  return name.length <= w ? name.padStart(w) : `${name.slice(0, w - 1)}…`;
}

export function formatSupervised(r: SupervisedReport): string {
  const m = r.metrics;
  const k = m.classes.length;
  const w = Math.max(5, ...m.classes.map((c) => c.length));
  const t = r.training;
  const lines = [
    `Vigil ${t ? "train" : "eval"}: ${r.model} (${r.modelVersion}) on ${r.input}`,
    `  split      ${r.split}`,
    `  ${r.unit.padEnd(9)}  ${r.counts.train} train, ${r.counts.valid} validation, ${r.counts.test} scored`,
  ];
  if (t)
    lines.push(
      `  training   ${t.seconds.toFixed(2)} s, ${t.epochs} ${r.model === "gbdt" ? "rounds" : "epochs"} (best ${t.bestEpoch})${t.diverged ? ", DIVERGED" : ""}`,
    );
  lines.push(
    `  scoring    ${Math.round(r.scoring.perSecond).toLocaleString("en-US")} ${r.unit}/s`,
    `  accuracy ${pct(m.accuracy)}   macro-F1 ${num(m.macroF1)}   weighted-F1 ${num(m.weightedF1)}`,
    `  attack vs benign: ROC AUC ${num(r.attack.rocAuc)}   PR AUC ${num(r.attack.prAuc)}   at P(attack) ≥ 0.5: precision ${pct(r.attack.confusion.precision)}  recall ${pct(r.attack.confusion.recall)}  FPR ${pct(r.attack.confusion.fpr)}`,
    "",
    `  ${"class".padEnd(w)}  ${"support".padStart(7)}  ${"precision".padStart(9)}  ${"recall".padStart(7)}  ${"F1".padStart(6)}`,
    ...m.perClass.map(
      (c) =>
        `  ${c.name.padEnd(w)}  ${String(c.support).padStart(7)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall).padStart(7)}  ${num(c.f1).padStart(6)}`,
    ),
    "",
    "  confusion matrix (rows: true class, columns: predicted)",
    `  ${"".padEnd(w)}  ${m.classes.map((c) => head(c, 7)).join(" ")}`,
  );
  for (let i = 0; i < k; i++) {
    const row: string[] = [];
    for (let j = 0; j < k; j++) row.push(String(m.matrix[i * k + j] ?? 0).padStart(7));
    lines.push(`  ${m.classes[i]!.padEnd(w)}  ${row.join(" ")}`);
  }
  const unknown = Object.entries(r.unknownClasses);
  if (unknown.length > 0)
    lines.push(
      `  classes the model does not know (left out): ${unknown.map(([c, n]) => `${c} ${n}`).join(", ")}`,
    );
  return lines.join("\n");
}

/** The report as JSON: typed arrays become plain arrays. */
export function supervisedJson(r: SupervisedReport): string {
  return JSON.stringify(r, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v), 2);
}

/** A flow classifier scored on a labelled capture (cross-dataset transfer). */
export function formatClassifierCapture(r: ClassifierCaptureReport): string {
  const a = r.attack;
  const w = Math.max(6, ...r.types.map((t) => t.type.length));
  return [
    `Vigil eval: flow classifier (${r.modelVersion}) on ${r.input}`,
    `  labels     ${r.labels}`,
    `  flows      ${r.flows} (${a.positives} in attack windows, ${a.negatives} benign)`,
    `  attack vs benign (score 1 − P(benign)): ROC AUC ${num(a.rocAuc)}   PR AUC ${num(a.prAuc)}`,
    `  flagged at P(attack class) ≥ ${r.threshold}, per type (benign: share of false alarms)`,
    `    ${"type".padEnd(w)}  ${"flows".padStart(6)}  ${"flagged".padStart(8)}  ${"share".padStart(7)}  as`,
    ...r.types.map(
      (t) =>
        `    ${t.type.padEnd(w)}  ${String(t.flows).padStart(6)}  ${String(t.flagged).padStart(8)}  ${pct(t.share).padStart(7)}  ${t.asClasses.map((c) => `${c.name}${c.technique ? ` (${c.technique})` : ""} ${c.flows}`).join(", ")}`,
    ),
  ].join("\n");
}
