/**
 * Child spans of a request's SERVER span for the work the gateway waits on: store operations and raw passthrough
 * calls to vLLM. Names and attributes describe the operation only — never ids, prompts or outputs.
 */
import { SpanKind, SpanStatusCode, type Context } from "@opentelemetry/api";
import { markSpanFailed, type Tracing } from "./tracing.js";

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
      if (failure) markSpanFailed(span, failure.name);
      span.end(endedAt);
    });
  }
}

/**
 * A CLIENT span around an upstream passthrough call; `headers` receives its traceparent for vLLM. `host` is the
 * upstream's host name (parsed once by the upstream client, not per call).
 */
export async function inUpstreamSpan(tracing: Tracing, parent: Context, name: string, url: string, host: string, headers: Headers, fn: () => Promise<Response>): Promise<Response> {
  if (!tracing.enabled) return fn();
  const { span, context } = tracing.startSpan(name, { kind: SpanKind.CLIENT, attributes: { "url.full": url, "server.address": host } }, parent);
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
    tracing.endLater(span, (s) => {
      if (failure) markSpanFailed(s, failure.name);
      else {
        s.setAttribute("http.response.status_code", status);
        if (status >= 500) s.setStatus({ code: SpanStatusCode.ERROR });
      }
    });
  }
}
