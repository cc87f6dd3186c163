// Feature schemas: the CIC list equals the flow table's CIC_COLUMNS, and no identifier, label or difficulty column is a feature.
import { describe, expect, it } from "vitest";
import { CIC_COLUMNS } from "../../core/index.ts";
import {
  CIC_FEATURES,
  CIC_IDENTIFIERS,
  NSL_KDD_CATEGORICAL,
  NSL_KDD_CATEGORIES,
  NSL_KDD_CATEGORY,
  NSL_KDD_FEATURES,
  UNSW_CATEGORICAL,
  UNSW_FEATURES,
} from "../index.ts";

describe("feature schemas", () => {
  it("CIC_FEATURES are the flow table's CIC columns (one list in core)", () => {
    expect(CIC_FEATURES).toBe(CIC_COLUMNS);
    expect(CIC_FEATURES).toHaveLength(81);
  });

  it("has no identifier, label or difficulty column among the features", () => {
    for (const id of [...CIC_IDENTIFIERS, "Label", "Attempted Category"])
      expect(CIC_FEATURES as readonly string[]).not.toContain(id);
    for (const id of ["id", "attack_cat", "label"])
      expect(UNSW_FEATURES as readonly string[]).not.toContain(id);
    for (const id of ["attack", "level"]) expect(NSL_KDD_FEATURES as readonly string[]).not.toContain(id);
    expect(UNSW_FEATURES).toHaveLength(42);
    expect(NSL_KDD_FEATURES).toHaveLength(41);
    for (const c of UNSW_CATEGORICAL) expect(UNSW_FEATURES as readonly string[]).toContain(c);
    for (const c of NSL_KDD_CATEGORICAL) expect(NSL_KDD_FEATURES as readonly string[]).toContain(c);
  });

  it("maps every NSL-KDD attack name to one of the five categories", () => {
    for (const cat of Object.values(NSL_KDD_CATEGORY)) expect(NSL_KDD_CATEGORIES).toContain(cat);
    expect(NSL_KDD_CATEGORY.neptune).toBe("DoS");
    expect(NSL_KDD_CATEGORY.satan).toBe("Probe");
    expect(NSL_KDD_CATEGORY.warezclient).toBe("R2L");
    expect(NSL_KDD_CATEGORY.rootkit).toBe("U2R");
  });
});
