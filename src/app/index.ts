// Public entry of app: the composition root that wires concrete stages for each command.

export { afterImageFeatureNames } from "../features/index.ts";
export type { SourceProgress } from "../pipeline/index.ts";
export * from "./analyze.ts";
export * from "./anomaly-events.ts";
export * from "./baseline.ts";
export * from "./detections.ts";
export * from "./eval.ts";
export * from "./eval-capture-flows.ts";
export * from "./eval-flows.ts";
export * from "./eval-zeek.ts";
export * from "./flow-detections.ts";
export * from "./flow-format.ts";
export * from "./labels.ts";
export * from "./live.ts";
export * from "./output.ts";
export * from "./packet-path.ts";
export * from "./site-config.ts";
export * from "./summary.ts";
export * from "./supervised/index.ts";
