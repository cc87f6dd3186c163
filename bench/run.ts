// `npm run bench`: builds the bench captures, then measures each stage in its own process on one core.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { build } from "esbuild";
import { BENCH_DIR, BENIGN_SOURCES, ensureMix, ensureSpoofed } from "./make-captures.ts";

const args = process.argv.slice(2);
const packets = Number(process.env.BENCH_PACKETS ?? 5_000_000);
const spoofed = Number(process.env.BENCH_SPOOFED ?? 1_000_000);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const only = args.find((a) => !a.startsWith("--"));

// The model benches (supervised issue) need no capture: `npm run bench -- gbdt` or `-- nn` runs only one.
const MODEL_BENCHES = ["gbdt", "nn"] as const;
if (only === "gbdt" || only === "nn") {
  runModelBench(only);
  process.exit(0);
}

/** Runs bench/<name>.ts in its own process; its figures go straight to stdout. */
function runModelBench(name: string): void {
  process.stderr.write(`\nbench/${name}.ts…\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, `${name}.ts`)], {
    stdio: "inherit",
  });
  if (r.status !== 0) process.stderr.write(`bench/${name}.ts exited with ${r.status}\n`);
}

process.stderr.write(
  `building bench captures (${packets.toLocaleString()} packets per mix, ${spoofed.toLocaleString()} spoofed sources)…\n`,
);
const mix = await ensureMix(packets);
const benign = await ensureMix(packets, "benign", BENIGN_SOURCES);
const spoof = await ensureSpoofed(spoofed);

// Stages run as esbuild bundles, as Vigil ships, not through tsx's on-the-fly transform. The sharded run
// starts its workers from shard-worker.mjs beside its own bundle (see src/app/shard/analyze-sharded.ts).
const STAGE = resolve(BENCH_DIR, "stage.mjs");
const SHARDED = resolve(BENCH_DIR, "sharded.mjs");
for (const [entry, outfile] of [
  [resolve(import.meta.dirname, "stage.ts"), STAGE],
  [resolve(import.meta.dirname, "sharded.ts"), SHARDED],
  [resolve(import.meta.dirname, "../src/app/shard/worker.ts"), resolve(BENCH_DIR, "shard-worker.mjs")],
] as const) {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile,
    logLevel: "warning",
  });
}

/** One run in a fresh process: a stage of stage.ts, or "sharded:N" (bench/sharded.ts with N workers). */
function once(stage: string, file: string): Record<string, unknown> {
  const args = stage.startsWith("sharded:") ? [SHARDED, stage.slice(8), file] : [STAGE, stage, file];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench stage ${stage} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

/** Runs a stage `runs` times (this machine is shared and noisy) and keeps the median run by packets/s. */
function measure(stage: string, file: string): Record<string, unknown> & { lo: number; hi: number } {
  const all = Array.from({ length: runs }, () => once(stage, file)).sort(
    (a, b) => (a.pps as number) - (b.pps as number),
  );
  return { ...all[Math.floor(all.length / 2)]!, lo: all[0]!.pps as number, hi: all.at(-1)!.pps as number };
}

const rows: string[] = [];
const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");
const results: Record<string, unknown>[] = [];
for (const [name, stage, file] of [
  ["mix: read only", "read", mix],
  ["mix: (a) decode", "decode", mix],
  ["mix: (b) decode + flows + CIC features", "flows", mix],
  ["mix: (c) decode + AfterImage", "afterimage", mix],
  ["mix: decode + flows + AfterImage", "full", mix],
  ["benign: (a) decode", "decode", benign],
  ["benign: (b) decode + flows + CIC features", "flows", benign],
  ["benign: (c) decode + AfterImage", "afterimage", benign],
  ["spoofed 1M sources: decode + flows", "flows", spoof],
  ["spoofed 1M sources: decode + AfterImage", "afterimage", spoof],
  // Acceptance point 7 of issue 3: after training, one core, then sharded over worker threads.
  ["mix: (d) decode + AfterImage + KitNET score", "kitnet", mix],
  ["mix: (d) … KitNET score, 32-vector batches", "kitnet-batch", mix],
  ["mix: (d) … KitNET score, f32 kernel (opt-in)", "kitnet-f32", mix],
  ["mix: (d) … KitNET score, f32, 32-vector batches", "kitnet-f32-batch", mix],
  ["benign: (d) decode + AfterImage + KitNET score", "kitnet", benign],
  ["benign: (d) … KitNET score, 32-vector batches", "kitnet-batch", benign],
  ["benign: (d) … KitNET score, f32 kernel (opt-in)", "kitnet-f32", benign],
  ["benign: (d) … KitNET score, f32, 32-vector batches", "kitnet-f32-batch", benign],
  ["mix: (e) vigil analyze pipeline, one thread (loaded model)", "sharded:0", mix],
  ["mix: (e) sharded, 1 worker (+ main thread)", "sharded:1", mix],
  ["mix: (e) sharded, 2 workers (+ main thread)", "sharded:2", mix],
  ["benign: (e) vigil analyze pipeline, one thread (loaded model)", "sharded:0", benign],
  ["benign: (e) sharded, 1 worker (+ main thread)", "sharded:1", benign],
  ["benign: (e) sharded, 2 workers (+ main thread)", "sharded:2", benign],
] as const) {
  if (only && !name.includes(only) && stage !== only) continue;
  const r = measure(stage, file);
  results.push({ name, ...r });
  const extra: string[] = [];
  if (r.bytesPerFlow) extra.push(`${fmt(r.bytesPerFlow as number)} B/flow`);
  const ai = r.afterImage as { bytesPerStream?: number } | null;
  if (ai?.bytesPerStream) extra.push(`${fmt(ai.bytesPerStream)} B/stream`);
  const fs = r.flowStats as { evicted?: number } | null;
  if (fs?.evicted) extra.push(`${fmt(fs.evicted)} flows evicted`);
  if ((r.flowsEmitted as number) > 0) {
    extra.push(`${((r.packets as number) / (r.flowsEmitted as number)).toFixed(1)} packets/flow`);
  }
  if (r.cpuSeconds)
    extra.push(`${(((r.cpuSeconds as number) * 1e6) / (r.packets as number)).toFixed(2)} µs CPU/packet`);
  const shards = r.shards as { packets: number }[] | undefined;
  if (shards && shards.length > 1)
    extra.push(`shards ${shards.map((x) => fmt(x.packets)).join(" / ")} packets`);
  const quarters = ((r.rssMiBAtQuarters as (number | null)[] | undefined) ?? []).join(" / ");
  rows.push(
    `| ${name} | ${fmt(r.packets as number)} | ${fmt(r.pps as number)} (${fmt(r.lo)}–${fmt(r.hi)}) | ${fmt(r.maxRssMiB as number)} | ${quarters} | ${extra.join(", ")} |`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
}

const cpu = cpus()[0]?.model ?? "unknown cpu";
console.log(
  `\n${new Date().toISOString().slice(0, 10)} · ${cpu} · ${cpus().length} cores · Node ${process.version} · one core per stage · median of ${runs} runs (min–max)\n`,
);
console.log(
  "| stage | packets | packets/s median (min–max) | peak RSS MiB | RSS MiB at 25/50/75/100 % | state |",
);
console.log("|---|---:|---:|---:|---|---|");
for (const r of rows) console.log(r);
if (args.includes("--json")) console.log(JSON.stringify(results, null, 2));
if (!only && !args.includes("--no-models")) for (const b of MODEL_BENCHES) runModelBench(b);
