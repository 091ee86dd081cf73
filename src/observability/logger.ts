/**
 * The one logging seam. The core never calls console directly so embedders can route logs; the default writes
 * one JSON line per record to the console, which every runtime (Node, Deno, Bun, workerd) supports.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createConsoleLogger(minLevel: LogLevel = "info", base: Record<string, unknown> = {}): Logger {
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (order[level] < order[minLevel]) return;
    const record = { ts: new Date().toISOString(), level, msg: message, ...base, ...fields };
    const line = JSON.stringify(record, errorReplacer);
    if (level === "error" || level === "warn") console.error(line);
    else console.log(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** A logger that drops everything: for tests and embedders that want silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Errors serialise as `{name, message}` (never stacks with request data in them). */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
