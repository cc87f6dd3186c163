// Configuration loading: defaults ← site file ← environment ← flags, validated once by the zod schema.
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { err, ok, type Result, VigilError } from "../core/index.ts";
import { VigilConfig } from "../schema/index.ts";

/** Where a setting came from, for `vigil config print`. */
export type ConfigSource = "default" | "file" | "env" | "flag";

export interface LoadConfigOptions {
  /** Site file (YAML or JSON). When absent, $VIGIL_CONFIG, then ./vigil.yaml if it exists. */
  file?: string | undefined;
  /** Environment; VIGIL_<SECTION>_<KEY> overrides, e.g. VIGIL_FLOWS_IDLE_TIMEOUT_S=60. */
  env?: Record<string, string | undefined>;
  /** Dotted overrides from `--set key=value` flags, e.g. "flows.capacity=50000". */
  sets?: string[];
}

/**
 * The schema a site configuration is validated by. The config layer knows only VigilConfig (the
 * stages' settings); src/app extends it with the detector plugins' own schemas and passes that in.
 */
// biome-ignore lint/suspicious/noExplicitAny: any zod object whose output extends VigilConfig
export type ConfigSchema<C extends VigilConfig = VigilConfig> = z.ZodType<C, any>;

export interface LoadedConfig<C extends VigilConfig = VigilConfig> {
  config: C;
  /** Source of each dotted key that did not come from the defaults. */
  sources: Record<string, ConfigSource>;
  file: string | null;
}

type Tree = Record<string, unknown>;

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Turns "60" into 60 and "true" into true, leaving other strings alone. */
function coerce(raw: string): unknown {
  const t = raw.trim();
  if (t === "true") return true;
  if (t === "false") return false;
  if (t !== "" && Number.isFinite(Number(t))) return Number(t);
  return raw;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const child = node[k];
    if (typeof child !== "object" || child === null || Array.isArray(child)) node[k] = {};
    node = node[k] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/** Dotted keys of every leaf of the default configuration. */
export function configKeys(schema: ConfigSchema<VigilConfig> = VigilConfig): string[] {
  const keys: string[] = [];
  const walk = (obj: unknown, prefix: string): void => {
    if (typeof obj === "object" && obj !== null && !Array.isArray(obj)) {
      for (const [k, v] of Object.entries(obj)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else keys.push(prefix);
  };
  walk(schema.parse({}), "");
  return keys;
}

function formatIssues(e: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return e.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Loads and validates the configuration. Errors say which setting is wrong and how to fix it. */
export function loadConfig<C extends VigilConfig = VigilConfig>(
  opts: LoadConfigOptions & { schema?: ConfigSchema<C> } = {},
): Result<LoadedConfig<C>, VigilError> {
  const schema = (opts.schema ?? VigilConfig) as ConfigSchema<C>;
  const env = opts.env ?? {};
  const tree: Tree = {};
  const sources: Record<string, ConfigSource> = {};
  const keys = configKeys(schema);

  const file = opts.file || env.VIGIL_CONFIG || (existsSync("vigil.yaml") ? "vigil.yaml" : undefined);
  if (file !== undefined) {
    if (!existsSync(file)) {
      return err(
        new VigilError("config.invalid", `config file ${file} does not exist`, "check the --config path"),
      );
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, "utf8"));
    } catch (e) {
      return err(
        new VigilError(
          "config.invalid",
          `config file ${file} is not valid YAML/JSON: ${(e as Error).message}`,
        ),
      );
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed)) {
        return err(new VigilError("config.invalid", `config file ${file} must hold a mapping of settings`));
      }
      Object.assign(tree, parsed);
      const walk = (obj: unknown, prefix: string): void => {
        if (typeof obj === "object" && obj !== null && !Array.isArray(obj)) {
          for (const [k, v] of Object.entries(obj)) walk(v, prefix ? `${prefix}.${k}` : k);
        } else sources[prefix] = "file";
      };
      walk(parsed, "");
    }
  }

  for (const key of keys) {
    const name = `VIGIL_${key.split(".").map(snake).join("_")}`;
    const raw = env[name];
    if (raw !== undefined) {
      setPath(tree, key.split("."), coerce(raw));
      sources[key] = "env";
    }
  }

  for (const s of opts.sets ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) {
      return err(
        new VigilError("usage", `--set needs key=value, got "${s}"`, `known keys: ${keys.join(", ")}`),
      );
    }
    const key = s.slice(0, eq).trim();
    if (!keys.includes(key)) {
      return err(new VigilError("usage", `unknown setting "${key}"`, `known keys: ${keys.join(", ")}`));
    }
    setPath(tree, key.split("."), coerce(s.slice(eq + 1)));
    sources[key] = "flag";
  }

  const parsed = schema.safeParse(tree);
  if (!parsed.success) {
    return err(
      new VigilError(
        "config.invalid",
        `invalid configuration: ${formatIssues(parsed.error)}`,
        "fix the setting in the site file, VIGIL_* environment or --set flag; `vigil config print` shows every key",
      ),
    );
  }
  return ok({ config: parsed.data, sources, file: file ?? null });
}

/** Defaults only, for library use and tests. */
export function defaultConfig(): VigilConfig {
  return VigilConfig.parse({});
}
