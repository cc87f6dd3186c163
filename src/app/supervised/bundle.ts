// The supervised model file `vigil train` writes: the kernel's own model document wrapped with what the
// model was trained on (dataset schema, classes, split) and how it scored on its held-out part.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import type { CategoricalFeature } from "../../learn/index.ts";
import {
  type GbdtModel,
  type GbdtModelMeta,
  loadNnModel,
  type NnModel,
  readGbdtFile,
} from "../../ml/index.ts";

export const SUPERVISED_FORMAT = "vigil.supervised";
export const SUPERVISED_FORMAT_VERSION = 1;

export type SupervisedKind = "gbdt" | "gru" | "cnn";

// A bundle holds one model document; its own loader caps the model's sizes.
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** What the model expects as input and predicts. */
export interface BundleDataset {
  /** Adapter name ("cicids2017", "vigil-flows", "unsw-nb15", "nsl-kdd") or the input kind of a deep head. */
  source: string;
  /** Dataset name or file it was trained on. */
  name: string;
  schemaHash: string;
  featureNames: string[];
  categorical: CategoricalFeature[];
  classes: string[];
  benign: number;
}

/** Headline figures on the held-out test part (the full report is printed by `vigil train`). */
export interface BundleEvaluation {
  split: string;
  /** The split itself, so `vigil eval --model` can score the same test part of the same dataset. */
  splitSpec?: {
    method: "time" | "stratified";
    fractions: { train: number; valid: number; test: number };
    seed: number;
  };
  trainRows: number;
  validRows: number;
  testRows: number;
  accuracy: number;
  macroF1: number;
  /** Attack-vs-benign ROC AUC of 1 − P(benign); NaN when the test part lacks one side. */
  rocAuc: number;
  trainSeconds: number;
}

/** A loaded supervised model. */
export type SupervisedModel =
  | { kind: "gbdt"; model: GbdtModel; meta: Required<GbdtModelMeta> }
  | { kind: "gru" | "cnn"; model: NnModel };

export interface SupervisedBundle {
  version: string;
  dataset: BundleDataset;
  evaluation: BundleEvaluation | null;
  loaded: SupervisedModel;
}

/** The version string of a bundle: kind, source and a hash of the model document. */
function versionOf(kind: SupervisedKind, source: string, modelText: string): string {
  return `${kind}/${source}/${createHash("sha256").update(modelText).digest("hex").slice(0, 12)}`;
}

/** Serialises a bundle; `modelText` is the kernel's saved model (saveGbdt / saveNnModel). */
export function saveBundle(
  kind: SupervisedKind,
  modelText: string,
  dataset: BundleDataset,
  evaluation: BundleEvaluation | null,
): { text: string; version: string } {
  const model = JSON.parse(modelText) as unknown;
  // Hash the compact form: the loader re-serialises the parsed document the same way.
  const version = versionOf(kind, dataset.source, JSON.stringify(model));
  const doc = {
    format: SUPERVISED_FORMAT,
    version: SUPERVISED_FORMAT_VERSION,
    kind,
    modelVersion: version,
    dataset,
    evaluation,
    model,
  };
  return { text: `${JSON.stringify(doc)}\n`, version };
}

function bad(path: string, why: string): Result<never, VigilError> {
  return err(
    new VigilError(
      "input.corrupt",
      `${path} is not a Vigil supervised model: ${why}`,
      "give a file written by `vigil train --out`",
    ),
  );
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads a bundle written by {@link saveBundle}; every part is checked, nothing is trusted. */
export function loadBundle(path: string): Result<SupervisedBundle, VigilError> {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_FILE_BYTES) return bad(path, `larger than ${MAX_FILE_BYTES} bytes`);
    text = buf.toString("utf8");
  } catch (e) {
    return err(new VigilError("input.not_found", `cannot read model ${path}: ${(e as Error).message}`));
  }
  return parseBundle(text, path);
}

/** Parses bundle text; `path` names it in errors. */
export function parseBundle(text: string, path = "model"): Result<SupervisedBundle, VigilError> {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    return bad(path, `not JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (!isObj(d) || d.format !== SUPERVISED_FORMAT) return bad(path, `format must be "${SUPERVISED_FORMAT}"`);
  if (d.version !== SUPERVISED_FORMAT_VERSION)
    return err(
      new VigilError(
        "input.corrupt",
        `${path}: supervised model version ${String(d.version).slice(0, 20)} is not supported (this Vigil reads ${SUPERVISED_FORMAT_VERSION})`,
        "retrain the model with this Vigil",
      ),
    );
  const ds = d.dataset;
  if (!isObj(ds)) return bad(path, "dataset missing");
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
  if (
    typeof ds.source !== "string" ||
    typeof ds.name !== "string" ||
    typeof ds.schemaHash !== "string" ||
    !strings(ds.featureNames) ||
    !strings(ds.classes) ||
    !Array.isArray(ds.categorical) ||
    !Number.isInteger(ds.benign)
  )
    return bad(path, "dataset fields are malformed");
  const classes = ds.classes as string[];
  if ((ds.benign as number) < -1 || (ds.benign as number) >= classes.length)
    return bad(path, "benign class index out of range");
  for (const c of ds.categorical as unknown[]) {
    if (!isObj(c) || !Number.isInteger(c.index) || !strings(c.levels))
      return bad(path, "categorical levels malformed");
  }
  if (!isObj(d.model)) return bad(path, "model document missing");
  const inner = JSON.stringify(d.model);
  const kind = d.kind;
  let loaded: SupervisedModel;
  if (kind === "gbdt") {
    const r = readGbdtFile(inner);
    if (!r.ok) return bad(path, r.error.message);
    loaded = { kind, model: r.value.model, meta: r.value.meta };
    if (r.value.model.classes.join("\u0000") !== classes.join("\u0000"))
      return bad(path, "model classes differ from the dataset's");
    if (r.value.model.featureNames.join("\u0000") !== (ds.featureNames as string[]).join("\u0000"))
      return bad(path, "model features differ from the dataset's");
  } else if (kind === "gru" || kind === "cnn") {
    const r = loadNnModel(inner);
    if (!r.ok) return bad(path, r.error.message);
    loaded = { kind, model: r.value };
  } else return bad(path, `unknown model kind ${String(kind).slice(0, 20)}`);
  const ev = d.evaluation;
  return ok({
    version: versionOf(kind, ds.source as string, inner),
    dataset: ds as unknown as BundleDataset,
    evaluation: isObj(ev) ? (ev as unknown as BundleEvaluation) : null,
    loaded,
  });
}
