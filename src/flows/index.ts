// Public entry of flows: the flow table, its config, Community ID and the record types.
export { communityId, communityIdHasPorts, icmpCounterpart } from "./community-id.ts";
export { DEFAULT_FLOW_CONFIG, type FlowConfig, flowConfig } from "./config.ts";
export { FLOW_KEY_WIDTH, flowKey } from "./flow-key.ts";
export { FlowTable, type FlowTableStats } from "./flow-table.ts";
export {
  CIC_COLUMNS,
  CIC_INDEX,
  CIC_QUIRK_COLUMNS,
  type CicColumn,
  type ConnFields,
  type FlowEndReason,
  type FlowRecord,
} from "./record.ts";
