// Classification metrics on hand-computed cases: confusion matrix, per-class and averaged precision/recall/F1, accuracy, binary AUCs.
import { describe, expect, it } from "vitest";
import {
  argmaxClasses,
  binaryMetrics,
  classificationMetrics,
  confusionMatrix,
  prAuc,
  rocAuc,
} from "./index.ts";

const i32 = (a: number[]) => Int32Array.from(a);

// Truth 3×a, 2×b, 1×c; predictions a a b | b c | c.
const T = i32([0, 0, 0, 1, 1, 2]);
const P = i32([0, 0, 1, 1, 2, 2]);

describe("confusionMatrix", () => {
  it("counts (true, predicted) pairs row-major", () => {
    expect(Array.from(confusionMatrix(T, P, 3))).toEqual([2, 1, 0, 0, 1, 1, 0, 0, 1]);
  });

  it("throws on ids out of range and on length mismatch", () => {
    expect(() => confusionMatrix(i32([0, 3]), i32([0, 0]), 3)).toThrow(/yTrue\[1\] = 3/);
    expect(() => confusionMatrix(i32([0]), i32([-1]), 3)).toThrow(/yPred/);
    expect(() => confusionMatrix(i32([0]), i32([0, 1]), 3)).toThrow(/length/);
  });
});

describe("classificationMetrics", () => {
  it("matches the hand-computed figures", () => {
    const r = classificationMetrics(T, P, ["a", "b", "c"]);
    // a: P 2/2, R 2/3, F1 0.8; b: P 1/2, R 1/2, F1 0.5; c: P 1/2, R 1/1, F1 2/3.
    expect(r.perClass.map((c) => [c.name, c.support, c.predicted, c.correct])).toEqual([
      ["a", 3, 2, 2],
      ["b", 2, 2, 1],
      ["c", 1, 2, 1],
    ]);
    const close = (got: number[], want: number[]) => {
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 12);
    };
    close(
      r.perClass.map((c) => c.precision),
      [1, 0.5, 0.5],
    );
    close(
      r.perClass.map((c) => c.recall),
      [2 / 3, 0.5, 1],
    );
    close(
      r.perClass.map((c) => c.f1),
      [0.8, 0.5, 2 / 3],
    );
    expect(r.rows).toBe(6);
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    expect(r.macroPrecision).toBeCloseTo(2 / 3, 12);
    expect(r.macroRecall).toBeCloseTo((2 / 3 + 0.5 + 1) / 3, 12);
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(r.weightedPrecision).toBeCloseTo((3 * 1 + 2 * 0.5 + 0.5) / 6, 12);
    expect(r.weightedRecall).toBeCloseTo(r.accuracy, 12); // support-weighted recall is accuracy
    expect(r.weightedF1).toBeCloseTo((3 * 0.8 + 2 * 0.5 + 2 / 3) / 6, 12);
  });

  it("leaves a class absent from truth and predictions out of the macro means; 0/0 ratios are 0", () => {
    const r = classificationMetrics(T, P, ["a", "b", "c", "d"]);
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(r.perClass[3]).toEqual({
      name: "d",
      support: 0,
      predicted: 0,
      correct: 0,
      precision: 0,
      recall: 0,
      f1: 0,
    });
    // A class that is never predicted: precision 0 (0/0), recall 0, and it counts in the macro mean.
    const never = classificationMetrics(i32([0, 1]), i32([0, 0]), ["a", "b"]);
    expect(never.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(never.macroF1).toBeCloseTo((2 / 3 + 0) / 2, 12);
  });

  it("is NaN-valued, not throwing, without rows", () => {
    const r = classificationMetrics(i32([]), i32([]), ["a"]);
    expect(r.accuracy).toBeNaN();
    expect(r.macroF1).toBeNaN();
    expect(r.weightedF1).toBeNaN();
  });
});

describe("argmaxClasses", () => {
  it("picks the highest score per row, the first on ties, never NaN", () => {
    const s = Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0, Number.NaN, 0, 1]);
    expect(Array.from(argmaxClasses(s, 3))).toEqual([1, 0, 2]);
    expect(() => argmaxClasses(s, 4)).toThrow(RangeError);
  });
});

describe("binaryMetrics", () => {
  it("collapses classes to negative vs the rest and reuses rocAuc/prAuc/confusion", () => {
    const y = i32([0, 0, 1, 1, 2]);
    const s = Float64Array.from([0.1, 0.6, 0.4, 0.8, 0.9]);
    const r = binaryMetrics(y, s);
    expect(r.positives).toBe(3);
    expect(r.negatives).toBe(2);
    // Pairs (attack, benign) ranked right: 0.4>0.1, 0.8>both, 0.9>both → 5 of 6.
    expect(r.rocAuc).toBeCloseTo(5 / 6, 12);
    // Ranked .9 A, .8 A, .6 B, .4 A: precision at each attack 1, 1, 3/4.
    expect(r.prAuc).toBeCloseTo((1 + 1 + 0.75) / 3, 12);
    const labels = Uint8Array.from([0, 0, 1, 1, 1]);
    expect(r.rocAuc).toBe(rocAuc(s, labels));
    expect(r.prAuc).toBe(prAuc(s, labels));
    expect(r.confusion).toMatchObject({ tp: 2, fp: 1, tn: 1, fn: 1 });
    expect(r.threshold).toBe(0.5);
  });

  it("takes another negative class and threshold", () => {
    const y = i32([2, 2, 0, 1]);
    const s = Float64Array.from([0, 0.2, 0.9, 0.3]);
    const r = binaryMetrics(y, s, { negative: 2, threshold: 0.25 });
    expect(r.rocAuc).toBe(1);
    expect(r.confusion).toMatchObject({ tp: 2, fp: 0, tn: 2, fn: 0 });
    expect(binaryMetrics(i32([1, 1]), Float64Array.from([0, 1])).rocAuc).toBeNaN();
  });
});
