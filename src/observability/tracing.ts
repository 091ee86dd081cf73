/**
 * Runtime-agnostic OpenTelemetry tracing for one gateway instance.
 *
 * Nothing is registered globally (no global tracer provider, propagator or context manager): an embedder's own
 * OpenTelemetry setup stays untouched and two gateways in one process keep separate exporters and resources.
 * Contexts are therefore passed explicitly — the HTTP middleware extracts the incoming `traceparent`, starts the
 * SERVER span and hands its context to handlers (see http-middleware.ts), which pass it to `startSpan`/`inject`.
 *
 * Spans carry protocol metadata only (methods, routes, status codes, tool types); never prompt or completion
 * text, never ids that act as capabilities.
 */
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanKind,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import type { Logger } from "./logger.js";
import { LoggingSpanExporter } from "./logging-span-exporter.js";

export interface TracingOptions {
  enabled: boolean;
  /** Probability of sampling a trace that has no sampled parent (`VR_TRACING_SAMPLE_RATIO`), clamped to [0, 1]. */
  sampleRatio: number;
  serviceName: string;
  /**
   * Where finished spans go, batched on this thread. `null` with `enabled: true` (and no `spanProcessor`) still
   * creates and propagates trace context.
   */
  exporter: SpanExporter | null;
  /**
   * Instead of `exporter`: an adapter's own pipeline for finished spans. The Node adapter hands them to a worker
   * thread that batches, encodes and sends them, so OTLP encoding never runs on the event loop that serves requests
   * (adapters/node/trace-export). Flushed and shut down with the provider.
   */
  spanProcessor?: SpanProcessor;
  logger: Logger;
  /** Batch delay; short so traces show up promptly and little is lost when a worker is killed. Default 500 ms. */
  scheduledDelayMillis?: number;
  /** Extra resource attributes. `service.instance.id` defaults to a random UUID per gateway instance (per worker). */
  resourceAttributes?: Attributes;
  /**
   * How `later` runs its work: after the I/O callback that is running now (so after a response it wrote went out)
   * and before the next one. Node passes `setImmediate`; the default `setTimeout(…, 0)` is the web-standard stand-in.
   */
  schedule?: (work: () => void) => void;
}

export interface StartedSpan {
  span: Span;
  /** `parent` with `span` set as the active span: pass it to child spans and to `inject`. */
  context: Context;
}

export interface Tracing {
  readonly enabled: boolean;
  /** The context described by W3C `traceparent`/`tracestate` headers, or the root context. */
  extract(headers: Headers): Context;
  /** Writes `traceparent`/`tracestate` for the span active in `ctx` (no-op when there is none). */
  inject(ctx: Context, headers: Headers): void;
  /** `startTime`: a `performance.now()` value, for a span recorded after the fact (see `later`). */
  startSpan(name: string, options: { kind: SpanKind; attributes?: Attributes; startTime?: number }, parent: Context): StartedSpan;
  /**
   * Span bookkeeping that need not hold up a response: ending spans (with the end time taken when `later` is
   * called, `span.end(endedAt)`), setting their final attributes, creating spans recorded after the fact. It runs
   * once the response being produced has been written, not on the request's path; `forceFlush` and `shutdown` run
   * whatever is still queued first. Disabled tracing runs `work` at once.
   */
  later(work: () => void): void;
  /**
   * Ends `span` with the end time taken now; `finish` (final attributes, status, events at `endedAt`) and the SDK's
   * end-of-span work run `later`. Does nothing when tracing is disabled (its spans are no-ops).
   */
  endLater(span: Span, finish?: (span: Span, endedAt: number) => void): void;
  /** Exports everything ended so far; rejects (AggregateError) when an export failed — the spans are lost. */
  forceFlush(): Promise<void>;
  /** Flushes and stops; rejects like `forceFlush`. Call on graceful shutdown after the last request finished. */
  shutdown(): Promise<void>;
}

const headersGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};
const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Tracing that does nothing: every method is constant-time and allocation-free except `startSpan`'s result. */
export const disabledTracing: Tracing = {
  enabled: false,
  extract: () => ROOT_CONTEXT,
  inject: () => {},
  startSpan: (_name, _options, parent) => ({ span: NOOP_SPAN, context: parent }),
  later: (work) => work(),
  endLater: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

export function createTracing(options: TracingOptions): Tracing {
  if (!options.enabled) return disabledTracing;
  if (!Number.isFinite(options.sampleRatio)) {
    throw new RangeError(`tracing sample ratio must be a number in [0, 1], got ${String(options.sampleRatio)}`);
  }
  if (options.spanProcessor && options.exporter) throw new TypeError("tracing takes an exporter or a span processor, not both");
  const ratio = Math.min(1, Math.max(0, options.sampleRatio));
  const spanProcessors = options.spanProcessor
    ? [options.spanProcessor]
    : options.exporter
      ? [
          new BatchSpanProcessor(new LoggingSpanExporter(options.exporter, options.logger), {
            scheduledDelayMillis: options.scheduledDelayMillis ?? 500,
          }),
        ]
      : [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      // One id per gateway instance tells cluster workers (and replicas) apart in the trace backend.
      "service.instance.id": crypto.randomUUID(),
      ...options.resourceAttributes,
      "service.name": options.serviceName,
    }),
    // ParentBased: an upstream caller's sampling decision wins, so traces are never cut in half at the gateway.
    sampler: new ParentBasedSampler({ root: rootSampler(ratio) }),
    spanProcessors,
  });
  const tracer = provider.getTracer("vllm-responses");
  const propagator = new W3CTraceContextPropagator();
  const schedule = options.schedule ?? ((work: () => void) => void setTimeout(work, 0));
  let queued: Array<() => void> = [];
  const later = (work: () => void): void => {
    queued.push(work);
    if (queued.length === 1) schedule(runQueued);
  };
  const runQueued = (): void => {
    const work = queued;
    queued = [];
    for (const item of work) {
      try {
        item();
      } catch (error) {
        // One span's bookkeeping failing must not cost the others theirs; it is a bug, so it is logged loudly.
        options.logger.error("span bookkeeping failed", { error: error as Error });
      }
    }
  };

  return {
    enabled: true,
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headersGetter),
    inject: (ctx, headers) => propagator.inject(ctx, headers, headersSetter),
    startSpan(name, spanOptions, parent) {
      const span = tracer.startSpan(name, spanOptions, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    later,
    endLater(span, finish) {
      const endedAt = performance.now();
      later(() => {
        finish?.(span, endedAt);
        span.end(endedAt);
      });
    },
    forceFlush: () => {
      runQueued();
      return provider.forceFlush().catch(rethrowAsError);
    },
    shutdown: () => {
      runQueued();
      return provider.shutdown().catch(rethrowAsError);
    },
  };
}

/** Marks `span` as failed, with the kind of failure (a name or code — never a message, which can quote content). */
export function markSpanFailed(span: Span, errorType: string): void {
  span.setAttribute("error.type", errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * 1 and 0 are the common settings ("trace everything" while debugging, "off" for new traces but follow callers):
 * the constant samplers decide them without hashing the trace id on every request.
 */
function rootSampler(ratio: number): Sampler {
  if (ratio >= 1) return new AlwaysOnSampler();
  if (ratio <= 0) return new AlwaysOffSampler();
  return new TraceIdRatioBasedSampler(ratio);
}

/** The SDK rejects flushes with an array of per-processor errors; callers get one real Error instead. */
function rethrowAsError(reason: unknown): never {
  const errors = Array.isArray(reason) ? reason : [reason];
  const messages = errors.map((error) => (error instanceof Error ? error.message : String(error)));
  throw new AggregateError(errors, `trace export failed: ${messages.join("; ")}`);
}
