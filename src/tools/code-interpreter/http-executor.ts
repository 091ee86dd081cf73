/**
 * A CodeExecutor backed by a running code interpreter service (`vllm-responses code-interpreter serve`), so
 * several gateway workers — or a gateway on a runtime without worker threads — share one Pyodide pool.
 * Web standards only: runs on Node, Deno, Bun and Workers.
 *
 * Wire: `POST {url}/python {code, timeout_ms?}` → 200 CodeExecutionResult | 400 {error};
 *       `GET {url}/health` → {status: "ok" | "starting", ...}.
 */
import type { Logger } from "../../observability/logger.js";
import { type CodeExecutionOptions, type CodeExecutionResult, type CodeExecutor, executionError, parseCodeExecutionResult } from "./executor.js";

export interface HttpCodeExecutorOptions {
  /** Service base URL, e.g. `http://127.0.0.1:5970`. */
  url: string;
  /** Execution limit sent as `timeout_ms` when the caller gives none. Default 30 000 (the original's). */
  timeoutMs?: number;
  /**
   * Added to the execution limit for the client-side deadline: covers the service's interrupt grace and hard
   * kill (~1 s), a short queue wait and the network. Default 5 000.
   */
  deadlineMarginMs?: number;
  /** How long ready() polls /health before giving up. Default 600 000 (the original's startup timeout). */
  readyTimeoutMs?: number;
  /** Interval between /health polls in ready(). Default 250. */
  readyPollIntervalMs?: number;
  /** Sent as `Authorization: Bearer …` when the service was started with a token. */
  authToken?: string;
  fetch?: typeof fetch;
  logger?: Logger;
}

export function createHttpCodeExecutor(options: HttpCodeExecutorOptions): CodeExecutor {
  const base = options.url.replace(/\/+$/, "");
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  const marginMs = options.deadlineMarginMs ?? 5_000;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const inFlight = new Set<AbortController>();
  const auth: Record<string, string> = options.authToken === undefined ? {} : { authorization: `Bearer ${options.authToken}` };
  let closed = false;

  async function execute(code: string, call: CodeExecutionOptions = {}): Promise<CodeExecutionResult> {
    const started = Date.now();
    const elapsed = (): number => Date.now() - started;
    if (closed) return executionError("The code interpreter client is closed");
    if (call.signal?.aborted) return executionError(`Execution aborted: ${reasonText(call.signal.reason)}`);

    const timeoutMs = call.timeoutMs ?? defaultTimeoutMs;
    const deadlineMs = timeoutMs + marginMs;
    const controller = new AbortController();
    inFlight.add(controller);
    const deadline = setTimeout(() => controller.abort(new DeadlineError(deadlineMs)), deadlineMs);
    const onCallerAbort = (): void => controller.abort(call.signal?.reason);
    call.signal?.addEventListener("abort", onCallerAbort, { once: true });
    try {
      const response = await doFetch(`${base}/python`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({ code, timeout_ms: timeoutMs }),
        signal: controller.signal,
      });
      const text = await response.text();
      if (response.status !== 200) {
        return executionError(`Code interpreter service at ${base} answered HTTP ${response.status}: ${errorText(text)}`, elapsed());
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        // A non-JSON 200 means something other than our service answered on that port.
        return executionError(`Code interpreter service at ${base} sent invalid JSON (${(error as Error).message}): ${text.slice(0, 200)}`, elapsed());
      }
      const result = parseCodeExecutionResult(body);
      return result ?? executionError(`Code interpreter service at ${base} sent a malformed result: ${text.slice(0, 200)}`, elapsed());
    } catch (error) {
      // Every failure becomes a result: the tool loop reports it to the model instead of failing the response.
      const reason = controller.signal.reason;
      if (reason instanceof DeadlineError) {
        return { ...executionError(reason.message, elapsed()), status: "timeout" };
      }
      if (call.signal?.aborted) return executionError(`Execution aborted: ${reasonText(call.signal.reason)}`, elapsed());
      if (closed) return executionError("The code interpreter client was closed during execution", elapsed());
      options.logger?.warn("code interpreter service unreachable", { url: base, error });
      return executionError(`Code interpreter service unreachable at ${base}: ${describe(error)}`, elapsed());
    } finally {
      clearTimeout(deadline);
      call.signal?.removeEventListener("abort", onCallerAbort);
      inFlight.delete(controller);
    }
  }

  async function ready(): Promise<void> {
    const timeoutMs = options.readyTimeoutMs ?? 600_000;
    const intervalMs = options.readyPollIntervalMs ?? 250;
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
      if (closed) throw new Error("The code interpreter client is closed");
      try {
        const response = await doFetch(`${base}/health`, { headers: auth, signal: AbortSignal.timeout(Math.min(2_000, timeoutMs)) });
        const text = await response.text();
        last = `HTTP ${response.status} ${text.slice(0, 200)}`;
        if (response.ok && (JSON.parse(text) as { status?: unknown }).status === "ok") return;
      } catch (error) {
        // Expected while the service is still starting (connection refused); remembered for the final error.
        last = describe(error);
      }
      if (Date.now() + intervalMs > deadline) {
        throw new Error(`Code interpreter service at ${base} was not ready within ${timeoutMs} ms (last: ${last})`);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  async function close(): Promise<void> {
    closed = true;
    for (const controller of inFlight) controller.abort(new Error("code interpreter client closed"));
  }

  return { execute, ready, close };
}

class DeadlineError extends Error {
  override name = "DeadlineError";
  constructor(ms: number) {
    super(`No answer from the code interpreter service within ${ms} ms`);
  }
}

function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch (error) {
    // Not JSON: the raw text (trimmed) is the best description available.
    void error;
  }
  return text.slice(0, 200);
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? "aborted" : String(reason);
}

/** fetch() hides the interesting part (ECONNREFUSED…) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === "string" ? `${code}: ` : ""}${cause.message})`;
  }
  return error.message;
}
