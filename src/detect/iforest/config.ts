// Settings of the flow isolation-forest detector, each with a type, a default and a doc line.
import { z } from "zod";

export const IForestDetectorConfig = z
  .object({
    trainingFlows: z
      .number()
      .int()
      .min(16)
      .max(100_000)
      .default(2000)
      .describe("flows buffered (in arrival order) to grow the forest; they must be benign"),
    trainingSeconds: z
      .number()
      .min(0)
      .max(31_536_000)
      .default(0)
      .describe(
        "also end training at the first flow starting this long after the first one (0: by count only)",
      ),
    calibrationFlows: z
      .number()
      .int()
      .min(10)
      .max(100_000)
      .default(500)
      .describe("benign flows scored after training to calibrate the threshold"),
    calibrationSeconds: z
      .number()
      .min(0)
      .max(31_536_000)
      .default(0)
      .describe(
        "also end calibration at the first flow starting this long after it began (0: by count only)",
      ),
    trees: z.number().int().min(1).max(10_000).default(100).describe("trees in the forest (the paper's t)"),
    sampleSize: z
      .number()
      .int()
      .min(2)
      .max(65_536)
      .default(256)
      .describe("flows drawn per tree (the paper's ψ; capped at the training flows)"),
    seed: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe("seed of the sub-samples and splits (runs repeat exactly)"),
    logScale: z
      .boolean()
      .default(true)
      .describe(
        "grow and score the forest on sign(x)·ln(1+|x|): splits spread over magnitudes, not the top decade",
      ),
    falseAlarmRate: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.01)
      .describe("target share of benign flows above the threshold"),
    thresholdMethod: z
      .enum(["spot", "lognormal"])
      .default("lognormal")
      .describe("tail model that sets the threshold (both are fitted and reported)"),
    trimFraction: z
      .number()
      .min(0)
      .max(0.2)
      .default(0.01)
      .describe("poisoning guard: share of the highest calibration scores dropped before the fit"),
    topFeatures: z.number().int().min(1).max(32).default(5).describe("features named in each explanation"),
  })
  .strict();
export type IForestDetectorConfig = z.infer<typeof IForestDetectorConfig>;
