// GBDT on one core: training seconds on the improved CIC-IDS2017 dev sample (81 features, 16 classes; stratified
// 70/10/20 split, early stopping on the 10 %), macro-F1 on the held-out 20 %, batch scoring flows/s, TreeSHAP µs/row,
// model file size and load time; the same for a benign-vs-attack model. Default settings unless overridden.
//   npx tsx bench/gbdt.ts [--runs N] [--config '{"baggingFraction":0.5}'] [file]
import { cpus } from "node:os";
import { basename } from "node:path";
import { type Dataset, loadDataset, stratifiedSplit, subset } from "../src/learn/index.ts";
import {
  classificationMetrics,
  compileGbdt,
  type GbdtConfig,
  GbdtExplainer,
  type GbdtModel,
  type GbdtTrainResult,
  predictClasses,
  predictMargins,
  readGbdtFile,
  saveGbdt,
  trainGbdt,
} from "../src/ml/index.ts";
import { sharedData } from "../test/shared-data.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt("--runs") ?? 3);
const config: GbdtConfig = JSON.parse(opt("--config") ?? "{}");
const file =
  args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--")) ??
  sharedData("flows/cicids2017-improved/cicids2017-improved-dev.csv.gz");
const SPLIT = { train: 0.7, valid: 0.1, test: 0.2 };
const SEED = 1;
const MEASURE_MS = 2000; // each speed figure: repeat for at least this long
const n0 = (x: number): string => Math.round(x).toLocaleString("en-US");
const f3 = (x: number): string => x.toFixed(3);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface Part {
  x: Float32Array;
  rows: number;
  y: Int32Array;
}

function part(ds: Dataset, idx: Int32Array, binary: boolean): Part {
  const s = subset(ds, idx);
  return { x: s.x, rows: s.rows, y: binary ? s.y.map((c) => (c === ds.benign ? 0 : 1)) : s.y };
}

/** Trains `runs` times (the machine is shared; the result is the same every time) and keeps the median time. */
function train(ds: Dataset, tr: Part, va: Part, classes: string[]) {
  const times: { wall: number; cpu: number }[] = [];
  let res: GbdtTrainResult | undefined;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    res = trainGbdt(
      { ...tr, cols: ds.cols, classes, featureNames: ds.featureNames },
      { seed: SEED, ...config },
      va,
    );
    times.push({ wall: (performance.now() - t0) / 1000, cpu: process.cpuUsage(c0).user / 1e6 });
    log(
      `  run ${r + 1}: ${times.at(-1)!.wall.toFixed(2)} s (${res.roundsTrained} rounds, best ${res.bestIteration})`,
    );
  }
  times.sort((a, b) => a.wall - b.wall);
  return { res: res!, median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1)! };
}

/** Calls `fn` until MEASURE_MS have passed; returns calls per second. */
function rate(fn: () => void): number {
  fn();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MEASURE_MS) {
    fn();
    calls++;
    t = performance.now();
  }
  return (calls * 1000) / (t - t0);
}

function speed(model: GbdtModel, te: Part, cols: number, pred: Int32Array) {
  const c0 = performance.now();
  const c = compileGbdt(model);
  const compileMs = performance.now() - c0;
  const out = new Float64Array(te.rows * model.outputs);
  const batch = rate(() => predictMargins(c, te.x, te.rows, out)) * te.rows;
  const js = compileGbdt(model, { kernel: "js" });
  const walk = rate(() => predictMargins(js, te.x, te.rows, out)) * te.rows;
  const one = new Float64Array(model.outputs);
  let i = 0;
  const single = rate(() => {
    for (let k = 0; k < 1000; k++) {
      predictMargins(c, te.x.subarray(i * cols, (i + 1) * cols), 1, one);
      i = (i + 1) % te.rows;
    }
  });
  const ex = new GbdtExplainer(model);
  const sv = new Float64Array(ex.outputs * (cols + 1));
  let j = 0;
  const shap = rate(() => {
    ex.shap(te.x, j, sv);
    j = (j + 1) % te.rows;
  });
  // The predicted class's output alone, as an alert's explanation needs (the binary model has one anyway).
  const shapOne = rate(() => {
    ex.shap(te.x, j, sv, model.outputs === 1 ? 0 : pred[j]);
    j = (j + 1) % te.rows;
  });
  let nodes = 0;
  let depthSum = 0;
  for (const t of model.trees) nodes += t.feature.length;
  // Mean nodes a test row visits per tree: the cost scoring pays per tree.
  for (let r = 0; r < Math.min(te.rows, 500); r++) {
    for (const t of model.trees) {
      let n = 0;
      while (t.feature[n] >= 0) {
        const v = te.x[r * cols + t.feature[n]];
        n = v <= t.threshold[n] || (Number.isNaN(v) && t.defaultLeft[n] === 1) ? t.left[n] : t.right[n];
        depthSum++;
      }
    }
  }
  const visits = depthSum / Math.min(te.rows, 500);
  return {
    batch,
    walk,
    compileMs,
    kernel: c.wasm ? "generated WebAssembly" : "typed-array walk",
    single: single * 1000,
    shapUs: 1e6 / shap,
    shapOneUs: 1e6 / shapOne,
    nodes,
    visits,
  };
}

function report(name: string, ds: Dataset, classes: string[], binary: boolean): void {
  const split = stratifiedSplit(ds, SPLIT, SEED);
  const [tr, va, te] = [split.train, split.valid, split.test].map((idx) => part(ds, idx, binary));
  log(`${name}: training on ${n0(tr.rows)} flows…`);
  const { res, median, min, max } = train(ds, tr, va, classes);
  const model = res.model;
  const pred = predictClasses(model, te.x, te.rows, new Int32Array(te.rows));
  const m = classificationMetrics(te.y, pred, classes);
  const s = speed(model, te, ds.cols, pred);
  const text = saveGbdt(model, {
    params: res.params,
    trainedOn: { source: basename(file), rows: tr.rows, split: `stratified 70/10/20, seed ${SEED}` },
    bestIteration: res.bestIteration,
    validLoss: res.bestValidLoss,
  });
  const l0 = performance.now();
  const loaded = readGbdtFile(text);
  const loadMs = performance.now() - l0;
  if (!loaded.ok) throw loaded.error;
  console.log(`\n## ${name}\n`);
  console.log("| figure | value |\n|---|---:|");
  console.log(
    `| training flows (70 %) / validation (10 %) / test (20 %) | ${n0(tr.rows)} / ${n0(va.rows)} / ${n0(te.rows)} |`,
  );
  console.log(
    `| **train seconds, one core** (median of ${runs}; min–max) | **${median.wall.toFixed(2)}** (${min.wall.toFixed(2)}–${max.wall.toFixed(2)}); CPU ${median.cpu.toFixed(2)} |`,
  );
  console.log(`| rounds trained / kept (early stopping) | ${res.roundsTrained} / ${res.bestIteration} |`);
  console.log(
    `| trees / nodes / nodes visited per row | ${n0(model.trees.length)} / ${n0(s.nodes)} / ${n0(s.visits)} |`,
  );
  console.log(`| validation log loss | ${res.bestValidLoss?.toFixed(5)} |`);
  console.log(`| **test macro-F1** / accuracy | **${f3(m.macroF1)}** / ${f3(m.accuracy)} |`);
  console.log(`| **scoring flows/s**, batch of ${n0(te.rows)}, ${s.kernel} | **${n0(s.batch)}** |`);
  console.log(`| scoring flows/s, one flow per call | ${n0(s.single)} |`);
  console.log(`| scoring flows/s, batch, typed-array walk (kernel "js") | ${n0(s.walk)} |`);
  console.log(`| compile ms (typed arrays + generated code) | ${s.compileMs.toFixed(0)} |`);
  console.log(`| **TreeSHAP µs/row**, all ${model.outputs} outputs | **${s.shapUs.toFixed(1)}** |`);
  if (model.outputs > 1)
    console.log(`| **TreeSHAP µs/row**, the predicted class's output | **${s.shapOneUs.toFixed(1)}** |`);
  console.log(`| model file KiB / load ms | ${n0(text.length / 1024)} / ${loadMs.toFixed(1)} |`);
  if (!binary) {
    console.log("\n| class | test flows | F1 |\n|---|---:|---:|");
    for (const c of m.perClass) console.log(`| ${c.name} | ${n0(c.support)} | ${f3(c.f1)} |`);
  }
}

const t0 = performance.now();
const loaded = loadDataset(file);
if (!loaded.ok) throw loaded.error;
const ds = loaded.value;
log(
  `loaded ${basename(file)}: ${n0(ds.rows)} flows × ${ds.cols} features, ${ds.classes.length} classes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
const cpu = cpus()[0]?.model ?? "unknown cpu";
console.log(
  `# GBDT, ${new Date().toISOString().slice(0, 10)} · ${cpu} · ${cpus().length} cores · Node ${process.version} · one thread · config ${JSON.stringify(config)}`,
);
report(`${basename(file)}: ${ds.classes.length} classes (softmax)`, ds, ds.classes, false);
report(`${basename(file)}: benign vs attack (logistic)`, ds, [ds.classes[ds.benign], "attack"], true);
