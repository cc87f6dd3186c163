// NnModel → ONNX: input scaling (in double), GRU / Conv+Relu+GlobalMaxPool branches, Gemm head, Softmax and ArgMax.
import { VigilError } from "../../core/index.ts";
import { checkNnModel, type NnInput, type NnModel, nnModelVersion, nnSampleLayout } from "../nn/model.ts";
import { ONNX_INPUT, ONNX_LABEL, ONNX_PROBABILITIES, type OnnxExportOptions } from "./export-gbdt.ts";
import { EXPORT_VERSION, META } from "./metadata.ts";
import {
  attrFloat,
  attrInt,
  attrInts,
  ELEM,
  encodeModel,
  type NodeProto,
  node,
  type TensorProto,
  tensor,
  tensorInfo,
} from "./proto.ts";

/** Graph input of the steps per sample of a model's sequence input (ONNX GRU's sequence_lens). */
export const ONNX_SEQUENCE_LENS = "sequence_lens";

/** metadata_props key of a neural export's input layout (JSON: name, layout, channels, length, offset, channelNames). */
export const META_NN_INPUTS = "vigil.nn_inputs";

/** Builds node and initializer lists with unique value names. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private n = 0;

  name(hint: string): string {
    return `${hint}_${this.n++}`;
  }

  op(opType: string, inputs: string[], hint: string, attrs: Parameters<typeof node>[3] = []): string {
    const out = this.name(hint);
    this.nodes.push(node(opType, inputs, [out], attrs));
    return out;
  }

  const(
    hint: string,
    dims: number[],
    values: Float32Array | Float64Array | BigInt64Array | Int32Array,
  ): string {
    const name = this.name(hint);
    this.initializers.push(tensor(name, dims, values));
    return name;
  }
}

/**
 * The model's scaling of one input block, shaped `channelShape` so it broadcasts per channel:
 * y = clamp((f(x) − mean)·invStd, −clip, clip), f = signed log1p on flagged channels, NaN → 0.
 * Computed in double, as Vigil does, then cast to float for the network.
 */
function normalize(g: GraphBuilder, x: string, inp: NnInput, channelShape: number[], tag: string): string {
  const { log1p, mean, invStd, clip } = inp.norm;
  let xd = g.op("Cast", [x], `${tag}_f64`, [attrInt("to", ELEM.double)]);
  if (log1p.some((v) => v === 1)) {
    const one = g.const("one", [], Float64Array.from([1]));
    const logged = g.op(
      "Mul",
      [
        g.op("Sign", [xd], `${tag}_sign`),
        g.op("Log", [g.op("Add", [g.op("Abs", [xd], `${tag}_abs`), one], `${tag}_1p`)], `${tag}_log`),
      ],
      `${tag}_slog`,
    );
    const mask = g.const(`${tag}_log1p_mask`, channelShape, Int32Array.from(log1p));
    const maskBool = g.op("Cast", [mask], `${tag}_mask`, [attrInt("to", ELEM.bool)]);
    xd = g.op("Where", [maskBool, logged, xd], `${tag}_scaled`);
  }
  const centred = g.op(
    "Sub",
    [xd, g.const(`${tag}_mean`, channelShape, Float64Array.from(mean))],
    `${tag}_centred`,
  );
  const z = g.op(
    "Mul",
    [centred, g.const(`${tag}_inv_std`, channelShape, Float64Array.from(invStd))],
    `${tag}_z`,
  );
  const zero = g.const("zero", [], new Float64Array(1));
  const finite = g.op("Where", [g.op("IsNaN", [z], `${tag}_nan`), zero, z], `${tag}_no_nan`);
  const clipped = g.op(
    "Clip",
    [finite, g.const("lo", [], Float64Array.from([-clip])), g.const("hi", [], Float64Array.from([clip]))],
    `${tag}_clip`,
  );
  return g.op("Cast", [clipped], `${tag}_norm`, [attrInt("to", ELEM.float)]);
}

const shape = (g: GraphBuilder, dims: number[]) =>
  g.const("shape", [dims.length], BigInt64Array.from(dims.map(BigInt)));

/**
 * Serialises a GRU-sequence or payload-CNN model as an ONNX model (IR 8, opset 15).
 *
 * Inputs: `input` float [N, S], each sample's raw vector as Vigil lays it out (inputs' blocks in model
 * order, see nnSampleLayout), and, when the model has a sequence input, `sequence_lens` int32 [N] (steps
 * per sample, clamped to 0..length as Vigil does). Outputs: `label` int64 [N] (class index, ArgMax) and
 * `probabilities` float [N, C]. Scaling runs in double like Vigil's; GRU (layout 0, linear_before_reset 1),
 * Conv, Gemm and Softmax run in float32. Throws VigilError("internal") for an inconsistent model.
 */
export function exportNnOnnx(model: NnModel, options: OnnxExportOptions = {}): Uint8Array {
  const problem = checkNnModel(model);
  if (problem !== undefined) throw new VigilError("internal", `neural model cannot be exported: ${problem}`);
  const g = new GraphBuilder();
  const layout = nnSampleLayout(model.inputs);
  const hasSequence = model.inputs.some((i) => i.layout === "sequence");
  let lens: string | undefined;
  if (hasSequence) {
    const seq = model.inputs.find((i) => i.layout === "sequence")!;
    lens = g.op(
      "Clip",
      [
        ONNX_SEQUENCE_LENS,
        g.const("len_lo", [], Int32Array.from([0])),
        g.const("len_hi", [], Int32Array.from([seq.length])),
      ],
      "lens",
    );
  }

  // Each input block: slice its columns, shape it per sample, scale it.
  const scaled = model.inputs.map((inp, i) => {
    const tag = `in${i}`;
    const start = layout.offsets[i];
    const block = g.op(
      "Slice",
      [
        ONNX_INPUT,
        g.const("starts", [1], BigInt64Array.from([BigInt(start)])),
        g.const("ends", [1], BigInt64Array.from([BigInt(start + inp.channels * inp.length)])),
        g.const("axes", [1], BigInt64Array.from([1n])),
      ],
      `${tag}_block`,
    );
    // sequence: [N, L, C] (step-major); grid: [N, C, L] (channel-major), as the raw vector holds them.
    const dims = inp.layout === "sequence" ? [-1, inp.length, inp.channels] : [-1, inp.channels, inp.length];
    const shaped = g.op("Reshape", [block, shape(g, dims)], `${tag}_shaped`);
    const channelShape = inp.layout === "sequence" ? [inp.channels] : [inp.channels, 1];
    return normalize(g, shaped, inp, channelShape, tag);
  });

  const features = model.branches.map((b, bi) => {
    const inp = model.inputs[b.input];
    const x = scaled[b.input];
    if (b.type === "gru") {
      const h = b.hiddenSize;
      // onnxruntime's GRU takes layout 0 only: [L, N, C].
      const seqMajor = g.op("Transpose", [x], `gru${bi}_x`, [attrInts("perm", [1, 0, 2])]);
      const yh = g.name(`gru${bi}_yh`);
      g.nodes.push(
        node(
          "GRU",
          [
            seqMajor,
            g.const(`gru${bi}_W`, [1, 3 * h, inp.channels], b.W),
            g.const(`gru${bi}_R`, [1, 3 * h, h], b.R),
            g.const(`gru${bi}_B`, [1, 6 * h], b.B),
            lens!,
          ],
          ["", yh],
          [attrInt("hidden_size", h), attrInt("linear_before_reset", 1)],
        ),
      );
      return g.op("Reshape", [yh, shape(g, [-1, h])], `gru${bi}_out`);
    }
    let y = x;
    b.layers.forEach((l, li) => {
      const conv = g.op(
        "Conv",
        [
          y,
          g.const(`conv${bi}_${li}_W`, [l.outChannels, l.inChannels, l.kernel], l.W),
          g.const(`conv${bi}_${li}_B`, [l.outChannels], l.B),
        ],
        `conv${bi}_${li}`,
        [attrInts("kernel_shape", [l.kernel]), attrInts("strides", [l.stride])],
      );
      y = g.op("Relu", [conv], `conv${bi}_${li}_relu`);
    });
    const pooled = g.op("GlobalMaxPool", [y], `conv${bi}_pool`);
    return g.op(
      "Reshape",
      [pooled, shape(g, [-1, b.layers[b.layers.length - 1].outChannels])],
      `conv${bi}_out`,
    );
  });

  let h = features.length === 1 ? features[0] : g.op("Concat", features, "concat", [attrInt("axis", 1)]);
  model.head.forEach((d, di) => {
    h = g.op(
      "Gemm",
      [h, g.const(`dense${di}_W`, [d.outSize, d.inSize], d.W), g.const(`dense${di}_B`, [d.outSize], d.B)],
      `dense${di}`,
      [attrFloat("alpha", 1), attrFloat("beta", 1), attrInt("transB", 1)],
    );
    if (d.activation === "relu") h = g.op("Relu", [h], `dense${di}_relu`);
  });
  g.nodes.push(node("Softmax", [h], [ONNX_PROBABILITIES], [attrInt("axis", 1)]));
  g.nodes.push(node("ArgMax", [h], [ONNX_LABEL], [attrInt("axis", 1), attrInt("keepdims", 0)]));

  const classes = model.classes.length;
  const inputs = [tensorInfo(ONNX_INPUT, ELEM.float, ["N", layout.size])];
  if (hasSequence) inputs.push(tensorInfo(ONNX_SEQUENCE_LENS, ELEM.int32, ["N"]));
  const metadata: Record<string, string> = {
    [META.kind]: model.kind,
    [META.exportVersion]: EXPORT_VERSION,
    [META.modelVersion]: options.modelVersion ?? nnModelVersion(model),
    [META.classes]: JSON.stringify(model.classes),
    [META_NN_INPUTS]: JSON.stringify(
      model.inputs.map((inp, i) => ({
        name: inp.name,
        layout: inp.layout,
        channels: inp.channels,
        length: inp.length,
        offset: layout.offsets[i],
        channelNames: inp.channelNames,
      })),
    ),
  };
  return encodeModel({
    graph: {
      name: `vigil_${model.kind.replace("-", "_")}`,
      node: g.nodes,
      initializer: g.initializers,
      input: inputs,
      output: [
        tensorInfo(ONNX_LABEL, ELEM.int64, ["N"]),
        tensorInfo(ONNX_PROBABILITIES, ELEM.float, ["N", classes]),
      ],
    },
    metadata,
    docString: options.docString,
    producerVersion: options.producerVersion,
  });
}
