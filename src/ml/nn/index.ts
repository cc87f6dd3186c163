// Entry of the neural kernels (GRU sequence and payload CNN heads): model format, layers, training.

export * from "./adam.ts";
export * from "./conv1d.ts";
export * from "./dense.ts";
export * from "./gru.ts";
export * from "./init.ts";
export * from "./loss.ts";
export * from "./model.ts";
export * from "./network.ts";
export * from "./normalize.ts";
export * from "./train.ts";
