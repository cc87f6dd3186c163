// Public entry of capture/zeek: streaming reader of Zeek TSV and JSON logs, and detection of Zeek log files.
export { detectZeekLog, type ZeekLogInfo } from "./detect.ts";
export { pathFromFileName, pathFromKeys, ZEEK_LOG_PATHS } from "./log-kind.ts";
export {
  malformedTotal,
  openZeekLog,
  readZeekLog,
  ZEEK_MALFORMED_REASONS,
  type ZeekHeader,
  type ZeekLogReader,
  type ZeekMalformed,
  type ZeekMalformedReason,
  type ZeekReadOptions,
  type ZeekReadStats,
} from "./reader.ts";
export {
  DEFAULT_ZEEK_CAPS,
  parseIsoTime,
  unescapeZeek,
  type ZeekCaps,
  type ZeekFieldType,
  type ZeekKind,
  type ZeekRow,
  type ZeekValue,
} from "./values.ts";
