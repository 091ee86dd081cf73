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
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanKind,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import type { Logger } from "./logger.js";

export interface TracingOptions {
  enabled: boolean;
  /** Probability of sampling a trace that has no sampled parent (`VR_TRACING_SAMPLE_RATIO`), clamped to [0, 1]. */
  sampleRatio: number;
  serviceName: string;
  /** Where finished spans go. `null` with `enabled: true` still creates and propagates trace context. */
  exporter: SpanExporter | null;
  logger: Logger;
  /** Batch delay; short so traces show up promptly and little is lost when a worker is killed. Default 500 ms. */
  scheduledDelayMillis?: number;
  /** Extra resource attributes. `service.instance.id` defaults to a random UUID per gateway instance (per worker). */
  resourceAttributes?: Attributes;
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
  startSpan(name: string, options: { kind: SpanKind; attributes?: Attributes }, parent: Context): StartedSpan;
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
  forceFlush: async () => {},
  shutdown: async () => {},
};

export function createTracing(options: TracingOptions): Tracing {
  if (!options.enabled) return disabledTracing;
  if (!Number.isFinite(options.sampleRatio)) {
    throw new RangeError(`tracing sample ratio must be a number in [0, 1], got ${String(options.sampleRatio)}`);
  }
  const ratio = Math.min(1, Math.max(0, options.sampleRatio));
  const spanProcessors = options.exporter
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
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors,
  });
  const tracer = provider.getTracer("vllm-responses");
  const propagator = new W3CTraceContextPropagator();

  return {
    enabled: true,
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headersGetter),
    inject: (ctx, headers) => propagator.inject(ctx, headers, headersSetter),
    startSpan(name, spanOptions, parent) {
      const span = tracer.startSpan(name, spanOptions, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    forceFlush: () => provider.forceFlush().catch(rethrowAsError),
    shutdown: () => provider.shutdown().catch(rethrowAsError),
  };
}

/** The SDK rejects flushes with an array of per-processor errors; callers get one real Error instead. */
function rethrowAsError(reason: unknown): never {
  const errors = Array.isArray(reason) ? reason : [reason];
  const messages = errors.map((error) => (error instanceof Error ? error.message : String(error)));
  throw new AggregateError(errors, `trace export failed: ${messages.join("; ")}`);
}

/**
 * Reports export failures through the gateway logger. The SDK would send them to the global `diag` logger,
 * which is silent unless an embedder installs one — i.e. a missing collector would go unnoticed. While the
 * collector stays down the warning repeats at most once a minute with the number of spans lost meanwhile.
 */
class LoggingSpanExporter implements SpanExporter {
  static readonly REPEAT_MS = 60_000;
  #lastLoggedAt = Number.NEGATIVE_INFINITY;
  #lostSinceLog = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#reportFailure(result.error, spans.length);
      resultCallback(result);
    });
  }

  #reportFailure(error: Error | undefined, spanCount: number): void {
    this.#lostSinceLog += spanCount;
    const now = Date.now();
    if (now - this.#lastLoggedAt < LoggingSpanExporter.REPEAT_MS) return;
    this.logger.warn("trace export failed; spans dropped", { error, droppedSpans: this.#lostSinceLog });
    this.#lastLoggedAt = now;
    this.#lostSinceLog = 0;
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
