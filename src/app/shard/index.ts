// Public entry of the sharded packet path (`vigil analyze --workers N`): worker_threads sharded by a
// symmetric hash of the packet's address pair.
export {
  analyzeSharded,
  mergeDetections,
  type ShardedOptions,
  type ShardedSummary,
} from "./analyze-sharded.ts";
export { pairHash, quickShard, shardOf } from "./hash.ts";
