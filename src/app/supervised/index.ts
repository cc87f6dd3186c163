// Supervised models in the app: named datasets, training and evaluation runs, the model file.
export * from "./bundle.ts";
export * from "./datasets.ts";
export * from "./report.ts";
export * from "./train.ts";
export * from "./classifier.ts";
export * from "../deep/index.ts";
export * from "./eval-capture.ts";
