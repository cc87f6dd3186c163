// Importing ml must not load onnxruntime's native library or onnx-proto; the first ONNX call does.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));

// Runs in a fresh node: what is mapped and cached after importing src/ml, then after loading a model.
const probe = `
const { readFileSync } = await import("node:fs");
const { createRequire } = await import("node:module");
const state = () => ({
  native: readFileSync("/proc/self/maps", "utf8").includes("onnxruntime"),
  modules: Object.keys(createRequire(import.meta.url).cache).filter((k) => /onnxruntime|onnx-proto/.test(k)).length,
});
const ml = await import(process.argv[1]);
const afterImport = state();
const loaded = await ml.loadOnnxClassifier(process.argv[2]);
console.log(JSON.stringify({ afterImport, ok: loaded.ok, afterLoad: state() }));
`;

describe("lazy loading", () => {
  it("src/ml loads onnxruntime-node and onnx-proto only when an ONNX function is called", () => {
    const out = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        probe,
        join(here, "../index.ts"),
        join(here, "../../../test/fixtures/onnx/xgboost-binary.onnx"),
      ],
      { encoding: "utf8" },
    );
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(r.afterImport).toEqual({ native: false, modules: 0 });
    expect(r.ok).toBe(true);
    expect(r.afterLoad.native).toBe(true);
    expect(r.afterLoad.modules).toBeGreaterThan(0);
  });
});
