// Public entry of detect: the plugin contract and the registry of detectors.
export * from "./behaviour-clusters/index.ts";
export * from "./flow-classifier/index.ts";
export * from "./iforest/index.ts";
export * from "./kitnet/index.ts";
export * from "./types.ts";
