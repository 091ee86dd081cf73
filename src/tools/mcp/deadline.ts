/**
 * Bounding SDK operations in time. Not every SDK step honours an AbortSignal (the legacy SSE transport's
 * `start()` waits for the `endpoint` event regardless), so the race here is what actually enforces a deadline;
 * the signal handed to `work` lets the steps that do listen stop early.
 */

export class McpDeadlineError extends Error {
  override readonly name = "McpDeadlineError";
}

/**
 * Runs `work` until it settles, `timeoutMs` passes (rejects with `new McpDeadlineError(timeoutMessage)`), or
 * `signal` aborts (rejects with the signal's own reason, so callers can tell "caller went away" from "too slow").
 */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  opts: { timeoutMs: number; signal?: AbortSignal; timeoutMessage: string },
): Promise<T> {
  opts.signal?.throwIfAborted();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onCallerAbort = (): void => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const stopped = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    timer = setTimeout(() => controller.abort(new McpDeadlineError(opts.timeoutMessage)), opts.timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), stopped]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onCallerAbort);
  }
}
