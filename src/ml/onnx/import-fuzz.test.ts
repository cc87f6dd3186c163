// Damaged ONNX files: every mutated fixture loads or fails as a VigilError, and never throws or crashes.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ONNX_FIXTURE_DIR } from "../../../scripts/onnx-fixtures.ts";
import { isVigilError, type Rng, seededRng } from "../../core/index.ts";
import { exportGbdtOnnx, loadOnnxClassifier } from "./index.ts";

// Mutations per source file: ~9 sources × 60 stays within a few seconds; ONNX_FUZZ_CASES for longer runs.
const CASES_PER_SOURCE = Number(process.env.ONNX_FUZZ_CASES ?? 60);

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  const b = Uint8Array.from(src);
  switch (rng.int(6)) {
    case 0: // a few bit flips anywhere
      for (let i = 0, n = 1 + rng.int(8); i < n; i++) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    case 1: // truncated
      return b.subarray(0, rng.int(b.length));
    case 2: // a byte set to an extreme (varint lengths and tags)
      for (let i = 0, n = 1 + rng.int(3); i < n; i++)
        b[rng.int(b.length)] = [0x00, 0x7f, 0x80, 0xff][rng.int(4)];
      return b;
    case 3: {
      // a slice repeated in place
      const at = rng.int(b.length);
      const len = 1 + rng.int(Math.min(64, b.length - at));
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at + len));
      out.set(b.subarray(at), at + len);
      return out;
    }
    case 4: {
      // a slice deleted
      const at = rng.int(b.length);
      const len = 1 + rng.int(Math.min(64, b.length - at));
      const out = new Uint8Array(b.length - len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return out;
    }
    default: // random bytes
      return Uint8Array.from({ length: rng.int(512) }, () => rng.int(256));
  }
}

function sources(): [string, Uint8Array][] {
  const files = readdirSync(ONNX_FIXTURE_DIR).filter((f) => f.endsWith(".onnx"));
  const out: [string, Uint8Array][] = files.map((f) => [
    f,
    new Uint8Array(readFileSync(join(ONNX_FIXTURE_DIR, f))),
  ]);
  const stump = {
    feature: Int32Array.from([0, -1, -1]),
    threshold: Float32Array.from([0.5, 0, 0]),
    left: Int32Array.from([1, -1, -1]),
    right: Int32Array.from([2, -1, -1]),
    defaultLeft: Uint8Array.from([1, 0, 0]),
    value: Float64Array.from([0, -1, 1]),
    cover: Float64Array.from([2, 1, 1]),
  };
  out.push([
    "vigil-gbdt",
    exportGbdtOnnx({
      objective: "multiclass",
      classes: ["a", "b", "c"],
      featureNames: ["x", "y", "z"],
      outputs: 3,
      baseScore: new Float64Array(3),
      trees: [stump, stump, stump],
    }),
  ]);
  return out;
}

describe("loadOnnxClassifier on damaged files", () => {
  it("returns a VigilError or a working classifier for every mutation, never an exception", async () => {
    const rng = seededRng(404);
    let loaded = 0;
    let refused = 0;
    for (const [name, src] of sources()) {
      for (let i = 0; i < CASES_PER_SOURCE; i++) {
        const bytes = mutate(rng, src);
        const r = await loadOnnxClassifier(bytes);
        if (!r.ok) {
          expect(isVigilError(r.error), `${name} #${i}`).toBe(true);
          refused++;
          continue;
        }
        loaded++;
        const cols = r.value.features ?? 3;
        const got = await r.value.classify(
          Float32Array.from({ length: 2 * cols }, (_, j) => j / 3 - 1),
          2,
          cols,
        );
        if (!got.ok) expect(isVigilError(got.error), `${name} #${i} classify`).toBe(true);
        else expect(got.value.labels).toHaveLength(2);
        await r.value.close();
      }
    }
    // Both outcomes happen: protobuf decoding tolerates some damage that onnxruntime then refuses or runs.
    expect(refused).toBeGreaterThan(0);
    expect(loaded).toBeGreaterThan(0);
  });
});
