import { describe, expect, it } from "vitest";
import { seededRng } from "../../core/index.ts";
import { createArena } from "./hist-kernel.ts";

describe("histogram kernels", () => {
  it("run as WebAssembly SIMD on Node and add exactly what the JS kernel adds", () => {
    const rows = 999;
    const cols = 5;
    const histBins = cols * 20;
    for (const outputs of [1, 3, 16]) {
      const layout = { bins: rows * cols, rows, outputs, histBins, hists: 2, cols };
      const fast = createArena(layout);
      const js = createArena(layout, false);
      expect(fast.kind).toBe("wasm");
      expect(js.kind).toBe("js");
      const rng = seededRng(outputs);
      const bins = Uint8Array.from({ length: rows * cols }, () => rng.int(20));
      const gh = Float64Array.from({ length: 2 * outputs * rows }, () => rng.next() - 0.3);
      // Every third row, descending: the kernels must follow the index array, not row order.
      const idx = Uint32Array.from({ length: 333 }, (_, j) => rows - 1 - 3 * j);
      for (const a of [fast, js]) {
        a.u8.set(bins, a.binsAt);
        a.f64.set(gh, a.ghAt);
        a.u32.set(idx, a.idxAt);
        for (let f = 0; f < cols; f++)
          a.setRootFeature(f, a.rootAt + f * 20 * (2 * outputs + 2), a.binsAt + f * rows);
        a.rootPass(cols, a.idxAt, idx.length);
        a.gather(a.idxAt, idx.length, outputs - 1);
        for (let f = 0; f < cols; f++)
          a.setLeafFeature(f, a.histAt + 2 * f * 20, a.histAt + 2 * histBins + f * 20, a.binsAt + f * rows);
        a.build(cols, a.idxAt, idx.length);
      }
      const rootLen = histBins * (2 * outputs + 2);
      expect(Array.from(fast.f64.subarray(fast.rootAt, fast.rootAt + rootLen))).toEqual(
        Array.from(js.f64.subarray(js.rootAt, js.rootAt + rootLen)),
      );
      const leaf = fast.f64.subarray(fast.histAt, fast.histAt + 3 * histBins);
      expect(Array.from(leaf)).toEqual(Array.from(js.f64.subarray(js.histAt, js.histAt + 3 * histBins)));
      // Spot check against a direct sum: feature 2, bin of the first indexed row, last output.
      const b = bins[2 * rows + idx[0]];
      let g = 0;
      let count = 0;
      for (const r of idx) {
        if (bins[2 * rows + r] !== b) continue;
        g += gh[r * 2 * outputs + 2 * (outputs - 1)];
        count++;
      }
      expect(leaf[2 * (2 * 20 + b)]).toBe(g);
      expect(leaf[2 * histBins + 2 * 20 + b]).toBe(count);
      const root = fast.f64.subarray(fast.rootAt + (2 * 20 + b) * (2 * outputs + 2));
      expect(root[2 * (outputs - 1)]).toBe(g);
      expect(root[2 * outputs]).toBe(count);
    }
  });
});
