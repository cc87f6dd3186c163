// GbdtModel → ONNX: one ai.onnx.ml TreeEnsembleClassifier taking Vigil's float32 decisions (BRANCH_LEQ, NaN by defaultLeft).
import { VigilError } from "../../core/index.ts";
import type { GbdtModel, GbdtTree } from "../gbdt/model.ts";
import { EXPORT_VERSION, META } from "./metadata.ts";
import {
  attrFloats,
  attrInts,
  attrString,
  attrStrings,
  ELEM,
  encodeModel,
  ML_DOMAIN,
  node,
  OPSET_ML,
  tensorInfo,
} from "./proto.ts";

/** What every Vigil ONNX export may carry besides the model itself. */
export interface OnnxExportOptions {
  /** Stored as metadata `vigil.model_version` (e.g. the model registry's version). */
  modelVersion?: string;
  /** ModelProto producer_version (Vigil's version). */
  producerVersion?: string;
  /** ModelProto doc_string. */
  docString?: string;
}

/** Graph input and output names of every Vigil classifier export. */
export const ONNX_INPUT = "input";
export const ONNX_LABEL = "label";
export const ONNX_PROBABILITIES = "probabilities";

function bad(message: string): never {
  throw new VigilError("internal", `GBDT model cannot be exported: ${message}`);
}

/** Every node reachable once from the root, children in range, arrays of one length. */
function checkTree(tree: GbdtTree, t: number, features: number): void {
  const n = tree.feature.length;
  if (n === 0) bad(`tree ${t} has no nodes`);
  for (const [name, arr] of Object.entries(tree)) {
    if ((arr as ArrayLike<number>).length !== n)
      bad(`tree ${t}: ${name} has ${arr.length} entries, feature has ${n}`);
  }
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen[i]) bad(`tree ${t}: node ${i} is reached twice (not a tree)`);
    seen[i] = 1;
    const f = tree.feature[i];
    if (f < 0) continue;
    if (f >= features) bad(`tree ${t}: node ${i} splits on feature ${f}, the model has ${features}`);
    for (const c of [tree.left[i], tree.right[i]]) {
      if (!(c >= 0 && c < n)) bad(`tree ${t}: node ${i} has child ${c} outside 0..${n - 1}`);
      stack.push(c);
    }
  }
}

function checkModel(m: GbdtModel): void {
  const c = m.classes.length;
  if (m.objective === "binary" && (c !== 2 || m.outputs !== 1))
    bad("a binary model has 2 classes and 1 output");
  if (m.objective === "multiclass" && (c < 2 || m.outputs !== c))
    bad("a multiclass model has one output per class");
  if (m.baseScore.length !== m.outputs)
    bad(`baseScore has ${m.baseScore.length} entries for ${m.outputs} outputs`);
  if (m.trees.length % m.outputs !== 0) bad(`${m.trees.length} trees is not whole rounds of ${m.outputs}`);
  if (m.featureNames.length === 0) bad("no features");
  for (let t = 0; t < m.trees.length; t++) checkTree(m.trees[t], t, m.featureNames.length);
}

/**
 * Serialises a GBDT as an ONNX model (IR 8, opsets ai.onnx 15 and ai.onnx.ml 3).
 *
 * Input `input` float [N, F]; outputs `label` int64 [N] (class index) and `probabilities` float [N, C]
 * (no ZipMap). Two-class models use the single-score form onnxruntime turns into both class
 * probabilities (class_ids 0, LOGISTIC); more classes use SOFTMAX. Thresholds are the model's float32
 * values, so splits match Vigil's exactly; leaf values and sums are float32 in onnxruntime.
 * Throws VigilError("internal") for an inconsistent model (a bug upstream).
 */
export function exportGbdtOnnx(model: GbdtModel, options: OnnxExportOptions = {}): Uint8Array {
  checkModel(model);
  const classes = model.classes.length;
  const features = model.featureNames.length;
  const twoClass = classes === 2;
  const n = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    missingTrue: [] as number[],
  };
  const leaf = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    classIds: [] as number[],
    weights: [] as number[],
  };
  const addLeaf = (t: number, i: number, classId: number, weight: number): void => {
    n.treeIds.push(t);
    n.nodeIds.push(i);
    n.featureIds.push(0);
    n.modes.push("LEAF");
    n.values.push(0);
    n.trueIds.push(0);
    n.falseIds.push(0);
    n.missingTrue.push(0);
    leaf.treeIds.push(t);
    leaf.nodeIds.push(i);
    leaf.classIds.push(classId);
    leaf.weights.push(weight);
  };
  model.trees.forEach((tree, t) => {
    const k = t % model.outputs;
    // A two-class softmax is a logistic on the margin difference: class 1 trees add, class 0 trees subtract.
    const sign = twoClass && model.objective === "multiclass" && k === 0 ? -1 : 1;
    const classId = twoClass ? 0 : k;
    for (let i = 0; i < tree.feature.length; i++) {
      if (tree.feature[i] < 0) {
        addLeaf(t, i, classId, sign * tree.value[i]);
        continue;
      }
      n.treeIds.push(t);
      n.nodeIds.push(i);
      n.featureIds.push(tree.feature[i]);
      n.modes.push("BRANCH_LEQ");
      n.values.push(tree.threshold[i]);
      n.trueIds.push(tree.left[i]);
      n.falseIds.push(tree.right[i]);
      n.missingTrue.push(tree.defaultLeft[i] ? 1 : 0);
    }
  });
  // A model of zero rounds still needs one leaf per score for onnxruntime: weight 0 changes nothing.
  if (model.trees.length === 0) {
    for (let k = 0; k < (twoClass ? 1 : classes); k++) addLeaf(k, 0, k, 0);
  }
  const base = twoClass
    ? [model.objective === "binary" ? model.baseScore[0] : model.baseScore[1] - model.baseScore[0]]
    : Array.from(model.baseScore);

  const tec = node(
    "TreeEnsembleClassifier",
    [ONNX_INPUT],
    [ONNX_LABEL, ONNX_PROBABILITIES],
    [
      attrInts(
        "classlabels_int64s",
        model.classes.map((_, i) => i),
      ),
      attrInts("nodes_treeids", n.treeIds),
      attrInts("nodes_nodeids", n.nodeIds),
      attrInts("nodes_featureids", n.featureIds),
      attrStrings("nodes_modes", n.modes),
      attrFloats("nodes_values", n.values),
      attrInts("nodes_truenodeids", n.trueIds),
      attrInts("nodes_falsenodeids", n.falseIds),
      attrInts("nodes_missing_value_tracks_true", n.missingTrue),
      attrInts("class_treeids", leaf.treeIds),
      attrInts("class_nodeids", leaf.nodeIds),
      attrInts("class_ids", leaf.classIds),
      attrFloats("class_weights", leaf.weights),
      attrFloats("base_values", base),
      attrString("post_transform", twoClass ? "LOGISTIC" : "SOFTMAX"),
    ],
    ML_DOMAIN,
  );
  const metadata: Record<string, string> = {
    [META.kind]: "gbdt",
    [META.exportVersion]: EXPORT_VERSION,
    [META.featureNames]: JSON.stringify(model.featureNames),
    [META.classes]: JSON.stringify(model.classes),
  };
  if (options.modelVersion !== undefined) metadata[META.modelVersion] = options.modelVersion;
  return encodeModel({
    graph: {
      name: "vigil_gbdt",
      node: [tec],
      input: [tensorInfo(ONNX_INPUT, ELEM.float, ["N", features])],
      output: [
        tensorInfo(ONNX_LABEL, ELEM.int64, ["N"]),
        tensorInfo(ONNX_PROBABILITIES, ELEM.float, ["N", classes]),
      ],
    },
    extraOpsets: { [ML_DOMAIN]: OPSET_ML },
    metadata,
    docString: options.docString,
    producerVersion: options.producerVersion,
  });
}
