// `npx tsx scripts/onnx-fixtures.ts`: writes test/fixtures/onnx/, small classifiers laid out as skl2onnx, onnxmltools and torch.onnx emit them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRng } from "../src/core/index.ts";
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  attrStrings,
  ELEM,
  encodeModel,
  ML_DOMAIN,
  type NodeProto,
  node,
  type TensorProto,
  tensor,
  tensorInfo,
  type ValueInfoProto,
} from "../src/ml/onnx/proto.ts";

/** A linear model: scores = coefficients · x + intercepts (one row per score). */
export interface LinearParams {
  classes: (number | string)[];
  features: number;
  coefficients: number[];
  intercepts: number[];
}

/** One tree in flat form; children of node i at left[i]/right[i]; leaf[i] holds per-score weights. */
export interface TreeParams {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  missingLeft: number[];
  leaf: number[][];
}

/** A tree ensemble: scores[k] = base[k] + Σ weights of the reached leaves for k. */
export interface EnsembleParams {
  classes: (number | string)[];
  features: number;
  /** "LEQ": x <= thr goes left (scikit-learn); "LT": x < thr goes left (XGBoost). */
  mode: "LEQ" | "LT";
  trees: TreeParams[];
  /** Score index each tree's single leaf weight adds to (XGBoost); undefined when leaves carry all scores. */
  treeClass: number[] | undefined;
  base: number[];
}

/** A two-layer perceptron: logits = W2 · relu(W1 · x + b1) + b2 (weights row-major [out, in], as torch). */
export interface MlpParams {
  features: number;
  hidden: number;
  outputs: number;
  w1: number[];
  b1: number[];
  w2: number[];
  b2: number[];
}

/** A 1-D CNN: Conv1d(channels → filters, kernel) → ReLU → global max → Linear(filters → outputs). */
export interface CnnParams {
  channels: number;
  length: number;
  filters: number;
  kernel: number;
  outputs: number;
  /** [filters, channels, kernel]. */
  conv: number[];
  convBias: number[];
  /** [outputs, filters]. */
  fc: number[];
  fcBias: number[];
}

export interface OnnxFixtureParams {
  sklLogregZipmap: LinearParams;
  sklLogregBinaryNoZipmap: LinearParams;
  sklForestZipmap: EnsembleParams;
  xgbBinary: EnsembleParams;
  xgbMulticlass: EnsembleParams;
  torchMlp: MlpParams;
  torchSigmoidFixedBatch: MlpParams;
  torchCnnLogSoftmax: CnnParams;
}

/** A float32 value with three decimals, readable in params.json and exact in the model. */
function q(v: number): number {
  return Math.fround(Math.round(v * 1000) / 1000);
}

function values(next: () => number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => q((next() * 2 - 1) * scale));
}

/** A complete tree of `depth` levels in breadth-first order (children of i at 2i+1, 2i+2). */
function tree(
  next: () => number,
  depth: number,
  features: number,
  leafWidth: number,
  leafFn: () => number[],
): TreeParams {
  const count = 2 ** (depth + 1) - 1;
  const t: TreeParams = { feature: [], threshold: [], left: [], right: [], missingLeft: [], leaf: [] };
  for (let i = 0; i < count; i++) {
    const inner = 2 * i + 1 < count;
    t.feature.push(inner ? Math.floor(next() * features) : -1);
    t.threshold.push(inner ? q(next() * 2 - 1) : 0);
    t.left.push(inner ? 2 * i + 1 : -1);
    t.right.push(inner ? 2 * i + 2 : -1);
    t.missingLeft.push(inner && next() < 0.5 ? 1 : 0);
    t.leaf.push(inner ? [] : leafFn().slice(0, leafWidth));
  }
  return t;
}

/** TreeEnsembleClassifier attributes of an ensemble (without post_transform and class labels). */
function ensembleAttrs(p: EnsembleParams, missing: boolean) {
  const a = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    missingTrue: [] as number[],
    cTree: [] as number[],
    cNode: [] as number[],
    cId: [] as number[],
    cW: [] as number[],
  };
  p.trees.forEach((t, ti) => {
    for (let i = 0; i < t.feature.length; i++) {
      const inner = t.feature[i] >= 0;
      a.treeIds.push(ti);
      a.nodeIds.push(i);
      a.featureIds.push(inner ? t.feature[i] : 0);
      a.modes.push(inner ? (p.mode === "LEQ" ? "BRANCH_LEQ" : "BRANCH_LT") : "LEAF");
      a.values.push(inner ? t.threshold[i] : 0);
      a.trueIds.push(inner ? t.left[i] : 0);
      a.falseIds.push(inner ? t.right[i] : 0);
      a.missingTrue.push(t.missingLeft[i]);
      if (inner) continue;
      t.leaf[i].forEach((w, k) => {
        a.cTree.push(ti);
        a.cNode.push(i);
        a.cId.push(p.treeClass ? p.treeClass[ti] : k);
        a.cW.push(w);
      });
    }
  });
  return [
    attrInts("nodes_treeids", a.treeIds),
    attrInts("nodes_nodeids", a.nodeIds),
    attrInts("nodes_featureids", a.featureIds),
    attrStrings("nodes_modes", a.modes),
    attrFloats("nodes_values", a.values),
    attrInts("nodes_truenodeids", a.trueIds),
    attrInts("nodes_falsenodeids", a.falseIds),
    ...(missing ? [attrInts("nodes_missing_value_tracks_true", a.missingTrue)] : []),
    attrInts("class_treeids", a.cTree),
    attrInts("class_nodeids", a.cNode),
    attrInts("class_ids", a.cId),
    attrFloats("class_weights", a.cW),
  ];
}

function classLabelAttr(name: "ints" | "int64s" | "strings", classes: (number | string)[]) {
  return name === "strings"
    ? attrStrings("classlabels_strings", classes.map(String))
    : attrInts(`classlabels_${name}`, classes as number[]);
}

interface Graph {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
}

function model(g: Graph, producer: [string, string], opset: number, mlOpset: number | undefined): Uint8Array {
  return encodeModel({
    graph: {
      name: producer[0],
      node: g.nodes,
      input: g.inputs,
      output: g.outputs,
      initializer: g.initializers ?? [],
    },
    extraOpsets: mlOpset === undefined ? {} : { [ML_DOMAIN]: mlOpset },
    metadata: {},
    producerName: producer[0],
    producerVersion: producer[1],
    opset,
  });
}

// skl2onnx writes probabilities as seq(map(key, float)) when ZipMap is on.
function zipmapType(name: string, key: number): ValueInfoProto {
  return {
    name,
    type: {
      sequenceType: {
        elemType: { mapType: { keyType: key, valueType: { tensorType: { elemType: ELEM.float } } } },
      },
    },
  };
}

const SKL: [string, string] = ["skl2onnx", "1.16.0"];
const XGB: [string, string] = ["OnnxMLTools", "1.12.0"];
const TORCH: [string, string] = ["pytorch", "2.3.0"];

/** The fixtures' bytes by file name, and the parameters they were built from. */
export function buildOnnxFixtures(): { files: Record<string, Uint8Array>; params: OnnxFixtureParams } {
  const r = seededRng(20261124);
  const next = r.next;
  const files: Record<string, Uint8Array> = {};

  // LogisticRegression (multinomial), classes 10/12/14, ZipMap on: skl2onnx's default classifier layout.
  const logreg: LinearParams = {
    classes: [10, 12, 14],
    features: 4,
    coefficients: values(next, 12, 2),
    intercepts: values(next, 3),
  };
  files["skl2onnx-logreg-zipmap.onnx"] = model(
    {
      nodes: [
        node(
          "LinearClassifier",
          ["float_input"],
          ["label", "probability_tensor"],
          [
            classLabelAttr("ints", logreg.classes),
            attrFloats("coefficients", logreg.coefficients),
            attrFloats("intercepts", logreg.intercepts),
            attrInt("multi_class", 1),
            attrString("post_transform", "SOFTMAX"),
          ],
          ML_DOMAIN,
        ),
        node("Cast", ["label"], ["output_label"], [attrInt("to", ELEM.int64)]),
        node("Normalizer", ["probability_tensor"], ["probabilities"], [attrString("norm", "L1")], ML_DOMAIN),
        node(
          "ZipMap",
          ["probabilities"],
          ["output_probability"],
          [classLabelAttr("int64s", logreg.classes)],
          ML_DOMAIN,
        ),
      ],
      inputs: [tensorInfo("float_input", ELEM.float, [null, 4])],
      outputs: [tensorInfo("output_label", ELEM.int64, [null]), zipmapType("output_probability", ELEM.int64)],
    },
    SKL,
    15,
    1,
  );

  // Binary LogisticRegression with zipmap=False: one coefficient row, LOGISTIC, a plain [N, 2] tensor.
  const logreg2: LinearParams = {
    classes: [0, 1],
    features: 4,
    coefficients: values(next, 4, 2),
    intercepts: values(next, 1),
  };
  files["skl2onnx-logreg-binary-nozipmap.onnx"] = model(
    {
      nodes: [
        node(
          "LinearClassifier",
          ["float_input"],
          ["label_raw", "probability_tensor"],
          [
            classLabelAttr("ints", logreg2.classes),
            attrFloats("coefficients", logreg2.coefficients),
            attrFloats("intercepts", logreg2.intercepts),
            attrString("post_transform", "LOGISTIC"),
          ],
          ML_DOMAIN,
        ),
        node("Cast", ["label_raw"], ["label"], [attrInt("to", ELEM.int64)]),
        node("Normalizer", ["probability_tensor"], ["probabilities"], [attrString("norm", "L1")], ML_DOMAIN),
      ],
      inputs: [tensorInfo("float_input", ELEM.float, [null, 4])],
      outputs: [tensorInfo("label", ELEM.int64, [null]), tensorInfo("probabilities", ELEM.float, [null, 2])],
    },
    SKL,
    15,
    1,
  );

  // RandomForestClassifier with string classes: leaf class frequencies / n_trees summed, ZipMap on string keys.
  const forestTrees = 3;
  const leafDistribution = () => {
    const raw = [next(), next(), next()];
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => q(v / sum / forestTrees));
  };
  const forest: EnsembleParams = {
    classes: ["benign", "dos", "scan"],
    features: 3,
    mode: "LEQ",
    // No nodes_missing_value_tracks_true (older skl2onnx): NaN fails `x <= thr` and goes right.
    trees: Array.from({ length: forestTrees }, () => {
      const t = tree(next, 2, 3, 3, leafDistribution);
      t.missingLeft.fill(0);
      return t;
    }),
    treeClass: undefined,
    base: [0, 0, 0],
  };
  files["skl2onnx-forest-strings-zipmap.onnx"] = model(
    {
      nodes: [
        node(
          "TreeEnsembleClassifier",
          ["input"],
          ["label", "probabilities"],
          [
            classLabelAttr("strings", forest.classes),
            ...ensembleAttrs(forest, false),
            attrString("post_transform", "NONE"),
          ],
          ML_DOMAIN,
        ),
        node("Identity", ["label"], ["output_label"]),
        node(
          "ZipMap",
          ["probabilities"],
          ["output_probability"],
          [classLabelAttr("strings", forest.classes)],
          ML_DOMAIN,
        ),
      ],
      inputs: [tensorInfo("input", ELEM.float, [null, 3])],
      outputs: [
        tensorInfo("output_label", ELEM.string, [null]),
        zipmapType("output_probability", ELEM.string),
      ],
    },
    SKL,
    15,
    1,
  );

  // XGBClassifier binary:logistic via onnxmltools: BRANCH_LT, one weight per leaf on class 0, LOGISTIC,
  // base_values = logit(base_score).
  const xgb2: EnsembleParams = {
    classes: [0, 1],
    features: 3,
    mode: "LT",
    trees: Array.from({ length: 4 }, () => tree(next, 2, 3, 1, () => values(next, 1))),
    treeClass: [0, 0, 0, 0],
    base: [q(Math.log(0.3 / 0.7))],
  };
  // XGBClassifier multi:softprob, 3 classes × 2 rounds: tree t adds to class t % 3, SOFTMAX, base 0.5 each.
  const xgb3: EnsembleParams = {
    classes: [0, 1, 2],
    features: 3,
    mode: "LT",
    trees: Array.from({ length: 6 }, () => tree(next, 2, 3, 1, () => values(next, 1))),
    treeClass: [0, 1, 2, 0, 1, 2],
    base: [0.5, 0.5, 0.5],
  };
  for (const [name, p, post] of [
    ["xgboost-binary.onnx", xgb2, "LOGISTIC"],
    ["xgboost-multiclass.onnx", xgb3, "SOFTMAX"],
  ] as const) {
    files[name] = model(
      {
        nodes: [
          node(
            "TreeEnsembleClassifier",
            ["input"],
            ["label", "probabilities"],
            [
              ...ensembleAttrs(p, true),
              attrFloats("base_values", p.base),
              attrString("post_transform", post),
              classLabelAttr("int64s", p.classes),
            ],
            ML_DOMAIN,
          ),
        ],
        inputs: [tensorInfo("input", ELEM.float, [null, p.features])],
        outputs: [
          tensorInfo("label", ELEM.int64, [null]),
          tensorInfo("probabilities", ELEM.float, [null, p.classes.length]),
        ],
      },
      XGB,
      15,
      1,
    );
  }

  // torch.onnx.export of nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3)) with a dynamic batch axis:
  // Gemm(transB=1) over "fc1.weight" [8, 4], raw logits out.
  const mlp: MlpParams = {
    features: 4,
    hidden: 8,
    outputs: 3,
    w1: values(next, 32),
    b1: values(next, 8, 0.5),
    w2: values(next, 24),
    b2: values(next, 3, 0.5),
  };
  const gemm = (x: string, w: string, b: string, out: string) =>
    node("Gemm", [x, w, b], [out], [attrFloat("alpha", 1), attrFloat("beta", 1), attrInt("transB", 1)]);
  files["torch-mlp-logits.onnx"] = model(
    {
      nodes: [
        gemm("input", "fc1.weight", "fc1.bias", "/fc1/Gemm_output_0"),
        node("Relu", ["/fc1/Gemm_output_0"], ["/act/Relu_output_0"]),
        gemm("/act/Relu_output_0", "fc2.weight", "fc2.bias", "logits"),
      ],
      inputs: [tensorInfo("input", ELEM.float, ["batch_size", 4])],
      outputs: [tensorInfo("logits", ELEM.float, ["batch_size", 3])],
      initializers: [
        tensor("fc1.weight", [8, 4], Float32Array.from(mlp.w1)),
        tensor("fc1.bias", [8], Float32Array.from(mlp.b1)),
        tensor("fc2.weight", [3, 8], Float32Array.from(mlp.w2)),
        tensor("fc2.bias", [3], Float32Array.from(mlp.b2)),
      ],
    },
    TORCH,
    17,
    undefined,
  );

  // torch.onnx.export without dynamic axes of Linear(4, 1) + Sigmoid: batch fixed at 1, one probability column.
  const sig: MlpParams = {
    features: 4,
    hidden: 0,
    outputs: 1,
    w1: values(next, 4, 2),
    b1: values(next, 1),
    w2: [],
    b2: [],
  };
  files["torch-fixed-batch-sigmoid.onnx"] = model(
    {
      nodes: [
        gemm("onnx::Gemm_0", "linear.weight", "linear.bias", "/linear/Gemm_output_0"),
        node("Sigmoid", ["/linear/Gemm_output_0"], ["output"]),
      ],
      inputs: [tensorInfo("onnx::Gemm_0", ELEM.float, [1, 4])],
      outputs: [tensorInfo("output", ELEM.float, [1, 1])],
      initializers: [
        tensor("linear.weight", [1, 4], Float32Array.from(sig.w1)),
        tensor("linear.bias", [1], Float32Array.from(sig.b1)),
      ],
    },
    TORCH,
    17,
    undefined,
  );

  // torch.onnx.export of Conv1d(2, 4, 3) → ReLU → AdaptiveMaxPool1d(1) → Flatten → Linear(4, 3) → LogSoftmax
  // (a model trained with NLLLoss): a rank-3 input [batch, 2, 16], log-probabilities out.
  const cnn: CnnParams = {
    channels: 2,
    length: 16,
    filters: 4,
    kernel: 3,
    outputs: 3,
    conv: values(next, 24),
    convBias: values(next, 4, 0.2),
    fc: values(next, 12),
    fcBias: values(next, 3, 0.2),
  };
  files["torch-cnn-logsoftmax.onnx"] = model(
    {
      nodes: [
        node(
          "Conv",
          ["input", "conv.weight", "conv.bias"],
          ["/conv/Conv_output_0"],
          [
            attrInts("dilations", [1]),
            attrInt("group", 1),
            attrInts("kernel_shape", [3]),
            attrInts("pads", [0, 0]),
            attrInts("strides", [1]),
          ],
        ),
        node("Relu", ["/conv/Conv_output_0"], ["/act/Relu_output_0"]),
        node("GlobalMaxPool", ["/act/Relu_output_0"], ["/pool/GlobalMaxPool_output_0"]),
        node(
          "Flatten",
          ["/pool/GlobalMaxPool_output_0"],
          ["/flatten/Flatten_output_0"],
          [attrInt("axis", 1)],
        ),
        gemm("/flatten/Flatten_output_0", "fc.weight", "fc.bias", "/fc/Gemm_output_0"),
        node("LogSoftmax", ["/fc/Gemm_output_0"], ["log_probs"], [attrInt("axis", 1)]),
      ],
      inputs: [tensorInfo("input", ELEM.float, ["batch_size", 2, 16])],
      outputs: [tensorInfo("log_probs", ELEM.float, ["batch_size", 3])],
      initializers: [
        tensor("conv.weight", [4, 2, 3], Float32Array.from(cnn.conv)),
        tensor("conv.bias", [4], Float32Array.from(cnn.convBias)),
        tensor("fc.weight", [3, 4], Float32Array.from(cnn.fc)),
        tensor("fc.bias", [3], Float32Array.from(cnn.fcBias)),
      ],
    },
    TORCH,
    17,
    undefined,
  );

  return {
    files,
    params: {
      sklLogregZipmap: logreg,
      sklLogregBinaryNoZipmap: logreg2,
      sklForestZipmap: forest,
      xgbBinary: xgb2,
      xgbMulticlass: xgb3,
      torchMlp: mlp,
      torchSigmoidFixedBatch: sig,
      torchCnnLogSoftmax: cnn,
    },
  };
}

/** params.json: one fixture per line, so a diff shows which fixture changed. */
export function renderParams(params: OnnxFixtureParams): string {
  const lines = Object.entries(params).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

export const ONNX_FIXTURE_DIR = resolve(fileURLToPath(import.meta.url), "../../test/fixtures/onnx");

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, params } = buildOnnxFixtures();
  mkdirSync(ONNX_FIXTURE_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(ONNX_FIXTURE_DIR, name), bytes);
  writeFileSync(join(ONNX_FIXTURE_DIR, "params.json"), renderParams(params));
  console.log(`${Object.keys(files).length} ONNX fixtures and params.json written to ${ONNX_FIXTURE_DIR}`);
}
