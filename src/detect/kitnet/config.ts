// Settings of the KitNET detector, each with a type, a default and a doc line.
import { z } from "zod";

export const KitNetDetectorConfig = z
  .object({
    fmGrace: z
      .number()
      .int()
      .min(10)
      .max(10_000_000)
      .default(5000)
      .describe("packets that learn the feature map"),
    adGrace: z
      .number()
      .int()
      .min(10)
      .max(100_000_000)
      .default(50_000)
      .describe("packets the autoencoders train on"),
    calibrationPackets: z
      .number()
      .int()
      .min(100)
      .max(10_000_000)
      .default(10_000)
      .describe("benign packets scored after training to calibrate the threshold"),
    maxGroup: z
      .number()
      .int()
      .min(1)
      .max(115)
      .default(10)
      .describe("most features per ensemble autoencoder (KitNET's m)"),
    hiddenRatio: z.number().gt(0).max(1).default(0.75).describe("hidden/visible units of every autoencoder"),
    learningRate: z.number().gt(0).max(1).default(0.1).describe("SGD learning rate"),
    seed: z.number().int().min(0).default(1).describe("weight initialisation seed (runs repeat exactly)"),
    falseAlarmRate: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.001)
      .describe("target share of benign packets above the threshold"),
    thresholdMethod: z
      .enum(["spot", "lognormal"])
      .default("spot")
      .describe("tail model that sets the threshold"),
    trimFraction: z
      .number()
      .min(0)
      .max(0.2)
      .default(0.001)
      .describe("poisoning guard: share of the highest calibration scores dropped before the fit"),
    trainingTrim: z
      .number()
      .min(0)
      .max(0.2)
      .default(0.001)
      .describe(
        "poisoning guard while training: share of extreme training packets (log-normal tail of running scores) not learnt",
      ),
    continueTraining: z
      .boolean()
      .default(false)
      .describe("after calibration, keep learning from packets scored below the threshold (adapts to drift)"),
    stationarityGuard: z
      .number()
      .min(0)
      .max(100)
      .default(3)
      .describe(
        "ignore damped counts (weight features) whose half-life exceeds 1/k of the training span (0: keep all)",
      ),
    kernel: z
      .enum(["auto", "js", "f32"])
      .default("auto")
      .describe(
        "scoring kernel: auto (WebAssembly, bit-identical to js), js, or f32 (faster; scores differ in the 6th digit)",
      ),
    topFeatures: z.number().int().min(1).max(32).default(5).describe("features named in each explanation"),
  })
  .strict();
export type KitNetDetectorConfig = z.infer<typeof KitNetDetectorConfig>;
