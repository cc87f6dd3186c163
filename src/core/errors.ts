// Typed errors: every expected failure carries a code; the CLI maps codes to exit codes in one place.

/** Every error code Vigil raises on purpose. Add new codes here, then map them in cli/exit-codes.ts. */
export type ErrorCode =
  | "usage" // bad flags or arguments
  | "input.not_found" // file does not exist
  | "input.unreadable" // permission or I/O error
  | "input.not_capture" // file is not pcap/pcapng (bad magic)
  | "input.corrupt" // capture framing damaged beyond recovery
  | "config.invalid" // site file, env or flags failed validation
  | "capture.tool_missing" // tcpdump not installed
  | "capture.failed" // live capture process failed
  | "internal"; // a bug in Vigil

/** An expected failure with a code and a message that says what to do next. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VigilError";
    this.code = code;
    this.hint = hint;
  }
}

export function isVigilError(e: unknown): e is VigilError {
  return e instanceof VigilError;
}

/** A file that could not be opened or read, as a VigilError that says what to do (not found vs unreadable). */
export function fileError(path: string, e: unknown): VigilError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT" || code === "ENOTDIR")
    return new VigilError("input.not_found", `${path} does not exist.`, "check the path and try again", {
      cause: e,
    });
  return new VigilError(
    "input.unreadable",
    `cannot read ${path}: ${code === "EACCES" || code === "EPERM" ? "permission denied" : ((e as Error)?.message ?? String(e))}`,
    "check the file's permissions",
    { cause: e },
  );
}
