// One bench measurement in a fresh process (so peak RSS is this stage's own): prints one JSON line.

import { decodeFromBatch } from "../src/app/index.ts";
import { openCapture } from "../src/capture/index.ts";
import { defaultConfig } from "../src/config/index.ts";
import { DecodedPacket } from "../src/decode/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../src/detect/index.ts";
import { AFTERIMAGE_FEATURE_NAMES, AfterImage } from "../src/features/index.ts";
import { FlowTable } from "../src/flows/index.ts";

// kitnet: decode + AfterImage + KitNET with the detector's defaults (5 000 + 50 000 training packets, 10 000
// calibration packets); packets/s counts only the packets scored after training and calibration.
// kitnet-f32: the same with the opt-in f32 scoring kernel. kitnet-batch, kitnet-f32-batch: after training,
// AfterImage writes into rows of a 32-vector tile that KitNet.processBatch scores at once (the same scores).
type Stage =
  | "read"
  | "decode"
  | "flows"
  | "afterimage"
  | "full"
  | "kitnet"
  | "kitnet-f32"
  | "kitnet-batch"
  | "kitnet-f32-batch";
const [stage, file] = process.argv.slice(2) as [Stage, string];
const cfg = defaultConfig();

const r = await openCapture(file);
if (!r.ok) throw r.error;
const reader = r.value;
const p = new DecodedPacket();
let flowsEmitted = 0;
const flows =
  stage === "flows" || stage === "full"
    ? new FlowTable(cfg.flows, () => {
        flowsEmitted++;
      })
    : null;
const withKitNet = stage.startsWith("kitnet");
const batched = stage.endsWith("-batch");
const ai = stage === "afterimage" || stage === "full" || withKitNet ? new AfterImage(cfg.afterimage) : null;
const det = withKitNet ? new KitNetDetector(KitNetDetectorConfig.parse({}), AFTERIMAGE_FEATURE_NAMES) : null;
if (stage.startsWith("kitnet-f32")) det!.kit.setKernel("f32");
const n = AFTERIMAGE_FEATURE_NAMES.length;
const TILE = 32;
const tile = new Float64Array(TILE * n);
const rows = Array.from({ length: TILE }, (_, r) => tile.subarray(r * n, r * n + n));
const tileScores = new Float64Array(TILE);
let tileCount = 0;
let ignored = new Int32Array(0);
function scoreTile(): void {
  const d = det!;
  for (let r = 0; r < tileCount; r++) for (let j = 0; j < ignored.length; j++) tile[r * n + ignored[j]] = 0;
  d.kit.processBatch(tile, tileCount, tileScores);
  for (let r = 0; r < tileCount; r++) if (tileScores[r] > d.threshold) alerts++;
  tileCount = 0;
}
let trainingPackets = 0;
let alerts = 0;
const vec = new Float64Array(AFTERIMAGE_FEATURE_NAMES.length);
let packets = 0;
let check = 0;
const rssSamples: number[] = [];
const sampleEvery = 250_000;
let nextSample = sampleEvery;

let t0 = performance.now();
let cpu0 = process.cpuUsage();
for (let b = await reader.next(); b !== null; b = await reader.next()) {
  if (det !== null && det.phase === "training") {
    // Train and calibrate outside the timed part (restarted at the first batch that starts scored).
    for (let i = 0; i < b.count; i++) {
      decodeFromBatch(p, b, i);
      ai!.update(p, vec);
      det.process(vec, p.tsUs);
    }
    trainingPackets += b.count;
    if ((det.phase as string) === "scoring") {
      const names = det.ignoredFeatures;
      ignored = Int32Array.from(names, (name) => AFTERIMAGE_FEATURE_NAMES.indexOf(name));
    }
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    continue;
  }
  for (let i = 0; i < b.count; i++) {
    if (stage === "read") {
      check += b.capLen[i];
      continue;
    }
    decodeFromBatch(p, b, i);
    check += p.ipProto;
    if (flows) flows.add(p);
    if (batched) {
      ai!.update(p, rows[tileCount]);
      if (++tileCount === TILE) scoreTile();
      continue;
    }
    if (ai) {
      ai.update(p, vec);
      check += vec[0];
    }
    if (det !== null && det.process(vec, p.tsUs) > det.threshold) alerts++;
  }
  if (batched) scoreTile();
  packets += b.count;
  if (packets >= nextSample) {
    rssSamples.push(process.memoryUsage.rss());
    nextSample += sampleEvery;
  }
}
flows?.flush();
const seconds = (performance.now() - t0) / 1000;
// CPU time of this process over the same span: on a shared machine, wall time also counts other processes.
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const ru = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    stage,
    packets,
    seconds,
    pps: packets / seconds,
    cpuSeconds,
    ppsCpu: packets / cpuSeconds,
    maxRssMiB: ru.maxRSS / 1024,
    rssMiBAtQuarters: [0.25, 0.5, 0.75, 1].map((q) => {
      const v = rssSamples[Math.max(0, Math.ceil(rssSamples.length * q) - 1)];
      return v === undefined ? null : Math.round(v / 1048576);
    }),
    flowsEmitted,
    flowStats: flows ? { ...flows.stats } : null,
    bytesPerFlow: flows ? flows.bytesPerFlow() : null,
    afterImage: ai ? { ...ai.stats, bytesPerStream: ai.bytesPerStream() } : null,
    ...(det
      ? { kitnet: { trainingPackets, alerts, threshold: det.threshold, kernel: det.kit.kernelInUse } }
      : {}),
    check,
  })}\n`,
);
