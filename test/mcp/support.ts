/**
 * Shared helpers for the MCP tests: a logger that keeps every record (to prove secrets never reach logs), free
 * ports, polling, and paths of the real test servers in ../mcp-servers.
 */
import { fileURLToPath } from "node:url";
import type { Logger } from "../../src/observability/logger.js";

export const STDIO_SERVER = fileURLToPath(new URL("../mcp-servers/stdio-server.mjs", import.meta.url));

export interface CapturingLogger extends Logger {
  records: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
  /** Everything logged, serialised the way the console logger would (errors as name + message). */
  text(): string;
}

export function capturingLogger(): CapturingLogger {
  const records: CapturingLogger["records"] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      records.push({ level, message, fields });
    };
  return {
    records,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () =>
      records
        .map((r) =>
          JSON.stringify({ level: r.level, msg: r.message, ...r.fields }, (_k, v: unknown) =>
            v instanceof Error ? { name: v.name, message: v.message } : v,
          ),
        )
        .join("\n"),
  };
}

/** A port that was free a moment ago (nothing listens on it until the test starts something there). */
// One free-port probe for the whole suite (test/setup/services.ts); re-exported for the MCP tests' imports.
export { freePort } from "../setup/services.js";

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
