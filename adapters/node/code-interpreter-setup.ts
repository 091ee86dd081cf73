/**
 * Which code sandbox a Node gateway process uses:
 * - spawn, one process: an in-process Pyodide pool (worker threads);
 * - spawn under a supervisor, or external: the shared loopback service, through the HTTP executor;
 * - disabled: none (requests declaring code_interpreter get a 400 at once).
 * The gateway reports ready only once the sandbox is.
 */
import type { CodeRunner } from "../../src/engine/gateway-tools.js";
import type { Logger } from "../../src/observability/logger.js";
import { createHttpCodeExecutor } from "../../src/tools/code-interpreter/http-executor.js";
import { createPyodidePool, loadEgressPolicyFile } from "./code-interpreter/index.js";

export interface CodeInterpreterSetup {
  mode: "spawn" | "external" | "disabled";
  /** The shared service (external mode, or a supervised worker). */
  url?: string;
  workers: number;
  timeoutMs: number;
  startupTimeoutMs: number;
  egressPolicyPath?: string;
}

export async function startCodeRunner(setup: CodeInterpreterSetup, logger: Logger): Promise<{ runner: CodeRunner; close: () => Promise<void> } | null> {
  if (setup.mode === "disabled") return null;
  if (setup.url) {
    const executor = createHttpCodeExecutor({ url: setup.url, timeoutMs: setup.timeoutMs, readyTimeoutMs: setup.startupTimeoutMs, logger });
    await executor.ready();
    return { runner: executor, close: () => executor.close() };
  }
  if (setup.mode === "external") throw new Error("--code-interpreter external needs --code-interpreter-url");
  const started = Date.now();
  const pool = createPyodidePool({
    workers: setup.workers,
    timeoutMs: setup.timeoutMs,
    startupTimeoutMs: setup.startupTimeoutMs,
    ...(setup.egressPolicyPath ? { egressPolicy: await loadEgressPolicyFile(setup.egressPolicyPath) } : {}),
    logger,
  });
  await pool.ready();
  logger.info("code interpreter ready", { workers: setup.workers, ms: Date.now() - started });
  return { runner: pool, close: () => pool.close() };
}
