// Settings of the supervised flow classifier, each with a type, a default and a doc line.
import { z } from "zod";

const Severity = z.enum(["info", "low", "medium", "high", "critical"]);

export const FlowClassifierConfig = z
  .object({
    minProbability: z
      .number()
      .gt(0)
      .max(1)
      .default(0.5)
      .describe(
        "a flow is a detection when its most probable class is an attack with at least this probability",
      ),
    topFeatures: z
      .number()
      .int()
      .min(1)
      .max(32)
      .default(5)
      .describe("features named in each explanation, by |SHAP value|"),
    classes: z
      .record(
        z.string().max(128),
        z
          .object({
            technique: z
              .string()
              .regex(/^T\d{4}(\.\d{3})?$/)
              .optional()
              .describe("ATT&CK technique id"),
            techniqueName: z.string().max(128).optional().describe("ATT&CK technique name"),
            severity: Severity.describe("severity of detections of this class"),
          })
          .strict(),
      )
      .default({})
      .describe("per-class overrides of the ATT&CK technique and severity, by exact class name"),
  })
  .strict();
export type FlowClassifierConfig = z.infer<typeof FlowClassifierConfig>;
