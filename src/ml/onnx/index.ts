// Public entry of ml/onnx: export Vigil's models to ONNX, load and run ONNX classifiers trained elsewhere.
export {
  exportGbdtOnnx,
  ONNX_INPUT,
  ONNX_LABEL,
  ONNX_PROBABILITIES,
  type OnnxExportOptions,
} from "./export-gbdt.ts";
export { exportNnOnnx, META_NN_INPUTS, ONNX_SEQUENCE_LENS } from "./export-nn.ts";
export type { OnnxValueInfo } from "./graph-info.ts";
export type { OnnxOutputConvention } from "./graph-plan.ts";
export {
  loadOnnxClassifier,
  MAX_ONNX_BYTES,
  type OnnxClassifier,
  type OnnxClassifyOptions,
  type OnnxLoadOptions,
  type OnnxPrediction,
} from "./import-classifier.ts";
export { META as ONNX_METADATA_KEYS } from "./metadata.ts";
