// The envelope every Vigil model file shares: a size cap, JSON, an object with `format` and `version`, and
// one way to say that a file is damaged or from another Vigil. Each model file checks its own body.
import { err, ok, type Result, VigilError } from "../core/index.ts";

/** What a model file is, for its checks and its error messages. */
export interface ModelDocKind {
  /** The `format` field, e.g. "vigil.gbdt". */
  format: string;
  /** The `version` this Vigil reads. */
  version: number;
  /** How errors name it, e.g. "GBDT model file". */
  what: string;
  /** Largest text accepted, so a damaged file cannot make the parser allocate without bound. */
  maxChars: number;
  /** What to do about a damaged file. */
  hint: string;
}

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The error of a damaged model file: `invalid <what>: <message>`. */
export function badModelFile(kind: ModelDocKind, message: string): Result<never, VigilError> {
  return err(new VigilError("input.corrupt", `invalid ${kind.what}: ${message}`, kind.hint));
}

/** Parses the envelope of a model file: the document object, or why it cannot be read by this Vigil. */
export function readModelDoc(text: string, kind: ModelDocKind): Result<Record<string, unknown>, VigilError> {
  if (text.length > kind.maxChars)
    return badModelFile(kind, `file is larger than ${kind.maxChars} characters`);
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    return badModelFile(kind, `not JSON (${(e as Error).message.slice(0, 200)})`);
  }
  if (!isObj(d)) return badModelFile(kind, "top level must be an object");
  if (d.format !== kind.format) return badModelFile(kind, `format must be "${kind.format}"`);
  const v = d.version;
  if (!(typeof v === "number" && Number.isSafeInteger(v) && v >= 1))
    return badModelFile(kind, "version must be a positive integer");
  if (v !== kind.version)
    return err(
      new VigilError(
        "input.corrupt",
        `${kind.what} version ${v} is not supported (this Vigil reads version ${kind.version})`,
        v > kind.version ? "upgrade Vigil to load this model" : "retrain the model with this Vigil",
      ),
    );
  return ok(d);
}
