// Public entry of ml: numeric kernels on typed arrays (autoencoders, KitNET, isolation forest, k-means,
// threshold calibration, evaluation metrics). Depends on core only.
export * from "./classification-metrics.ts";
export * from "./forest-index.ts";
export * from "./gbdt/index.ts";
export * from "./kitnet-index.ts";
export * from "./nn/index.ts";
export * from "./onnx/index.ts";
