// Loads an ONNX classifier trained elsewhere (skl2onnx, onnxmltools, torch.onnx) and runs it through onnxruntime-node.
import { readFile, stat } from "node:fs/promises";
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { META, metaStringArray } from "./metadata.ts";
import { type GraphProto, type ModelProto, type NodeProto, onnxProto, type ValueInfoProto } from "./proto.ts";
import { createSession, loadOrt, type OrtSession, type OrtTensor } from "./runtime.ts";

// 256 MiB: far above any tree ensemble or flow/packet network Vigil runs, and bounded for a hostile file.
export const MAX_ONNX_BYTES = 256 * 1024 * 1024;
// Class names longer than this are cut (they come from the file and may be shown to operators).
const MAX_CLASS_NAME = 128;
// More classes than this is not a traffic classifier; refuse before allocating per-class state.
const MAX_CLASSES = 65_536;

/** One graph input or output as declared in the model. */
export interface OnnxValueInfo {
  name: string;
  /** "tensor(float)", "tensor(int64)", "seq(map(int64,tensor(float)))", … */
  type: string;
  /** Dimensions: a number when fixed, a name when symbolic, null when unknown; undefined when not a tensor. */
  shape: (number | string | null)[] | undefined;
}

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

/** What one classify() call returns. */
export interface OnnxPrediction {
  /** Class name per row. */
  labels: string[];
  /** Index into `classes` per row. */
  classIndex: Int32Array;
  /** Row-major rows × classes.length. */
  probabilities: Float32Array;
  /** Class names, in probability column order (may be learnt from the first run for logits models). */
  classes: string[];
}

/** Per-call inputs besides the feature rows. */
export interface OnnxClassifyOptions {
  /** Steps per row, for a model with a sequence-lengths input. */
  lengths?: Int32Array;
}

/** A loaded classifier. */
export interface OnnxClassifier {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** The one float input Vigil feeds. */
  readonly inputName: string;
  /** Values per row when the input's non-batch dimensions are all fixed. */
  readonly features: number | undefined;
  readonly convention: OnnxOutputConvention;
  /** Class names in probability column order; empty until known for a logits model with a symbolic class dimension. */
  readonly classes: readonly string[];
  /** metadata_props of the model. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Name of the integer input of steps per row (e.g. Vigil's GRU export), when the model has one. */
  readonly lengthsName: string | undefined;
  /**
   * Classifies `rows` rows of `cols` float32 values each (row-major). A model with a lengths input needs
   * `options.lengths` (steps per row).
   */
  classify(
    x: Float32Array,
    rows: number,
    cols: number,
    options?: OnnxClassifyOptions,
  ): Promise<Result<OnnxPrediction, VigilError>>;
  /** Frees the native session. */
  close(): Promise<void>;
}

/** Options of loadOnnxClassifier. */
export interface OnnxLoadOptions {
  /** Largest file accepted, bytes (default MAX_ONNX_BYTES). */
  maxBytes?: number;
  /** Class names to use instead of the model's (e.g. for a torch model, which has none). */
  classes?: string[];
  /** The output to read when a model has several float outputs and no label (default: the first). */
  output?: string;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
}

function corrupt(message: string, cause?: unknown): VigilError {
  return new VigilError(
    "input.corrupt",
    message,
    "Check that the file is an ONNX classifier exported whole (e.g. by skl2onnx, onnxmltools or torch.onnx.export).",
    { cause },
  );
}

// TensorProto.DataType names for type strings.
const ELEM_NAMES: Record<number, string> = {
  1: "float",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "double",
  12: "uint32",
  13: "uint64",
};
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const STRING = 8;
const DOUBLE = 11;

/** protobufjs gives int64 as Long objects (or numbers); both become numbers. */
function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (v !== null && typeof v === "object" && typeof (v as { toNumber?: unknown }).toNumber === "function") {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

type TypeProto = NonNullable<ValueInfoProto["type"]>;

function typeString(t: TypeProto | null | undefined, depth = 0): string {
  if (!t || depth > 8) return "unknown";
  if (t.tensorType) return `tensor(${ELEM_NAMES[t.tensorType.elemType ?? 0] ?? "unknown"})`;
  if (t.sequenceType) return `seq(${typeString(t.sequenceType.elemType, depth + 1)})`;
  if (t.mapType) {
    return `map(${ELEM_NAMES[t.mapType.keyType ?? 0] ?? "unknown"},${typeString(t.mapType.valueType, depth + 1)})`;
  }
  return "unknown";
}

function valueInfo(v: ValueInfoProto): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const shape = tt?.shape
    ? (tt.shape.dim ?? []).map((d) =>
        d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : null,
      )
    : undefined;
  return { name: v.name ?? "", type: typeString(v.type), shape };
}

function attr(n: NodeProto, name: string) {
  return (n.attribute ?? []).find((a) => a.name === name);
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Class labels a node declares (classlabels_int64s / _ints / _strings), as raw keys. */
function classLabelsOf(n: NodeProto): (number | string)[] | undefined {
  for (const name of ["classlabels_int64s", "classlabels_ints"]) {
    const a = attr(n, name);
    if (a?.ints && a.ints.length > 0) return a.ints.map(num);
  }
  const s = attr(n, "classlabels_strings");
  if (s?.strings && s.strings.length > 0) return s.strings.map((b) => utf8.decode(b));
  return undefined;
}

function capName(s: string): string {
  return s.length > MAX_CLASS_NAME ? `${s.slice(0, MAX_CLASS_NAME)}…` : s;
}

/** What analyse() decided about a graph. */
interface Plan {
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

// Subgraph nesting followed when looking for tree ensembles (If/Loop bodies); deeper is refused.
const MAX_GRAPH_DEPTH = 8;

/**
 * Why the tree ensembles of a graph cannot be run safely, or undefined. onnxruntime follows child ids as
 * given, so a damaged file whose tree loops back on itself would make classify() spin for ever: every
 * branch must point at an existing node of its own tree and no path may come back to a node.
 */
function treeProblem(graph: GraphProto, depth = 0): string | undefined {
  if (depth > MAX_GRAPH_DEPTH) return "subgraphs nest too deep";
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      for (const sub of [a.g, ...(a.graphs ?? [])]) {
        const p = sub ? treeProblem(sub, depth + 1) : undefined;
        if (p) return p;
      }
    }
    if (
      n.opType !== "TreeEnsembleClassifier" &&
      n.opType !== "TreeEnsembleRegressor" &&
      n.opType !== "TreeEnsemble"
    ) {
      continue;
    }
    const ints = (name: string) => (attr(n, name)?.ints ?? []).map(num);
    const children: number[][] = [];
    if (n.opType === "TreeEnsemble") {
      // ai.onnx.ml 5: nodes indexed by position, a child is a node unless its *_leafs flag says leaf.
      const t = ints("nodes_truenodeids");
      const f = ints("nodes_falsenodeids");
      const tl = ints("nodes_trueleafs");
      const fl = ints("nodes_falseleafs");
      if (t.length !== f.length || tl.length !== t.length || fl.length !== t.length)
        return "tree node lists differ in length";
      for (let i = 0; i < t.length; i++) {
        const next = [];
        if (!tl[i]) next.push(t[i]);
        if (!fl[i]) next.push(f[i]);
        for (const c of next)
          if (!(c >= 0 && c < t.length)) return `tree node ${i} points at missing node ${c}`;
        children.push(next);
      }
    } else {
      const tree = ints("nodes_treeids");
      const id = ints("nodes_nodeids");
      const t = ints("nodes_truenodeids");
      const f = ints("nodes_falsenodeids");
      const modes = (attr(n, "nodes_modes")?.strings ?? []).map((b) => utf8.decode(b));
      const count = tree.length;
      if (id.length !== count || t.length !== count || f.length !== count || modes.length !== count) {
        return "tree node lists differ in length";
      }
      const index = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const key = `${tree[i]}:${id[i]}`;
        if (index.has(key)) return `tree ${tree[i]} declares node ${id[i]} twice`;
        index.set(key, i);
      }
      for (let i = 0; i < count; i++) {
        if (modes[i] === "LEAF") {
          children.push([]);
          continue;
        }
        const next = [index.get(`${tree[i]}:${t[i]}`), index.get(`${tree[i]}:${f[i]}`)];
        if (next[0] === undefined || next[1] === undefined)
          return `tree ${tree[i]} node ${id[i]} points at a missing node`;
        children.push(next as number[]);
      }
    }
    // Iterative depth-first search with colours: 1 on the current path, 2 done; a grey child is a loop.
    const colour = new Uint8Array(children.length);
    for (let s = 0; s < children.length; s++) {
      if (colour[s]) continue;
      const stack: [number, number][] = [[s, 0]];
      colour[s] = 1;
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const [v, k] = top;
        if (k < children[v].length) {
          top[1]++;
          const c = children[v][k];
          if (colour[c] === 1) return "a tree loops back on itself";
          if (colour[c] === 0) {
            colour[c] = 1;
            stack.push([c, 0]);
          }
        } else {
          colour[v] = 2;
          stack.pop();
        }
      }
    }
  }
  return undefined;
}

function analyse(model: ModelProto, options: OnnxLoadOptions): Result<Plan, VigilError> {
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
  if (options.output !== undefined) {
    const chosen = floats.find((o) => o.name === options.output);
    if (!chosen) return err(corrupt(`ONNX model has no float output named "${options.output}".`));
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

async function readModelBytes(
  source: Uint8Array | string,
  maxBytes: number,
): Promise<Result<Uint8Array, VigilError>> {
  if (typeof source !== "string") {
    if (source.byteLength > maxBytes) return err(tooLarge(source.byteLength, maxBytes));
    return ok(source);
  }
  try {
    const st = await stat(source);
    if (!st.isFile()) return err(new VigilError("input.unreadable", `${source} is not a file.`));
    if (st.size > maxBytes) return err(tooLarge(st.size, maxBytes));
    return ok(new Uint8Array(await readFile(source)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return err(
        new VigilError("input.not_found", `ONNX model ${source} does not exist.`, "Check the path.", {
          cause: e,
        }),
      );
    }
    return err(
      new VigilError("input.unreadable", `cannot read ONNX model ${source}: ${String(e)}`, undefined, {
        cause: e,
      }),
    );
  }
}

function tooLarge(size: number, max: number): VigilError {
  return corrupt(`ONNX model is ${size} bytes, more than the ${max} bytes Vigil accepts.`);
}

/**
 * Loads an ONNX classifier from bytes or a file path and prepares an onnxruntime session.
 *
 * The model must have one float tensor input [batch, …]; its outputs are read by the convention that
 * fits (see OnnxOutputConvention). A damaged, oversized or unsupported file gives an `input.corrupt`
 * VigilError; a missing one `input.not_found`.
 */
export async function loadOnnxClassifier(
  source: Uint8Array | string,
  options: OnnxLoadOptions = {},
): Promise<Result<OnnxClassifier, VigilError>> {
  const read = await readModelBytes(source, options.maxBytes ?? MAX_ONNX_BYTES);
  if (!read.ok) return read;
  const onnx = onnxProto();
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(read.value);
  } catch (e) {
    return err(corrupt(`not an ONNX model (protobuf decoding failed: ${String(e)}).`, e));
  }
  let plan: Plan;
  try {
    const p = analyse(model, options);
    if (!p.ok) return p;
    plan = p.value;
  } catch (e) {
    return err(corrupt(`ONNX model graph is malformed: ${String(e)}`, e));
  }
  const fed = [plan.inputName, plan.lengths?.name];
  const inputs = (model.graph?.input ?? []).filter((i) => fed.includes(i.name ?? "")).map(valueInfo);
  const outputs = (model.graph?.output ?? []).map(valueInfo);
  let bytes = read.value;
  if (plan.rewrite) {
    const g = model.graph!;
    g.output = plan.rewrite.outputs;
    const drop = plan.rewrite.dropNode;
    if (drop) g.node = (g.node ?? []).filter((n) => n !== drop);
    bytes = onnx.ModelProto.encode(model).finish();
  }
  let session: OrtSession;
  try {
    session = await createSession(bytes, { threads: options.threads });
  } catch (e) {
    return err(corrupt(`onnxruntime cannot load the model: ${firstLine(e)}`, e));
  }
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? "";
  return ok(new Classifier(session, plan, inputs, outputs, metadata, options.classes));
}

function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split("\n")[0].slice(0, 500);
}

class Classifier implements OnnxClassifier {
  readonly inputName: string;
  readonly lengthsName: string | undefined;
  readonly features: number | undefined;
  readonly convention: OnnxOutputConvention;
  classes: string[];

  constructor(
    private readonly session: OrtSession,
    private readonly plan: Plan,
    readonly inputs: readonly OnnxValueInfo[],
    readonly outputs: readonly OnnxValueInfo[],
    readonly metadata: Readonly<Record<string, string>>,
    private readonly classNames: string[] | undefined,
  ) {
    this.inputName = plan.inputName;
    this.lengthsName = plan.lengths?.name;
    this.convention = plan.convention;
    const inner = plan.inputShape.slice(1);
    this.features = inner.every((d) => typeof d === "number")
      ? inner.reduce<number>((a, d) => a * (d as number), 1)
      : undefined;
    // Class count: the model's labels, else the fixed width of the score output (one column means two classes).
    const width = outputs.find((o) => o.name === plan.scoreOutput)?.shape?.at(-1);
    const fromShape = typeof width === "number" && width > 0 ? (width === 1 ? 2 : width) : undefined;
    const known = plan.rawLabels?.length ?? fromShape;
    this.classes = known !== undefined && known <= MAX_CLASSES ? this.namesFor(known) : [];
  }

  /** Names for `count` classes: given names, then Vigil's metadata, then the model's labels, then indices. */
  private namesFor(count: number): string[] {
    const fromMeta = metaStringArray(this.metadata, META.classes);
    const raw = this.plan.rawLabels;
    let names: string[];
    if (this.classNames?.length === count) names = this.classNames;
    else if (fromMeta?.length === count) names = fromMeta;
    else if (raw?.length === count) names = raw.map(String);
    else names = Array.from({ length: count }, (_, i) => String(i));
    return names.map(capName);
  }

  /** The full input shape for `rows` rows of `cols` values, or why not. */
  private feedShape(batch: number, cols: number): Result<number[], VigilError> {
    const inner = this.plan.inputShape.slice(1);
    const unknown = inner.filter((d) => typeof d !== "number").length;
    const fixed = inner.reduce<number>((a, d) => (typeof d === "number" ? a * d : a), 1);
    if (unknown > 1) {
      return err(
        new VigilError(
          "usage",
          `ONNX input "${this.inputName}" has ${unknown} unknown dimensions besides the batch; Vigil cannot shape rows into it.`,
        ),
      );
    }
    if (unknown === 0 ? cols !== fixed : fixed === 0 || cols % fixed !== 0) {
      return err(
        new VigilError(
          "usage",
          `ONNX input "${this.inputName}" takes [${this.plan.inputShape.join(", ")}]; rows of ${cols} values do not fit.`,
        ),
      );
    }
    return ok([batch, ...inner.map((d) => (typeof d === "number" ? d : cols / fixed))]);
  }

  async classify(
    x: Float32Array,
    rows: number,
    cols: number,
    options: OnnxClassifyOptions = {},
  ): Promise<Result<OnnxPrediction, VigilError>> {
    if (
      !Number.isInteger(rows) ||
      !Number.isInteger(cols) ||
      rows < 0 ||
      cols <= 0 ||
      x.length !== rows * cols
    ) {
      return err(
        new VigilError("usage", `classify: ${x.length} values are not ${rows} rows × ${cols} columns.`),
      );
    }
    const lens = this.plan.lengths;
    if (lens && options.lengths?.length !== rows) {
      return err(
        new VigilError(
          "usage",
          `classify: the model's input "${lens.name}" needs the steps of each of the ${rows} rows.`,
        ),
      );
    }
    const batchDim = this.plan.inputShape[0];
    const chunk = typeof batchDim === "number" && batchDim > 0 ? batchDim : Math.max(rows, 1);
    const shape = this.feedShape(chunk, cols);
    if (!shape.ok) return shape;
    const ort = await loadOrt();
    const labelKeys: (number | string | undefined)[] = [];
    const probs: number[][] = [];
    try {
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        const n = Math.min(chunk, rows - r0);
        // A fixed batch dimension (torch.onnx without dynamic axes) is filled with zero rows past the end.
        const feed = chunk === n ? x.subarray(r0 * cols, (r0 + n) * cols) : new Float32Array(chunk * cols);
        if (chunk !== n) feed.set(x.subarray(r0 * cols, (r0 + n) * cols));
        const feeds: Record<string, OrtTensor> = {
          [this.inputName]: new ort.Tensor("float32", feed, shape.value),
        };
        if (lens && options.lengths) {
          const steps = new Int32Array(chunk);
          steps.set(options.lengths.subarray(r0, r0 + n));
          feeds[lens.name] = lens.int64
            ? new ort.Tensor(
                "int64",
                BigInt64Array.from(steps, (v) => BigInt(v)),
                [chunk],
              )
            : new ort.Tensor("int32", steps, [chunk]);
        }
        const fetch = [this.plan.scoreOutput];
        if (this.plan.labelOutput) fetch.push(this.plan.labelOutput);
        const out = await this.session.run(feeds, fetch);
        this.collect(
          out[this.plan.scoreOutput],
          this.plan.labelOutput ? out[this.plan.labelOutput] : undefined,
          n,
          {
            labelKeys,
            probs,
          },
        );
      }
    } catch (e) {
      return err(corrupt(`ONNX model failed while classifying: ${firstLine(e)}`, e));
    }
    return ok(this.finish(labelKeys, probs, rows));
  }

  /** Reads `n` rows of one run into per-row score arrays and label keys. */
  private collect(
    score: OrtTensor,
    label: OrtTensor | undefined,
    n: number,
    acc: { labelKeys: (number | string | undefined)[]; probs: number[][] },
  ): void {
    const data = score.data as Float32Array | Float64Array;
    const width = score.dims.length >= 2 ? score.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
    if (!Number.isInteger(width) || width < 1 || width > MAX_CLASSES) {
      throw new Error(`score output has shape [${score.dims.join(", ")}]`);
    }
    for (let r = 0; r < n; r++) acc.probs.push(Array.from(data.subarray(r * width, (r + 1) * width)));
    if (label) {
      const ld = label.data as BigInt64Array | string[];
      for (let r = 0; r < n; r++) {
        const v = ld[r];
        acc.labelKeys.push(typeof v === "bigint" ? Number(v) : v);
      }
    }
  }

  private finish(
    labelKeys: (number | string | undefined)[],
    scores: number[][],
    rows: number,
  ): OnnxPrediction {
    const width = scores[0]?.length ?? this.classes.length;
    const twoFromOne =
      width === 1 && this.convention !== "label+probabilities" && this.convention !== "zipmap";
    const classCount = twoFromOne ? 2 : width;
    if (this.classes.length !== classCount) this.classes = this.namesFor(classCount);
    const probabilities = new Float32Array(rows * classCount);
    const classIndex = new Int32Array(rows);
    const raw = this.plan.rawLabels;
    for (let r = 0; r < rows; r++) {
      const row = this.toProbabilities(scores[r]);
      probabilities.set(row, r * classCount);
      let best = 0;
      for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
      const key = labelKeys[r];
      if (key !== undefined) {
        // The model's own decision wins over the arg-max when it names a known class.
        const i = raw ? raw.indexOf(key) : typeof key === "number" ? key : -1;
        if (i >= 0 && i < classCount) best = i;
      }
      classIndex[r] = best;
    }
    const labels = Array.from(classIndex, (i) => this.classes[i]);
    return { labels, classIndex, probabilities, classes: [...this.classes] };
  }

  /** One row of raw outputs as class probabilities, by the model's convention. */
  private toProbabilities(s: number[]): number[] {
    switch (this.convention) {
      case "zipmap":
      case "label+probabilities":
        return s;
      case "probabilities":
        return s.length === 1 ? [1 - s[0], s[0]] : s;
      case "log-probabilities":
        return s.map(Math.exp);
      case "logits": {
        if (s.length === 1) {
          const p = 1 / (1 + Math.exp(-s[0]));
          return [1 - p, p];
        }
        const max = Math.max(...s);
        const e = s.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / sum);
      }
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
