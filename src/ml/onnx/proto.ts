// onnx-proto (CommonJS, loaded on first use) and small builders for the graph parts Vigil emits.
import { createRequire } from "node:module";

type OnnxNamespace = typeof import("onnx-proto").onnx;
export type TensorProto = import("onnx-proto").onnx.ITensorProto;
export type AttributeProto = import("onnx-proto").onnx.IAttributeProto;
export type NodeProto = import("onnx-proto").onnx.INodeProto;
export type ValueInfoProto = import("onnx-proto").onnx.IValueInfoProto;
export type GraphProto = import("onnx-proto").onnx.IGraphProto;
export type ModelProto = import("onnx-proto").onnx.ModelProto;

// TensorProto.DataType numbers (onnx.proto), so callers need not load the package for a constant.
export const ELEM = { float: 1, uint8: 2, int32: 6, int64: 7, string: 8, bool: 9, double: 11 } as const;
// AttributeProto.AttributeType numbers (onnx.proto).
const ATTR = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

/** ONNX IR version of what Vigil writes: 8 is the newest onnx-proto 8.x (ONNX 1.10) knows. */
export const IR_VERSION = 8;
/** Default-domain opset Vigil writes: 15, the one of ONNX 1.10 (GRU `layout`, Softmax on one axis). */
export const OPSET_ONNX = 15;
/** ai.onnx.ml opset Vigil writes: 3 adds the double `*_as_tensor` tree attributes. */
export const OPSET_ML = 3;
export const ML_DOMAIN = "ai.onnx.ml";

let cached: OnnxNamespace | undefined;

/** The onnx-proto namespace, required on first use (plain JS, no native code). */
export function onnxProto(): OnnxNamespace {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    cached = (require("onnx-proto") as typeof import("onnx-proto")).onnx;
  }
  return cached;
}

const utf8 = new TextEncoder();

export function attrFloat(name: string, f: number): AttributeProto {
  return { name, type: ATTR.float, f };
}
export function attrInt(name: string, i: number): AttributeProto {
  return { name, type: ATTR.int, i };
}
export function attrString(name: string, s: string): AttributeProto {
  return { name, type: ATTR.string, s: utf8.encode(s) };
}
export function attrFloats(name: string, floats: ArrayLike<number>): AttributeProto {
  return { name, type: ATTR.floats, floats: Array.from(floats) };
}
export function attrInts(name: string, ints: ArrayLike<number>): AttributeProto {
  return { name, type: ATTR.ints, ints: Array.from(ints) };
}
export function attrStrings(name: string, strings: readonly string[]): AttributeProto {
  return { name, type: ATTR.strings, strings: strings.map((s) => utf8.encode(s)) };
}
export function attrTensor(name: string, t: TensorProto): AttributeProto {
  return { name, type: ATTR.tensor, t };
}

/** Little-endian bytes of a typed array (raw_data is little-endian whatever the host). */
function leBytes(values: Float32Array | Float64Array | BigInt64Array | Int32Array): Uint8Array {
  const width = values.BYTES_PER_ELEMENT;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (values instanceof Float32Array) view.setFloat32(i * width, values[i], true);
    else if (values instanceof Float64Array) view.setFloat64(i * width, values[i], true);
    else if (values instanceof BigInt64Array) view.setBigInt64(i * width, values[i], true);
    else view.setInt32(i * width, values[i], true);
  }
  return out;
}

/** A float, double, int32 or int64 tensor stored as raw_data. */
export function tensor(
  name: string,
  dims: readonly number[],
  values: Float32Array | Float64Array | BigInt64Array | Int32Array,
): TensorProto {
  const dataType =
    values instanceof Float32Array
      ? ELEM.float
      : values instanceof Float64Array
        ? ELEM.double
        : values instanceof BigInt64Array
          ? ELEM.int64
          : ELEM.int32;
  return { name, dims: [...dims], dataType, rawData: leBytes(values) };
}

/** A tensor-typed graph input or output; a string dimension is symbolic (e.g. "N"), null unknown. */
export function tensorInfo(
  name: string,
  elemType: number,
  dims: readonly (number | string | null)[],
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : d === null ? {} : { dimParam: d })),
        },
      },
    },
  };
}

export function node(
  opType: string,
  input: readonly string[],
  output: readonly string[],
  attribute: readonly AttributeProto[] = [],
  domain = "",
): NodeProto {
  return {
    opType,
    input: [...input],
    output: [...output],
    attribute: [...attribute],
    domain,
    name: output[0],
  };
}

/** What every Vigil export puts around its graph. */
export interface ModelParts {
  graph: GraphProto;
  /** Opset imports besides the default domain at OPSET_ONNX, e.g. { "ai.onnx.ml": 3 }. */
  extraOpsets?: Record<string, number>;
  metadata: Record<string, string>;
  docString?: string;
  producerVersion?: string;
  /** Defaults: "vigil", OPSET_ONNX, IR_VERSION (the fixture generator mimics other producers). */
  producerName?: string;
  opset?: number;
  irVersion?: number;
}

/** Serialises a model: IR 8, default opset OPSET_ONNX plus the extra ones, producer "vigil" unless told. */
export function encodeModel(parts: ModelParts): Uint8Array {
  const onnx = onnxProto();
  const opsetImport = [{ domain: "", version: parts.opset ?? OPSET_ONNX }];
  for (const [domain, version] of Object.entries(parts.extraOpsets ?? {}))
    opsetImport.push({ domain, version });
  const model = onnx.ModelProto.create({
    irVersion: parts.irVersion ?? IR_VERSION,
    opsetImport,
    producerName: parts.producerName ?? "vigil",
    producerVersion: parts.producerVersion ?? "",
    docString: parts.docString ?? "",
    graph: parts.graph,
    metadataProps: Object.entries(parts.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}
