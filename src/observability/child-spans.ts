/**
 * Child spans of a request's SERVER span for the work the gateway waits on: store operations and raw passthrough
 * calls to vLLM. Names and attributes describe the operation only — never ids, prompts or outputs.
 */
import { SpanKind, SpanStatusCode, type Context } from "@opentelemetry/api";
import type { Tracing } from "./tracing.js";

export async function inStoreSpan<T>(tracing: Tracing, parent: Context, operation: "get" | "put" | "delete", backend: string, fn: () => Promise<T>): Promise<T> {
  if (!tracing.enabled) return fn();
  const { span } = tracing.startSpan(`store ${operation}`, { kind: SpanKind.CLIENT, attributes: { "db.operation.name": operation, "db.system.name": backend } }, parent);
  try {
    return await fn();
  } catch (err) {
    span.setAttribute("error.type", (err as Error).name);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

/** A CLIENT span around an upstream passthrough call; `headers` receives its traceparent for vLLM. */
export async function inUpstreamSpan(tracing: Tracing, parent: Context, name: string, url: string, headers: Headers, fn: () => Promise<Response>): Promise<Response> {
  if (!tracing.enabled) return fn();
  const { span, context } = tracing.startSpan(name, { kind: SpanKind.CLIENT, attributes: { "url.full": url, "server.address": new URL(url).hostname } }, parent);
  tracing.inject(context, headers);
  try {
    const res = await fn();
    span.setAttribute("http.response.status_code", res.status);
    if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return res;
  } catch (err) {
    span.setAttribute("error.type", (err as Error).name);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    // Ends when vLLM's headers arrived; a streamed passthrough body is then piped unchanged.
    span.end();
  }
}
