#!/usr/bin/env node
// vigil: the command-line front end. Parses flags, loads config, calls app/, maps errors to exit codes.
import { writeFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import {
  type AnalysisSummary,
  type AnalyzeOptions,
  AnomalyEventSampler,
  afterImageFeatureNames,
  analyzeCapture,
  type Baseline,
  type ClassifierSection,
  type ClassifierSpec,
  type ClustersSection,
  captureAnomalyEvents,
  captureLive,
  detectZeekLog,
  evalClassifierCapture,
  evalClustersCapture,
  evalIForestCapture,
  evalIsolationForest,
  evalKitNet,
  evalOnnxModel,
  evalSupervisedModel,
  evalZeekConn,
  type FlowDetectorOptions,
  type FlowFormat,
  type FlowSchema,
  flowEvent,
  flowHeader,
  flowLine,
  formatZeekEval,
  type IForestSection,
  type KitNetSection,
  LineWriter,
  learnBaseline,
  loadBundle,
  loadFlowClassifier,
  loadKitNetModel,
  SiteConfig,
  scorePayloadModel,
} from "../app/index.ts";
import { configRows, formatConfig, loadConfig } from "../config/index.ts";
import { isVigilError, VigilError } from "../core/index.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { formatCaptureFlowEval, formatEval } from "./format-eval.ts";
import { formatSummary } from "./format-summary.ts";
import { formatClassifierCapture, formatSupervised, supervisedJson } from "./format-supervised.ts";
import { progressBar } from "./progress.ts";
import { labelledCaptures, registerTrain } from "./train-command.ts";

interface GlobalOpts {
  config?: string;
  set?: string[];
}

function positiveInt(flag: string, v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1)
    throw new VigilError("usage", `${flag} needs a positive integer, got "${v}"`);
  return x;
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function config(cmd: Command): SiteConfig {
  const g = cmd.optsWithGlobals() as GlobalOpts;
  const r = loadConfig({ file: g.config, env: process.env, sets: g.set ?? [], schema: SiteConfig });
  if (!r.ok) throw r.error;
  return r.value.config;
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: VigilError }): T {
  if (!r.ok) throw r.error;
  return r.value;
}

/** The KitNET detector's own settings from the site configuration (detectors.kitnet without on/off and model). */
function kitnetSettings(cfg: SiteConfig): Omit<KitNetSection, "enabled" | "model"> {
  const { enabled: _on, model: _file, ...settings } = cfg.detectors.kitnet;
  return settings;
}

/** KitNET's part of the analyze options: off, a loaded model, or settings to train with (+ saving). */
function kitnetOptions(
  cfg: SiteConfig,
  o: {
    detectors: boolean;
    model?: string;
    saveModel?: string;
    fmGrace?: number;
    adGrace?: number;
    calibration?: number;
  },
): Pick<AnalyzeOptions, "kitnet" | "kitnetOrigin" | "onKitNetModel"> {
  const k = cfg.detectors.kitnet;
  if (!o.detectors || !k.enabled) {
    if (o.model || o.saveModel)
      throw new VigilError("usage", "--model and --save-model need KitNET on", "drop --no-detectors");
    return {};
  }
  const tuned = {
    ...kitnetSettings(cfg),
    ...(o.fmGrace ? { fmGrace: o.fmGrace } : {}),
    ...(o.adGrace ? { adGrace: o.adGrace } : {}),
    ...(o.calibration ? { calibrationPackets: o.calibration } : {}),
  };
  const file = o.model ?? (k.model || undefined);
  const save = o.saveModel;
  return {
    kitnet: file ? unwrap(loadKitNetModel(file, tuned, cfg)) : tuned,
    ...(save
      ? {
          onKitNetModel: (text: string) => {
            writeFileSync(save, text);
            process.stderr.write(`KitNET model written to ${save}\n`);
          },
        }
      : {}),
  };
}

/** The flow classifier's model and settings, checked here so a bad model file fails before the run. */
function classifierSpec(
  model: string,
  settings: Omit<ClassifierSection, "enabled" | "model">,
): ClassifierSpec {
  unwrap(loadFlowClassifier(model, settings));
  return { model, settings };
}

/** The flow detectors `vigil analyze` runs (site config detectors.iforest/clusters), or none. */
function flowDetectorOptions(
  cfg: SiteConfig,
  o: { detectors: boolean; flowTraining?: number; hostWindow?: number },
): FlowDetectorOptions | null {
  const { enabled: iforestOn, ...iforestCfg } = cfg.detectors.iforest;
  const { enabled: clustersOn, ...clustersCfg } = cfg.detectors.clusters;
  const { enabled: classifierOn, model: classifierModel, ...classifierCfg } = cfg.detectors.classifier;
  if (!o.detectors || (!iforestOn && !clustersOn && !classifierOn)) return null;
  const t = o.flowTraining;
  // With a training time, time alone ends training: the flow counts are set to their maxima.
  const iforest = t
    ? {
        ...iforestCfg,
        trainingSeconds: (2 * t) / 3,
        calibrationSeconds: t / 3,
        trainingFlows: 100_000,
        calibrationFlows: 100_000,
      }
    : iforestCfg;
  const windowS = o.hostWindow ?? clustersCfg.windowS;
  const clusters = {
    ...clustersCfg,
    windowS,
    trainingSeconds: Math.max(t ?? clustersCfg.trainingSeconds, windowS),
  };
  return {
    ...(iforestOn ? { iforest } : {}),
    ...(clustersOn ? { clusters } : {}),
    ...(classifierOn ? { classifier: classifierSpec(classifierModel, classifierCfg) } : {}),
  };
}

/** Options shared by the commands that run detectors (analyze, capture). */
interface DetectorFlags {
  /** false with --no-flows (analyze); capture always tracks flows. */
  flows?: boolean;
  detectors: boolean;
  model?: string;
  saveModel?: string;
  fmGrace?: number;
  adGrace?: number;
  calibration?: number;
  flowTraining?: number;
  hostWindow?: number;
  baseline?: string;
}

/** The detectors a run uses: from the site config and flags, trained on a baseline capture first if given. */
async function detectorSetup(
  cfg: SiteConfig,
  o: DetectorFlags,
  signal: AbortSignal,
): Promise<{
  detectors: Pick<AnalyzeOptions, "kitnet" | "kitnetOrigin" | "onKitNetModel" | "flowDetectors">;
  baseline: Baseline | null;
}> {
  const flowDetectors = flowDetectorOptions(cfg, o);
  const kitnet = kitnetOptions(cfg, o);
  if (!o.baseline)
    return { detectors: { ...kitnet, ...(flowDetectors ? { flowDetectors } : {}) }, baseline: null };
  if (o.flows === false) throw new VigilError("usage", "--baseline needs flows", "drop --no-flows");
  const bar = progressBar("baseline", process.stderr.isTTY === true);
  // KitNET learns from the baseline unless a saved model was given.
  const trainKitNet = kitnet.kitnet !== undefined && !(o.model ?? cfg.detectors.kitnet.model);
  const baseline = unwrap(
    await learnBaseline(o.baseline, {
      config: cfg,
      ...(trainKitNet ? { kitnet: kitnet.kitnet as Partial<KitNetSection> } : {}),
      keepKitNetGraces: o.fmGrace !== undefined || o.adGrace !== undefined || o.calibration !== undefined,
      ...(flowDetectors?.iforest ? { iforest: flowDetectors.iforest as Partial<IForestSection> } : {}),
      ...(flowDetectors?.clusters ? { clusters: flowDetectors.clusters as Partial<ClustersSection> } : {}),
      onProgress: (p) => bar.update(p),
      signal,
    }),
  );
  bar.stop();
  return {
    detectors: {
      ...kitnet,
      ...(baseline.kitnet ? { kitnet: baseline.kitnet, kitnetOrigin: "baseline" as const } : {}),
      flowDetectors: {
        ...(baseline.iforest ? { iforest: baseline.iforest } : {}),
        ...(baseline.clusters ? { clusters: baseline.clusters } : {}),
        ...(flowDetectors?.classifier ? { classifier: flowDetectors.classifier } : {}),
      },
    },
    baseline,
  };
}

/** --events: every flow, detection and (sampled) anomaly as one JSON line, written with backpressure. */
function eventOptions(
  events: LineWriter,
  sensor: string,
): Pick<AnalyzeOptions, "onDetection" | "onFlow" | "onAnomaly" | "afterBatch"> {
  const sampler = new AnomalyEventSampler(sensor);
  return {
    onDetection: (ev) => events.line(JSON.stringify(ev)),
    onFlow: (rec) => events.line(JSON.stringify(flowEvent(rec, sensor, "cic"))),
    onAnomaly: (p, frame) => {
      for (const ev of sampler.events(p, frame)) events.line(JSON.stringify(ev));
    },
    afterBatch: () => events.drain(),
  };
}

/** Writes the capture-level anomaly events and closes the events file. */
async function finishEvents(
  events: LineWriter | null,
  summary: AnalysisSummary,
  sensor: string,
): Promise<void> {
  if (!events) return;
  for (const ev of captureAnomalyEvents(summary.captureAnomalies, sensor, summary.end ?? 0)) {
    events.line(JSON.stringify(ev));
  }
  await events.close();
}

/** The summary as text or --json, on stderr when the events go to stdout. */
function printSummary(summary: AnalysisSummary, o: { json?: boolean; events?: string }): void {
  const out = o.events === "-" ? process.stderr : process.stdout;
  out.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
}

/** The summary with what the detectors learnt from, when a baseline was given. */
function withBaseline<S extends AnalysisSummary>(summary: S, baseline: Baseline | null): S {
  if (!baseline) return summary;
  const { input, packets, flows, durationS } = baseline;
  return { ...summary, baseline: { input, packets, flows, durationS } };
}

/** Adds the detector options that analyze and capture share. */
function detectorCommandOptions(cmd: Command): Command {
  return cmd
    .option("--no-detectors", "run no detectors (summary only)")
    .option(
      "--baseline <capture>",
      "learn what is normal from this benign capture first (every detector, all of it)",
    )
    .option("--model <file>", "score with this saved KitNET model instead of training on the traffic")
    .option("--save-model <file>", "write the KitNET model to <file> once it has trained and calibrated")
    .option("--fm-grace <n>", "KitNET: packets that learn the feature map", (v) =>
      positiveInt("--fm-grace", v),
    )
    .option("--ad-grace <n>", "KitNET: packets the autoencoders train on", (v) =>
      positiveInt("--ad-grace", v),
    )
    .option("--calibration <n>", "KitNET: packets scored to set the threshold", (v) =>
      positiveInt("--calibration", v),
    )
    .option(
      "--flow-training <s>",
      "flow detectors: train on the flows of the first <s> seconds (iforest: 2/3 train, 1/3 calibrate)",
      (v) => positiveInt("--flow-training", v),
    )
    .option("--host-window <s>", "behaviour clusters: host window length in seconds (default 60)", (v) =>
      positiveInt("--host-window", v),
    );
}

/** Ctrl-C stops the run cleanly (flows flushed, summary printed); a second Ctrl-C exits at once. */
function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once("SIGINT", () => {
    ac.abort();
    process.once("SIGINT", () => process.exit(EXIT.interrupted));
  });
  return ac.signal;
}

const program = new Command();
program
  .name("vigil")
  .description(
    "Vigil: network traffic in, explained detections out. Offline analysis of pcap/pcapng captures.",
  )
  .version("0.1.0")
  .option(
    "-c, --config <file>",
    "site configuration file (YAML or JSON); default $VIGIL_CONFIG or ./vigil.yaml",
  )
  .option("--set <key=value>", "override one setting, e.g. --set flows.idleTimeoutS=60 (repeatable)", collect)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .addHelpText(
    "after",
    `
Exit codes:
  0 success            3 input missing or unreadable   5 invalid configuration
  1 internal error     4 input is not a capture/corrupt 6 live capture failed (tcpdump)
  2 usage error      130 interrupted

Examples:
  vigil analyze samples/sample.pcap.gz
  vigil flows capture.pcapng --schema conn --format tsv > conn.log
  vigil features capture.pcap --afterimage -o features.csv
  vigil capture --iface eth0 --filter "tcp port 443" --duration 60`,
  );

detectorCommandOptions(
  program
    .command("analyze")
    .description("Read a capture (pcap, pcapng, .gz, or - for stdin) and print what it holds")
    .argument("<capture>", "capture file, or - for stdin")
    .option("--json", "print the summary as one JSON object (machine-readable)")
    .option(
      "--events <file>",
      "also write flow, detection and anomaly events as JSON lines to <file> (- for stdout)",
    )
    .option("--no-flows", "skip flow tracking (packets and anomalies only)"),
)
  .option(
    "--workers <n>",
    "worker threads, packets sharded by address pair (default 1; each shard trains its own detectors)",
    (v) => positiveInt("--workers", v),
  )
  .addHelpText(
    "after",
    "\nThe summary lists packets, protocols, flows by service and state, anomalies, top talkers and ports,\n" +
      "then each detector's strongest detections with their explanations. Detectors learn what is normal from the\n" +
      "start of the capture, which must be benign: KitNET (without --model) its first packets (fm-grace + ad-grace\n" +
      "+ calibration; 65,000 by default), the isolation forest its first 2,000 + 500 flows, the behaviour clusters\n" +
      "its first 30 min of host windows. Settings: `vigil config print` (detectors.*); turn one off with\n" +
      "--set detectors.kitnet.enabled=false (iforest, clusters likewise).",
  )
  .action(
    async (
      capture: string,
      o: DetectorFlags & { json?: boolean; events?: string; workers?: number },
      cmd: Command,
    ) => {
      const cfg = config(cmd);
      const signal = interruptSignal();
      const { detectors, baseline } = await detectorSetup(cfg, o, signal);
      const bar = progressBar("analyze", process.stderr.isTTY === true && o.events !== "-");
      const events = o.events ? new LineWriter(o.events) : null;
      const summary = unwrap(
        await analyzeCapture(capture, {
          config: cfg,
          noFlows: o.flows === false,
          onProgress: (p) => bar.update(p),
          signal,
          ...(o.workers ? { workers: o.workers } : {}),
          ...detectors,
          ...(events ? eventOptions(events, cfg.sensor) : {}),
        }),
      );
      bar.stop();
      await finishEvents(events, summary, cfg.sensor);
      printSummary(withBaseline(summary, baseline), o);
    },
  );

program
  .command("flows")
  .description("Write one record per bidirectional flow: CIC-IDS2017 features or Zeek conn.log fields")
  .argument("<capture>", "capture file, or - for stdin")
  .addOption(new Option("--format <format>", "output format").choices(["csv", "jsonl", "tsv"]).default("csv"))
  .addOption(
    new Option("--schema <schema>", "cic: CICFlowMeter columns; conn: Zeek conn.log fields")
      .choices(["cic", "conn"])
      .default("cic"),
  )
  .option("-o, --output <file>", "write to <file> instead of stdout")
  .addHelpText(
    "after",
    "\n--schema conn --format tsv writes a Zeek-style conn.log with #fields/#types headers.",
  )
  .action(
    async (capture: string, o: { format: FlowFormat; schema: FlowSchema; output?: string }, cmd: Command) => {
      const cfg = config(cmd);
      const out = new LineWriter(o.output);
      for (const h of flowHeader(o.schema, o.format)) out.line(h);
      const bar = progressBar("flows", process.stderr.isTTY === true && o.output !== undefined);
      const summary = unwrap(
        await analyzeCapture(capture, {
          config: cfg,
          onFlow: (rec) => out.line(flowLine(rec, o.schema, o.format, cfg.sensor)),
          onProgress: (p) => bar.update(p),
          afterBatch: () => out.drain(),
          signal: interruptSignal(),
        }),
      );
      bar.stop();
      await out.close();
      const f = summary.flows;
      process.stderr.write(
        `vigil flows: ${summary.packets.toLocaleString("en-US")} packets, ${(f?.total ?? 0).toLocaleString("en-US")} flows${f && f.interimRecords > 0 ? ` (+${f.interimRecords} interim records)` : ""}${o.output ? ` written to ${o.output}` : ""}\n`,
      );
    },
  );

program
  .command("features")
  .description("Write per-packet feature vectors (Kitsune AfterImage: 115 damped statistics per packet)")
  .argument("<capture>", "capture file, or - for stdin")
  .option("--afterimage", "AfterImage features (the only extractor so far; required)")
  .addOption(new Option("--format <format>", "output format").choices(["csv", "jsonl"]).default("csv"))
  .option("-o, --output <file>", "write to <file> instead of stdout")
  .option("--limit <n>", "stop after n packets", (v) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1)
      throw new VigilError("usage", `--limit needs a positive integer, got "${v}"`);
    return x;
  })
  .action(
    async (
      capture: string,
      o: { afterimage?: boolean; format: "csv" | "jsonl"; output?: string; limit?: number },
      cmd: Command,
    ) => {
      if (!o.afterimage) throw new VigilError("usage", "choose a feature extractor", "add --afterimage");
      const cfg = config(cmd);
      const out = new LineWriter(o.output);
      const names = afterImageFeatureNames(cfg.afterimage.lambdas);
      if (o.format === "csv") out.line(["frame", "ts", ...names].join(","));
      const bar = progressBar("features", process.stderr.isTTY === true && o.output !== undefined);
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      let rows = 0;
      const summary = unwrap(
        await analyzeCapture(capture, {
          config: cfg,
          noFlows: true,
          onFeatures: (vec, p, frame) => {
            if (ac.signal.aborted) return;
            const ts = (p.tsUs / 1e6).toFixed(6);
            if (o.format === "csv") {
              let line = `${frame},${ts}`;
              for (let i = 0; i < vec.length; i++) line += `,${vec[i]}`;
              out.line(line);
            } else {
              const obj: Record<string, number | string> = { frame, ts: Number(ts) };
              for (let i = 0; i < vec.length; i++) obj[names[i]!] = vec[i]!;
              out.line(JSON.stringify(obj));
            }
            if (++rows === o.limit || out.closed) ac.abort();
          },
          onProgress: (p) => bar.update(p),
          afterBatch: () => out.drain(),
          signal: ac.signal,
        }),
      );
      bar.stop();
      await out.close();
      process.stderr.write(
        `vigil features: ${rows.toLocaleString("en-US")} vectors of ${names.length} features from ${summary.packets.toLocaleString("en-US")} packets\n`,
      );
    },
  );

detectorCommandOptions(
  program
    .command("capture")
    .description("Capture live from an interface with tcpdump and analyse until Ctrl-C (or --duration)")
    .requiredOption("-i, --iface <name>", "interface to capture on (tcpdump -i)")
    .option("-f, --filter <bpf>", 'BPF capture filter, e.g. "tcp port 443"')
    .option("-s, --snaplen <bytes>", "bytes captured per packet (tcpdump -s)", (v) => Number(v))
    .option("-d, --duration <seconds>", "stop after this many seconds", (v) => Number(v))
    .option("--json", "print the summary as JSON")
    .option(
      "--events <file>",
      "write flow, detection and anomaly events as JSON lines to <file> as they happen (- for stdout)",
    ),
)
  .addHelpText(
    "after",
    "\nNeeds tcpdump (apt-get install tcpdump) and the right to capture (root or CAP_NET_RAW).\n" +
      "Detectors run as in `vigil analyze`: give them what normal looks like with --baseline FILE or --model FILE,\n" +
      "or they learn from the first traffic they see (which must be benign).",
  )
  .action(
    async (
      o: DetectorFlags & {
        iface: string;
        filter?: string;
        snaplen?: number;
        duration?: number;
        json?: boolean;
        events?: string;
      },
      cmd: Command,
    ) => {
      const cfg = config(cmd);
      if (o.duration !== undefined && !(o.duration > 0))
        throw new VigilError("usage", "--duration needs a positive number of seconds");
      if (o.snaplen !== undefined && !(Number.isInteger(o.snaplen) && o.snaplen > 0))
        throw new VigilError("usage", "--snaplen needs a positive integer");
      const signal = interruptSignal();
      const { detectors, baseline } = await detectorSetup(cfg, o, signal);
      const events = o.events ? new LineWriter(o.events) : null;
      if (process.stderr.isTTY)
        process.stderr.write(`capturing on ${o.iface}${o.filter ? ` (${o.filter})` : ""}; Ctrl-C to stop\n`);
      const summary = unwrap(
        await captureLive({
          config: cfg,
          iface: o.iface,
          ...(o.filter ? { filter: o.filter } : {}),
          ...(o.snaplen ? { snaplen: o.snaplen } : {}),
          ...(o.duration ? { durationS: o.duration } : {}),
          ...detectors,
          ...(events ? eventOptions(events, cfg.sensor) : {}),
          signal,
        }),
      );
      await finishEvents(events, summary, cfg.sensor);
      printSummary(withBaseline(summary, baseline), o);
    },
  );

program
  .command("eval")
  .description(
    "Measure a detector on a labelled capture: train on the first packets, score the rest (time order)",
  )
  .argument(
    "<input>",
    "capture file (kitnet, clusters; iforest with --labels); labelled CIC flow CSV (.csv, .csv.gz) or labelled Zeek conn log (iforest)",
  )
  .option(
    "-l, --labels <file>",
    "attack windows: start_epoch,end_epoch,attacker_ip,victim_ip,attack_type (lab format; kitnet, iforest, clusters)",
  )
  .addOption(
    new Option(
      "--detector <id>",
      "kitnet: per packet over AfterImage; iforest: per flow over CIC features; clusters: per host window",
    )
      .choices(["kitnet", "iforest", "clusters"])
      .default("kitnet"),
  )
  .option(
    "--window <s>",
    "clusters: host window length in seconds (default 10 here: the lab lead-in is 90 s)",
    (v) => positiveInt("--window", v),
  )
  .option("--seed <n>", "iforest, clusters on a capture: model seed (default 1)", (v) =>
    positiveInt("--seed", v),
  )
  .addOption(
    new Option(
      "--threshold-method <m>",
      "iforest, clusters on a capture: how the threshold is fitted",
    ).choices(["lognormal", "spot", "quantile"]),
  )
  .option("--fm-grace <n>", "packets that learn KitNET's feature map", (v) => positiveInt("--fm-grace", v))
  .option("--ad-grace <n>", "packets KitNET's autoencoders train on", (v) => positiveInt("--ad-grace", v))
  .option("--calibration <n>", "benign packets scored to set the threshold", (v) =>
    positiveInt("--calibration", v),
  )
  .option("--far <rate>", "target false-alarm rate of the threshold", (v) => Number(v))
  .option("--continue-training", "keep learning from packets scored below the threshold")
  .option(
    "--train-share <share>",
    "iforest: share of the earliest training pool that trains (default 0.5)",
    (v) => Number(v),
  )
  .addOption(
    new Option(
      "--train-on <pool>",
      "iforest on a Zeek conn log: benign = earliest Benign flows; all = earliest flows whatever their label",
    )
      .choices(["benign", "all"])
      .default("benign"),
  )
  .option(
    "--model <file>",
    "a supervised model from `vigil train --out` (or an ONNX classifier, .onnx): scored on a labelled dataset (name or flow table; its test part when it is the training set) or on a capture with --labels",
  )
  .option("--json", "print the report as JSON")
  .addHelpText(
    "after",
    "\nTraining and calibration use the first fm-grace + ad-grace + calibration packets, which must be benign.\nExample (the lab capture has 90 s of benign traffic first):\n  vigil eval lab.pcap.gz -l labels.csv --fm-grace 2000 --ad-grace 10000 --calibration 2000" +
      "\nA Zeek conn log with Stratosphere labels (label Malicious/Benign/Background, detailedlabel) is scored per flow;\nBackground flows are unknown and left out of the metrics:\n  vigil eval --detector iforest conn.log.labeled.gz" +
      "\nOn a capture with --labels, iforest and clusters train on the flows before the first attack window:\n  vigil eval --detector iforest lab.pcap.gz -l labels.csv\n  vigil eval --detector clusters lab.pcap.gz -l labels.csv --window 10",
  )
  .action(
    async (
      capture: string,
      o: {
        detector: "kitnet" | "iforest" | "clusters";
        labels?: string;
        window?: number;
        seed?: number;
        thresholdMethod?: "lognormal" | "spot" | "quantile";
        fmGrace?: number;
        adGrace?: number;
        calibration?: number;
        far?: number;
        continueTraining?: boolean;
        trainShare?: number;
        trainOn: "benign" | "all";
        model?: string;
        json?: boolean;
      },
      cmd: Command,
    ) => {
      const cfg = config(cmd);
      if (o.model) {
        await evalModel(o.model, capture, o.labels, cfg, o.json);
        return;
      }
      if (o.trainShare !== undefined && !(o.trainShare > 0 && o.trainShare < 1))
        throw new VigilError("usage", `--train-share needs a number between 0 and 1, got ${o.trainShare}`);
      const share = o.trainShare !== undefined ? { trainShare: o.trainShare } : {};
      const onCapture =
        o.detector === "clusters" ||
        (o.detector === "iforest" && o.labels !== undefined && !/\.csv(\.gz)?$/i.test(capture));
      if (o.detector === "clusters" && (await detectZeekLog(capture)))
        throw new VigilError(
          "usage",
          "clusters evaluation reads a capture, not a Zeek log",
          "give a pcap/pcapng capture",
        );
      if (onCapture && !(await detectZeekLog(capture))) {
        if (!o.labels)
          throw new VigilError(
            "usage",
            `${o.detector} evaluation on a capture needs attack windows`,
            "add --labels FILE",
          );
        if (o.thresholdMethod === "quantile" && o.detector === "iforest")
          throw new VigilError(
            "usage",
            "iforest fits its threshold by lognormal or spot",
            "drop --threshold-method quantile",
          );
        const common = {
          ...(o.seed ? { seed: o.seed } : {}),
          ...(o.far ? { falseAlarmRate: o.far } : {}),
        };
        const bar = progressBar("eval");
        const rep = unwrap(
          o.detector === "clusters"
            ? await evalClustersCapture(capture, o.labels, {
                config: cfg,
                clusters: {
                  ...common,
                  ...(o.window ? { windowS: o.window } : {}),
                  ...(o.thresholdMethod ? { thresholdMethod: o.thresholdMethod } : {}),
                },
                onProgress: (p) => bar.update(p),
              })
            : await evalIForestCapture(capture, o.labels, {
                config: cfg,
                ...share,
                iforest: {
                  ...common,
                  ...(o.thresholdMethod === "spot" || o.thresholdMethod === "lognormal"
                    ? { thresholdMethod: o.thresholdMethod }
                    : {}),
                },
                onProgress: (p) => bar.update(p),
              }),
        );
        bar.stop();
        process.stdout.write(
          o.json ? `${JSON.stringify(rep, null, 2)}\n` : `${formatCaptureFlowEval(rep)}\n`,
        );
        return;
      }
      if (o.detector === "iforest") {
        if (await detectZeekLog(capture)) {
          const zr = unwrap(await evalZeekConn(capture, { ...share, trainOn: o.trainOn }));
          process.stdout.write(o.json ? `${JSON.stringify(zr, null, 2)}\n` : `${formatZeekEval(zr)}\n`);
          return;
        }
        const rep = unwrap(evalIsolationForest(capture, share));
        process.stdout.write(
          o.json ? `${JSON.stringify(rep, null, 2)}\n` : `${formatCaptureFlowEval(rep)}\n`,
        );
        return;
      }
      if (!o.labels)
        throw new VigilError("usage", "kitnet evaluation needs attack windows", "add --labels FILE");
      const labels = o.labels;
      const bar = progressBar("eval");
      const report = unwrap(
        await evalKitNet(capture, labels, {
          config: cfg,
          kitnet: {
            ...kitnetSettings(cfg),
            ...(o.fmGrace ? { fmGrace: o.fmGrace } : {}),
            ...(o.adGrace ? { adGrace: o.adGrace } : {}),
            ...(o.calibration ? { calibrationPackets: o.calibration } : {}),
            ...(o.far ? { falseAlarmRate: o.far } : {}),
            ...(o.continueTraining ? { continueTraining: true } : {}),
          },
          onProgress: (p) => bar.update(p),
        }),
      );
      bar.stop();
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEval(report)}\n`);
    },
  );

/** `vigil eval --model`: a supervised model on a labelled dataset, or on a capture with attack windows. */
async function evalModel(
  model: string,
  input: string,
  labels: string | undefined,
  cfg: SiteConfig,
  json: boolean | undefined,
): Promise<void> {
  if (/\.onnx$/i.test(model)) {
    if (labels)
      throw new VigilError("usage", "an ONNX model is scored on a labelled flow table", "drop --labels");
    const rep = unwrap(await evalOnnxModel(model, input));
    process.stdout.write(json ? `${supervisedJson(rep)}\n` : `${formatSupervised(rep)}\n`);
    return;
  }
  const { loaded } = unwrap(loadBundle(model));
  if (loaded.kind === "cnn") {
    const rep = unwrap(await scorePayloadModel(loaded.model, labelledCaptures([input], labels)));
    process.stdout.write(json ? `${supervisedJson(rep)}\n` : `${formatSupervised(rep)}\n`);
    return;
  }
  if (labels) {
    const bar = progressBar("eval");
    const rep = unwrap(
      await evalClassifierCapture(model, input, labels, { config: cfg, onProgress: (p) => bar.update(p) }),
    );
    bar.stop();
    process.stdout.write(json ? `${JSON.stringify(rep, null, 2)}\n` : `${formatClassifierCapture(rep)}\n`);
    return;
  }
  const rep = unwrap(await evalSupervisedModel(model, input));
  process.stdout.write(json ? `${supervisedJson(rep)}\n` : `${formatSupervised(rep)}\n`);
}

registerTrain(program);

const configCmd = program.command("config").description("Show the effective configuration");
configCmd
  .command("print")
  .description("Print every setting with its value, its source (default, file, env, flag) and its doc line")
  .option("--json", "print as JSON")
  .action((o: { json?: boolean }, cmd: Command) => {
    const g = cmd.optsWithGlobals() as GlobalOpts;
    const r = loadConfig({ file: g.config, env: process.env, sets: g.set ?? [], schema: SiteConfig });
    if (!r.ok) throw r.error;
    process.stdout.write(
      o.json
        ? `${JSON.stringify(configRows(r.value, SiteConfig), null, 2)}\n`
        : formatConfig(r.value, SiteConfig),
    );
  });

function fail(e: unknown): never {
  if (isVigilError(e)) {
    process.stderr.write(`vigil: ${e.message}\n${e.hint ? `  → ${e.hint}\n` : ""}`);
    process.exit(exitCodeFor(e.code));
  }
  process.stderr.write(
    `vigil: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n  → this is a bug in Vigil; please report it with the command you ran\n`,
  );
  process.exit(EXIT.internal);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
      process.exit(EXIT.ok);
    process.exit(e.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  fail(e);
}
