// KitNET (Mirsky et al., NDSS 2018): feature mapper + ensemble of small autoencoders + output autoencoder.

import { type Rng, seededRng } from "../core/index.ts";
import { Autoencoder, autoencoderStateLength, batchScratchLength, hiddenSize } from "./autoencoder.ts";
import { FeatureMapper } from "./feature-mapper.ts";
import { type KernelPrecision, KitNetKernel } from "./kitnet-kernel.ts";
import { normalQuantile } from "./threshold.ts";

/** Settings of a KitNet. */
export interface KitNetConfig {
  /** Features per vector (115 for AfterImage). */
  n: number;
  /** Most features one ensemble autoencoder may take; default 10 (KitNET's). */
  maxGroup?: number;
  /** Vectors used to learn the feature map; default 5 000. Ignored when `featureMap` is given. */
  fmGrace?: number;
  /** Vectors the autoencoders train on after the map is learnt; default 50 000. */
  adGrace?: number;
  /** Hidden/visible ratio of every autoencoder; default 0.75. */
  hiddenRatio?: number;
  /** SGD learning rate of every autoencoder; default 0.1. */
  learningRate?: number;
  /** Seed of the weight initialisation; default 1. */
  seed?: number;
  /** A fixed feature map (groups of feature indices, a partition of 0..n−1); skips the FM phase. */
  featureMap?: readonly (readonly number[])[];
  /**
   * Keep learning in the execute phase from vectors judged benign. A number trains on vectors that scored
   * below it (allocation-free). A function is asked per vector; V8 may box the score it receives.
   */
  trainOnBenign?: number | ((score: number) => boolean);
  /** Scoring kernel of the execute phase; see `KitNetKernelKind`. Default "auto". */
  kernel?: KitNetKernelKind;
  /**
   * Poisoning guard of the training phase: the share of vectors, under a log-normal model of the running
   * training scores, that is extreme enough to be left out (not learnt). 0 (default) learns every vector.
   */
  trainingTrim?: number;
}

// The guard starts judging after this many autoencoder training steps (scores of an untrained model say
// nothing), and its running log-score mean and variance forget with this half-life, in vectors.
const GUARD_WARMUP = 1000;
const GUARD_HALF_LIFE = 2000;

/**
 * How the execute phase scores. "auto": one WebAssembly SIMD function generated for the model, bit-identical
 * to the JS kernel and about 4× faster (the JS kernel where WebAssembly SIMD is missing). "js": the JS kernel,
 * autoencoder by autoencoder. "f32": opt-in approximation, WebAssembly f32x4 with a polynomial sigmoid, about
 * twice as fast again; its scores differ from the exact ones in the 6th–7th significant digit.
 */
export type KitNetKernelKind = "auto" | "js" | "f32";

/** The resolved configuration that a model file stores. */
export interface KitNetResolvedConfig {
  n: number;
  maxGroup: number;
  fmGrace: number;
  adGrace: number;
  hiddenRatio: number;
  learningRate: number;
  seed: number;
}

/** Top-k explanation buffers: `explain` fills `feature`/`share` and sets `k` to the entries written. */
export interface KitNetExplanation {
  /** Feature indices, largest share first. */
  feature: Int32Array;
  /** Share of the score attributed to each feature; all n shares sum to 1. */
  share: Float64Array;
  /** Entries written by the last `explain` call. */
  k: number;
}

/** Explanation buffers for the top k features. */
export function createExplanation(k: number): KitNetExplanation {
  return { feature: new Int32Array(k), share: new Float64Array(k), k: 0 };
}

// Vectors scored together by processBatch: 32 × 115 features = 29 KiB of transposed input, cache-resident.
const TILE = 32;

/** Lifecycle: learn the feature map, then train the autoencoders, then score. */
export type KitNetPhase = "fm" | "ad" | "execute";

/** Everything needed to rebuild a trained KitNet (model-file.ts turns it into JSON). */
export interface KitNetState {
  config: KitNetResolvedConfig;
  groups: number[][];
  /** Every autoencoder's state, ensemble in group order, then the output autoencoder. */
  weights: Float64Array;
}

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`kitnet: ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** Checks that groups partition 0..n−1; returns a message or undefined. */
export function checkFeatureMap(groups: readonly (readonly number[])[], n: number): string | undefined {
  if (groups.length === 0) return "feature map has no groups";
  const seen = new Uint8Array(n);
  let total = 0;
  for (const g of groups) {
    if (g.length === 0) return "feature map has an empty group";
    for (const f of g) {
      if (!Number.isInteger(f) || f < 0 || f >= n) return `feature map index ${f} is outside 0..${n - 1}`;
      if (seen[f]) return `feature map lists feature ${f} twice`;
      seen[f] = 1;
      total++;
    }
  }
  if (total !== n) return `feature map covers ${total} of ${n} features`;
  return undefined;
}

/** Doubles of autoencoder state a KitNet with these groups keeps. */
export function kitNetWeightLength(groups: readonly (readonly number[])[], hiddenRatio: number): number {
  let len = 0;
  for (const g of groups) len += autoencoderStateLength(g.length, hiddenSize(g.length, hiddenRatio));
  return len + autoencoderStateLength(groups.length, hiddenSize(groups.length, hiddenRatio));
}

/**
 * KitNET anomaly detector. Feed vectors in order with `process`: the first `fmGrace` learn the feature map
 * (score 0), the next `adGrace` train the autoencoders (score 0), and from then on each vector gets a score:
 * the output autoencoder's reconstruction RMSE of the ensemble's per-group RMSEs. Per-vector work allocates
 * nothing. Non-finite inputs never throw or yield NaN; see `Autoencoder` for how they are read.
 */
export class KitNet {
  private cfg: KitNetResolvedConfig;
  private _phase: KitNetPhase;
  private seen = 0;
  private fmLen: number; // length of the FM phase: fmGrace, or 0 when a feature map was given
  private mapper: FeatureMapper | undefined;
  private readonly rng: Rng;
  private benignBelow: number;
  private readonly benignFn: ((score: number) => boolean) | undefined;
  // Set once the feature map is known.
  private groupList: number[][] = [];
  private ensemble: Autoencoder[] = [];
  private output: Autoencoder | undefined;
  private perm = new Int32Array(0); // feature index per position of the gathered vector
  private groupOff = new Int32Array(0); // start of each group in the gathered vector
  private xp = new Float64Array(0); // gathered vector, groups back to back
  private s1 = new Float64Array(0); // per-group RMSE, input of the output autoencoder
  private readonly res = new Float64Array(1);
  // Tiled scoring scratch (processBatch): input transposed to feature-major, group RMSEs, kernel scratch.
  private xt = new Float64Array(0);
  private s1t = new Float64Array(0);
  private tileScratch = new Float64Array(0);
  // Explanation scratch.
  private readonly featErr: Float64Array;
  private groupErr = new Float64Array(0);
  private readonly shares: Float64Array;
  // Execute-phase kernel: undefined until first needed, null when unavailable or not wanted.
  private kernelKind: KitNetKernelKind;
  private kernel: KitNetKernel | null | undefined;
  private stateScratch = new Float64Array(0); // one autoencoder's state, copied into the kernel
  private kernelDirty = true; // the autoencoders learnt since the kernel last copied their state
  // Training poisoning guard: z of the trim share, running mean/variance of log training scores.
  private readonly guardZ: number;
  private guardN = 0;
  private guardMean = 0;
  private guardVar = 0;
  private _trimmed = 0;
  private errorsInKernel = false; // explain() reads the kernel's errors (else the autoencoders')

  constructor(cfg: KitNetConfig) {
    const n = positiveInt("n", cfg.n, 1);
    const hiddenRatio = cfg.hiddenRatio ?? 0.75;
    if (!(hiddenRatio > 0 && hiddenRatio <= 4))
      throw new RangeError(`kitnet: hiddenRatio must be in (0, 4], got ${hiddenRatio}`);
    const learningRate = cfg.learningRate ?? 0.1;
    if (!(learningRate > 0 && Number.isFinite(learningRate)))
      throw new RangeError(`kitnet: learningRate must be > 0, got ${learningRate}`);
    this.cfg = {
      n,
      maxGroup: positiveInt("maxGroup", cfg.maxGroup ?? 10, 1),
      fmGrace: cfg.featureMap ? 0 : positiveInt("fmGrace", cfg.fmGrace ?? 5000, 2),
      adGrace: positiveInt("adGrace", cfg.adGrace ?? 50_000, 1),
      hiddenRatio,
      learningRate,
      seed: cfg.seed ?? 1,
    };
    this.fmLen = this.cfg.fmGrace;
    this.rng = seededRng(this.cfg.seed);
    const tob = cfg.trainOnBenign;
    this.benignBelow = typeof tob === "number" ? tob : Number.NEGATIVE_INFINITY;
    this.benignFn = typeof tob === "function" ? tob : undefined;
    this.featErr = new Float64Array(n);
    this.shares = new Float64Array(n);
    this.kernelKind = cfg.kernel ?? "auto";
    const trim = cfg.trainingTrim ?? 0;
    if (!(trim >= 0 && trim < 0.5))
      throw new RangeError(`kitnet: trainingTrim must be in [0, 0.5), got ${trim}`);
    this.guardZ = trim > 0 ? normalQuantile(1 - trim) : Number.POSITIVE_INFINITY;
    if (cfg.featureMap) {
      const bad = checkFeatureMap(cfg.featureMap, n);
      if (bad !== undefined) throw new RangeError(`kitnet: ${bad}`);
      this.build(cfg.featureMap.map((g) => [...g]));
      this._phase = "ad";
    } else {
      this.mapper = new FeatureMapper(n);
      this._phase = "fm";
    }
  }

  /** Rebuilds a trained model (phase "execute") from `exportState()` output. */
  static fromState(
    state: KitNetState,
    opts: { trainOnBenign?: KitNetConfig["trainOnBenign"]; kernel?: KitNetConfig["kernel"] } = {},
  ): KitNet {
    const c = state.config;
    const bad = checkFeatureMap(state.groups, c.n);
    if (bad !== undefined) throw new RangeError(`kitnet: ${bad}`);
    const net = new KitNet({
      ...c,
      featureMap: state.groups,
      trainOnBenign: opts.trainOnBenign,
      ...(opts.kernel ? { kernel: opts.kernel } : {}),
    });
    // The constructor drew fresh weights; replace every autoencoder with the saved state.
    const expected = kitNetWeightLength(state.groups, c.hiddenRatio);
    if (state.weights.length !== expected)
      throw new RangeError(`kitnet: state has ${state.weights.length} weights, expected ${expected}`);
    let off = 0;
    const restore = (nv: number): Autoencoder => {
      const nh = hiddenSize(nv, c.hiddenRatio);
      const len = autoencoderStateLength(nv, nh);
      const ae = new Autoencoder(
        { nVisible: nv, nHidden: nh, learningRate: c.learningRate },
        undefined,
        state.weights.subarray(off, off + len),
      );
      off += len;
      return ae;
    };
    net.ensemble = state.groups.map((g) => restore(g.length));
    net.output = restore(state.groups.length);
    net.allocTiles();
    net.cfg = { ...c };
    net.fmLen = c.fmGrace;
    net.seen = c.fmGrace + c.adGrace;
    net._phase = "execute";
    return net;
  }

  /** The resolved settings (fmGrace is 0 when a feature map was given). */
  get config(): Readonly<KitNetResolvedConfig> {
    return this.cfg;
  }

  /** Current lifecycle phase. */
  get phase(): KitNetPhase {
    return this._phase;
  }

  /** Vectors seen in the grace phases (FM + AD), learnt or trimmed; scoring does not count. */
  get trained(): number {
    return this.seen;
  }

  /** Training vectors the poisoning guard left out (`trainingTrim`). */
  get trimmed(): number {
    return this._trimmed;
  }

  /** The feature map (groups of feature indices), empty before the FM phase ends. */
  get groups(): readonly (readonly number[])[] {
    return this.groupList;
  }

  /**
   * Feeds one vector x[off .. off+n). Returns 0 in the grace phases, else the anomaly score.
   * In the execute phase, with `trainOnBenign`, the vector is then learnt if judged benign.
   * The returned double may be boxed by V8 when this call is not inlined; `processBatch` never allocates.
   */
  process(x: Float64Array, off = 0): number {
    if (this._phase === "execute") {
      this.scoreTo(x, off, this.res, 0);
      const s = this.res[0];
      if (s < this.benignBelow || this.benignFn?.(s)) this.learn(x, off);
      return s;
    }
    this.trainStep(x, off);
    return 0;
  }

  /**
   * Processes `count` vectors stored back to back in `xs` (row r at r × n) and writes each result to
   * scores[scoresOff + r]: the same numbers as `process` per row, bit for bit. In the execute phase without
   * `trainOnBenign` it scores 32 vectors per kernel call and never boxes a double. `explain` then describes
   * the last row.
   */
  processBatch(xs: Float64Array, count: number, scores: Float64Array, scoresOff = 0): void {
    const n = this.cfg.n;
    const res = this.res;
    let r = 0;
    const learning = this.benignBelow > Number.NEGATIVE_INFINITY || this.benignFn !== undefined;
    for (; r < count && (this._phase !== "execute" || learning); r++) {
      if (this._phase === "execute") {
        this.scoreTo(xs, r * n, res, 0);
        const s = res[0];
        scores[scoresOff + r] = s;
        if (s < this.benignBelow || this.benignFn?.(s)) this.learn(xs, r * n);
      } else {
        this.trainStep(xs, r * n);
        scores[scoresOff + r] = 0;
      }
    }
    if (r >= count) return;
    const k = this.kernel === undefined ? this.buildKernel() : this.kernel;
    if (k !== null) {
      if (this.kernelDirty) this.syncKernel(k);
      const m = k.mem;
      const at = k.inputAt;
      const sa = k.scoresAt;
      for (; r < count; r += k.maxRows) {
        const c = Math.min(k.maxRows, count - r);
        const src = r * n;
        const len = c * n;
        for (let i = 0; i < len; i++) m[at + i] = xs[src + i];
        k.run(c);
        for (let i = 0; i < c; i++) scores[scoresOff + r + i] = m[sa + i];
      }
      this.errorsInKernel = true; // the kernel's errors are the last row's
      return;
    }
    for (; r < count; r += TILE) this.scoreTile(xs, r, Math.min(TILE, count - r), scores, scoresOff + r);
    this.scoreTo(xs, (count - 1) * n, res, 0); // refreshes the per-feature errors that explain() reads
  }

  /** Switches the execute-phase scoring kernel (see `KitNetKernelKind`); takes effect at the next score. */
  setKernel(kind: KitNetKernelKind): void {
    this.kernelKind = kind;
    this.kernel = undefined;
    this.errorsInKernel = false;
  }

  /** The kernel in use: "wasm-f64", "wasm-f32" or "js" ("pending" until the first score). */
  get kernelInUse(): string {
    if (this.kernelKind === "js") return "js";
    if (this.kernel === undefined) return "pending";
    return this.kernel === null ? "js" : `wasm-${this.kernel.precision}`;
  }

  /** Keeps learning, in the execute phase, from vectors scoring below `threshold` (−Infinity: stop). */
  setTrainBelow(threshold: number): void {
    this.benignBelow = threshold;
  }

  /** Anomaly score of x[off .. off+n) without learning. Only in the execute phase. */
  score(x: Float64Array, off = 0): number {
    if (this._phase !== "execute")
      throw new Error(`kitnet: score() needs the execute phase, now "${this._phase}"`);
    this.scoreTo(x, off, this.res, 0);
    return this.res[0];
  }

  /**
   * Attributes the last scored (or trained) vector's error to features: each feature's squared error in its
   * group's autoencoder, as a fraction of that group's error, times the group's fraction of the output
   * autoencoder's squared error. Writes the top min(feature.length, share.length, n) features, largest
   * first, and sets and returns `out.k`. Allocates nothing. Shares are 0 before anything was scored.
   */
  explain(out: KitNetExplanation): number {
    const n = this.cfg.n;
    const k = Math.min(out.feature.length, out.share.length, n);
    const shares = this.shares;
    shares.fill(0);
    const output = this.output;
    if (output !== undefined) {
      const ge = this.groupErr;
      const kern = this.errorsInKernel ? this.kernel : null;
      if (kern) kern.outputErrors(ge);
      else output.errors(ge, 0);
      let total = 0;
      for (let g = 0; g < ge.length; g++) total += ge[g];
      const fe = this.featErr;
      const perm = this.perm;
      const goff = this.groupOff;
      for (let g = 0; g < this.ensemble.length; g++) {
        const ae = this.ensemble[g];
        if (kern) kern.groupErrors(g, fe, goff[g]);
        else ae.errors(fe, goff[g]);
        let gs = 0;
        const end = goff[g] + ae.nVisible;
        for (let p = goff[g]; p < end; p++) gs += fe[p];
        const wg = total > 0 ? ge[g] / total : 0;
        if (gs > 0 && wg > 0) for (let p = goff[g]; p < end; p++) shares[perm[p]] = (wg * fe[p]) / gs;
      }
    }
    // Partial selection sort: k passes over n, ties to the lower feature index.
    for (let r = 0; r < k; r++) {
      let bi = -1;
      let bv = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const v = shares[i];
        if (v > bv) {
          bv = v;
          bi = i;
        }
      }
      out.feature[r] = bi;
      out.share[r] = bv;
      shares[bi] = Number.NEGATIVE_INFINITY;
    }
    out.k = k;
    return k;
  }

  /** The trained model (execute phase only), for model-file.ts. Copies the weights. */
  exportState(): KitNetState {
    if (this._phase !== "execute" || this.output === undefined)
      throw new Error(`kitnet: only a trained model (phase "execute") can be exported, now "${this._phase}"`);
    const weights = new Float64Array(kitNetWeightLength(this.groupList, this.cfg.hiddenRatio));
    let off = 0;
    for (const ae of this.ensemble) {
      ae.writeState(weights, off);
      off += ae.stateLength;
    }
    this.output.writeState(weights, off);
    return { config: { ...this.cfg }, groups: this.groupList.map((g) => [...g]), weights };
  }

  private trainStep(x: Float64Array, off: number): void {
    if (this._phase === "fm") {
      const mapper = this.mapper!;
      mapper.update(x, off);
      this.seen++;
      if (this.seen === this.fmLen) {
        this.build(mapper.cluster(this.cfg.maxGroup));
        this.mapper = undefined;
        this._phase = "ad";
      }
      return;
    }
    if (this.guardRejects(x, off)) this._trimmed++;
    else {
      this.learn(x, off);
      this.observeTrainingScore(this.res[0]);
    }
    this.seen++;
    if (this.seen === this.fmLen + this.cfg.adGrace) this._phase = "execute";
  }

  // Poisoning guard: after the warm-up, a vector scoring beyond the trimmed tail of the running log-normal
  // model of training scores is judged (by its score before learning) too extreme to learn.
  private guardRejects(x: Float64Array, off: number): boolean {
    if (this.guardN < GUARD_WARMUP || this.guardZ === Number.POSITIVE_INFINITY) return false;
    this.scoreJsTo(x, off, this.res, 0);
    return Math.log(this.res[0] + 1e-12) > this.guardMean + this.guardZ * Math.sqrt(this.guardVar);
  }

  // Running log-normal model of training scores: plain mean/variance over the warm-up, then exponentially
  // weighted (the model improves as it learns, so old scores must be forgotten).
  private observeTrainingScore(score: number): void {
    if (this.guardZ === Number.POSITIVE_INFINITY) return;
    const v = Math.log(score + 1e-12);
    this.guardN++;
    const a = this.guardN <= GUARD_WARMUP ? 1 / this.guardN : 1 - 0.5 ** (1 / GUARD_HALF_LIFE);
    const d = v - this.guardMean;
    this.guardMean += a * d;
    this.guardVar = (1 - a) * (this.guardVar + a * d * d);
  }

  // One SGD step of every ensemble autoencoder, then of the output autoencoder on their training RMSEs.
  private learn(x: Float64Array, off: number): void {
    this.gather(x, off);
    const ens = this.ensemble;
    const xp = this.xp;
    const goff = this.groupOff;
    const s1 = this.s1;
    for (let g = 0; g < ens.length; g++) ens[g].trainTo(xp, goff[g], s1, g);
    this.output!.trainTo(s1, 0, this.res, 0);
    this.kernelDirty = true;
    this.errorsInKernel = false;
  }

  private scoreTo(x: Float64Array, off: number, out: Float64Array, outIdx: number): void {
    const k = this.kernel === undefined ? this.buildKernel() : this.kernel;
    if (k !== null) {
      if (this.kernelDirty) this.syncKernel(k);
      const m = k.mem;
      const at = k.inputAt;
      const n = this.cfg.n;
      if (off === 0 && x.length === n) m.set(x, at);
      else for (let i = 0; i < n; i++) m[at + i] = x[off + i];
      k.run(1);
      out[outIdx] = m[k.scoresAt];
      this.errorsInKernel = true;
      return;
    }
    this.scoreJsTo(x, off, out, outIdx);
  }

  // The JS scoring path, autoencoder by autoencoder; explain() then reads the autoencoders' errors.
  private scoreJsTo(x: Float64Array, off: number, out: Float64Array, outIdx: number): void {
    this.errorsInKernel = false;
    this.gather(x, off);
    const ens = this.ensemble;
    const xp = this.xp;
    const goff = this.groupOff;
    const s1 = this.s1;
    for (let g = 0; g < ens.length; g++) ens[g].executeTo(xp, goff[g], s1, g);
    this.output!.executeTo(s1, 0, out, outIdx);
  }

  // Scores rows r0 .. r0+c of xs (c ≤ TILE) into scores[off ..], via the autoencoders' batch kernel.
  private scoreTile(xs: Float64Array, r0: number, c: number, scores: Float64Array, off: number): void {
    const n = this.cfg.n;
    const perm = this.perm;
    const xt = this.xt;
    for (let p = 0; p < n; p++) {
      const f = perm[p];
      const dst = p * TILE;
      let src = r0 * n + f;
      for (let b = 0; b < c; b++, src += n) xt[dst + b] = xs[src];
    }
    const ens = this.ensemble;
    const goff = this.groupOff;
    const s1t = this.s1t;
    const scratch = this.tileScratch;
    for (let g = 0; g < ens.length; g++)
      ens[g].executeBatch(xt, goff[g] * TILE, TILE, c, s1t, g * TILE, scratch);
    this.output!.executeBatch(s1t, 0, TILE, c, scores, off, scratch);
  }

  // The WebAssembly kernel for this model's shape, built on first use in the execute phase (null: JS kernel).
  private buildKernel(): KitNetKernel | null {
    const kind = this.kernelKind;
    const precision: KernelPrecision = kind === "f32" ? "f32" : "f64";
    this.kernel =
      kind === "js"
        ? null
        : KitNetKernel.build(
            {
              n: this.cfg.n,
              perm: this.perm,
              groupOff: this.groupOff,
              ensemble: this.ensemble,
              output: this.output!,
            },
            precision,
          );
    let len = 0;
    for (const ae of [...this.ensemble, this.output!]) len = Math.max(len, ae.stateLength);
    this.stateScratch = new Float64Array(len);
    this.kernelDirty = true;
    return this.kernel;
  }

  // Copies the autoencoders' state into the kernel (after training), through one reused buffer.
  private syncKernel(k: KitNetKernel): void {
    const st = this.stateScratch;
    for (let g = 0; g < this.ensemble.length; g++) {
      this.ensemble[g].writeState(st, 0);
      k.loadGroup(g, st);
    }
    this.output!.writeState(st, 0);
    k.loadOutput(st);
    this.kernelDirty = false;
  }

  private gather(x: Float64Array, off: number): void {
    const perm = this.perm;
    const xp = this.xp;
    for (let p = 0; p < perm.length; p++) xp[p] = x[off + perm[p]];
  }

  private build(groups: number[][]): void {
    const n = this.cfg.n;
    const { hiddenRatio, learningRate } = this.cfg;
    this.groupList = groups;
    this.perm = new Int32Array(n);
    this.groupOff = new Int32Array(groups.length);
    let p = 0;
    for (let g = 0; g < groups.length; g++) {
      this.groupOff[g] = p;
      for (const f of groups[g]) this.perm[p++] = f;
    }
    this.xp = new Float64Array(n);
    this.s1 = new Float64Array(groups.length);
    this.groupErr = new Float64Array(groups.length);
    this.ensemble = groups.map(
      (g) => new Autoencoder({ nVisible: g.length, hiddenRatio, learningRate }, this.rng),
    );
    this.output = new Autoencoder({ nVisible: groups.length, hiddenRatio, learningRate }, this.rng);
    this.allocTiles();
  }

  private allocTiles(): void {
    this.xt = new Float64Array(this.cfg.n * TILE);
    this.s1t = new Float64Array(this.groupList.length * TILE);
    let len = 0;
    for (const ae of [...this.ensemble, this.output!])
      len = Math.max(len, batchScratchLength(ae.nVisible, ae.nHidden, TILE));
    this.tileScratch = new Float64Array(len);
  }
}
