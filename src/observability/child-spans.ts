/**
 * Child spans of a request's SERVER span for the work the gateway waits on: store operations and raw passthrough
 * calls to vLLM. Names and attributes describe the operation only — never ids, prompts or outputs.
 */
import { SpanKind, SpanStatusCode, type Context } from "@opentelemetry/api";
import type { Tracing } from "./tracing.js";

/**
 * A store operation's span is recorded after the fact: nothing propagates from it, so only its start and end
 * times are taken on the request's path and the span itself is made by `Tracing.later`.
 */
export async function inStoreSpan<T>(tracing: Tracing, parent: Context, operation: "get" | "put" | "delete", backend: string, fn: () => Promise<T>): Promise<T> {
  if (!tracing.enabled) return fn();
  const startedAt = performance.now();
  let failure: Error | null = null;
  try {
    return await fn();
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    const endedAt = performance.now();
    tracing.later(() => {
      const { span } = tracing.startSpan(`store ${operation}`, { kind: SpanKind.CLIENT, attributes: { "db.operation.name": operation, "db.system.name": backend }, startTime: startedAt }, parent);
      if (failure) {
        span.setAttribute("error.type", failure.name);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(endedAt);
    });
  }
}

/** A CLIENT span around an upstream passthrough call; `headers` receives its traceparent for vLLM. */
export async function inUpstreamSpan(tracing: Tracing, parent: Context, name: string, url: string, headers: Headers, fn: () => Promise<Response>): Promise<Response> {
  if (!tracing.enabled) return fn();
  const { span, context } = tracing.startSpan(name, { kind: SpanKind.CLIENT, attributes: { "url.full": url, "server.address": new URL(url).hostname } }, parent);
  tracing.inject(context, headers);
  let status = 0;
  let failure: Error | null = null;
  try {
    const res = await fn();
    status = res.status;
    return res;
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    // Ends when vLLM's headers arrived; a streamed passthrough body is then piped unchanged.
    const endedAt = performance.now();
    tracing.later(() => {
      if (failure) {
        span.setAttribute("error.type", failure.name);
        span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(endedAt);
    });
  }
}
