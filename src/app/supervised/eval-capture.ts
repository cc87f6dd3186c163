// `vigil eval --model <file> <capture> -l labels.csv`: a supervised flow classifier trained elsewhere
// (e.g. on CIC-IDS2017) scores Vigil's own flow records of a labelled capture: does it transfer?
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { type BinaryMetrics, binaryMetrics } from "../../ml/index.ts";
import type { VigilConfig } from "../../schema/index.ts";
import { readLabelledCapture } from "../eval-capture-flows.ts";
import { BENIGN } from "../labels.ts";
import { loadFlowClassifier } from "./classifier.ts";

/** Per lab attack type (and benign): how many flows the classifier flagged, and as which classes. */
export interface ClassifierTypeResult {
  type: string;
  flows: number;
  /** Flows whose most probable attack class reached the probability threshold. */
  flagged: number;
  /** flagged / flows: recall for attack types, false-alarm rate for benign. */
  share: number;
  /** The classes those flows were flagged as, most frequent first (at most 4). */
  asClasses: { name: string; technique: string | null; flows: number }[];
}

export interface ClassifierCaptureReport {
  detector: "flow.classifier";
  modelVersion: string;
  input: string;
  labels: string;
  threshold: number;
  flows: number;
  /** Attack (any lab type) vs benign with the score 1 − P(benign class). */
  attack: BinaryMetrics;
  types: ClassifierTypeResult[];
  elapsedS: number;
}

/** Scores every flow record of a labelled capture with a saved flow classifier. */
export async function evalClassifierCapture(
  modelPath: string,
  input: string,
  labelsPath: string,
  opts: {
    config: VigilConfig;
    minProbability?: number;
    onProgress?: (p: { bytesRead: number; totalBytes: number | null }) => void;
  },
): Promise<Result<ClassifierCaptureReport, VigilError>> {
  const t0 = performance.now();
  const det = loadFlowClassifier(
    modelPath,
    opts.minProbability ? { minProbability: opts.minProbability } : {},
  );
  if (!det.ok) return det;
  const d = det.value;
  const benign = d.benignClass;
  if (benign < 0)
    return err(
      new VigilError("usage", `${modelPath} has no benign class`, "train on data with benign flows"),
    );
  const read = await readLabelledCapture(input, labelsPath, {
    config: opts.config,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  if (!read.ok) return read;
  const { flows } = read.value;
  const truth = new Int32Array(flows.length);
  const score = new Float64Array(flows.length);
  const byType = new Map<string, { flows: number; flagged: number; as: Map<string, number> }>();
  flows.forEach((f, i) => {
    const p = d.process(f.cic, f.startUs);
    truth[i] = f.type === BENIGN ? 0 : 1;
    score[i] = 1 - d.probabilities[benign]!;
    const t = byType.get(f.type) ?? { flows: 0, flagged: 0, as: new Map<string, number>() };
    byType.set(f.type, t);
    t.flows++;
    const cls = d.lastClass;
    if (cls !== null && p >= d.threshold) {
      t.flagged++;
      t.as.set(cls.name, (t.as.get(cls.name) ?? 0) + 1);
    }
  });
  const types: ClassifierTypeResult[] = [...byType]
    .map(([type, t]) => ({
      type,
      flows: t.flows,
      flagged: t.flagged,
      share: t.flows > 0 ? t.flagged / t.flows : 0,
      asClasses: [...t.as]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 4)
        .map(([name, n]) => ({ name, technique: d.meaningOf(name).technique ?? null, flows: n })),
    }))
    .sort((a, b) => (a.type === BENIGN ? -1 : b.type === BENIGN ? 1 : a.type < b.type ? -1 : 1));
  return ok({
    detector: "flow.classifier",
    modelVersion: d.modelVersion(),
    input,
    labels: labelsPath,
    threshold: d.threshold,
    flows: flows.length,
    attack: binaryMetrics(truth, score, { negative: 0, threshold: d.threshold }),
    types,
    elapsedS: (performance.now() - t0) / 1000,
  });
}
