// Settings of the behaviour-clusters detector, each with a type, a default and a doc line.
import { z } from "zod";

export const BehaviourClustersConfig = z
  .object({
    windowS: z
      .number()
      .min(1)
      .max(86_400)
      .default(60)
      .describe("length of the window over which a host's behaviour profile is summed (seconds)"),
    trainingSeconds: z
      .number()
      .min(1)
      .max(31_536_000)
      .default(1800)
      .describe("host windows ending this long after the first flow train the clusters; they must be benign"),
    lateWindows: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(1)
      .describe("a window stays open for flows this many windows after it ends (records arrive late)"),
    maxHosts: z
      .number()
      .int()
      .min(2)
      .max(1_000_000)
      .default(10_000)
      .describe(
        "hosts tracked at once; a new host in a full table evicts the least recently active (counted)",
      ),
    maxTrainingProfiles: z
      .number()
      .int()
      .min(10)
      .max(1_000_000)
      .default(20_000)
      .describe("training profiles kept (a seeded reservoir sample beyond that)"),
    kMax: z.number().int().min(1).max(32).default(8).describe("largest number of clusters tried"),
    minSilhouette: z
      .number()
      .min(-1)
      .max(1)
      .default(0.25)
      .describe("below this best mean silhouette the training profiles form one cluster (k = 1)"),
    silhouetteSample: z
      .number()
      .int()
      .min(10)
      .max(20_000)
      .default(1000)
      .describe("training profiles used to compute silhouettes (cost grows with its square)"),
    usualCluster: z
      .boolean()
      .default(true)
      .describe(
        "score a known host by its distance to its usual cluster's centre, so leaving that cluster counts",
      ),
    minUsualWindows: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(3)
      .describe("training windows a host needs before its usual cluster is used"),
    falseAlarmRate: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.01)
      .describe("target share of benign host windows above the threshold"),
    thresholdMethod: z
      .enum(["quantile", "lognormal", "spot"])
      .default("quantile")
      .describe(
        "threshold from the training distances: their (1 − falseAlarmRate) quantile, or a log-normal or SPOT tail fit (all three are reported)",
      ),
    trimFraction: z
      .number()
      .min(0)
      .max(0.2)
      .default(0.01)
      .describe("poisoning guard: share of the largest training distances dropped before the fit"),
    seed: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe("seed of k-means++ and of the reservoir (runs repeat exactly)"),
    topDimensions: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(3)
      .describe("profile dimensions named in each explanation"),
  })
  .strict()
  .refine((c) => c.trainingSeconds >= c.windowS, {
    message: "trainingSeconds must hold at least one window (≥ windowS)",
  });
export type BehaviourClustersConfig = z.infer<typeof BehaviourClustersConfig>;
