// KitNET kernel micro-benchmark: AfterImage vectors of a capture, a trained KitNet, then µs per scored vector
// by `process` (one vector a call, as the detector feeds it) and `processBatch`. Prints one JSON line.
// `--dump FILE` writes every score (Float64, little-endian) so two builds can be compared bit for bit.
import { writeFileSync } from "node:fs";
import { decodeFromBatch } from "../src/app/index.ts";
import { openCapture } from "../src/capture/index.ts";
import { defaultConfig } from "../src/config/index.ts";
import { DecodedPacket } from "../src/decode/index.ts";
import { AFTERIMAGE_FEATURE_NAMES, AfterImage } from "../src/features/index.ts";
import { KitNet } from "../src/ml/index.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = args[0]!;
const fmGrace = Number(opt("--fm") ?? 5000);
const adGrace = Number(opt("--ad") ?? 50_000);
const scored = Number(opt("--score") ?? 100_000);
const passes = Number(opt("--passes") ?? 5);
const dump = opt("--dump");

const n = AFTERIMAGE_FEATURE_NAMES.length;
const total = fmGrace + adGrace + scored;
const xs = new Float64Array(total * n);
const r = await openCapture(file);
if (!r.ok) throw r.error;
const ai = new AfterImage(defaultConfig().afterimage);
const p = new DecodedPacket();
let rows = 0;
outer: for (let b = await r.value.next(); b !== null; b = await r.value.next()) {
  for (let i = 0; i < b.count; i++) {
    decodeFromBatch(p, b, i);
    ai.update(p, xs.subarray(rows * n, rows * n + n));
    if (++rows === total) break outer;
  }
}
if (rows < total) throw new Error(`capture has ${rows} packets, need ${total}`);

const net = new KitNet({ n, fmGrace, adGrace, seed: 1 });
const t0 = performance.now();
for (let i = 0; i < fmGrace + adGrace; i++) net.process(xs, i * n);
const trainUs = ((performance.now() - t0) * 1000) / (fmGrace + adGrace);
// The JS kernel on the same model, timed in the same passes (this machine's speed drifts between runs).
const js = KitNet.fromState(net.exportState(), { kernel: "js" });
const f32 = KitNet.fromState(net.exportState(), { kernel: "f32" });

const test = xs.subarray((fmGrace + adGrace) * n);
const s1 = new Float64Array(scored);
const s2 = new Float64Array(scored);
const s3 = new Float64Array(scored);
const one: number[] = [];
const batch: number[] = [];
const jsOne: number[] = [];
const jsBatch: number[] = [];
const f32One: number[] = [];
const s4 = new Float64Array(scored);
// CPU time of this process, not wall time: other processes share the machine.
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const timed = (out: number[], f: () => void): void => {
  const t = cpuUs();
  f();
  out.push((cpuUs() - t) / scored);
};
for (let k = 0; k < passes; k++) {
  timed(one, () => {
    for (let i = 0; i < scored; i++) s1[i] = net.process(test, i * n);
  });
  timed(batch, () => net.processBatch(test, scored, s2));
  timed(jsOne, () => {
    for (let i = 0; i < scored; i++) s3[i] = js.process(test, i * n);
  });
  timed(jsBatch, () => js.processBatch(test, scored, s3));
  timed(f32One, () => {
    for (let i = 0; i < scored; i++) s4[i] = f32.process(test, i * n);
  });
}
// The f32 kernel against the exact scores.
let maxAbs = 0;
let maxRel = 0;
for (let i = 0; i < scored; i++) {
  const d = Math.abs(s4[i] - s1[i]);
  maxAbs = Math.max(maxAbs, d);
  maxRel = Math.max(maxRel, d / Math.abs(s1[i]));
}
let mismatches = 0;
for (let i = 0; i < scored; i++) if (!Object.is(s1[i], s2[i]) || !Object.is(s1[i], s3[i])) mismatches++;
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
let check = 0;
for (let i = 0; i < scored; i++) check += s1[i];
if (dump) writeFileSync(dump, new Uint8Array(s1.buffer));
process.stdout.write(
  `${JSON.stringify({
    groups: net.groups.length,
    trainUs,
    processUs: med(one),
    processUsAll: one,
    batchUs: med(batch),
    batchUsAll: batch,
    jsProcessUs: med(jsOne),
    jsBatchUs: med(jsBatch),
    f32ProcessUs: med(f32One),
    f32: { maxAbs, maxRel, kernel: f32.kernelInUse },
    kernel: net.kernelInUse,
    mismatches,
    check,
  })}\n`,
);
