// onnxruntime-node, imported on first use so that code paths without ONNX never load its native library.

export type Ort = typeof import("onnxruntime-node");
export type OrtSession = import("onnxruntime-node").InferenceSession;
export type OrtTensor = import("onnxruntime-node").Tensor;

let loading: Promise<Ort> | undefined;

/** The onnxruntime-node module; the first call loads the native library. */
export function loadOrt(): Promise<Ort> {
  loading ??= import("onnxruntime-node");
  return loading;
}

/** Threads for one session: 1 by default, since Vigil scales across cores with worker shards. */
export interface SessionOptions {
  threads?: number;
}

/** A CPU session over model bytes, with onnxruntime's own log kept to fatal errors (ours carry the message). */
export async function createSession(bytes: Uint8Array, options: SessionOptions = {}): Promise<OrtSession> {
  const ort = await loadOrt();
  const threads = options.threads ?? 1;
  return ort.InferenceSession.create(bytes, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 4, // 4 = fatal only: load failures come back to the caller as VigilError
  });
}
