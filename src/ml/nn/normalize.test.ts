import { describe, expect, it } from "vitest";
import { type NnInput, NormFitter, normalizeBlock, signedLog1p } from "../index.ts";

describe("input scaling kept in the model", () => {
  it("fits mean and 1/std after a signed log1p, skips non-finite values, leaves constant channels at 1", () => {
    const f = new NormFitter(Uint8Array.of(1, 0, 0));
    for (const v of [0, Math.E - 1, Math.E ** 2 - 1, Number.NaN, Number.POSITIVE_INFINITY]) f.add(0, v); // ln(1+v) = 0, 1, 2
    for (const v of [2, 4, 6]) f.add(1, v);
    for (const v of [5, 5, 5]) f.add(2, v);
    const n = f.finish(10);
    expect(n.mean[0]).toBeCloseTo(1, 6);
    expect(n.invStd[0]).toBeCloseTo(1, 6);
    expect(n.mean[1]).toBeCloseTo(4, 6);
    expect(n.invStd[1]).toBeCloseTo(0.5, 6);
    expect(n.invStd[2]).toBe(1);
    expect(signedLog1p(-(Math.E - 1))).toBeCloseTo(-1, 12);
    const fixed = f.finish(10, (c) => (c === 0 ? { mean: 0, invStd: 1 / 255 } : undefined));
    expect([fixed.log1p[0], fixed.mean[0], fixed.invStd[0]]).toEqual([0, 0, Math.fround(1 / 255)]);
  });

  it("turns NaN into the mean, ±Infinity and outliers into ±clip, and zeroes steps past a sequence's length", () => {
    const inp: NnInput = {
      name: "s",
      layout: "sequence",
      channels: 2,
      length: 3,
      channelNames: ["a", "b"],
      norm: {
        log1p: Uint8Array.of(0, 1),
        mean: Float32Array.of(1, 0),
        invStd: Float32Array.of(2, 1),
        clip: 5,
      },
    };
    const src = Float64Array.of(Number.NaN, Number.POSITIVE_INFINITY, 100, Math.E - 1, 7, 7);
    const dst = new Float64Array(6).fill(9);
    normalizeBlock(inp, src, 0, dst, 0, 2);
    expect(Array.from(dst)).toEqual([0, 5, 5, expect.closeTo(1, 12), 0, 0]);
    const grid: NnInput = { ...inp, layout: "grid", channels: 2, length: 3 };
    normalizeBlock(grid, Float64Array.of(1, 2, Number.NEGATIVE_INFINITY, 0, 0, 0), 0, dst, 0, 3);
    expect(Array.from(dst)).toEqual([0, 2, -5, 0, 0, 0]);
  });
});
