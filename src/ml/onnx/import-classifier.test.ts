// loadOnnxClassifier on converter-shaped fixtures: probabilities match values computed here from params.json.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildOnnxFixtures,
  type CnnParams,
  type EnsembleParams,
  type LinearParams,
  type MlpParams,
  ONNX_FIXTURE_DIR,
  type OnnxFixtureParams,
  renderParams,
} from "../../../scripts/onnx-fixtures.ts";
import { seededRng } from "../../core/index.ts";
import { loadOnnxClassifier, type OnnxClassifier, type OnnxPrediction } from "./index.ts";
import { ELEM, encodeModel, node, tensorInfo } from "./proto.ts";

const TOL = 1e-5;
const params = JSON.parse(readFileSync(join(ONNX_FIXTURE_DIR, "params.json"), "utf8")) as OnnxFixtureParams;
const fixture = (name: string) => join(ONNX_FIXTURE_DIR, name);

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
function softmax(s: number[]): number[] {
  const mx = Math.max(...s);
  const e = s.map((v) => Math.exp(v - mx));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function linear(p: LinearParams, row: number[]): number[] {
  const scores = p.intercepts.map(
    (b, k) => b + row.reduce((a, v, j) => a + v * p.coefficients[k * p.features + j], 0),
  );
  if (scores.length === 1) return [1 - sigmoid(scores[0]), sigmoid(scores[0])];
  return softmax(scores);
}

/** Scores of an ensemble: base + the reached leaves' weights (NaN goes where missingLeft says). */
function ensembleScores(p: EnsembleParams, row: number[]): number[] {
  const scores = [...p.base];
  p.trees.forEach((t, ti) => {
    let n = 0;
    while (t.feature[n] >= 0) {
      const v = row[t.feature[n]];
      const left = Number.isNaN(v)
        ? t.missingLeft[n] === 1
        : p.mode === "LEQ"
          ? v <= t.threshold[n]
          : v < t.threshold[n];
      n = left ? t.left[n] : t.right[n];
    }
    t.leaf[n].forEach((w, k) => {
      scores[p.treeClass ? p.treeClass[ti] : k] += w;
    });
  });
  return scores;
}

function mlp(p: MlpParams, row: number[]): number[] {
  const hidden = p.b1.map((b, h) =>
    Math.max(0, b + row.reduce((a, v, j) => a + v * p.w1[h * p.features + j], 0)),
  );
  return softmax(p.b2.map((b, k) => b + hidden.reduce((a, v, j) => a + v * p.w2[k * p.hidden + j], 0)));
}

/** Conv1d → ReLU → max over positions → Linear → softmax (LogSoftmax's exp), row = channel-major [C, L]. */
function cnn(p: CnnParams, row: number[]): number[] {
  const positions = p.length - p.kernel + 1;
  const pooled = Array.from({ length: p.filters }, (_, f) => {
    let best = 0; // after ReLU nothing is below 0
    for (let t = 0; t < positions; t++) {
      let a = p.convBias[f];
      for (let c = 0; c < p.channels; c++) {
        for (let k = 0; k < p.kernel; k++)
          a += p.conv[(f * p.channels + c) * p.kernel + k] * row[c * p.length + t + k];
      }
      best = Math.max(best, a);
    }
    return best;
  });
  return softmax(p.fcBias.map((b, o) => b + pooled.reduce((a, v, f) => a + v * p.fc[o * p.filters + f], 0)));
}

/** Rows of `cols` values in [-1.5, 1.5]; with `nan`, some values are NaN. */
function rowsOf(seed: number, rows: number, cols: number, nan = false): number[][] {
  const rng = seededRng(seed);
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () =>
      nan && rng.next() < 0.15 ? Number.NaN : Math.fround(rng.next() * 3 - 1.5),
    ),
  );
}

async function run(name: string, rows: number[][], options = {}): Promise<[OnnxClassifier, OnnxPrediction]> {
  const loaded = await loadOnnxClassifier(fixture(name), options);
  if (!loaded.ok) throw loaded.error;
  const clf = loaded.value;
  const cols = rows[0].length;
  const got = await clf.classify(Float32Array.from(rows.flat()), rows.length, cols);
  await clf.close();
  if (!got.ok) throw got.error;
  return [clf, got.value];
}

function expectProbabilities(got: OnnxPrediction, want: number[][]): void {
  const c = want[0].length;
  expect(got.probabilities.length).toBe(want.length * c);
  want.forEach((row, r) => {
    row.forEach((p, k) => {
      expect(Math.abs(got.probabilities[r * c + k] - p)).toBeLessThan(TOL);
    });
    const best = row.indexOf(Math.max(...row));
    expect(got.classIndex[r]).toBe(best);
    expect(got.labels[r]).toBe(got.classes[best]);
  });
}

describe("loadOnnxClassifier: converter conventions", () => {
  it("the committed fixtures are what scripts/onnx-fixtures.ts generates", () => {
    const built = buildOnnxFixtures();
    for (const [name, bytes] of Object.entries(built.files)) {
      expect(Buffer.from(readFileSync(fixture(name))).equals(Buffer.from(bytes)), name).toBe(true);
    }
    expect(readFileSync(fixture("params.json"), "utf8")).toBe(renderParams(built.params));
  });

  it("skl2onnx LogisticRegression with ZipMap (int64 keys 10/12/14): reads the tensor before ZipMap", async () => {
    const rows = rowsOf(1, 50, 4);
    const [clf, got] = await run("skl2onnx-logreg-zipmap.onnx", rows);
    expect(clf.convention).toBe("zipmap");
    expect(clf.inputName).toBe("float_input");
    expect(clf.outputs.map((o) => o.type)).toEqual(["tensor(int64)", "seq(map(int64,tensor(float)))"]);
    expect(got.classes).toEqual(["10", "12", "14"]);
    expectProbabilities(
      got,
      rows.map((r) => linear(params.sklLogregZipmap, r)),
    );
  });

  it("skl2onnx binary LogisticRegression with zipmap=False: label + [N, 2] tensor", async () => {
    const rows = rowsOf(2, 50, 4);
    const [clf, got] = await run("skl2onnx-logreg-binary-nozipmap.onnx", rows);
    expect(clf.convention).toBe("label+probabilities");
    expectProbabilities(
      got,
      rows.map((r) => linear(params.sklLogregBinaryNoZipmap, r)),
    );
  });

  it("skl2onnx RandomForest with string classes and ZipMap: string labels, averaged leaves", async () => {
    const rows = rowsOf(3, 80, 3, true);
    const [clf, got] = await run("skl2onnx-forest-strings-zipmap.onnx", rows);
    expect(clf.convention).toBe("zipmap");
    expect(clf.classes).toEqual(["benign", "dos", "scan"]);
    expect(clf.outputs[1].type).toBe("seq(map(string,tensor(float)))");
    expectProbabilities(
      got,
      rows.map((r) => ensembleScores(params.sklForestZipmap, r)),
    );
  });

  it("onnxmltools XGBoost binary (BRANCH_LT, one score, LOGISTIC) gives both class probabilities", async () => {
    const rows = rowsOf(4, 80, 3, true);
    const [clf, got] = await run("xgboost-binary.onnx", rows);
    expect(clf.convention).toBe("label+probabilities");
    expectProbabilities(
      got,
      rows.map((r) => {
        const p = sigmoid(ensembleScores(params.xgbBinary, r)[0]);
        return [1 - p, p];
      }),
    );
  });

  it("onnxmltools XGBoost multiclass (class t % 3, SOFTMAX)", async () => {
    const rows = rowsOf(5, 80, 3, true);
    const [, got] = await run("xgboost-multiclass.onnx", rows);
    expectProbabilities(
      got,
      rows.map((r) => softmax(ensembleScores(params.xgbMulticlass, r))),
    );
  });

  it("torch.onnx MLP with raw logits and a dynamic batch: softmax applied, class names from options", async () => {
    const rows = rowsOf(6, 40, 4);
    const [clf, got] = await run("torch-mlp-logits.onnx", rows, { classes: ["benign", "dos", "scan"] });
    expect(clf.convention).toBe("logits");
    expect(clf.inputs[0]).toEqual({ name: "input", type: "tensor(float)", shape: ["batch_size", 4] });
    expect(got.classes).toEqual(["benign", "dos", "scan"]);
    expectProbabilities(
      got,
      rows.map((r) => mlp(params.torchMlp, r)),
    );
  });

  it("torch.onnx Linear + Sigmoid with the batch fixed at 1: runs row by row, one column becomes two", async () => {
    const rows = rowsOf(7, 5, 4);
    const [clf, got] = await run("torch-fixed-batch-sigmoid.onnx", rows);
    expect(clf.convention).toBe("probabilities");
    const p = params.torchSigmoidFixedBatch;
    expectProbabilities(
      got,
      rows.map((r) => linear({ classes: [0, 1], features: 4, coefficients: p.w1, intercepts: p.b1 }, r)),
    );
  });

  it("torch.onnx 1-D CNN ending in LogSoftmax over a rank-3 input: exp of the log-probabilities", async () => {
    const rows = rowsOf(8, 30, 32);
    const [clf, got] = await run("torch-cnn-logsoftmax.onnx", rows);
    expect(clf.convention).toBe("log-probabilities");
    expect(clf.features).toBe(32);
    expectProbabilities(
      got,
      rows.map((r) => cnn(params.torchCnnLogSoftmax, r)),
    );
  });
});

describe("loadOnnxClassifier: refusals", () => {
  const graphWith = (elemType: number, inputs = 1) =>
    encodeModel({
      graph: {
        name: "g",
        node: [node("Identity", ["x0"], ["y"])],
        input: Array.from({ length: inputs }, (_, i) => tensorInfo(`x${i}`, elemType, ["N", 3])),
        output: [tensorInfo("y", elemType, ["N", 3])],
      },
      metadata: {},
    });

  it("a non-float input is refused with a clear error", async () => {
    const r = await loadOnnxClassifier(graphWith(ELEM.int64));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("input.corrupt");
    expect(r.error.message).toMatch(/input "x0" is tensor\(int64\).*float32/);
  });

  it("two inputs, an oversized file, a missing file and non-ONNX bytes are refused", async () => {
    const two = await loadOnnxClassifier(graphWith(ELEM.float, 2));
    expect(!two.ok && two.error.message).toMatch(/2 inputs/);
    const big = await loadOnnxClassifier(fixture("xgboost-binary.onnx"), { maxBytes: 100 });
    expect(!big.ok && big.error.message).toMatch(/more than the 100 bytes/);
    const missing = await loadOnnxClassifier(fixture("nope.onnx"));
    expect(!missing.ok && missing.error.code).toBe("input.not_found");
    const junk = await loadOnnxClassifier(new TextEncoder().encode("definitely not a protobuf"));
    expect(!junk.ok && junk.error.code).toBe("input.corrupt");
  });

  it("classify refuses rows that do not fit the input", async () => {
    const loaded = await loadOnnxClassifier(fixture("xgboost-binary.onnx"));
    if (!loaded.ok) throw loaded.error;
    const clf = loaded.value;
    const wrongCols = await clf.classify(new Float32Array(8), 2, 4);
    expect(!wrongCols.ok && wrongCols.error.code).toBe("usage");
    const wrongLength = await clf.classify(new Float32Array(7), 2, 3);
    expect(!wrongLength.ok && wrongLength.error.code).toBe("usage");
    const none = await clf.classify(new Float32Array(0), 0, 3);
    expect(none.ok && none.value.labels.length).toBe(0);
    await clf.close();
  });
});
