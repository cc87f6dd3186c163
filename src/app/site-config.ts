// The site configuration: the stages' settings (schema/VigilConfig) plus every detector plugin's own
// settings schema, composed here because only app/ may know the concrete plugins.
import { z } from "zod";
import {
  BehaviourClustersConfig,
  FlowClassifierConfig,
  IForestDetectorConfig,
  KitNetDetectorConfig,
} from "../detect/index.ts";
import { VigilConfig } from "../schema/index.ts";

/** KitNET as run by `vigil analyze`: on or off, trained per capture or loaded from a model file. */
export const KitNetSection = KitNetDetectorConfig.extend({
  enabled: z.boolean().default(true).describe("run KitNET in `vigil analyze`"),
  model: z
    .string()
    .max(4096)
    .default("")
    .describe("trained model file to score with (empty: train on the first packets of each capture)"),
});
export type KitNetSection = z.infer<typeof KitNetSection>;

const enabled = (what: string) => z.boolean().default(true).describe(`run ${what} in \`vigil analyze\``);

/** The isolation forest over every flow record's CIC features (trained on the first flows). */
export const IForestSection = IForestDetectorConfig.extend({ enabled: enabled("the flow isolation forest") });
export type IForestSection = z.infer<typeof IForestSection>;

/** Behaviour clusters over per-host windows (trained on the first windows). */
export const ClustersSection = BehaviourClustersConfig.extend({ enabled: enabled("the behaviour clusters") });
export type ClustersSection = z.infer<typeof ClustersSection>;

/** The supervised flow classifier over every flow record (a trained model file; no training per capture). */
export const ClassifierSection = FlowClassifierConfig.extend({
  enabled: enabled("the supervised flow classifier"),
  model: z
    .string()
    .max(4096)
    .default("")
    .describe("model file from `vigil train -m gbdt --out` (empty: the bundled CIC-IDS2017 model)"),
});
export type ClassifierSection = z.infer<typeof ClassifierSection>;

/** One section per detector plugin; adding a detector adds one line here. */
export const DetectorsConfig = z
  .object({
    kitnet: KitNetSection.prefault({}),
    iforest: IForestSection.prefault({}),
    clusters: ClustersSection.prefault({}),
    classifier: ClassifierSection.prefault({}),
  })
  .strict();
export type DetectorsConfig = z.infer<typeof DetectorsConfig>;

export const SiteConfig = VigilConfig.extend({
  detectors: DetectorsConfig.prefault({}),
}).strict();
export type SiteConfig = z.infer<typeof SiteConfig>;

/** Defaults of the whole site configuration, for library use and tests. */
export function defaultSiteConfig(): SiteConfig {
  return SiteConfig.parse({});
}
