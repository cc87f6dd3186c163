// The trained gradient-boosted tree ensemble as data: the contract between the trainer, the scorer,
// TreeSHAP, the model file and the ONNX exporter.

/**
 * One regression tree in flat struct-of-arrays form; node 0 is the root.
 *
 * Decisions are made in float32: inputs are Float32Array and every threshold is a float32 value, so
 * the ONNX TreeEnsembleClassifier export (float inputs, BRANCH_LEQ) takes exactly the same paths.
 * A value goes left when `x <= threshold`; NaN (missing) goes where `defaultLeft` says; +Infinity
 * always right, -Infinity always left.
 */
export interface GbdtTree {
  /** Split feature per node; -1 marks a leaf. */
  feature: Int32Array;
  /** Split threshold per node (float32 value); unused for leaves. */
  threshold: Float32Array;
  /** Child indices per node; -1 for leaves. */
  left: Int32Array;
  right: Int32Array;
  /** 1 where missing values (NaN) go left. */
  defaultLeft: Uint8Array;
  /** Leaf output per node (margin contribution, shrinkage already applied); 0 for inner nodes. */
  value: Float64Array;
  /** Training weight that reached each node (sum of hessians): TreeSHAP's path-dependent cover. */
  cover: Float64Array;
}

/** A trained ensemble: binary logistic (1 output) or multiclass softmax (one output per class). */
export interface GbdtModel {
  objective: "binary" | "multiclass";
  /** Class names; binary models have exactly two, index 1 being the positive class. */
  classes: string[];
  /** Feature names in column order (never identifiers). */
  featureNames: string[];
  /** Outputs per round: 1 for binary, classes.length for multiclass. */
  outputs: number;
  /** Initial margin per output. */
  baseScore: Float64Array;
  /** Round-major: tree `round * outputs + k` adds to output k. */
  trees: GbdtTree[];
}
