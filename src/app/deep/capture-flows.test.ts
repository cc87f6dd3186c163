import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { defaultConfig } from "../../config/index.ts";
import { captureFlowDataset } from "./index.ts";

describe.skipIf(!hasSharedData)("a labelled capture as a flow Dataset", () => {
  it("gives the lab capture's flow records with the lab's labels, in time order, hosts only as keys", async () => {
    const r = await captureFlowDataset(
      {
        path: sharedData("pcaps/lab/lab-dev-capture.pcap.gz"),
        labels: { windows: sharedData("pcaps/lab/labels.csv") },
      },
      defaultConfig(),
    );
    if (!r.ok) throw r.error;
    const ds = r.value;
    const count = (c: string) => ds.y.filter((y) => ds.classes[y] === c).length;
    expect(ds.classes[ds.benign]).toBe("benign");
    expect([count("syn_flood"), count("syn_scan"), count("c2_beacon")]).toEqual([5000, 2000, 10]);
    expect(ds.cols).toBe(81);
    expect(ds.featureNames.some((f) => /IP|Port|Timestamp/.test(f))).toBe(false);
    for (let i = 1; i < ds.rows; i++) expect(ds.time![i]!).toBeGreaterThanOrEqual(ds.time![i - 1]!);
    // The C2 beacons originate at the victim 10.99.0.12, every other attack at the attacker.
    const keys = ds.keys!;
    const c2 = ds.classes.indexOf("c2_beacon");
    for (let i = 0; i < ds.rows; i++) if (ds.y[i] === c2) expect(keys.hosts[keys.src[i]!]).toBe("10.99.0.12");
  });
});
