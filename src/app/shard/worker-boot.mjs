// Starts a shard worker from the TypeScript source (under tsx, vitest or `npx tsx src/cli/main.ts`): a worker
// thread does not inherit the parent's TypeScript loader, so register tsx here, then load the worker module,
// which runs on import. Bundles start their own shard-worker.mjs instead (see analyze-sharded.ts).
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
