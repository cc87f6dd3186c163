// Supervised flow classifier: a gradient-boosted tree model scores every flow record's features, names the
// attack class with its probability and ATT&CK technique, and explains it by exact TreeSHAP values.
import {
  type CompiledGbdt,
  compileGbdt,
  GbdtExplainer,
  type GbdtModel,
  marginsToProba,
  predictMargins,
} from "../../ml/index.ts";
import type { Explanation } from "../../schema/index.ts";
import { formatFlowValue } from "../iforest/index.ts";
import type { DetectorInfo, Severity, VectorDetector } from "../types.ts";
import type { FlowClassifierConfig } from "./config.ts";
import { type ClassMeaning, classMeaning } from "./techniques.ts";

export const FLOW_CLASSIFIER_INFO: DetectorInfo = {
  id: "flow.classifier",
  title: "Supervised flow classifier: known attack classes by name",
  severity: "high",
  entityKeys: ["src_host", "dest_host"],
  dedupKey: ["src_ip", "dest_ip", "dest_port"],
  suppressionS: 300,
};

/** The class decision of the last scored flow. */
export interface FlowClass {
  /** Class index into the model's classes. */
  index: number;
  name: string;
  probability: number;
  meaning: ClassMeaning;
}

/** A loaded model and the identity written into every detection. */
export interface FlowClassifierModel {
  model: GbdtModel;
  /** e.g. "gbdt/cicids2017/3f2a9c01b7de": format, training data, content hash. */
  version: string;
  /** Index of the benign class (the training data's, from the model file); −1 when there is none. */
  benign: number;
  /** Flows it was trained on (0 when unknown). */
  trainedRows?: number;
}

/**
 * The flow-classifier detector plugin. `process` takes a flow's feature vector indexed like the
 * `inputNames` given to the constructor (Vigil's CIC columns); the model's features are picked from it
 * by name, and a model feature the input lacks is missing (NaN). The score is the probability of the
 * most probable attack class; the flow is a detection when it reaches `minProbability`.
 */
export class FlowClassifierDetector implements VectorDetector {
  readonly info = FLOW_CLASSIFIER_INFO;
  readonly phase = "scoring" as const;
  readonly classes: readonly string[];
  /** Model features the input does not carry (scored as missing). */
  readonly missingFeatures: readonly string[];
  private readonly cfg: FlowClassifierConfig;
  private readonly model: GbdtModel;
  private readonly compiled: CompiledGbdt;
  private readonly version: string;
  /** Flows the model was trained on (0 when unknown). */
  readonly trainedRows: number;
  /** Input column of each model feature, −1 when absent. */
  private readonly pick: Int32Array;
  private readonly row: Float32Array;
  private readonly margins: Float64Array;
  private readonly proba: Float64Array;
  /** Index of the benign class, −1 when the model has none. */
  readonly benignClass: number;
  private readonly meanings: ClassMeaning[];
  private explainer: GbdtExplainer | null = null;
  private shapOut: Float64Array | null = null;
  private last: FlowClass | null = null;

  constructor(cfg: FlowClassifierConfig, m: FlowClassifierModel, inputNames: readonly string[]) {
    this.cfg = cfg;
    this.model = m.model;
    this.version = m.version;
    this.trainedRows = m.trainedRows ?? 0;
    this.compiled = compileGbdt(m.model);
    this.classes = m.model.classes;
    const at = new Map(inputNames.map((n, i) => [n, i]));
    this.pick = Int32Array.from(m.model.featureNames, (n) => at.get(n) ?? -1);
    this.missingFeatures = m.model.featureNames.filter((_, j) => this.pick[j]! < 0);
    this.row = new Float32Array(m.model.featureNames.length);
    this.margins = new Float64Array(m.model.outputs);
    this.proba = new Float64Array(this.classes.length);
    this.benignClass = m.benign;
    this.meanings = this.classes.map((c) => classMeaning(c, cfg.classes));
  }

  /** Probability threshold of a detection. */
  get threshold(): number {
    return this.cfg.minProbability;
  }

  /** Class probabilities of the last scored flow (indexed like `classes`). */
  get probabilities(): Float64Array {
    return this.proba;
  }

  /** The most probable attack class of the last scored flow. */
  get lastClass(): FlowClass | null {
    return this.last;
  }

  /** Scores one flow: the probability of its most probable attack class (0 when the model has none). */
  process(x: Float64Array, _tsUs: number): number {
    const { pick, row } = this;
    for (let j = 0; j < pick.length; j++) {
      const c = pick[j]!;
      row[j] = c < 0 ? Number.NaN : (x[c] ?? Number.NaN);
    }
    predictMargins(this.compiled, row, 1, this.margins);
    marginsToProba(this.margins, 1, this.compiled.outputs, this.proba);
    let best = -1;
    for (let k = 0; k < this.proba.length; k++) {
      if (k === this.benignClass) continue;
      if (best < 0 || this.proba[k]! > this.proba[best]!) best = k;
    }
    if (best < 0) {
      this.last = null;
      return 0;
    }
    const p = this.proba[best]!;
    this.last = { index: best, name: this.classes[best]!, probability: p, meaning: this.meanings[best]! };
    return p;
  }

  /** What a class of this model means (technique, severity). */
  meaningOf(className: string): ClassMeaning {
    const k = this.classes.indexOf(className);
    return k >= 0 ? this.meanings[k]! : classMeaning(className, this.cfg.classes);
  }

  /** Severity of a detection of the last scored flow's class. */
  severity(): Severity {
    return this.last?.meaning.severity ?? this.info.severity;
  }

  /**
   * Why the last scored flow got its class: exact TreeSHAP values of the class's margin (the binary
   * margin for a two-class model), the features with the largest |value| first. `x` must be that flow.
   */
  explain(x: Float64Array, score: number, topK: number): Explanation {
    const cls = this.last;
    if (cls === null) return { summary: "No attack class in the model", features: [] };
    this.explainer ??= new GbdtExplainer(this.model);
    const ex = this.explainer;
    this.shapOut ??= new Float64Array(ex.outputs * (ex.cols + 1));
    // Binary: the one margin is the positive class's (index 1); for class 0 its sign flips.
    const k = ex.outputs === 1 ? 0 : cls.index;
    // Only the explained class's trees: 1/outputs of the work of all classes' values.
    const out = ex.shap(this.row, 0, this.shapOut, k);
    const sign = ex.outputs === 1 && cls.index === 0 ? -1 : 1;
    const base = k * (ex.cols + 1);
    const names = this.model.featureNames;
    const order = Array.from({ length: ex.cols }, (_, j) => j)
      .filter((j) => out[base + j] !== 0)
      .sort((a, b) => Math.abs(out[base + b]!) - Math.abs(out[base + a]!) || a - b)
      .slice(0, Math.min(topK, 32));
    const features: Explanation["features"] = order.map((j) => {
      const name = names[j]!;
      const v = this.pick[j]! < 0 ? Number.NaN : (x[this.pick[j]!] ?? Number.NaN);
      const phi = sign * out[base + j]!;
      const reads = Number.isFinite(v) ? `${name} = ${formatFlowValue(name, v)}` : `${name} missing`;
      return {
        name,
        ...(Number.isFinite(v) ? { value: v } : {}),
        contribution: phi,
        text: `${reads} ${phi > 0 ? "raises" : "lowers"} the ${cls.name} log-odds by ${Math.abs(phi).toPrecision(3)}`,
      };
    });
    const m = cls.meaning;
    const tech = m.technique ? `, ATT&CK ${m.technique}${m.techniqueName ? ` ${m.techniqueName}` : ""}` : "";
    const top = features[0] ? `; mostly because ${features[0].text}` : "";
    return {
      summary: `Classified as ${cls.name} with probability ${score.toFixed(3)} (threshold ${this.cfg.minProbability}${tech})${top}`,
      features,
    };
  }

  modelVersion(): string {
    return this.version;
  }
}
