// Diagnostic, not a benchmark of speed: KitNET's ceiling on the lab capture when it may learn from every
// other benign packet of the whole capture (not an honest split: it sees benign traffic from after the
// attacks). Run: npx tsx bench/kitnet-ceiling.ts (G=0 turns the stationarity guard off).
import { analyzeCapture } from "../src/app/analyze.ts";
import { BENIGN, readAttackWindows, WindowLabeler } from "../src/app/labels.ts";
import { defaultConfig } from "../src/config/index.ts";
import { formatAddress } from "../src/decode/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../src/detect/index.ts";
import { AFTERIMAGE_FEATURE_NAMES } from "../src/features/index.ts";
import { classVsNegative, rocAuc } from "../src/ml/index.ts";

const lab = "../shared/data/pcaps/lab/";
const w = readAttackWindows(`${lab}labels.csv`);
if (!w.ok) throw w.error;
const labeler = new WindowLabeler(w.value);
const vecs: Float64Array[] = [];
const types: string[] = [];
const ts: number[] = [];
await analyzeCapture(`${lab}lab-dev-capture.pcap.gz`, {
  config: defaultConfig(),
  noFlows: true,
  onFeatures: (vec, p) => {
    const v = p.ipVersion;
    vecs.push(vec.slice());
    ts.push(p.tsUs);
    types.push(
      v === 4 ? labeler.label(p.tsUs / 1e6, formatAddress(p.src, v), formatAddress(p.dst, v)) : BENIGN,
    );
  },
});
const benignIdx = vecs.map((_, i) => i).filter((i) => types[i] === BENIGN);
// Every other benign packet trains (time order); the rest and all attacks are scored.
const train = benignIdx.filter((_, j) => j % 2 === 0);
const guard = Number(process.env.G ?? 3);
const n = train.length;
const fm = Math.floor(n * 0.15);
const cal = Math.floor(n * 0.2);
const det = new KitNetDetector(
  KitNetDetectorConfig.parse({
    fmGrace: fm,
    adGrace: n - fm - cal,
    calibrationPackets: cal,
    stationarityGuard: guard,
  }),
  AFTERIMAGE_FEATURE_NAMES,
);
for (const i of train) det.process(vecs[i], ts[i]);
const inTrain = new Set(train);
const sc: number[] = [];
const ty: string[] = [];
vecs.forEach((x, i) => {
  if (inTrain.has(i)) return;
  sc.push(det.process(x, ts[i]));
  ty.push(types[i]);
});
const s = Float64Array.from(sc);
const four = new Set(["syn_scan", "syn_flood", "ssh_bruteforce", "slowloris"]);
const sel = ty.map((t) => t === BENIGN || four.has(t));
console.log("guard", guard, "trained on", n, "benign; ignored", det.ignoredFeatures.length);
console.log(
  "AUC all",
  rocAuc(
    s,
    Uint8Array.from(ty, (t) => (t === BENIGN ? 0 : 1)),
  ).toFixed(4),
  "four types",
  rocAuc(
    s.filter((_, i) => sel[i]),
    Uint8Array.from(
      ty.filter((_, i) => sel[i]),
      (t) => (t === BENIGN ? 0 : 1),
    ),
  ).toFixed(4),
);
console.log(
  classVsNegative(s, ty, BENIGN, det.threshold)
    .map((c) => `${c.name}:${c.rocAuc.toFixed(3)}`)
    .join(" "),
);
