// One sharded end-to-end measurement (`bench/run.ts` runs it as a bundle): train KitNET single-threaded on
// the first packets of the capture (5 000 + 50 000 + 10 000 calibration, outside the timing), then time
// capture → decode → (shard) → AfterImage → KitNET score over the whole capture with N workers scoring with
// that model. Workers 0: the same run on this thread (analyzeReader, what `vigil analyze` does without
// --workers). Prints one JSON line.
//   node sharded.mjs <workers> <capture>
import { analyzeReader, decodeFromBatch } from "../src/app/index.ts";
import { analyzeSharded } from "../src/app/shard/index.ts";
import { openCapture } from "../src/capture/index.ts";
import { defaultConfig } from "../src/config/index.ts";
import { DecodedPacket } from "../src/decode/index.ts";
import { KitNetDetector, KitNetDetectorConfig } from "../src/detect/index.ts";
import { AFTERIMAGE_FEATURE_NAMES, AfterImage } from "../src/features/index.ts";

const [workersArg, file] = process.argv.slice(2) as [string, string];
const workers = Number(workersArg);
const cfg = defaultConfig();
const kcfg = KitNetDetectorConfig.parse({});

// Training, as the single-thread "kitnet" stage does it.
const trainer = new KitNetDetector(kcfg, AFTERIMAGE_FEATURE_NAMES);
{
  const r = await openCapture(file);
  if (!r.ok) throw r.error;
  const ai = new AfterImage(cfg.afterimage);
  const p = new DecodedPacket();
  const vec = new Float64Array(AFTERIMAGE_FEATURE_NAMES.length);
  for (let b = await r.value.next(); b !== null && trainer.phase === "training"; b = await r.value.next()) {
    for (let i = 0; i < b.count && trainer.phase === "training"; i++) {
      decodeFromBatch(p, b, i);
      ai.update(p, vec);
      trainer.process(vec, p.tsUs);
    }
  }
  await r.value.close();
}
const saved = trainer.saveModel();
if (!saved.ok) throw saved.error;
const model = KitNetDetector.fromModel(saved.value, kcfg, AFTERIMAGE_FEATURE_NAMES);
if (!model.ok) throw model.error;

const r = await openCapture(file, { batchSize: cfg.capture.batchSize, bufferBytes: cfg.capture.bufferBytes });
if (!r.ok) throw r.error;
const cpu0 = process.cpuUsage();
const opts = { config: cfg, noFlows: true, kitnet: model.value, workers };
const s =
  workers === 0
    ? { ...(await analyzeReader(r.value, file, opts)), shards: [] }
    : await analyzeSharded(r.value, file, opts);
const cpu = process.cpuUsage(cpu0);
const k = s.detections?.find((d) => d.detector === "kitnet");
process.stdout.write(
  `${JSON.stringify({
    stage: workers === 0 ? "analyze, one thread" : `sharded-${workers}`,
    packets: s.packets,
    seconds: s.elapsedS,
    pps: s.packetsPerS,
    // CPU of every thread of the process over the run: main (read, decode, shard) + workers.
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuUsPerPacket: (cpu.user + cpu.system) / s.packets,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    shards: s.shards,
    kitnet: k ? { scored: k.scoredPackets, alerts: k.detections, threshold: k.threshold } : null,
    afterImage: { bytesPerStream: s.shards[0]?.afterImage?.bytesPerStream ?? null },
  })}\n`,
);
