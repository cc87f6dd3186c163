// Loads an ONNX classifier trained elsewhere (skl2onnx, onnxmltools, torch.onnx) and runs it through onnxruntime-node.
import { readFile, stat } from "node:fs/promises";
import { err, ok, type Result, VigilError } from "../../core/index.ts";
import { type OnnxValueInfo, valueInfo } from "./graph-info.ts";
import { analyse, corrupt, type OnnxOutputConvention, type Plan } from "./graph-plan.ts";
import { META, metaStringArray } from "./metadata.ts";
import { type ModelProto, onnxProto } from "./proto.ts";
import { createSession, loadOrt, type OrtSession, type OrtTensor } from "./runtime.ts";

// 256 MiB: far above any tree ensemble or flow/packet network Vigil runs, and bounded for a hostile file.
export const MAX_ONNX_BYTES = 256 * 1024 * 1024;
// Class names longer than this are cut (they come from the file and may be shown to operators).
const MAX_CLASS_NAME = 128;
// More classes than this is not a traffic classifier; refuse before allocating per-class state.
const MAX_CLASSES = 65_536;

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
  /** The float input Vigil feeds the rows into. */
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

function capName(s: string): string {
  return s.length > MAX_CLASS_NAME ? `${s.slice(0, MAX_CLASS_NAME)}…` : s;
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
 * The model must have one float tensor input [batch, …] (and at most one int32/int64 [N] input of sequence
 * lengths); its outputs are read by the convention that fits (see OnnxOutputConvention). A damaged,
 * oversized or unsupported file gives an `input.corrupt` VigilError, a missing one `input.not_found`.
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
    const p = analyse(model, options.output);
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
    const keys: (number | string | undefined)[] = new Array(rows);
    let scores: Float64Array | undefined;
    let width = 0;
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
            ? new ort.Tensor("int64", BigInt64Array.from(steps, BigInt), [chunk])
            : new ort.Tensor("int32", steps, [chunk]);
        }
        const fetch = [this.plan.scoreOutput];
        if (this.plan.labelOutput) fetch.push(this.plan.labelOutput);
        const out = await this.session.run(feeds, fetch);
        const score = out[this.plan.scoreOutput];
        const w = score.dims.length >= 2 ? score.dims.slice(1).reduce((a, d) => a * d, 1) : 1;
        const data = score.data as Float32Array | Float64Array;
        scores ??= new Float64Array(rows * w);
        if (width === 0) width = w;
        if (w !== width || w < 1 || w > MAX_CLASSES || data.length < n * w) {
          throw new Error(`score output has shape [${score.dims.join(", ")}] for ${n} rows`);
        }
        scores.set(data.subarray(0, n * w), r0 * w);
        const label = this.plan.labelOutput ? out[this.plan.labelOutput] : undefined;
        if (label) {
          const ld = label.data as BigInt64Array | string[];
          if (ld.length < n) throw new Error(`label output has ${ld.length} values for ${n} rows`);
          for (let r = 0; r < n; r++) {
            const v = ld[r];
            keys[r0 + r] = typeof v === "bigint" ? Number(v) : v;
          }
        }
      }
    } catch (e) {
      return err(corrupt(`ONNX model failed while classifying: ${firstLine(e)}`, e));
    }
    return ok(this.finish(scores ?? new Float64Array(0), width, keys, rows));
  }

  /** Probabilities, class index and label per row from the raw scores (`width` per row) and label keys. */
  private finish(
    scores: Float64Array,
    width: number,
    keys: (number | string | undefined)[],
    rows: number,
  ): OnnxPrediction {
    const scoresOnly = this.convention !== "label+probabilities" && this.convention !== "zipmap";
    const classCount = width === 0 ? this.classes.length : width === 1 && scoresOnly ? 2 : width;
    if (this.classes.length !== classCount) this.classes = this.namesFor(classCount);
    const probabilities = new Float32Array(rows * classCount);
    const classIndex = new Int32Array(rows);
    const raw = this.plan.rawLabels;
    for (let r = 0; r < rows; r++) {
      const row = probabilities.subarray(r * classCount, (r + 1) * classCount);
      this.toProbabilities(scores.subarray(r * width, (r + 1) * width), row);
      let best = 0;
      for (let c = 1; c < classCount; c++) if (row[c] > row[best]) best = c;
      const key = keys[r];
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

  /** One row of raw outputs `s` as class probabilities into `out`, by the model's convention. */
  private toProbabilities(s: Float64Array, out: Float32Array): void {
    switch (this.convention) {
      case "zipmap":
      case "label+probabilities":
        out.set(s);
        return;
      case "log-probabilities":
        for (let k = 0; k < s.length; k++) out[k] = Math.exp(s[k]);
        return;
      case "probabilities":
        if (s.length === 1) {
          out[0] = 1 - s[0];
          out[1] = s[0];
        } else out.set(s);
        return;
      case "logits": {
        if (s.length === 1) {
          const p = 1 / (1 + Math.exp(-s[0]));
          out[0] = 1 - p;
          out[1] = p;
          return;
        }
        let max = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < s.length; k++) if (s[k] > max) max = s[k];
        let sum = 0;
        for (let k = 0; k < s.length; k++) sum += Math.exp(s[k] - max);
        for (let k = 0; k < s.length; k++) out[k] = Math.exp(s[k] - max) / sum;
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
