// The metadata_props keys Vigil writes into every ONNX export, read back by the importer.

/** metadata_props keys of Vigil's ONNX exports. */
export const META = {
  /** Which Vigil model this is: "gbdt", "gru", "cnn". */
  kind: "vigil.kind",
  /** Layout version of Vigil's ONNX export (this file's EXPORT_VERSION). */
  exportVersion: "vigil.export_version",
  /** The caller's model version (e.g. the registry's), when given. */
  modelVersion: "vigil.model_version",
  /** JSON array of feature names in input column order. */
  featureNames: "vigil.feature_names",
  /** JSON array of class names, in probability column order. */
  classes: "vigil.classes",
} as const;

// 1: first layout (input "input", outputs "label" int64 and "probabilities" float [N, C]).
export const EXPORT_VERSION = "1";

/** A JSON array of strings from metadata, or undefined when absent or not that shape. */
export function metaStringArray(meta: Readonly<Record<string, string>>, key: string): string[] | undefined {
  const raw = meta[key];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed) && parsed.every((s) => typeof s === "string")) return parsed as string[];
  } catch {
    // not JSON: treated as absent
  }
  return undefined;
}
