// Supervised models in the app: named datasets, training and evaluation runs, the model file.

export * from "../deep/index.ts";
export * from "./bundle.ts";
export * from "./classifier.ts";
export * from "./datasets.ts";
export * from "./eval-capture.ts";
export * from "./onnx.ts";
export * from "./report.ts";
export * from "./train.ts";
