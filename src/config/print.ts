// `vigil config print`: the effective configuration, with each setting's source and doc line.
import { VigilConfig } from "../schema/index.ts";
import type { ConfigSchema, LoadedConfig } from "./load.ts";
import { configKeys } from "./load.ts";

interface ZodLike {
  description?: string;
  def?: { shape?: Record<string, ZodLike>; innerType?: ZodLike; in?: ZodLike };
  shape?: Record<string, ZodLike>;
}

/** Doc line of a dotted key, read from the schema's `.describe()` texts. */
function describeKey(schema: ConfigSchema, key: string): string {
  let node: ZodLike | undefined = schema as unknown as ZodLike;
  for (const part of key.split(".")) {
    while (node && !node.shape && (node.def?.innerType || node.def?.in))
      node = node.def.innerType ?? node.def.in;
    node = node?.shape?.[part];
  }
  let desc = node?.description;
  while (!desc && node && (node.def?.innerType || node.def?.in)) {
    node = node.def.innerType ?? node.def.in;
    desc = node?.description;
  }
  return desc ?? "";
}

function get(obj: unknown, key: string): unknown {
  let v = obj;
  for (const p of key.split(".")) v = (v as Record<string, unknown>)[p];
  return v;
}

export interface ConfigRow {
  key: string;
  value: unknown;
  source: string;
  doc: string;
}

/** Every setting with its value, source and doc line; `schema` is the one the config was loaded with. */
export function configRows(loaded: LoadedConfig, schema: ConfigSchema = VigilConfig): ConfigRow[] {
  return configKeys(schema).map((key) => ({
    key,
    value: get(loaded.config, key),
    source: loaded.sources[key] ?? "default",
    doc: describeKey(schema, key),
  }));
}

/** Text table: key = value  # source: doc */
export function formatConfig(loaded: LoadedConfig, schema: ConfigSchema = VigilConfig): string {
  const rows = configRows(loaded, schema);
  const w = Math.max(...rows.map((r) => `${r.key} = ${JSON.stringify(r.value)}`.length));
  const lines = rows.map(
    (r) => `${`${r.key} = ${JSON.stringify(r.value)}`.padEnd(w)}  # ${r.source}: ${r.doc}`,
  );
  return `${loaded.file ? `# site file: ${loaded.file}\n` : ""}${lines.join("\n")}\n`;
}
