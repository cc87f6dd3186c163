// Public entry of core: domain types, Result, errors, Clock, Rng, ids.
export * from "./cic-columns.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./key-table.ts";
export * from "./link-types.ts";
export * from "./result.ts";
export * from "./rng.ts";
export * from "./strings.ts";
