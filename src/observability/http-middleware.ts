/**
 * One Hono middleware that gives every gateway request its HTTP metrics and its SERVER span.
 *
 * - `http_request_duration_seconds` and `http_in_flight_requests` cover the handler only: they stop when the
 *   handler has returned its Response. A streamed response then moves to `sse_connections_in_flight` and
 *   `sse_stream_duration_seconds` (request start → stream end or client disconnect), as behaviour.md specifies.
 * - The SERVER span is a child of the incoming W3C `traceparent`, is named `METHOD /route/{template}` (never a
 *   raw path: ids are capabilities), and for SSE responses ends when the stream ends.
 * - The span's context is published to handlers under `c.get("otelContext")` (`OTEL_CONTEXT_KEY`; or use
 *   `otelContextOf(c)`): start CLIENT spans for upstream/tool calls from it and `tracing.inject()` it into
 *   outgoing headers. When tracing is off it is the root context.
 *
 * `/health` and the metrics path are neither counted nor traced (probes and scrapes would drown real traffic).
 */
import { ROOT_CONTEXT, SpanKind, type Context, type Span } from "@opentelemetry/api";
import type { Context as HonoContext, MiddlewareHandler } from "hono";
import type { GatewayMetrics } from "./metrics.js";
import { observeStreamEnd, type StreamEnd } from "./observe-stream-end.js";
import { routeTemplateOf, UNMATCHED_ROUTE } from "./route-template.js";
import { markSpanFailed, type Tracing } from "./tracing.js";

/**
 * Hono context variable an outer middleware may set to learn when an SSE response's stream is over (admission
 * releases the request's concurrency slot there), so each stream is wrapped by one observer only.
 */
export const STREAM_END_HOOK = "onStreamEnd";

/** Hono context variable holding the OpenTelemetry context of the request's SERVER span. */
export const OTEL_CONTEXT_KEY = "otelContext";
export type ObservabilityVariables = { [OTEL_CONTEXT_KEY]: Context; [STREAM_END_HOOK]: (() => void) | undefined };

export interface ObserveHttpOptions {
  metrics: GatewayMetrics | null;
  tracing: Tracing | null;
  /** Override for the `route` label; defaults to the matched Hono route as an OpenAPI template. */
  routeOf?: (c: HonoContext) => string;
  /** `VR_METRICS_PATH`; excluded like `/health`. Default `/metrics`. */
  metricsPath?: string;
}

/** The trace context a handler should parent its spans on (root context when tracing is off or not set up). */
export function otelContextOf(c: HonoContext): Context {
  return (c.get(OTEL_CONTEXT_KEY) as Context | undefined) ?? ROOT_CONTEXT;
}

// HTTP semantic conventions: methods outside the standard set are reported as `_OTHER`, which also keeps the
// `method` label bounded on runtimes that accept arbitrary method tokens.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]);
const normalizeMethod = (method: string): string => (KNOWN_METHODS.has(method) ? method : "_OTHER");

/**
 * Header first: on Node, touching `.body` of a response built from a string turns @hono/node-server's cheap
 * internal response into a real stream — a cost every JSON answer would pay.
 */
export function isEventStream(res: Response): boolean {
  return (res.headers.get("content-type") ?? "").startsWith("text/event-stream") && res.body !== null;
}

export function observeHttp(options: ObserveHttpOptions): MiddlewareHandler<{ Variables: ObservabilityVariables }> {
  const { metrics } = options;
  const tracing = options.tracing?.enabled ? options.tracing : null;
  const routeOf = options.routeOf ?? routeTemplateOf;
  const metricsPath = options.metricsPath ?? "/metrics";

  return async function observeHttpMiddleware(c, next) {
    const path = c.req.path;
    if (path === "/health" || path === metricsPath) {
      c.set(OTEL_CONTEXT_KEY, ROOT_CONTEXT);
      return next();
    }
    const startedAt = performance.now();
    const method = normalizeMethod(c.req.method);
    const route = routeOf(c);

    let span: Span | null = null;
    if (tracing) {
      const matched = route !== UNMATCHED_ROUTE;
      const started = tracing.startSpan(
        matched ? `${method} ${route}` : method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            "http.request.method": method,
            "url.scheme": c.req.url.startsWith("https:") ? "https" : "http",
            ...(matched ? { "http.route": route } : {}),
          },
        },
        tracing.extract(c.req.raw.headers),
      );
      span = started.span;
      c.set(OTEL_CONTEXT_KEY, started.context);
    } else {
      c.set(OTEL_CONTEXT_KEY, ROOT_CONTEXT);
    }

    metrics?.httpInFlightInc();
    try {
      await next();
    } catch (error) {
      // Hono hands thrown Errors to app.onError, so only non-Error throws get here; Hono answers those with 500.
      metrics?.httpInFlightDec();
      metrics?.observeHttpRequest(method, route, 500, (performance.now() - startedAt) / 1000);
      if (span && tracing) endServerSpan(tracing, span, 500);
      throw error;
    }

    const res = c.res;
    const status = res.status;
    metrics?.httpInFlightDec();
    metrics?.observeHttpRequest(method, route, status, (performance.now() - startedAt) / 1000);

    if (!isEventStream(res)) {
      if (span && tracing) endServerSpan(tracing, span, status);
      return;
    }
    metrics?.sseOpened();
    const streamSpan = span;
    const onStreamEnd = c.get(STREAM_END_HOOK);
    const body = observeStreamEnd(res.body!, (end: StreamEnd) => {
      onStreamEnd?.();
      metrics?.sseClosed(route, (performance.now() - startedAt) / 1000);
      if (streamSpan && tracing) endServerSpan(tracing, streamSpan, status, end);
    });
    // Cleared first: replacing a set `c.res` makes Hono copy the new Response again and merge the old headers into
    // it, which this Response already carries.
    c.res = undefined;
    c.res = new Response(body, { status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * Ends the SERVER span with its final attributes. The end time is now; the SDK's work (attributes, status, handing
 * the span to the exporter) runs after the response went out (`Tracing.later`).
 */
function endServerSpan(tracing: Tracing, span: Span, status: number, end?: StreamEnd): void {
  tracing.endLater(span, (s, endedAt) => {
    s.setAttribute("http.response.status_code", status);
    // Server spans: only 5xx are errors; 4xx are the client's (HTTP semantic conventions, span status).
    if (status >= 500) markSpanFailed(s, String(status));
    if (end?.kind === "cancelled") s.addEvent("client disconnected", endedAt);
    // The error's name only: messages can quote upstream output, which spans must never carry.
    if (end?.kind === "error") markSpanFailed(s, end.error instanceof Error ? end.error.name : "stream_error");
  });
}
