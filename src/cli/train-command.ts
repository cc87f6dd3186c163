// `vigil train`: trains a supervised model (GBDT, GRU, CNN) on a labelled dataset and reports on its
// held-out part; `--out` writes the model file that `vigil analyze` and `vigil eval --model` load.
import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import {
  datasetBundleInfo,
  exportOnnx,
  type LabelledCapture,
  loadNamedDataset,
  NAMED_DATASETS,
  nnBundle,
  parseBundle,
  payloadBundleInfo,
  type SupervisedReport,
  trainGbdtClassifier,
  trainPayloadModel,
  trainSequenceModel,
} from "../app/index.ts";
import { VigilError } from "../core/index.ts";
import { formatSupervised, supervisedJson } from "./format-supervised.ts";
import { countBar } from "./progress.ts";

interface TrainOpts {
  dataset?: string;
  capture: string[];
  labels?: string;
  model: "gbdt" | "gru" | "cnn";
  split?: "time" | "stratified";
  out?: string;
  seed: number;
  rounds?: number;
  learningRate?: number;
  leaves?: number;
  depth?: number;
  growth?: "leaf" | "depth";
  classWeight?: "balanced" | "none";
  epochs?: number;
  steps?: number;
  allFeatures?: boolean;
  onnx?: string;
  json?: boolean;
}

function num(flag: string, min: number, max: number, integer: boolean): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x)))
      throw new VigilError(
        "usage",
        `${flag} needs ${integer ? "an integer" : "a number"} in ${min}..${max}, got "${v}"`,
      );
    return x;
  };
}

/** Writes the model file (--out) and its ONNX export (--onnx) and says so. */
function writeModel(o: TrainOpts, bundle: string, version: string, extra: string[]): void {
  if (o.out) {
    writeFileSync(o.out, bundle);
    extra.push(`  model written to ${o.out} (${version})`);
  }
  if (o.onnx) {
    const b = parseBundle(bundle);
    if (!b.ok) throw b.error;
    writeFileSync(o.onnx, exportOnnx(b.value.loaded, version));
    extra.push(`  ONNX export written to ${o.onnx}`);
  }
}

function print(r: SupervisedReport, json: boolean | undefined, extra: string[]): void {
  process.stdout.write(
    json
      ? `${supervisedJson(r)}\n`
      : `${formatSupervised(r)}\n${extra.join("\n")}${extra.length ? "\n" : ""}`,
  );
}

/** Registers `vigil train` on the program. */
export function registerTrain(program: Command): void {
  program
    .command("train")
    .description(
      "Train a supervised model on a labelled dataset; report on its held-out part; save it with --out",
    )
    .option(
      "-d, --dataset <name|path>",
      `a named dataset (${NAMED_DATASETS.map((d) => d.name).join(", ")}) or a labelled flow table (CIC-IDS2017, vigil flows --schema cic with a Label column, UNSW-NB15, NSL-KDD)`,
    )
    .addOption(
      new Option(
        "-m, --model <kind>",
        "gbdt: gradient-boosted trees on flow features; gru: GRU over a host's recent flows; cnn: 1-D CNN over each flow's first packets and payload bytes (captures)",
      )
        .choices(["gbdt", "gru", "cnn"])
        .default("gbdt"),
    )
    .addOption(
      new Option(
        "--split <method>",
        "time: earliest flows of each class train, the latest test (default where the data has times); stratified: at random per class",
      ).choices(["time", "stratified"]),
    )
    .option(
      "-c, --capture <file[=class]>",
      "cnn: a capture to train on (repeatable); FILE=CLASS labels every flow of an attack-only capture, otherwise --labels gives its attack windows",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("-l, --labels <file>", "cnn: attack windows of the captures without =CLASS (lab format)")
    .option(
      "-o, --out <file>",
      "write the trained model here (vigil analyze --set detectors.classifier.model=FILE; vigil eval --model FILE)",
    )
    .option(
      "--seed <n>",
      "seed of the split, sampling and initialisation",
      num("--seed", 0, 2 ** 31 - 1, true),
      1,
    )
    .option("--rounds <n>", "gbdt: boosting rounds at most (default 200)", num("--rounds", 1, 100_000, true))
    .option("--learning-rate <r>", "gbdt: shrinkage (default 0.1)", num("--learning-rate", 1e-6, 1, false))
    .option("--leaves <n>", "gbdt: leaves per tree at most (default 31)", num("--leaves", 2, 65_536, true))
    .option(
      "--depth <n>",
      "gbdt: depth limit (default none for leaf-wise, 6 for depth-wise)",
      num("--depth", 1, 64, true),
    )
    .addOption(
      new Option("--growth <g>", "gbdt: leaf-wise (LightGBM) or depth-wise (XGBoost) trees").choices([
        "leaf",
        "depth",
      ]),
    )
    .addOption(
      new Option("--class-weight <w>", "gbdt: weight rare classes up (balanced) or not").choices([
        "balanced",
        "none",
      ]),
    )
    .option(
      "--epochs <n>",
      "gru, cnn: training epochs at most (default 30)",
      num("--epochs", 1, 10_000, true),
    )
    .option("--steps <n>", "gru: flows per sequence (default 16)", num("--steps", 1, 256, true))
    .option(
      "--onnx <file>",
      "also write the trained model as ONNX (runs in onnxruntime, scikit-learn tooling, …)",
    )
    .option(
      "--all-features",
      "CIC data: keep the 12 columns that depend on CICFlowMeter's quirks (docs/flows.md); by default they are left out so the model scores Vigil's flows",
    )
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  vigil train -d cicids2017 -o cic-gbdt.json          # 16 classes, time split within class\n  vigil train -d unsw-nb15 --split stratified\n  vigil train -d cicids2017 -m gru --epochs 10\n  vigil train -m cnn -c lab.pcap.gz -l labels.csv -c syn-flood.pcap=syn_flood\nIdentifier columns (addresses, ports, flow ids, timestamps) are never features: models would learn the lab, not the attack.",
    )
    .action(async (o: TrainOpts) => {
      const extra: string[] = [];
      if (o.model === "cnn") {
        await trainCnn(o, extra);
        return;
      }
      if (!o.dataset)
        throw new VigilError(
          "usage",
          `--model ${o.model} trains on a labelled flow table`,
          "add --dataset NAME|FILE",
        );
      if (o.model === "gbdt") {
        const bar = countBar("boosting");
        const r = trainGbdtClassifier({
          dataset: o.dataset,
          seed: o.seed,
          ...(o.split ? { split: o.split } : {}),
          ...(o.allFeatures ? { allFeatures: true } : {}),
          gbdt: {
            ...(o.rounds ? { rounds: o.rounds } : {}),
            ...(o.learningRate ? { learningRate: o.learningRate } : {}),
            ...(o.leaves ? { maxLeaves: o.leaves } : {}),
            ...(o.depth ? { maxDepth: o.depth } : {}),
            ...(o.growth ? { growth: o.growth } : {}),
            ...(o.classWeight === "balanced" ? { classWeight: "balanced" as const } : {}),
          },
          onProgress: (p) =>
            bar.update(
              p.round,
              p.rounds,
              `loss ${p.trainLoss.toFixed(4)}${p.validLoss !== null ? ` / valid ${p.validLoss.toFixed(4)}` : ""}`,
            ),
        });
        bar.stop();
        if (!r.ok) throw r.error;
        writeModel(o, r.value.bundle, r.value.modelVersion, extra);
        print(r.value.report, o.json, extra);
        return;
      }
      if (o.model === "gru") {
        const l = loadNamedDataset(o.dataset, { allFeatures: o.allFeatures ?? false });
        if (!l.ok) throw l.error;
        const bar = countBar("epochs");
        const epochs = o.epochs ?? 30;
        const r = await trainSequenceModel(
          l.value.ds,
          {
            seed: o.seed,
            ...(o.steps ? { steps: o.steps } : {}),
            ...(o.epochs ? { fit: { maxEpochs: o.epochs } } : {}),
          },
          (p) => bar.update(p.epoch, epochs, `loss ${p.trainLoss.toFixed(4)}`),
        );
        bar.stop();
        if (!r.ok) throw r.error;
        if (o.out) {
          const saved = nnBundle(
            "gru",
            r.value.model,
            datasetBundleInfo(l.value.ds, l.value.name),
            r.value.report,
          );
          writeFileSync(o.out, saved.text);
          extra.push(`  model written to ${o.out} (${saved.version})`);
        }
        print(r.value.report, o.json, extra);
        return;
      }
      throw new VigilError("usage", `unknown model ${o.model}`);
    });
}

/** The labelled captures of `--capture FILE[=CLASS]` and `--labels`. */
export function labelledCaptures(captures: readonly string[], labels: string | undefined): LabelledCapture[] {
  return captures.map((c) => {
    const eq = c.lastIndexOf("=");
    if (eq > 0) return { path: c.slice(0, eq), labels: { every: c.slice(eq + 1) } };
    if (!labels)
      throw new VigilError(
        "usage",
        `${c} has no labels`,
        "add --labels WINDOWS.csv, or write FILE=CLASS for an attack-only capture",
      );
    return { path: c, labels: { windows: labels } };
  });
}

async function trainCnn(o: TrainOpts, extra: string[]): Promise<void> {
  if (o.capture.length === 0)
    throw new VigilError(
      "usage",
      "the payload CNN trains on captures",
      "add --capture FILE (with --labels) or --capture FILE=CLASS",
    );
  const captures = labelledCaptures(o.capture, o.labels);
  const bar = countBar("epochs");
  const epochs = o.epochs ?? 30;
  const r = await trainPayloadModel(
    captures,
    { seed: o.seed, ...(o.epochs ? { fit: { maxEpochs: o.epochs } } : {}) },
    (p) => bar.update(p.epoch, epochs, `loss ${p.trainLoss.toFixed(4)}`),
  );
  bar.stop();
  if (!r.ok) throw r.error;
  const info = payloadBundleInfo(r.value.model, captures.map((c) => c.path).join(", "));
  const saved = nnBundle("cnn", r.value.model, info, r.value.report);
  writeModel(o, saved.text, saved.version, extra);
  print(r.value.report, o.json, extra);
}
