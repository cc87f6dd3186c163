// Histogram gradient boosting (Ke et al. 2017, LightGBM; Chen & Guestrin 2016, XGBoost): binned features,
// leaf- or depth-wise Newton trees, histogram subtraction, bagging, early stopping.

import { seededRng } from "../../core/index.ts";
import { binEdges, binRows, MAX_BINS, sampleIndices } from "./binning.ts";
import { createArena, type HistArena } from "./hist-kernel.ts";
import type { GbdtModel, GbdtTree } from "./model.ts";
import { treeLeaf } from "./predict.ts";

/** Deepest tree the trainer grows and a model file may hold: bounds recursion and TreeSHAP's path buffers. */
export const MAX_TREE_DEPTH = 64;
/** Most leaves per tree. */
export const MAX_LEAVES = 1 << 16;

// Features per pass over the rows: a root pass reads each row's gradients (2·outputs doubles) once for this
// many features, whose root histograms (≈ 70 KB each at 16 outputs) then share the 1 MB L2; a leaf pass keeps
// that many independent chains of additions in flight, so rows that hit the same bin do not serialise.
const ROOT_GROUP = 8;
const LEAF_GROUP = 8;
const HESS_FLOOR = 1e-16; // keeps every row's hessian, and so every cover, above zero when p saturates
const PRIOR_FLOOR = 1e-6; // a class absent from training starts at log(1e-6) ≈ −13.8 instead of −∞

/** Settings of {@link trainGbdt}. Every field has a default. */
export interface GbdtConfig {
  /** Boosting rounds at most. Default 200. */
  rounds?: number;
  /** Shrinkage applied to every leaf. Default 0.1. */
  learningRate?: number;
  /** "leaf": split the leaf with the best gain next (LightGBM); "depth": level by level (XGBoost). Default "leaf". */
  growth?: "leaf" | "depth";
  /**
   * Leaves per tree at most. Default 31 for leaf-wise growth, 2^maxDepth for depth-wise. The trainer keeps one
   * gradient histogram (24 bytes per bin over all features, ≈ 0.5 MB for 81 features of 255 bins) per leaf.
   */
  maxLeaves?: number;
  /** Depth limit (root = depth 0); 0 means none (leaf-wise default). Default 6 for depth-wise growth. */
  maxDepth?: number;
  /** L2 regularisation λ on leaf values: leaf = −G / (H + λ). Default 1 (XGBoost's). */
  lambda?: number;
  /** Least hessian sum in a child. Default 1e-3 (LightGBM's min_sum_hessian_in_leaf). */
  minChildWeight?: number;
  /** Least training rows in a child. Default 20 (LightGBM's min_data_in_leaf). */
  minSamplesLeaf?: number;
  /**
   * Least gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) for a split (twice the Newton estimate of the drop in
   * summed training loss). Default 0.1: splits worth less than 0.05 nats over the whole training set only add
   * nodes, which every scored row and every explanation pays for.
   */
  minSplitGain?: number;
  /** Value bins per feature, 2..255 (plus a missing bin). Default 255. */
  maxBins?: number;
  /** Rows sampled to choose bin edges. Default 200 000 (LightGBM's bin_construct_sample_cnt). */
  binSampleRows?: number;
  /**
   * Share of rows drawn (without replacement) for each round's trees. Default 0.5: half the histogram work per
   * round; on CIC-IDS2017 the validation loss is no worse than with every row.
   */
  baggingFraction?: number;
  /** Share of features drawn for each tree. Default 1. */
  featureFraction?: number;
  /** Per-class row weights: "balanced" (rows / (classes · class rows)), explicit weights, or none (default). */
  classWeight?: "balanced" | readonly number[];
  /** Stop after this many rounds without a better validation loss and keep the best round. 0 turns it off.
   * Default 20; only used with a validation set. */
  earlyStoppingRounds?: number;
  /** Seed of bin sampling, bagging and feature sampling. Default 1. */
  seed?: number;
  /** Called after every round. */
  onProgress?: (p: GbdtProgress) => void;
  /**
   * Histogram kernel: "auto" (default) WebAssembly SIMD where available, "js" plain JS. Both give the same
   * model bit for bit; "js" exists for environments without WebAssembly and for testing.
   */
  kernel?: "auto" | "js";
}

/** The resolved settings of a training run, as a model file stores them. */
export type GbdtParams = {
  rounds: number;
  learningRate: number;
  growth: "leaf" | "depth";
  maxLeaves: number;
  /** 0: no limit (besides {@link MAX_TREE_DEPTH}). */
  maxDepth: number;
  lambda: number;
  minChildWeight: number;
  minSamplesLeaf: number;
  minSplitGain: number;
  maxBins: number;
  binSampleRows: number;
  baggingFraction: number;
  featureFraction: number;
  /** "none", "balanced" or "explicit"; the weights used are in `classWeights`. */
  classWeight: "none" | "balanced" | "explicit";
  classWeights: number[];
  earlyStoppingRounds: number;
  seed: number;
};

/** One round's report to {@link GbdtConfig.onProgress}. */
export interface GbdtProgress {
  /** Rounds done (1-based). */
  round: number;
  /** Rounds at most. */
  rounds: number;
  /** Class-weighted mean log loss on the training rows. */
  trainLoss: number;
  /** Same on the validation rows; null without a validation set. */
  validLoss: number | null;
  /** Round (1-based) with the lowest validation loss so far; 0 without a validation set. */
  bestIteration: number;
}

/** Labelled rows: row-major float32 features and class indices into `classes`. A learn `Dataset` fits. */
export interface GbdtTrainData {
  x: Float32Array;
  rows: number;
  cols: number;
  y: Int32Array;
  /** Class names; 2 gives a binary logistic model (index 1 positive), more a softmax model. */
  classes: readonly string[];
  featureNames: readonly string[];
}

/** Validation rows with the training set's columns and classes. */
export interface GbdtEvalData {
  x: Float32Array;
  rows: number;
  y: Int32Array;
}

/** The model and the story of its training. */
export interface GbdtTrainResult {
  model: GbdtModel;
  params: GbdtParams;
  /** Rounds in the model: the best round with early stopping, else every round trained. */
  bestIteration: number;
  /** Rounds trained (≥ bestIteration). */
  roundsTrained: number;
  /** Training loss after each round trained. */
  trainLoss: Float64Array;
  /** Validation loss after each round trained; null without a validation set. */
  validLoss: Float64Array | null;
  /** Validation loss of the kept model; null without a validation set. */
  bestValidLoss: number | null;
}

/**
 * Trains a binary logistic (2 classes) or multiclass softmax model. Deterministic for a seed. Throws
 * RangeError on a shape or setting that is a caller bug (lengths, class indices, out-of-range settings).
 * Missing values are NaN; each split learns which side they go to.
 */
export function trainGbdt(
  train: GbdtTrainData,
  config: GbdtConfig = {},
  valid?: GbdtEvalData,
): GbdtTrainResult {
  const { x, rows: n, cols, y } = train;
  const classes = [...train.classes];
  const k = classes.length;
  checkData(train, valid);
  const p = resolveParams(config, train);
  const outputs = k === 2 ? 1 : k;
  const rng = seededRng(p.seed);
  const { numBins, edges } = binEdges(x, n, cols, p.maxBins, p.binSampleRows, rng);
  const cw = Float64Array.from(p.classWeights);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = cw[y[i]];
  const baseScore = initialScores(y, w, k, outputs);
  const margins = new Float64Array(outputs * n); // row-major, like every margin array here
  for (let i = 0; i < n; i++) margins.set(baseScore, i * outputs);
  const grower = new TreeGrower(x, n, cols, numBins, edges, p, outputs, config.kernel !== "js");
  const gh = grower.gh;
  const usable: number[] = [];
  for (let f = 0; f < cols; f++) if (numBins[f] >= 2) usable.push(f);
  const featsPerTree = usable.length === 0 ? 0 : Math.max(1, Math.round(p.featureFraction * usable.length));
  const feats: Int32Array[] = [];
  for (let o = 0; o < outputs; o++) feats.push(new Int32Array(featsPerTree));
  const inRound = new Uint8Array(cols);

  const vn = valid?.rows ?? 0;
  const vMargins = new Float64Array(outputs * vn);
  for (let i = 0; i < vn; i++) vMargins.set(baseScore, i * outputs);
  const vw = new Float64Array(vn);
  for (let i = 0; i < vn; i++) vw[i] = cw[valid!.y[i]];

  const trees: GbdtTree[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  let best = 0;
  let bestLoss = Number.POSITIVE_INFINITY;
  const patience = valid ? p.earlyStoppingRounds : 0;
  const bagSize = Math.max(1, Math.round(p.baggingFraction * n));
  lossAndGradients(margins, y, w, n, outputs, gh);
  for (let round = 1; round <= p.rounds; round++) {
    const bag = bagSize < n ? sampleIndices(n, bagSize, rng) : null;
    inRound.fill(0);
    for (let o = 0; o < outputs; o++) {
      const pick = sampleIndices(usable.length, featsPerTree, rng);
      for (let j = 0; j < featsPerTree; j++) {
        feats[o][j] = usable[pick[j]];
        inRound[feats[o][j]] = 1;
      }
    }
    grower.startRound(bag, inRound);
    for (let o = 0; o < outputs; o++) {
      const tree = grower.grow(o, feats[o]);
      grower.addToMargins(margins);
      trees.push(tree);
      if (valid) addTree(tree, valid.x, vn, cols, vMargins, o, outputs);
    }
    const tl = lossAndGradients(margins, y, w, n, outputs, gh);
    trainLoss.push(tl);
    let vl: number | null = null;
    if (valid) {
      vl = loss(vMargins, valid.y, vw, vn, outputs);
      validLoss.push(vl);
      if (vl < bestLoss) {
        bestLoss = vl;
        best = round;
      }
    }
    config.onProgress?.({ round, rounds: p.rounds, trainLoss: tl, validLoss: vl, bestIteration: best });
    if (patience > 0 && round - best >= patience) break;
  }
  const roundsTrained = trainLoss.length;
  const kept = patience > 0 && best > 0 ? best : roundsTrained;
  trees.length = kept * outputs;
  return {
    model: {
      objective: outputs === 1 ? "binary" : "multiclass",
      classes,
      featureNames: [...train.featureNames],
      outputs,
      baseScore,
      trees,
    },
    params: p,
    bestIteration: kept,
    roundsTrained,
    trainLoss: Float64Array.from(trainLoss),
    validLoss: valid ? Float64Array.from(validLoss) : null,
    bestValidLoss: valid ? validLoss[kept - 1] : null,
  };
}

function checkData(t: GbdtTrainData, v: GbdtEvalData | undefined): void {
  checkInt("rows", t.rows, 2, 0x7fffffff);
  checkInt("cols", t.cols, 1, 0x7fffffff);
  if (t.x.length !== t.rows * t.cols)
    throw new RangeError(`x holds ${t.x.length} values, expected rows·cols = ${t.rows * t.cols}`);
  if (t.y.length !== t.rows) throw new RangeError(`y holds ${t.y.length} labels for ${t.rows} rows`);
  if (t.classes.length < 2) throw new RangeError("at least 2 classes are needed");
  if (t.featureNames.length !== t.cols)
    throw new RangeError(`featureNames has ${t.featureNames.length} names for ${t.cols} columns`);
  checkLabels(t.y, t.classes.length, "y");
  if (v) {
    checkInt("valid.rows", v.rows, 1, 0x7fffffff);
    if (v.x.length !== v.rows * t.cols)
      throw new RangeError(`valid.x holds ${v.x.length} values, expected rows·cols = ${v.rows * t.cols}`);
    if (v.y.length !== v.rows) throw new RangeError(`valid.y holds ${v.y.length} labels for ${v.rows} rows`);
    checkLabels(v.y, t.classes.length, "valid.y");
  }
}

function checkLabels(y: Int32Array, k: number, name: string): void {
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0 || y[i] >= k)
      throw new RangeError(`${name}[${i}] = ${y[i]} is not a class index below ${k}`);
  }
}

function resolveParams(c: GbdtConfig, t: GbdtTrainData): GbdtParams {
  const growth = c.growth ?? "leaf";
  if (growth !== "leaf" && growth !== "depth") throw new RangeError(`growth must be "leaf" or "depth"`);
  const maxDepth = c.maxDepth ?? (growth === "depth" ? 6 : 0);
  checkInt("maxDepth", maxDepth, growth === "depth" ? 1 : 0, MAX_TREE_DEPTH);
  const maxLeaves = c.maxLeaves ?? (growth === "depth" ? 2 ** Math.min(maxDepth, 16) : 31);
  checkInt("maxLeaves", maxLeaves, 2, MAX_LEAVES);
  const k = t.classes.length;
  let classWeight: GbdtParams["classWeight"] = "none";
  let classWeights = new Array<number>(k).fill(1);
  if (c.classWeight === "balanced") {
    classWeight = "balanced";
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < t.rows; i++) counts[t.y[i]]++;
    classWeights = counts.map((m) => (m > 0 ? t.rows / (k * m) : 0));
  } else if (c.classWeight !== undefined) {
    classWeight = "explicit";
    if (c.classWeight.length !== k || !c.classWeight.every((v) => Number.isFinite(v) && v >= 0))
      throw new RangeError(`classWeight must be "balanced" or ${k} finite weights ≥ 0`);
    classWeights = [...c.classWeight];
  }
  const p: GbdtParams = {
    rounds: c.rounds ?? 200,
    learningRate: c.learningRate ?? 0.1,
    growth,
    maxLeaves,
    maxDepth,
    lambda: c.lambda ?? 1,
    minChildWeight: c.minChildWeight ?? 1e-3,
    minSamplesLeaf: c.minSamplesLeaf ?? 20,
    minSplitGain: c.minSplitGain ?? 0.1,
    maxBins: c.maxBins ?? MAX_BINS,
    binSampleRows: c.binSampleRows ?? 200_000,
    baggingFraction: c.baggingFraction ?? 0.5,
    featureFraction: c.featureFraction ?? 1,
    classWeight,
    classWeights,
    earlyStoppingRounds: c.earlyStoppingRounds ?? 20,
    seed: c.seed ?? 1,
  };
  checkInt("rounds", p.rounds, 1, 1_000_000);
  checkNum("learningRate", p.learningRate, 0, 1e3, false);
  checkNum("lambda", p.lambda, 0, 1e12, true);
  checkNum("minChildWeight", p.minChildWeight, 0, 1e12, true);
  checkInt("minSamplesLeaf", p.minSamplesLeaf, 1, 0x7fffffff);
  checkNum("minSplitGain", p.minSplitGain, 0, 1e300, true);
  checkInt("maxBins", p.maxBins, 2, MAX_BINS);
  checkInt("binSampleRows", p.binSampleRows, 2, 0x7fffffff);
  checkNum("baggingFraction", p.baggingFraction, 0, 1, false);
  checkNum("featureFraction", p.featureFraction, 0, 1, false);
  checkInt("earlyStoppingRounds", p.earlyStoppingRounds, 0, 1_000_000);
  if (!Number.isFinite(p.seed)) throw new RangeError(`seed must be a finite number, got ${p.seed}`);
  if (!(p.lambda > 0 || p.minChildWeight > 0))
    throw new RangeError("lambda or minChildWeight must be positive, or a leaf value can divide by zero");
  return p;
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
}

/** v in (min, max] (or [min, max] when `closed`), finite. */
function checkNum(name: string, v: number, min: number, max: number, closed: boolean): void {
  if (!(Number.isFinite(v) && (closed ? v >= min : v > min) && v <= max))
    throw new RangeError(`${name} must be in ${closed ? "[" : "("}${min}, ${max}], got ${v}`);
}

/** Initial margins from the weighted class shares: logit of the positive share, or log shares. */
function initialScores(y: Int32Array, w: Float64Array, k: number, outputs: number): Float64Array {
  const mass = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    mass[y[i]] += w[i];
    total += w[i];
  }
  const share = (c: number): number =>
    Math.min(1 - PRIOR_FLOOR, Math.max(PRIOR_FLOOR, total > 0 ? mass[c] / total : 1 / k));
  const base = new Float64Array(outputs);
  if (outputs === 1) base[0] = Math.log(share(1) / (1 - share(1)));
  else for (let c = 0; c < k; c++) base[c] = Math.log(share(c));
  return base;
}

/**
 * Gradients and hessians of the log loss at `margins` (row-major) into `gh` (row-major: per row, g and h of
 * each output in turn), and the weighted mean loss. Softmax hessians carry Friedman's K/(K−1) factor
 * (LightGBM's), which damps the redundant K-th output.
 */
function lossAndGradients(
  margins: Float64Array,
  y: Int32Array,
  w: Float64Array,
  n: number,
  outputs: number,
  gh: Float64Array,
): number {
  let sum = 0;
  let wsum = 0;
  if (outputs === 1) {
    for (let i = 0; i < n; i++) {
      const m = margins[i];
      const wi = w[i];
      const yi = y[i];
      const p = 1 / (1 + Math.exp(-m));
      gh[2 * i] = wi * (p - yi);
      gh[2 * i + 1] = Math.max(wi * p * (1 - p), HESS_FLOOR);
      sum += wi * softplusLoss(m, yi);
      wsum += wi;
    }
    return wsum > 0 ? sum / wsum : 0;
  }
  const factor = outputs / (outputs - 1);
  const e = new Float64Array(outputs);
  for (let i = 0; i < n; i++) {
    let mx = Number.NEGATIVE_INFINITY;
    const mi = i * outputs;
    for (let o = 0; o < outputs; o++) mx = Math.max(mx, margins[mi + o]);
    let z = 0;
    for (let o = 0; o < outputs; o++) {
      e[o] = Math.exp(margins[mi + o] - mx);
      z += e[o];
    }
    const wi = w[i];
    const yi = y[i];
    const q = 2 * outputs * i;
    for (let o = 0; o < outputs; o++) {
      const p = e[o] / z;
      gh[q + 2 * o] = wi * (o === yi ? p - 1 : p);
      gh[q + 2 * o + 1] = Math.max(factor * wi * p * (1 - p), HESS_FLOOR);
    }
    sum += wi * (Math.log(z) + mx - margins[mi + yi]);
    wsum += wi;
  }
  return wsum > 0 ? sum / wsum : 0;
}

/** Weighted mean log loss at `margins` (row-major). */
function loss(margins: Float64Array, y: Int32Array, w: Float64Array, n: number, outputs: number): number {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (outputs === 1) sum += wi * softplusLoss(margins[i], y[i]);
    else {
      let mx = Number.NEGATIVE_INFINITY;
      const mi = i * outputs;
      for (let o = 0; o < outputs; o++) mx = Math.max(mx, margins[mi + o]);
      let z = 0;
      for (let o = 0; o < outputs; o++) z += Math.exp(margins[mi + o] - mx);
      sum += wi * (Math.log(z) + mx - margins[mi + y[i]]);
    }
    wsum += wi;
  }
  return wsum > 0 ? sum / wsum : 0;
}

/** −log σ(m) for y = 1, −log(1 − σ(m)) for y = 0, without overflow. */
function softplusLoss(m: number, y: number): number {
  const z = y === 1 ? -m : m; // loss = log(1 + e^z)
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Adds one tree's leaf values to output `o` of the row-major margins `out` for `rows` rows of `x`. */
function addTree(
  tree: GbdtTree,
  x: Float32Array,
  rows: number,
  cols: number,
  out: Float64Array,
  o: number,
  outputs: number,
): void {
  for (let i = 0; i < rows; i++) out[i * outputs + o] += tree.value[treeLeaf(tree, x, i * cols)];
}

/**
 * Grows the trees of a round on binned data. Each leaf owns a range of `idx` (rows in ascending order) and,
 * while it may still be split, a gradient histogram: per feature, (G, H) and a row count for every value bin
 * and the missing bin. The roots of all outputs' trees come from one pass over the round's rows (each bin
 * read once for every output); below the root a split builds the smaller child's histogram from its rows and
 * gets the larger one's by subtracting it from the parent's (the subtraction trick), reusing that buffer.
 * Bins, rows, gradients and histograms live in one arena that the histogram kernel works on.
 */
class TreeGrower {
  /** Row-major gradients: g and h of output o for row r at gh[2·(r·outputs + o)] and the next slot. */
  readonly gh: Float64Array;
  private readonly n: number;
  private readonly x: Float32Array;
  private readonly cols: number;
  private readonly arena: HistArena;
  private readonly bins: Uint8Array;
  private readonly numBins: Int32Array;
  private readonly edges: Float32Array[];
  /** Histogram offset of each feature, in bins; `histBins` bins over all features. */
  private readonly off: Int32Array;
  private readonly histBins: number;
  /** Leaf histogram buffers: views and their f64 offsets in the arena; `free` lists unused slots. */
  private readonly views: Float64Array[] = [];
  private readonly viewAt: number[] = [];
  private readonly free: number[] = [];
  /** Histogram slot of each leaf, −1 when it has none. */
  private readonly hists: Int32Array;
  private readonly outputs: number;
  private readonly rootG: Float64Array;
  private readonly rootH: Float64Array;
  private bag: Uint32Array | null = null;
  /** Rows outside the round's bag, ascending. */
  private readonly oob: Uint32Array;
  private oobCount = 0;
  /** Leaf value per row of the last tree. */
  private readonly delta: Float64Array;
  private readonly idx: Uint32Array;
  private readonly scratch: Uint32Array;
  private output = 0;
  private feats: Int32Array = new Int32Array(0);
  private readonly maxLeaves: number;
  private readonly maxDepth: number;
  private readonly lambda: number;
  private readonly minW: number;
  private readonly minS: number;
  private readonly minGain: number;
  private readonly lr: number;
  private readonly depthWise: boolean;
  // Leaves of the tree being grown, by slot.
  private leaves = 0;
  private readonly lStart: Int32Array;
  private readonly lEnd: Int32Array;
  private readonly lG: Float64Array;
  private readonly lH: Float64Array;
  private readonly lDepth: Int32Array;
  private readonly lNode: Int32Array;
  // Best split of each leaf: gain −∞ when it cannot be split.
  private readonly bGain: Float64Array;
  private readonly bFeat: Int32Array;
  private readonly bBin: Int32Array;
  private readonly bDefaultLeft: Uint8Array;
  private readonly bG: Float64Array;
  private readonly bH: Float64Array;
  // Nodes of the tree being grown.
  private nodes = 0;
  private readonly nFeat: Int32Array;
  private readonly nThr: Float32Array;
  private readonly nDefaultLeft: Uint8Array;
  private readonly nLeft: Int32Array;
  private readonly nRight: Int32Array;
  private readonly nValue: Float64Array;
  private readonly nCover: Float64Array;

  constructor(
    x: Float32Array,
    rows: number,
    cols: number,
    numBins: Int32Array,
    edges: Float32Array[],
    p: GbdtParams,
    outputs: number,
    wasm: boolean,
  ) {
    this.n = rows;
    this.x = x;
    this.cols = cols;
    this.numBins = numBins;
    this.edges = edges;
    this.outputs = outputs;
    this.off = new Int32Array(cols);
    let total = 0;
    for (let f = 0; f < cols; f++) {
      this.off[f] = total;
      total += numBins[f] + 1;
    }
    this.histBins = total;
    const L = p.maxLeaves;
    const a = createArena({ bins: rows * cols, rows, outputs, histBins: total, hists: L + 1, cols }, wasm);
    this.arena = a;
    this.bins = binRows(x, rows, cols, edges, a.u8.subarray(a.binsAt, a.binsAt + rows * cols));
    this.idx = a.u32.subarray(a.idxAt, a.idxAt + rows);
    this.scratch = a.u32.subarray(a.scratchAt, a.scratchAt + rows);
    this.oob = new Uint32Array(rows);
    this.delta = new Float64Array(rows);
    this.gh = a.f64.subarray(a.ghAt, a.ghAt + 2 * outputs * rows);
    for (let i = L; i >= 0; i--) {
      const at = a.histAt + i * 3 * total;
      this.views[i] = a.f64.subarray(at, at + 3 * total);
      this.viewAt[i] = at;
      this.free.push(i);
    }
    this.hists = new Int32Array(L).fill(-1);
    this.rootG = new Float64Array(outputs);
    this.rootH = new Float64Array(outputs);
    this.maxLeaves = L;
    this.maxDepth = p.maxDepth === 0 ? MAX_TREE_DEPTH : p.maxDepth;
    this.lambda = p.lambda;
    this.minW = p.minChildWeight;
    this.minS = p.minSamplesLeaf;
    this.minGain = p.minSplitGain;
    this.lr = p.learningRate;
    this.depthWise = p.growth === "depth";
    this.lStart = new Int32Array(L);
    this.lEnd = new Int32Array(L);
    this.lG = new Float64Array(L);
    this.lH = new Float64Array(L);
    this.lDepth = new Int32Array(L);
    this.lNode = new Int32Array(L);
    this.bGain = new Float64Array(L);
    this.bFeat = new Int32Array(L);
    this.bBin = new Int32Array(L);
    this.bDefaultLeft = new Uint8Array(L);
    this.bG = new Float64Array(L);
    this.bH = new Float64Array(L);
    const N = 2 * L - 1;
    this.nFeat = new Int32Array(N);
    this.nThr = new Float32Array(N);
    this.nDefaultLeft = new Uint8Array(N);
    this.nLeft = new Int32Array(N);
    this.nRight = new Int32Array(N);
    this.nValue = new Float64Array(N);
    this.nCover = new Float64Array(N);
  }

  /**
   * Starts a round on the rows in `bag` (ascending; all rows when null): root sums of every output, and root
   * histograms of the features flagged in `features` (those some tree of the round may use).
   */
  startRound(bag: Uint32Array | null, features: Uint8Array): void {
    this.bag = bag;
    const { gh, n, off, numBins, rootG, rootH, idx, arena, outputs } = this;
    const k2 = 2 * outputs;
    const stride = k2 + 2;
    let m = n;
    this.oobCount = 0;
    if (bag) {
      idx.set(bag);
      m = bag.length;
      for (let i = 0, j = 0; i < n; i++) {
        if (j < m && bag[j] === i) j++;
        else this.oob[this.oobCount++] = i;
      }
    } else for (let i = 0; i < n; i++) idx[i] = i;
    rootG.fill(0);
    rootH.fill(0);
    for (let j = 0; j < m; j++) {
      const q = idx[j] * k2;
      for (let o = 0; o < outputs; o++) {
        rootG[o] += gh[q + 2 * o];
        rootH[o] += gh[q + 2 * o + 1];
      }
    }
    let nf = 0;
    for (let f = 0; f < features.length; f++) {
      if (features[f] === 0) continue;
      const at = arena.rootAt + off[f] * stride;
      arena.f64.fill(0, at, at + (numBins[f] + 1) * stride);
      arena.setRootFeature(nf++, at, arena.binsAt + f * n);
      if (nf === ROOT_GROUP) {
        arena.rootPass(nf, arena.idxAt, m);
        nf = 0;
      }
    }
    if (nf > 0) arena.rootPass(nf, arena.idxAt, m);
  }

  /** Grows output `output`'s tree of the round over the features in `feats` (each flagged in startRound). */
  grow(output: number, feats: Int32Array): GbdtTree {
    this.output = output;
    this.feats = feats;
    const { idx, bag } = this;
    let m = this.n;
    if (bag) {
      idx.set(bag);
      m = bag.length;
    } else for (let i = 0; i < m; i++) idx[i] = i;
    const G = this.rootG[output];
    const H = this.rootH[output];
    this.nodes = 0;
    this.leaves = 0;
    const root = this.newNode(H);
    this.setLeaf(this.leaves++, 0, m, G, H, 0, root);
    if (this.splittable(0)) {
      this.hists[0] = this.free.pop()!;
      this.rootHistogram(this.views[this.hists[0]]);
      this.findBest(0, -1);
    }
    while (this.leaves < this.maxLeaves) {
      const l = this.pick();
      if (l < 0) break;
      this.split(l);
    }
    for (let l = 0; l < this.leaves; l++) {
      this.release(l);
      this.nValue[this.lNode[l]] = (-this.lr * this.lG[l]) / (this.lH[l] + this.lambda);
    }
    const c = this.nodes;
    return {
      feature: this.nFeat.slice(0, c),
      threshold: this.nThr.slice(0, c),
      left: this.nLeft.slice(0, c),
      right: this.nRight.slice(0, c),
      defaultLeft: this.nDefaultLeft.slice(0, c),
      value: this.nValue.slice(0, c),
      cover: this.nCover.slice(0, c),
    };
  }

  /** Adds the last grown tree's leaf values to its output in the row-major `margins` of every row. */
  addToMargins(margins: Float64Array): void {
    const { idx, outputs, output, delta, n } = this;
    // Scatter into a dense per-row array first, then add in row order: margins rows are a cache line apart.
    for (let l = 0; l < this.leaves; l++) {
      const v = this.nValue[this.lNode[l]];
      for (let j = this.lStart[l]; j < this.lEnd[l]; j++) delta[idx[j]] = v;
    }
    // Rows outside the bag have no leaf range: route them through the tree on their float32 values (a row's
    // values are adjacent there, its bins a column apart), which the thresholds split exactly as the bins.
    const { x, cols, nFeat, nThr, nDefaultLeft, nLeft, nRight, nValue, oob } = this;
    for (let j = 0; j < this.oobCount; j++) {
      const i = oob[j];
      let node = 0;
      for (let f = nFeat[0]; f >= 0; f = nFeat[node]) {
        const v = x[i * cols + f];
        const left = v <= nThr[node] || (Number.isNaN(v) && nDefaultLeft[node] === 1);
        node = left ? nLeft[node] : nRight[node];
      }
      delta[i] = nValue[node];
    }
    for (let i = 0; i < n; i++) margins[i * outputs + output] += delta[i];
  }

  private newNode(cover: number): number {
    const id = this.nodes++;
    this.nFeat[id] = -1;
    this.nThr[id] = 0;
    this.nDefaultLeft[id] = 0;
    this.nLeft[id] = -1;
    this.nRight[id] = -1;
    this.nValue[id] = 0;
    this.nCover[id] = cover;
    return id;
  }

  private setLeaf(l: number, start: number, end: number, G: number, H: number, depth: number, node: number) {
    this.lStart[l] = start;
    this.lEnd[l] = end;
    this.lG[l] = G;
    this.lH[l] = H;
    this.lDepth[l] = depth;
    this.lNode[l] = node;
    this.bGain[l] = Number.NEGATIVE_INFINITY;
  }

  /** Whether leaf l may still be split: depth, and room for two children of the least size and weight. */
  private splittable(l: number): boolean {
    return (
      this.lDepth[l] < this.maxDepth &&
      this.lEnd[l] - this.lStart[l] >= 2 * this.minS &&
      this.lH[l] >= 2 * this.minW &&
      this.feats.length > 0
    );
  }

  /** The leaf to split next: best gain (leaf-wise) or shallowest, oldest (depth-wise); −1 when none. */
  private pick(): number {
    let best = -1;
    for (let l = 0; l < this.leaves; l++) {
      if (!(this.bGain[l] > this.minGain && this.bGain[l] > 0)) continue;
      if (best < 0) best = l;
      else if (this.depthWise) {
        const d = this.lDepth[l] - this.lDepth[best];
        if (d < 0 || (d === 0 && this.lNode[l] < this.lNode[best])) best = l;
      } else if (this.bGain[l] > this.bGain[best]) best = l;
    }
    return best;
  }

  private split(l: number): void {
    const { idx, scratch, bins, n } = this;
    const f = this.bFeat[l];
    const t = this.bBin[l];
    const dl = this.bDefaultLeft[l] === 1;
    const start = this.lStart[l];
    const end = this.lEnd[l];
    const base = f * n;
    const missing = this.numBins[f];
    // Stable partition: rows stay ascending on both sides, so column reads stay sequential. Branch-free:
    // every row is written to both sides and only the side it belongs to advances.
    let a = start;
    let s = 0;
    const nanLeft = dl ? missing : -1; // bin that goes left besides bins ≤ t
    for (let j = start; j < end; j++) {
      const r = idx[j];
      const b = bins[base + r];
      const left = (b <= t ? 1 : 0) | (b === nanLeft ? 1 : 0);
      idx[a] = r;
      scratch[s] = r;
      a += left;
      s += 1 - left;
    }
    idx.set(scratch.subarray(0, s), a);
    const G = this.lG[l];
    const H = this.lH[l];
    const GL = this.bG[l];
    const HL = this.bH[l];
    const node = this.lNode[l];
    const ln = this.newNode(HL);
    const rn = this.newNode(H - HL);
    this.nFeat[node] = f;
    this.nThr[node] = this.edges[f][t];
    this.nDefaultLeft[node] = dl ? 1 : 0;
    this.nLeft[node] = ln;
    this.nRight[node] = rn;
    const depth = this.lDepth[l] + 1;
    const r = this.leaves++;
    const parent = this.hists[l];
    this.hists[l] = -1;
    this.setLeaf(l, start, a, GL, HL, depth, ln);
    this.setLeaf(r, a, end, G - GL, H - HL, depth, rn);
    const more = this.leaves < this.maxLeaves;
    const needL = more && this.splittable(l);
    const needR = more && this.splittable(r);
    if (!needL && !needR) {
      if (parent >= 0) this.free.push(parent);
      return;
    }
    const small = a - start <= end - a ? l : r;
    const large = small === l ? r : l;
    const slot = this.free.pop()!;
    this.build(slot, this.lStart[small], this.lEnd[small]);
    this.hists[small] = slot;
    if (small === l ? needR : needL) {
      this.hists[large] = parent;
      this.findBest(large, slot);
    } else this.free.push(parent);
    if (small === l ? needL : needR) this.findBest(small, -1);
    else this.release(small);
  }

  private release(l: number): void {
    if (this.hists[l] >= 0) this.free.push(this.hists[l]);
    this.hists[l] = -1;
  }

  /** The current output's root histogram of the chosen features, from the round's shared root pass. */
  private rootHistogram(hist: Float64Array): void {
    const { feats, off, numBins, histBins, outputs } = this;
    const f64 = this.arena.f64;
    const stride = 2 * outputs + 2;
    const go = this.arena.rootAt + 2 * this.output;
    const co = this.arena.rootAt + 2 * outputs;
    for (let fi = 0; fi < feats.length; fi++) {
      const f = feats[fi];
      for (let b = off[f], e = off[f] + numBins[f] + 1; b < e; b++) {
        const q = b * stride;
        hist[2 * b] = f64[go + q];
        hist[2 * b + 1] = f64[go + q + 1];
        hist[2 * histBins + b] = f64[co + q];
      }
    }
  }

  /** (G, H) and counts per bin of the chosen features over rows idx[start, end), into histogram `slot`. */
  private build(slot: number, start: number, end: number): void {
    const { arena, feats, off, numBins, histBins, n } = this;
    const m = end - start;
    const rows = arena.idxAt + start;
    arena.gather(rows, m, this.output);
    const at = this.viewAt[slot];
    let nf = 0;
    for (let fi = 0; fi < feats.length; fi++) {
      const f = feats[fi];
      const gh = at + 2 * off[f];
      const count = at + 2 * histBins + off[f];
      const nb = numBins[f] + 1;
      arena.f64.fill(0, gh, gh + 2 * nb);
      arena.f64.fill(0, count, count + nb);
      arena.setLeafFeature(nf++, gh, count, arena.binsAt + f * n);
      if (nf === LEAF_GROUP || fi === feats.length - 1) {
        arena.build(nf, rows, m);
        nf = 0;
      }
    }
  }

  /**
   * Best split of leaf l over the chosen features: bins ≤ t go left; missing rows go left or right, whichever
   * gains more (when the leaf has none, they follow the heavier child). With `sibling` ≥ 0, leaf l's buffer
   * still holds its parent's histogram: each feature's part becomes l's by subtracting the sibling's just
   * before it is scanned, while it is in cache.
   */
  private findBest(l: number, sibling: number): void {
    const hist = this.views[this.hists[l]];
    const { feats, off, numBins, lambda, minW, minS } = this;
    const co = 2 * this.histBins;
    const sub = sibling >= 0 ? this.views[sibling] : null;
    const G = this.lG[l];
    const H = this.lH[l];
    const C = this.lEnd[l] - this.lStart[l];
    const parent = (G * G) / (H + lambda);
    let bestGain = Number.NEGATIVE_INFINITY;
    let bf = -1;
    let bt = 0;
    let bdl = 0;
    let bg = 0;
    let bh = 0;
    for (let fi = 0; fi < feats.length; fi++) {
      const f = feats[fi];
      const nb = numBins[f];
      const o = off[f];
      if (sub) {
        for (let q = 2 * o, e = 2 * (o + nb + 1); q < e; q++) hist[q] -= sub[q];
        for (let q = co + o, e = co + o + nb + 1; q < e; q++) hist[q] -= sub[q];
      }
      const gm = hist[2 * (o + nb)];
      const hm = hist[2 * (o + nb) + 1];
      const cm = hist[co + o + nb];
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let t = 0; t < nb - 1; t++) {
        const c = hist[co + o + t];
        gl += hist[2 * (o + t)];
        hl += hist[2 * (o + t) + 1];
        if (c === 0) continue; // no rows in this bin: the same partition as the threshold before
        cl += c;
        if (C - cl < minS) break; // the right side only shrinks from here
        if (cl >= minS && hl >= minW && hl > 0) {
          const hr = H - hl;
          if (hr >= minW && hr > 0) {
            const gr = G - gl;
            const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
            if (gain > bestGain) {
              bestGain = gain;
              bf = f;
              bt = t;
              bdl = cm > 0 ? 0 : hl >= hr ? 1 : 0;
              bg = gl;
              bh = hl;
            }
          }
        }
        if (cm > 0) {
          const gl2 = gl + gm;
          const hl2 = hl + hm;
          const cl2 = cl + cm;
          const hr = H - hl2;
          if (cl2 >= minS && hl2 >= minW && C - cl2 >= minS && hr >= minW && hr > 0) {
            const gr = G - gl2;
            const gain = (gl2 * gl2) / (hl2 + lambda) + (gr * gr) / (hr + lambda) - parent;
            if (gain > bestGain) {
              bestGain = gain;
              bf = f;
              bt = t;
              bdl = 1;
              bg = gl2;
              bh = hl2;
            }
          }
        }
      }
    }
    if (bf < 0) {
      this.bGain[l] = Number.NEGATIVE_INFINITY;
      this.release(l);
      return;
    }
    this.bGain[l] = bestGain;
    this.bFeat[l] = bf;
    this.bBin[l] = bt;
    this.bDefaultLeft[l] = bdl;
    this.bG[l] = bg;
    this.bH[l] = bh;
  }
}
