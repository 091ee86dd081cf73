import type { Logger, LogLevel } from "../../src/observability/logger.js";

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

/** A Logger that keeps every record, for assertions on what was logged. */
export function captureLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    records.push({ level, message, fields });
  };
  return { records, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
