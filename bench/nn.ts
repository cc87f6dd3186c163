// Deep heads: training time, scoring speed and per-class results of the GRU and the payload CNN beside the GBDT on
// the same splits (the figures of docs/detectors/gru-sequence.md and payload-cnn.md). One thread, seeded.
//   npx tsx bench/nn.ts [gru|gru-cic|gru-lab|cnn] [--quick]      (--quick: 3 epochs, for a smoke run)
import { cpus } from "node:os";
import { basename } from "node:path";
import {
  buildHostSequences,
  captureFlowDataset,
  type DeepEvalReport,
  type LabelledCapture,
  metricsFromProbs,
  type PayloadSamples,
  payloadData,
  payloadSplit,
  readPayloadSamples,
  scorePayloadModel,
  scoreSequenceModel,
  sequenceSplit,
  sequenceTrainData,
  trainPayloadOnSamples,
  trainSequenceModel,
} from "../src/app/deep/index.ts";
import { decodeFromBatch } from "../src/app/packet-path.ts";
import { openCapture } from "../src/capture/index.ts";
import { defaultConfig } from "../src/config/index.ts";
import { DecodedPacket } from "../src/decode/index.ts";
import { PacketWindows } from "../src/features/index.ts";
import { type Dataset, loadDataset, subset } from "../src/learn/index.ts";
import {
  type ClassificationMetrics,
  Network,
  nnParamCount,
  nnPredictProba,
  predictProba,
  trainGbdt,
} from "../src/ml/index.ts";
import { sharedData } from "../test/shared-data.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => !a.startsWith("--"));
const epochs = quick ? { maxEpochs: 3 } : {};
const SPLIT = { train: 0.7, valid: 0.1, test: 0.2 };
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "–");
const n0 = (x: number): string => Math.round(x).toLocaleString("en-US");
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** GBDT on row-major float32 features; probabilities on the test rows, training and scoring time. */
function gbdt(
  train: { x: Float32Array; rows: number; y: Int32Array },
  valid: { x: Float32Array; rows: number; y: Int32Array },
  test: { x: Float32Array; rows: number },
  cols: number,
  classes: string[],
  names: string[],
): { probs: Float64Array; trainS: number; scoreS: number; rounds: number } {
  const t0 = performance.now();
  const r = trainGbdt({ ...train, cols, classes, featureNames: names }, { seed: 1 }, valid);
  const trainS = (performance.now() - t0) / 1000;
  // Scored twice: the first pass compiles the model (predict.ts caches it), the second is timed.
  const probs = predictProba(r.model, test.x, test.rows, new Float64Array(test.rows * classes.length));
  const t1 = performance.now();
  predictProba(r.model, test.x, test.rows, new Float64Array(test.rows * classes.length));
  return { probs, trainS, scoreS: (performance.now() - t1) / 1000, rounds: r.bestIteration };
}

function table(cols: { name: string; m: ClassificationMetrics }[]): void {
  const classes = cols[0]!.m.perClass;
  console.log(`| class | test flows | ${cols.map((c) => `${c.name} P / R / F1`).join(" | ")} |`);
  console.log(`|---|---:|${cols.map(() => "---|").join("")}`);
  for (const [i, c] of classes.entries()) {
    if (c.support === 0 && cols.every((x) => x.m.perClass[i]!.predicted === 0)) continue;
    const cells = cols.map((x) => {
      const k = x.m.perClass[i]!;
      return `${f3(k.precision)} / ${f3(k.recall)} / **${f3(k.f1)}**`;
    });
    console.log(`| ${c.name} | ${n0(c.support)} | ${cells.join(" | ")} |`);
  }
  console.log(`| macro-F1 | | ${cols.map((c) => `**${f3(c.m.macroF1)}**`).join(" | ")} |`);
  console.log(`| accuracy | | ${cols.map((c) => f3(c.m.accuracy)).join(" | ")} |`);
  // Where the errors go: the largest off-diagonal cells of each confusion matrix.
  console.log("\nLargest confusions (true → predicted: flows):\n");
  for (const c of cols) {
    const k = c.m.classes.length;
    const cells: [number, number, number][] = [];
    for (let t = 0; t < k; t++)
      for (let p = 0; p < k; p++)
        if (t !== p && c.m.matrix[t * k + p]! > 0) cells.push([c.m.matrix[t * k + p]!, t, p]);
    cells.sort((a, b) => b[0] - a[0]);
    const top = cells.slice(0, 6).map(([n, t, p]) => `${c.m.classes[t]} → ${c.m.classes[p]}: ${n}`);
    console.log(`- ${c.name}: ${top.join("; ") || "none"}`);
  }
}

function rows(ds: Dataset, idx: Int32Array): { x: Float32Array; rows: number; y: Int32Array } {
  const s = subset(ds, idx);
  return { x: s.x, rows: s.rows, y: s.y };
}

function describeTraining(name: string, r: DeepEvalReport, params: number): void {
  const t = r.training!;
  console.log(
    `${name}: ${n0(params)} weights, ${t.epochs} epochs (best ${t.bestEpoch}), training ${t.seconds.toFixed(1)} s (${(t.seconds / t.epochs).toFixed(1)} s/epoch), scoring ${n0(r.scoring.perSecond)} items/s, attack-vs-benign ROC AUC ${r.attack.rocAuc.toFixed(4)}`,
  );
}

async function benchGru(): Promise<void> {
  const path = sharedData("flows/cicids2017-improved/cicids2017-improved-dev.csv.gz");
  const loaded = loadDataset(path);
  if (!loaded.ok) throw loaded.error;
  const ds = loaded.value;
  console.log(
    `\n## GRU over a host's flows: ${basename(path)} (${n0(ds.rows)} flows, ${ds.classes.length} classes)\n`,
  );
  const sp = sequenceSplit(ds, { steps: 16, split: SPLIT, context: "same-part" });
  if (!sp.ok) throw sp.error;
  const { split } = sp.value;
  log("training the GRU (steps 16)…");
  const gru = await trainSequenceModel(ds, { fit: epochs }, (p) =>
    log(
      `  epoch ${p.epoch}: train ${p.trainLoss.toFixed(4)} valid ${p.validLoss?.toFixed(4)} (${p.seconds.toFixed(0)} s)`,
    ),
  );
  if (!gru.ok) throw gru.error;
  log("training the GRU with one step (no context)…");
  const flat = await trainSequenceModel(ds, { steps: 1, fit: epochs });
  if (!flat.ok) throw flat.error;
  // The same GRU scored as deployed: each test flow's context is every earlier flow of its host.
  const wide = buildHostSequences(
    ds,
    Int32Array.from({ length: ds.rows }, (_, i) => i),
    split.test,
    16,
  );
  const wideProbs = nnPredictProba(new Network(gru.value.model, 256), sequenceTrainData(ds, wide));
  const wideM = metricsFromProbs(
    wideProbs,
    Int32Array.from(split.test, (r) => ds.y[r]!),
    ds.classes,
    ds.benign,
  );
  log("training the GBDT on the same split…");
  const te = rows(ds, split.test);
  const g = gbdt(rows(ds, split.train), rows(ds, split.valid), te, ds.cols, ds.classes, ds.featureNames);
  const gm = metricsFromProbs(g.probs, te.y, ds.classes, ds.benign);
  console.log(
    `Split: each class's flows by time, ${SPLIT.train}/${SPLIT.valid}/${SPLIT.test}; train ${n0(split.train.length)}, valid ${n0(split.valid.length)}, test ${n0(split.test.length)} flows.\n`,
  );
  describeTraining("GRU, 16 steps", gru.value.report, nnParamCount(gru.value.model));
  describeTraining("GRU, 1 step", flat.value.report, nnParamCount(flat.value.model));
  console.log(
    `GBDT: ${g.rounds} rounds, training ${g.trainS.toFixed(1)} s, scoring ${n0(te.rows / g.scoreS)} flows/s, attack-vs-benign ROC AUC ${gm.attack.rocAuc.toFixed(4)}`,
  );
  console.log(
    `GRU, 16 steps, test context from every earlier flow: attack ROC AUC ${wideM.attack.rocAuc.toFixed(4)}\n`,
  );
  table([
    { name: "GRU 16 steps", m: gru.value.report.metrics },
    { name: "GRU 16, all-earlier context", m: wideM.metrics },
    { name: "GRU 1 step", m: flat.value.report.metrics },
    { name: "GBDT", m: gm.metrics },
  ]);
  const again = await scoreSequenceModel(gru.value.model, subset(ds, split.test));
  if (again.ok)
    console.log(
      `\nScoring speed, test flows as one file (context from the test flows): ${n0(again.value.scoring.perSecond)} sequences/s`,
    );
}

const D = (p: string): string => sharedData(`pcaps/${p}`);
const LAB: LabelledCapture = {
  path: D("lab/lab-dev-capture.pcap.gz"),
  labels: { windows: D("lab/labels.csv") },
};
const DDOS: LabelledCapture[] = [
  { path: D("ddos/cicddos2019-lucid/CIC-DDoS-2019-SynFlood.pcap"), labels: { every: "syn_flood" } },
  { path: D("ddos/stopddos/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"), labels: { every: "syn_flood" } },
  { path: D("ddos/stopddos/amp.TCP.reflection.SYNACK.pcap"), labels: { every: "synack_reflection" } },
  { path: D("ddos/stopddos/amp.UDP.snmp.src161.pcapng"), labels: { every: "snmp_amplification" } },
];

/** The GRU on Vigil's own flow records of the lab capture (flows grouped by originator), beside the GBDT. */
async function benchGruLab(): Promise<void> {
  const read = await captureFlowDataset(LAB, defaultConfig());
  if (!read.ok) throw read.error;
  const ds = read.value;
  console.log(`\n## GRU over a host's flows: lab capture, Vigil's flow records (${n0(ds.rows)} flows)\n`);
  const sp = sequenceSplit(ds, { steps: 16, split: SPLIT, context: "same-part" });
  if (!sp.ok) throw sp.error;
  const { split } = sp.value;
  log("training the GRU on the lab flows…");
  const gru = await trainSequenceModel(ds, { fit: epochs });
  if (!gru.ok) throw gru.error;
  const flat = await trainSequenceModel(ds, { steps: 1, fit: epochs });
  if (!flat.ok) throw flat.error;
  const te = rows(ds, split.test);
  const g = gbdt(rows(ds, split.train), rows(ds, split.valid), te, ds.cols, ds.classes, ds.featureNames);
  const gm = metricsFromProbs(g.probs, te.y, ds.classes, ds.benign);
  console.log(
    `Split: each class's flows by time, ${SPLIT.train}/${SPLIT.valid}/${SPLIT.test}; train ${n0(split.train.length)}, valid ${n0(split.valid.length)}, test ${n0(split.test.length)} flows.\n`,
  );
  describeTraining("GRU, 16 steps", gru.value.report, nnParamCount(gru.value.model));
  describeTraining("GRU, 1 step", flat.value.report, nnParamCount(flat.value.model));
  console.log(
    `GBDT: ${g.rounds} rounds, training ${g.trainS.toFixed(1)} s, attack ROC AUC ${gm.attack.rocAuc.toFixed(4)}\n`,
  );
  table([
    { name: "GRU 16 steps", m: gru.value.report.metrics },
    { name: "GRU 1 step", m: flat.value.report.metrics },
    { name: "GBDT", m: gm.metrics },
  ]);
}

function pick(s: PayloadSamples, idx: Int32Array): { x: Float32Array; rows: number; y: Int32Array } {
  const size = s.layout.size;
  const x = new Float32Array(idx.length * size);
  for (const [k, r] of idx.entries()) x.set(s.x.subarray(r * size, (r + 1) * size), k * size);
  return { x, rows: idx.length, y: Int32Array.from(idx, (r) => s.y[r]!) };
}

/** Extraction speed: decode + packet windows over the lab capture, packets/s and windows/s. */
async function extractionSpeed(): Promise<void> {
  const opened = await openCapture(LAB.path);
  if (!opened.ok) throw opened.error;
  let windows = 0;
  const pw = new PacketWindows({}, () => windows++);
  const p = new DecodedPacket();
  let packets = 0;
  const t0 = performance.now();
  for (;;) {
    const b = await opened.value.next();
    if (b === null) break;
    for (let i = 0; i < b.count; i++) {
      decodeFromBatch(p, b, i);
      pw.add(p);
    }
    packets += b.count;
  }
  pw.flush();
  await opened.value.close();
  const s = (performance.now() - t0) / 1000;
  console.log(
    `Extraction (read gzip + decode + packet windows, lab capture): ${n0(packets / s)} packets/s, ${n0(windows / s)} windows/s, ${n0(pw.bytesPerFlow())} B per tracked flow`,
  );
}

async function benchCnn(): Promise<void> {
  console.log("\n## Payload CNN over packet windows: lab capture + DDoS captures\n");
  await extractionSpeed();
  const t0 = performance.now();
  const read = await readPayloadSamples([LAB, ...DDOS], { window: {}, maxPerGroup: 2_500 });
  if (!read.ok) throw read.error;
  const s = read.value;
  console.log(
    `Read ${n0(s.count)} windows (2 passes) in ${((performance.now() - t0) / 1000).toFixed(1)} s; flows per capture and class before thinning to 2,500:`,
  );
  for (const [path, counts] of Object.entries(s.seen))
    console.log(`- ${basename(path)}: ${JSON.stringify(counts)}`);
  const split = payloadSplit(s, SPLIT);
  console.log(
    `\nSplit: each (capture, class) group by first-packet time, ${SPLIT.train}/${SPLIT.valid}/${SPLIT.test}; train ${n0(split.train.length)}, valid ${n0(split.valid.length)}, test ${n0(split.test.length)} flows.\n`,
  );
  const runs: { name: string; branches: "both" | "packets" | "bytes" }[] = [
    { name: "CNN", branches: "both" },
    { name: "CNN packets only", branches: "packets" },
    { name: "CNN bytes only", branches: "bytes" },
  ];
  const cols: { name: string; m: ClassificationMetrics }[] = [];
  for (const run of runs) {
    log(`training ${run.name}…`);
    const r = trainPayloadOnSamples(s, split, { branches: run.branches, fit: epochs }, (p) =>
      log(
        `  epoch ${p.epoch}: train ${p.trainLoss.toFixed(4)} valid ${p.validLoss?.toFixed(4)} (${p.seconds.toFixed(0)} s)`,
      ),
    );
    if (!r.ok) throw r.error;
    describeTraining(run.name, r.value.report, nnParamCount(r.value.model));
    cols.push({ name: run.name, m: r.value.report.metrics });
  }
  log("training the GBDT on the flattened windows…");
  const te = pick(s, split.test);
  const g = gbdt(pick(s, split.train), pick(s, split.valid), te, s.layout.size, s.classes, s.layout.names);
  const gm = metricsFromProbs(g.probs, te.y, s.classes, 0);
  console.log(
    `GBDT (${n0(s.layout.size)} inputs): ${g.rounds} rounds, training ${g.trainS.toFixed(1)} s, scoring ${n0(te.rows / g.scoreS)} flows/s, attack-vs-benign ROC AUC ${gm.attack.rocAuc.toFixed(4)}\n`,
  );
  cols.push({ name: "GBDT", m: gm.metrics });
  table(cols);

  // Transfer: trained on the lab capture only, scored on every flow of the DDoS captures (tools it never saw).
  console.log("\n### Trained on the lab capture only, scored on the DDoS captures\n");
  const labOnly = await readPayloadSamples([LAB], { window: {}, maxPerGroup: 2_500 });
  if (!labOnly.ok) throw labOnly.error;
  const ls = labOnly.value;
  const lsplit = payloadSplit(ls, SPLIT);
  const cnn = trainPayloadOnSamples(ls, lsplit, { fit: epochs });
  if (!cnn.ok) throw cnn.error;
  const lg = trainGbdt(
    { ...pick(ls, lsplit.train), cols: ls.layout.size, classes: ls.classes, featureNames: ls.layout.names },
    { seed: 1 },
    pick(ls, lsplit.valid),
  );
  console.log(
    "| capture | flows | CNN: flagged attack | CNN: called syn_flood | CNN: most common class | GBDT: flagged attack | GBDT: called syn_flood | GBDT: most common class |",
  );
  console.log("|---|---:|---:|---:|---|---:|---:|---|");
  for (const c of DDOS) {
    const all = await readPayloadSamples([c], { window: {}, maxPerGroup: Number.MAX_SAFE_INTEGER });
    if (!all.ok) throw all.error;
    const a = all.value;
    const idx = Int32Array.from({ length: a.count }, (_, i) => i);
    const cp = nnPredictProba(
      new Network(cnn.value.model, 256),
      payloadData(a, idx, new Int32Array(a.count)),
    );
    const gp = predictProba(lg.model, a.x, a.count, new Float64Array(a.count * ls.classes.length));
    const K = ls.classes.length;
    const syn = ls.classes.indexOf("syn_flood");
    const share = (f: (row: number) => boolean): string => {
      let n = 0;
      for (let i = 0; i < a.count; i++) if (f(i)) n++;
      return `${((100 * n) / a.count).toFixed(1)} %`;
    };
    const argmax = (p: Float64Array, i: number): number => {
      let b = 0;
      for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + b]!) b = k;
      return b;
    };
    const top = (p: Float64Array): string => {
      const n = new Array<number>(K).fill(0);
      for (let i = 0; i < a.count; i++) n[argmax(p, i)]!++;
      const b = n.indexOf(Math.max(...n));
      return `${ls.classes[b]} (${((100 * n[b]!) / a.count).toFixed(1)} %)`;
    };
    console.log(
      `| ${basename(c.path)} | ${n0(a.count)} | ${share((i) => cp[i * K]! < 0.5)} | ${share((i) => argmax(cp, i) === syn)} | ${top(cp)} | ${share((i) => gp[i * K]! < 0.5)} | ${share((i) => argmax(gp, i) === syn)} | ${top(gp)} |`,
    );
  }
  const sc = await scorePayloadModel(cnn.value.model, [LAB]);
  if (sc.ok) console.log(`\nCNN scoring speed, every lab flow: ${n0(sc.value.scoring.perSecond)} flows/s`);
}

console.log(
  `${new Date().toISOString().slice(0, 10)} · ${cpus()[0]?.model ?? "cpu"} · Node ${process.version} · one thread${quick ? " · --quick" : ""}`,
);
if (only === undefined || only === "gru" || only === "gru-cic") await benchGru();
if (only === undefined || only === "gru" || only === "gru-lab") await benchGruLab();
if (only === undefined || only === "cnn") await benchCnn();
