// The trainer on real flows: the improved CIC-IDS2017 dev sample (../shared/data), 16 classes.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { seededRng } from "../../core/index.ts";
import { classificationMetrics } from "../classification-metrics.ts";
import { GbdtExplainer, predictClasses, predictMargins, trainGbdt } from "./index.ts";

const FILE = "flows/cicids2017-improved/cicids2017-improved-dev.csv.gz";
// Identifier and label columns; every other column is a feature (81).
const NOT_FEATURES = new Set([
  "id",
  "Flow ID",
  "Src IP",
  "Src Port",
  "Dst IP",
  "Dst Port",
  "Protocol",
  "Timestamp",
  "Label",
  "Attempted Category",
]);

/** A minimal reader for this one file (ml tests may not import learn's dataset adapters). */
function readCic() {
  const lines = gunzipSync(readFileSync(sharedData(FILE)))
    .toString("latin1")
    .split("\n");
  const header = lines[0].split(",");
  const keep = header.flatMap((h, i) => (NOT_FEATURES.has(h) ? [] : [i]));
  const label = header.indexOf("Label");
  const body = lines.slice(1).filter((l) => l.length > 0);
  const cols = keep.length;
  const x = new Float32Array(body.length * cols);
  const y = new Int32Array(body.length);
  const classes: string[] = [];
  body.forEach((line, r) => {
    const f = line.split(",");
    for (let j = 0; j < cols; j++) x[r * cols + j] = Number(f[keep[j]]);
    let c = classes.indexOf(f[label]);
    if (c < 0) c = classes.push(f[label]) - 1;
    y[r] = c;
  });
  return { x, y, rows: body.length, cols, classes, featureNames: keep.map((i) => header[i]) };
}

/** Rows of `idx` as a data set. */
function take(d: ReturnType<typeof readCic>, idx: number[]) {
  const x = new Float32Array(idx.length * d.cols);
  const y = new Int32Array(idx.length);
  idx.forEach((r, k) => {
    x.set(d.x.subarray(r * d.cols, (r + 1) * d.cols), k * d.cols);
    y[k] = d.y[r];
  });
  return { x, y, rows: idx.length };
}

describe.skipIf(!hasSharedData)("GBDT on CIC-IDS2017 (improved) flows", () => {
  it("reaches a high macro-F1 on a held-out stratified half and explains its margins exactly", () => {
    const d = readCic();
    expect(d.rows).toBe(43419);
    expect(d.cols).toBe(81);
    expect(d.classes.length).toBe(16);
    // Stratified halves: each class's rows shuffled, alternate rows to train and test.
    const rng = seededRng(1);
    const train: number[] = [];
    const test: number[] = [];
    for (let c = 0; c < d.classes.length; c++) {
      const rows = [];
      for (let i = 0; i < d.rows; i++) if (d.y[i] === c) rows.push(i);
      for (let i = rows.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      for (let k = 0; k < rows.length; k++) (k % 2 === 0 ? train : test).push(rows[k]);
    }
    train.sort((a, b) => a - b);
    const tr = take(d, train);
    const te = take(d, test);
    const { model } = trainGbdt(
      { ...tr, cols: d.cols, classes: d.classes, featureNames: d.featureNames },
      { rounds: 25, learningRate: 0.2, baggingFraction: 0.5, minSamplesLeaf: 5 },
    );
    const pred = predictClasses(model, te.x, te.rows, new Int32Array(te.rows));
    const m = classificationMetrics(te.y, pred, d.classes);
    // A constant or mis-routed model scores far below this; the full trainer reaches about 0.95 here.
    expect(m.macroF1).toBeGreaterThan(0.85);
    expect(m.accuracy).toBeGreaterThan(0.97);
    const ex = new GbdtExplainer(model);
    const margins = predictMargins(model, te.x, 20, new Float64Array(20 * model.outputs));
    for (let row = 0; row < 20; row++) {
      const v = ex.shap(te.x, row);
      for (let k = 0; k < model.outputs; k++) {
        let sum = 0;
        for (let f = 0; f <= d.cols; f++) sum += v[k * (d.cols + 1) + f];
        const margin = margins[row * model.outputs + k];
        expect(Math.abs(sum - margin)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(margin)));
      }
    }
  });
});
