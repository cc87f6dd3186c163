// Entry of the neural kernels (GRU sequence and payload CNN heads): model format, layers, training.

export * from "./model.ts";
