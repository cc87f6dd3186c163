import { describe, expect, it } from "vitest";
import { hasSharedData, sharedData } from "../../../test/shared-data.ts";
import { type Dataset, loadDataset, subset } from "../../learn/index.ts";
import { loadNnModel, saveNnModel } from "../../ml/index.ts";
import { buildHostSequences, scoreSequenceModel, sequenceSplit, trainSequenceModel } from "./index.ts";

/** A tiny Dataset: rows with one feature (the row number), hosts and times as given. */
function tinyDataset(src: number[], time: number[], y: number[]): Dataset {
  const rows = src.length;
  return {
    source: "test",
    path: "test.csv",
    featureNames: ["f"],
    categorical: [],
    x: Float32Array.from({ length: rows }, (_, i) => i),
    rows,
    cols: 1,
    y: Int32Array.from(y),
    classes: ["benign", "attack"],
    benign: 0,
    time: Float64Array.from(time),
    keys: { src: Int32Array.from(src), dst: new Int32Array(rows), hosts: ["a", "b"] },
    rejected: {},
  };
}

describe("host sequences", () => {
  it("hold the labelled flow and the earlier flows of its source host, oldest first", () => {
    // Rows 0..5: hosts a, b, a, a, b, unknown; times out of row order.
    const ds = tinyDataset([0, 1, 0, 0, 1, -1], [30, 10, 10, 20, 5, 1], [0, 0, 1, 1, 0, 1]);
    const all = Int32Array.from([0, 1, 2, 3, 4, 5]);
    const seq = buildHostSequences(ds, all, all, 2);
    const rowsOf = (i: number) => Array.from(seq.stepRows.subarray(i * 2, i * 2 + seq.lengths[i]!));
    // Host a in time order: 2 (t10), 3 (t20), 0 (t30); host b: 4 (t5), 1 (t10).
    expect([0, 1, 2, 3, 4, 5].map(rowsOf)).toEqual([[3, 0], [4, 1], [2], [2, 3], [4], [5]]);
    // With a pool of some rows only, other rows never appear as context.
    const part = buildHostSequences(ds, Int32Array.from([0, 2]), Int32Array.from([0]), 4);
    expect(Array.from(part.stepRows.subarray(0, part.lengths[0]!))).toEqual([2, 0]);
  });

  it("with context 'same-part', no flow is in both a training and a test sequence", () => {
    const n = 60;
    const ds = tinyDataset(
      Array.from({ length: n }, (_, i) => i % 2),
      Array.from({ length: n }, (_, i) => i),
      Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    );
    const sp = sequenceSplit(ds, {
      steps: 8,
      split: { train: 0.6, valid: 0.2, test: 0.2 },
      context: "same-part",
    });
    if (!sp.ok) throw sp.error;
    const used = (s: typeof sp.value.train) => new Set(Array.from(s.stepRows).filter((r) => r >= 0));
    const train = used(sp.value.train);
    for (const r of used(sp.value.test)) expect(train.has(r)).toBe(false);
    const wide = sequenceSplit(ds, {
      steps: 8,
      split: { train: 0.6, valid: 0.2, test: 0.2 },
      context: "all-earlier",
    });
    if (!wide.ok) throw wide.error;
    expect([...used(wide.value.test)].some((r) => train.has(r))).toBe(true);
  });

  it("needs host keys and times, and settings in range", async () => {
    const ds = { ...tinyDataset([0], [1], [0]), keys: null };
    const r = await trainSequenceModel(ds);
    expect(r.ok ? "" : r.error.code).toBe("usage");
    const ok = tinyDataset([0, 0], [1, 2], [0, 1]);
    for (const bad of [
      { hidden: 0 },
      { steps: 1000 },
      { fit: { batchSize: 0 } },
      { fit: { learningRate: -1 } },
    ]) {
      const b = await trainSequenceModel(ok, bad);
      expect(b.ok ? "" : b.error.code).toBe("usage");
    }
  });
});

describe.skipIf(!hasSharedData)("GRU sequence model on CIC-IDS2017 (improved)", () => {
  it("learns a few classes in a few epochs, far above what a broken trainer reaches", async () => {
    const full = loadDataset(sharedData("flows/cicids2017-improved/cicids2017-improved-dev.csv.gz"));
    if (!full.ok) throw full.error;
    const ds0 = full.value;
    // 300 flows of each of five classes (every 10th row of a class, so all its hosts and hours appear).
    const want = ["BENIGN", "DDoS", "DoS Hulk", "Portscan", "SSH-Patator"].map((c) => ds0.classes.indexOf(c));
    const seen = new Map<number, number>();
    const rows: number[] = [];
    for (let i = 0; i < ds0.rows; i++) {
      const c = ds0.y[i]!;
      if (!want.includes(c)) continue;
      const k = seen.get(c) ?? 0;
      seen.set(c, k + 1);
      if (k % 10 === 0 && k < 3000) rows.push(i);
    }
    const ds = subset(ds0, Int32Array.from(rows));
    const progress: number[] = [];
    const r = await trainSequenceModel(
      ds,
      { steps: 6, hidden: 8, headHidden: [8], fit: { maxEpochs: 12, patience: 12, learningRate: 1e-2 } },
      (p) => progress.push(p.trainLoss),
    );
    if (!r.ok) throw r.error;
    const { model, report } = r.value;
    expect(progress.length).toBe(report.training!.epochs);
    expect(progress.at(-1)!).toBeLessThan(progress[0]!);
    // A constant or broken model has macro-F1 ≤ 0.33 over these five classes and AUC 0.5.
    const present = report.metrics.perClass.filter((c) => c.support > 0);
    expect(present.length).toBe(5);
    expect(report.metrics.macroF1).toBeGreaterThan(0.9);
    expect(report.attack.rocAuc).toBeGreaterThan(0.95);
    // The saved model scores exactly like the trained one.
    const loaded = loadNnModel(saveNnModel(model), { kind: "gru-sequence" });
    if (!loaded.ok) throw loaded.error;
    const again = await scoreSequenceModel(loaded.value, ds);
    const direct = await scoreSequenceModel(model, ds);
    if (!again.ok || !direct.ok) throw new Error("scoring failed");
    expect(Array.from(again.value.metrics.matrix)).toEqual(Array.from(direct.value.metrics.matrix));
    expect(again.value.counts.test).toBe(ds.rows);
  });
});
