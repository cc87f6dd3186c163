// Public entry of the GBDT kernels: histogram gradient boosting, batch scoring, TreeSHAP, model files.

export * from "./model.ts";
export * from "./model-file.ts";
export * from "./predict.ts";
export * from "./shap.ts";
export {
  type GbdtConfig,
  type GbdtEvalData,
  type GbdtParams,
  type GbdtProgress,
  type GbdtTrainData,
  type GbdtTrainResult,
  MAX_LEAVES,
  MAX_TREE_DEPTH,
  trainGbdt,
} from "./train.ts";
