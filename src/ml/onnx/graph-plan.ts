// What Vigil reads from a classifier graph: its one float input, which outputs hold labels and scores, the class keys.
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { classLabelsOf, DOUBLE, FLOAT, INT32, INT64, STRING, typeString, valueInfo } from "./graph-info.ts";
import type { ModelProto, NodeProto, ValueInfoProto } from "./proto.ts";
import { treeProblem } from "./tree-check.ts";

/**
 * How the model's outputs are read:
 * - `zipmap`: skl2onnx default, label + seq(map(label, float)) from ZipMap (Vigil runs the tensor before ZipMap);
 * - `label+probabilities`: a label tensor plus a float [N, C] probability tensor (onnxmltools, skl2onnx
 *   zipmap=False, Vigil's own exports);
 * - `probabilities`: one float tensor made by Softmax, or by Sigmoid for one column (P of the second class);
 * - `log-probabilities`: one float tensor made by LogSoftmax (exp is applied);
 * - `logits`: one float tensor of raw scores (torch.onnx): softmax, or the logistic for one column.
 */
export type OnnxOutputConvention =
  | "zipmap"
  | "label+probabilities"
  | "probabilities"
  | "log-probabilities"
  | "logits";

/** The error of a damaged or unsupported model file. */
export function corrupt(message: string, cause?: unknown): VigilError {
  return new VigilError(
    "input.corrupt",
    message,
    "Check that the file is an ONNX classifier exported whole (e.g. by skl2onnx, onnxmltools or torch.onnx.export).",
    { cause },
  );
}

/** What analyse() decided about a graph. */
export interface Plan {
  inputName: string;
  /** The integer input of steps per row, when the model has one. */
  lengths: { name: string; int64: boolean } | undefined;
  inputShape: (number | string | null)[];
  convention: OnnxOutputConvention;
  /** Output name of the label tensor, if read. */
  labelOutput: string | undefined;
  /** Output name of the float scores tensor. */
  scoreOutput: string;
  /** Raw class keys the label output uses, in probability column order. */
  rawLabels: (number | string)[] | undefined;
  /** Graph outputs to keep (ZipMap removed); undefined when the graph is run as it is. */
  rewrite: { outputs: ValueInfoProto[]; dropNode?: NodeProto } | undefined;
}

/** Decides how to run and read a decoded model; `output` picks the float output when there are several. */
export function analyse(model: ModelProto, output?: string): Result<Plan, VigilError> {
  const graph = model.graph;
  if (!graph) return err(corrupt("ONNX file has no graph."));
  const trees = treeProblem(graph);
  if (trees !== undefined) return err(corrupt(`ONNX model's tree ensemble is damaged: ${trees}.`));
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ""));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ""));
  // A rank-1 integer input beside the features carries steps per row (ONNX RNN sequence_lens).
  const isLengths = (i: ValueInfoProto) => {
    const t = i.type?.tensorType;
    return (t?.elemType === INT32 || t?.elemType === INT64) && (t.shape?.dim?.length ?? 1) === 1;
  };
  const floatInputs = inputs.filter((i) => i.type?.tensorType?.elemType === FLOAT);
  const lengthInputs = inputs.filter(isLengths);
  if (inputs.length === 1 && floatInputs.length === 0) {
    const info = valueInfo(inputs[0]);
    return err(
      corrupt(
        `ONNX model input "${info.name}" is ${info.type}; Vigil feeds float32 features only (tensor(float)). ` +
          "Re-export the model with a float input (e.g. FloatTensorType in skl2onnx).",
      ),
    );
  }
  if (
    !(inputs.length === 1 || (inputs.length === 2 && floatInputs.length === 1 && lengthInputs.length === 1))
  ) {
    return err(
      corrupt(
        `ONNX model has ${inputs.length} inputs (${inputs.map((i) => `${i.name}: ${typeString(i.type)}`).join(", ")}); ` +
          "Vigil feeds one float tensor, plus at most one int32/int64 [N] tensor of sequence lengths.",
      ),
    );
  }
  const input = floatInputs[0];
  const inInfo = valueInfo(input);
  const lengths =
    inputs.length === 2
      ? { name: lengthInputs[0].name ?? "", int64: lengthInputs[0].type?.tensorType?.elemType === INT64 }
      : undefined;
  const inputShape = inInfo.shape ?? [null, null];
  if (inputShape.length < 2) {
    return err(
      corrupt(`ONNX model input "${inInfo.name}" has rank ${inputShape.length}; expected [batch, …].`),
    );
  }

  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const outputs = graph.output ?? [];
  const elemOf = (v: ValueInfoProto) => v.type?.tensorType?.elemType;

  // skl2onnx's default: probabilities as seq(map(key, float)) built by ZipMap.
  const zipOut = outputs.find((o) => o.type?.sequenceType);
  if (zipOut) {
    const zip = producer.get(zipOut.name ?? "");
    if (zip?.opType !== "ZipMap" || (zip.input ?? []).length !== 1) {
      return err(
        corrupt(`ONNX model output "${zipOut.name}" is a sequence not made by ZipMap; Vigil cannot read it.`),
      );
    }
    const probName = zip.input![0];
    const label = outputs.find((o) => o !== zipOut && (elemOf(o) === INT64 || elemOf(o) === STRING));
    const kept: ValueInfoProto[] = [];
    if (label) kept.push(label);
    kept.push({ name: probName, type: { tensorType: { elemType: FLOAT } } });
    return ok({
      inputName: inInfo.name,
      lengths,
      inputShape,
      convention: "zipmap",
      labelOutput: label?.name ?? undefined,
      scoreOutput: probName,
      rawLabels: classLabelsOf(zip),
      rewrite: { outputs: kept, dropNode: zip },
    });
  }

  const floats = outputs.filter((o) => elemOf(o) === FLOAT || elemOf(o) === DOUBLE);
  const labels = outputs.filter((o) => elemOf(o) === INT64 || elemOf(o) === STRING);
  if (floats.length === 0) {
    return err(corrupt("ONNX model has no float output; Vigil reads class probabilities or logits."));
  }
  let score = floats[0];
  if (output !== undefined) {
    const chosen = floats.find((o) => o.name === output);
    if (!chosen) return err(corrupt(`ONNX model has no float output named "${output}".`));
    score = chosen;
  }
  const scoreName = score.name ?? "";
  const made = producer.get(scoreName);
  // Raw class keys: from the node that makes the scores, else from any classifier node in the graph.
  let rawLabels = made ? classLabelsOf(made) : undefined;
  for (const n of graph.node ?? []) rawLabels ??= classLabelsOf(n);
  // Unused outputs are dropped so that onnxruntime-node never has to return a non-tensor value.
  const keep = (names: (string | undefined)[]) => {
    const kept = outputs.filter((o) => names.includes(o.name ?? ""));
    return kept.length === outputs.length ? undefined : { outputs: kept };
  };
  if (labels.length > 0) {
    const label = labels[0];
    return ok({
      inputName: inInfo.name,
      lengths,
      inputShape,
      convention: "label+probabilities",
      labelOutput: label.name ?? undefined,
      scoreOutput: scoreName,
      rawLabels,
      rewrite: keep([label.name ?? "", scoreName]),
    });
  }
  const op = made?.opType;
  const convention: OnnxOutputConvention =
    op === "Softmax" || op === "Sigmoid"
      ? "probabilities"
      : op === "LogSoftmax"
        ? "log-probabilities"
        : "logits";
  return ok({
    inputName: inInfo.name,
    lengths,
    inputShape,
    convention,
    labelOutput: undefined,
    scoreOutput: scoreName,
    rawLabels,
    rewrite: keep([scoreName]),
  });
}
