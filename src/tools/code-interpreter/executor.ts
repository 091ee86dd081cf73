/**
 * The one seam between the gateway's tool loop and whatever runs Python: an in-process Pyodide pool
 * (adapters/node), a shared loopback service reached over fetch (http-executor.ts), or a test double.
 * Results are values, never exceptions: a sandbox failure is something the model should see and react to,
 * not something that should fail the whole response.
 */

export type CodeExecutionStatus = "success" | "exception" | "timeout" | "error";

export interface CodeExecutionResult {
  /**
   * `success`: the code ran to the end. `exception`: Python raised; `stderr` holds the traceback.
   * `timeout`: the time limit was hit (`error` says which). `error`: the sandbox could not run the code
   * (crashed, was replaced, is unreachable or overloaded; `error` says why).
   */
  status: CodeExecutionStatus;
  stdout: string;
  stderr: string;
  /** `repr()` of the value of the last expression, as the Python REPL shows it; `None` → null. */
  result: string | null;
  execution_time_ms: number;
  error?: string;
  /** Set when stdout, stderr or result were cut at the size cap. */
  truncated?: boolean;
}

export interface CodeExecutionOptions {
  /** Aborting cancels a queued job or interrupts a running one; the result then has `status: "error"`. */
  signal?: AbortSignal;
  /** Time limit for this call. Executors cap it at their configured limit: a caller can only shorten it. */
  timeoutMs?: number;
}

export interface CodeExecutor {
  execute(code: string, options?: CodeExecutionOptions): Promise<CodeExecutionResult>;
  /** Resolves once the executor can run code; rejects if it cannot get there (startup deadline, crash). */
  ready(): Promise<void>;
  /** Releases workers/connections. Jobs still queued or running resolve with `status: "error"`. */
  close(): Promise<void>;
}

/** A result for a job that never produced output of its own (sandbox missing, crashed, overloaded). */
export function executionError(error: string, executionTimeMs = 0, output?: { stdout?: string; stderr?: string }): CodeExecutionResult {
  return {
    status: "error",
    stdout: output?.stdout ?? "",
    stderr: output?.stderr ?? "",
    result: null,
    execution_time_ms: Math.round(executionTimeMs),
    error,
  };
}

const statuses: ReadonlySet<string> = new Set<CodeExecutionStatus>(["success", "exception", "timeout", "error"]);

/**
 * Checks a result that crossed a process boundary (the HTTP service). Returns null when the shape is wrong,
 * so the caller can report *that* instead of passing garbage to the model.
 */
export function parseCodeExecutionResult(value: unknown): CodeExecutionResult | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.status !== "string" || !statuses.has(v.status)) return null;
  if (typeof v.stdout !== "string" || typeof v.stderr !== "string") return null;
  if (v.result !== null && typeof v.result !== "string") return null;
  if (typeof v.execution_time_ms !== "number" || !Number.isFinite(v.execution_time_ms)) return null;
  if (v.error !== undefined && typeof v.error !== "string") return null;
  if (v.truncated !== undefined && typeof v.truncated !== "boolean") return null;
  const result: CodeExecutionResult = {
    status: v.status as CodeExecutionStatus,
    stdout: v.stdout,
    stderr: v.stderr,
    result: v.result,
    execution_time_ms: v.execution_time_ms,
  };
  if (v.error !== undefined) result.error = v.error;
  if (v.truncated !== undefined) result.truncated = v.truncated;
  return result;
}
