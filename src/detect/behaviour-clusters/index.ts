// Behaviour-clusters host detector plugin: entry point.
export * from "./config.ts";
export * from "./detector.ts";
