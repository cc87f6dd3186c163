// `vigil analyze --baseline FILE`: every detector learns what is normal from a capture known to be
// benign (all of it, split by its own length), then analyses another capture with what it learnt.
import { err, ok, type Result, VigilError } from "../core/index.ts";
import {
  BehaviourClustersConfig,
  BehaviourClustersDetector,
  IForestDetector,
  IForestDetectorConfig,
  KitNetDetector,
  KitNetDetectorConfig,
} from "../detect/index.ts";
import { afterImageFeatureNames } from "../features/index.ts";
import { CIC_COLUMNS } from "../flows/index.ts";
import type { SourceProgress } from "../pipeline/index.ts";
import type { VigilConfig } from "../schema/index.ts";
import { analyzeCapture } from "./analyze.ts";

/** Shares of a baseline's packets for KitNET: feature map, autoencoder training, threshold calibration. */
export const BASELINE_KITNET_SPLIT = { fm: 0.15, ad: 0.65 } as const;
/**
 * Every how-many-th baseline flow calibrates the forest (the others grow it). The baseline is benign
 * as a whole, so an interleaved split is fair and gives both parts the same mix; a split by time would
 * calibrate on the long flows that end last, unlike those that trained.
 */
export const BASELINE_IFOREST_CALIBRATE_EVERY = 4;
// The fewest packets a baseline may have: KitNET's schema minima (10 + 10 + 100) with room to spare.
const MIN_PACKETS = 500;
// Most baseline flows kept for the forest (the detector's own cap on training flows).
const MAX_FLOWS = 100_000;
// The forest's schema minima: 16 training and 10 calibration flows.
const MIN_FLOWS = 16 + 10;

export interface BaselineOptions {
  config: VigilConfig;
  /** KitNET settings; its graces are set from the baseline's length unless `keepKitNetGraces`. */
  kitnet?: Partial<KitNetDetectorConfig>;
  keepKitNetGraces?: boolean;
  iforest?: Partial<IForestDetectorConfig>;
  clusters?: Partial<BehaviourClustersConfig>;
  onProgress?: (p: SourceProgress) => void;
  signal?: AbortSignal;
}

/** Detectors trained and calibrated on a baseline capture, ready to score another one. */
export interface Baseline {
  input: string;
  packets: number;
  flows: number;
  durationS: number;
  kitnet?: KitNetDetector;
  iforest?: IForestDetector;
  clusters?: BehaviourClustersDetector;
}

function tooShort(input: string, what: string): Result<never, VigilError> {
  return err(
    new VigilError(
      "usage",
      `baseline ${input} is too short: ${what}`,
      "give a longer benign capture (minutes of normal traffic), or drop --baseline to train on the analysed capture",
    ),
  );
}

/**
 * Trains every requested detector on all of `input`, which must hold only normal traffic: KitNET on its
 * packets (15 % feature map, 65 % training, 20 % calibration), the isolation forest on three of every
 * four of its flows (calibrated on the fourth), the behaviour clusters on every host window.
 */
export async function learnBaseline(
  input: string,
  opts: BaselineOptions,
): Promise<Result<Baseline, VigilError>> {
  // Pass 1 (decode only): how long the baseline is. Every packet gives KitNET one vector.
  const sized = await analyzeCapture(input, {
    config: opts.config,
    noFlows: true,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!sized.ok) return err(sized.error);
  const vectors = sized.value.packets;
  const durationS = sized.value.durationS;
  if (vectors < MIN_PACKETS) return tooShort(input, `${vectors} packets (at least ${MIN_PACKETS} needed)`);

  let kitnet: KitNetDetector | undefined;
  if (opts.kitnet) {
    const fm = Math.floor(vectors * BASELINE_KITNET_SPLIT.fm);
    const ad = Math.floor(vectors * BASELINE_KITNET_SPLIT.ad);
    const cfg = KitNetDetectorConfig.parse({
      ...opts.kitnet,
      ...(opts.keepKitNetGraces ? {} : { fmGrace: fm, adGrace: ad, calibrationPackets: vectors - fm - ad }),
    });
    kitnet = new KitNetDetector(cfg, afterImageFeatureNames(opts.config.afterimage.lambdas));
  }
  // The forest's flows are kept (bounded) and split once the baseline is read.
  const flowRows: Float64Array[] = [];
  const flowStarts: number[] = [];
  let clusters: BehaviourClustersDetector | undefined;
  if (opts.clusters) {
    const base = BehaviourClustersConfig.parse(opts.clusters);
    clusters = new BehaviourClustersDetector(
      BehaviourClustersConfig.parse({ ...opts.clusters, trainingSeconds: Math.max(durationS, base.windowS) }),
      () => {},
    );
  }

  // Pass 2: train and calibrate.
  const run = await analyzeCapture(input, {
    config: opts.config,
    ...(kitnet ? { kitnet } : {}),
    ...(clusters ? { flowDetectors: { clusters } } : {}),
    ...(opts.iforest
      ? {
          onFlow: (rec) => {
            if (flowRows.length >= MAX_FLOWS) return;
            flowRows.push(rec.cic.slice()); // rec.cic is a view into a shared block
            flowStarts.push(rec.firstUs);
          },
        }
      : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!run.ok) return err(run.error);
  clusters?.finishTraining();
  if (kitnet && kitnet.phase !== "scoring")
    return tooShort(
      input,
      `KitNET saw ${kitnet.trainedOn.packets} packets but needed ${kitnet.trainingRemaining} more`,
    );
  let iforest: IForestDetector | undefined;
  if (opts.iforest) {
    if (flowRows.length < MIN_FLOWS)
      return tooShort(input, `${flowRows.length} flows (the isolation forest needs at least ${MIN_FLOWS})`);
    const k = BASELINE_IFOREST_CALIBRATE_EVERY;
    const isCal = (i: number): boolean => i % k === k - 1;
    const cal = flowRows.filter((_, i) => isCal(i)).length;
    const train = flowRows.length - cal;
    iforest = new IForestDetector(
      IForestDetectorConfig.parse({
        ...opts.iforest,
        trainingFlows: train,
        trainingSeconds: 0,
        calibrationFlows: Math.max(cal, 10),
        calibrationSeconds: 0,
      }),
      CIC_COLUMNS,
    );
    const d = iforest;
    for (let i = 0; i < flowRows.length; i++) if (!isCal(i)) d.process(flowRows[i]!, flowStarts[i]!);
    for (let i = 0; i < flowRows.length; i++) if (isCal(i)) d.process(flowRows[i]!, flowStarts[i]!);
    d.finishTraining();
    if (d.phase !== "scoring") return tooShort(input, "too few flows to calibrate the isolation forest");
  }
  if (clusters && clusters.phase !== "scoring")
    return tooShort(input, "too few host windows for the clusters");
  return ok({
    input,
    packets: vectors,
    flows: run.value.flows?.total ?? 0,
    durationS,
    ...(kitnet ? { kitnet } : {}),
    ...(iforest ? { iforest } : {}),
    ...(clusters ? { clusters } : {}),
  });
}
