// What the faster KitNET paths change in detection quality, measured as `vigil eval` measures it (packet-level
// ROC AUC per attack type on a labelled capture; the same labelling as src/app/eval.ts):
//   exact     the default (WebAssembly f64 kernel, bit-identical to the JS kernel)
//   f32       the opt-in f32 kernel: max |Δscore| and max relative Δ against exact, and the AUCs
//   shards N  the packets split by shardOf(p, N) into N pipelines (AfterImage + detector each), as the
//             worker mode runs them (same classes, same packets in the same order per shard, so the same
//             scores); graces divided by N as `--workers N` does ("graces / N": training covers the same
//             span of the capture), or the full graces per shard. Pooled AUC over raw scores and over
//             score / own-shard threshold (what decides an alert).
//   npx tsx bench/kitnet-accuracy.ts <capture> <labels.csv> [fmGrace adGrace calibration]
import { BENIGN, decodeFromBatch, readAttackWindows, WindowLabeler } from "../src/app/index.ts";
import { shardOf } from "../src/app/shard/index.ts";
import { openCapture } from "../src/capture/index.ts";
import { defaultConfig } from "../src/config/index.ts";
import { DecodedPacket, formatAddress } from "../src/decode/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../src/detect/index.ts";
import { AfterImage, afterImageFeatureNames } from "../src/features/index.ts";
import { classVsNegative, rocAuc } from "../src/ml/index.ts";

const [file, labelsFile, fm = "2000", ad = "10000", cal = "2000"] = process.argv.slice(2) as string[];
const cfg = defaultConfig();
const names = afterImageFeatureNames(cfg.afterimage.lambdas);
const w = readAttackWindows(labelsFile!);
if (!w.ok) throw w.error;
const labeler = new WindowLabeler(w.value);

interface Scored {
  scores: number[];
  rel: number[];
  types: string[];
  thresholds: number[];
}

/** Runs the capture through `shards` pipelines; the f32 kernel when asked. */
async function run(shards: number, graceDiv: number, f32: boolean): Promise<Scored> {
  const kc = KitNetDetectorConfig.parse({
    fmGrace: Math.round(Number(fm) / graceDiv),
    adGrace: Math.round(Number(ad) / graceDiv),
    calibrationPackets: Math.round(Number(cal) / graceDiv),
  });
  const pipes = Array.from({ length: shards }, () => {
    const det = new KitNetDetector(kc, names);
    if (f32) det.kit.setKernel("f32");
    return { ai: new AfterImage(cfg.afterimage), det };
  });
  const vec = new Float64Array(names.length);
  const p = new DecodedPacket();
  const out: Scored = { scores: [], rel: [], types: [], thresholds: [] };
  const r = await openCapture(file!);
  if (!r.ok) throw r.error;
  for (let b = await r.value.next(); b !== null; b = await r.value.next()) {
    for (let i = 0; i < b.count; i++) {
      decodeFromBatch(p, b, i);
      const { ai, det } = pipes[shardOf(p, shards)]!;
      ai.update(p, vec);
      const s = det.process(vec, p.tsUs);
      if (Number.isNaN(s)) continue;
      const v = p.ipVersion;
      const type =
        v === 4 ? labeler.label(p.tsUs / 1e6, formatAddress(p.src, v), formatAddress(p.dst, v)) : BENIGN;
      out.scores.push(s);
      out.rel.push(s / det.threshold);
      out.types.push(type);
    }
  }
  out.thresholds = pipes.map((x) => x.det.threshold);
  return out;
}

function report(name: string, r: Scored, useRel = false): Record<string, unknown> {
  const sc = Float64Array.from(useRel ? r.rel : r.scores);
  const labels = Uint8Array.from(r.types, (t) => (t === BENIGN ? 0 : 1));
  const perType = Object.fromEntries(
    classVsNegative(sc, r.types, BENIGN).map((c) => [c.name, Number(c.rocAuc.toFixed(4))]),
  );
  return {
    name,
    scored: sc.length,
    thresholds: r.thresholds.map((t) => Number(t.toPrecision(4))),
    rocAuc: Number(rocAuc(sc, labels).toFixed(4)),
    perType,
  };
}

const exact = await run(1, 1, false);
const f32 = await run(1, 1, true);
let maxAbs = 0;
let maxRel = 0;
for (let i = 0; i < exact.scores.length; i++) {
  const d = Math.abs(f32.scores[i]! - exact.scores[i]!);
  maxAbs = Math.max(maxAbs, d);
  maxRel = Math.max(maxRel, d / Math.abs(exact.scores[i]!));
}
const rows: Record<string, unknown>[] = [report("exact", exact), { ...report("f32", f32), maxAbs, maxRel }];
for (const n of [2, 4]) {
  const same = await run(n, 1, false);
  const div = await run(n, n, false);
  rows.push(report(`${n} shards (as --workers ${n}: graces / ${n}), raw scores`, div));
  rows.push(report(`${n} shards (as --workers ${n}: graces / ${n}), score/threshold`, div, true));
  rows.push(report(`${n} shards, full graces per shard, raw scores`, same));
  rows.push(report(`${n} shards, full graces per shard, score/threshold`, same, true));
}
for (const row of rows) console.log(JSON.stringify(row));
