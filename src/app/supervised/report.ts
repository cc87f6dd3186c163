// One report shape for every supervised model (GBDT, GRU, CNN): the deep heads' report with the model kind widened.
import type { DeepEvalReport } from "../deep/report.ts";
import type { SupervisedKind } from "./bundle.ts";

/** Per-class figures, macro-F1, confusion matrix and attack-vs-benign AUC of a supervised model. */
export type SupervisedReport = Omit<DeepEvalReport, "model"> & { model: SupervisedKind | "onnx" };
