// Deep heads of `vigil train --model gru|cnn` and `vigil eval`: GRU over a host's flows, CNN over packet windows.

export * from "./capture-flows.ts";
export * from "./payload.ts";
export * from "./report.ts";
export * from "./sequence.ts";
