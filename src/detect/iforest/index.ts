// Isolation-forest flow detector plugin: entry point.
export * from "./config.ts";
export * from "./detector.ts";
