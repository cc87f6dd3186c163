// Supervised flow-classifier detector plugin: entry point.
export * from "./config.ts";
export * from "./detector.ts";
export * from "./techniques.ts";
