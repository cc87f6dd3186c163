// Reading a decoded ONNX graph: value types and shapes, attributes, class labels.
import type { NodeProto, ValueInfoProto } from "./proto.ts";

/** One graph input or output as declared in the model. */
export interface OnnxValueInfo {
  name: string;
  /** "tensor(float)", "tensor(int64)", "seq(map(int64,tensor(float)))", … */
  type: string;
  /** Dimensions: a number when fixed, a name when symbolic, null when unknown; undefined when not a tensor. */
  shape: (number | string | null)[] | undefined;
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
export const FLOAT = 1;
export const INT32 = 6;
export const INT64 = 7;
export const STRING = 8;
export const DOUBLE = 11;

/** protobufjs gives int64 as Long objects (or numbers); both become numbers. */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (v !== null && typeof v === "object" && typeof (v as { toNumber?: unknown }).toNumber === "function") {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

type TypeProto = NonNullable<ValueInfoProto["type"]>;

/** "tensor(float)", "seq(map(int64,tensor(float)))", …; nesting is cut off at 8 levels. */
export function typeString(t: TypeProto | null | undefined, depth = 0): string {
  if (!t || depth > 8) return "unknown";
  if (t.tensorType) return `tensor(${ELEM_NAMES[t.tensorType.elemType ?? 0] ?? "unknown"})`;
  if (t.sequenceType) return `seq(${typeString(t.sequenceType.elemType, depth + 1)})`;
  if (t.mapType) {
    return `map(${ELEM_NAMES[t.mapType.keyType ?? 0] ?? "unknown"},${typeString(t.mapType.valueType, depth + 1)})`;
  }
  return "unknown";
}

/** A decoded ValueInfoProto as Vigil reports it. */
export function valueInfo(v: ValueInfoProto): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const shape = tt?.shape
    ? (tt.shape.dim ?? []).map((d) =>
        d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : null,
      )
    : undefined;
  return { name: v.name ?? "", type: typeString(v.type), shape };
}

/** A node's attribute by name. */
export function attr(n: NodeProto, name: string) {
  return (n.attribute ?? []).find((a) => a.name === name);
}

export const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Class labels a node declares (classlabels_int64s / _ints / _strings), as raw keys. */
export function classLabelsOf(n: NodeProto): (number | string)[] | undefined {
  for (const name of ["classlabels_int64s", "classlabels_ints"]) {
    const a = attr(n, name);
    if (a?.ints && a.ints.length > 0) return a.ints.map(num);
  }
  const s = attr(n, "classlabels_strings");
  if (s?.strings && s.strings.length > 0) return s.strings.map((b) => utf8.decode(b));
  return undefined;
}
