/**
 * Finished spans as one flat array of primitives: the form in which they cross from the serving thread to the
 * export thread.
 *
 * Why this shape: `postMessage` clones every object it is given, and its cost is per object far more than per
 * value — a span as a plain object tree (contexts, times, status, attributes: about ten objects) cloned at ~3 µs,
 * the same span as values appended to one array per batch at ~0.9 µs (measured on this machine). A `ReadableSpan`
 * itself cannot be posted (its `spanContext()` is a method; its resource and `TraceState` are class instances).
 * Events and links are objects, but are rare here and only cloned when present. The resource and instrumentation
 * scope are the same for every span of a gateway and are sent once (see export-thread.ts).
 *
 * Layout of one span, in order:
 *   name, kind, trace_id, span_id, trace_flags, trace_state ("" when none),
 *   parent_span_id ("" when none), parent_is_remote,
 *   start_s, start_ns, end_s, end_ns, status_code, status_message ("" when none),
 *   attribute_count, then attribute_count × (key, value),
 *   events (0 when none, else TimedEvent[]), links (0 when none, else LinkRecord[]),
 *   dropped_attributes_count, dropped_events_count, dropped_links_count
 */
import type { AttributeValue, Attributes, Link, SpanContext, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { hrTimeDuration, TraceState, type InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";

/** A link with its context as plain data (`TraceState` as its header string). */
export interface LinkRecord {
  trace_id: string;
  span_id: string;
  trace_flags: number;
  is_remote: boolean;
  trace_state: string;
  attributes?: Attributes;
  dropped_attributes_count?: number;
}

export type SpanBatch = Array<string | number | boolean | AttributeValue | TimedEvent[] | LinkRecord[] | undefined>;

function linkRecord(link: Link): LinkRecord {
  const ctx = link.context;
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    trace_flags: ctx.traceFlags,
    is_remote: ctx.isRemote === true,
    trace_state: ctx.traceState?.serialize() ?? "",
    ...(link.attributes ? { attributes: link.attributes } : {}),
    ...(link.droppedAttributesCount !== undefined ? { dropped_attributes_count: link.droppedAttributesCount } : {}),
  };
}

/** Serving thread: appends `span` to `batch`. */
export function appendSpan(batch: SpanBatch, span: ReadableSpan): void {
  const ctx = span.spanContext();
  const parent = span.parentSpanContext;
  batch.push(
    span.name,
    span.kind,
    ctx.traceId,
    ctx.spanId,
    ctx.traceFlags,
    ctx.traceState?.serialize() ?? "",
    parent?.spanId ?? "",
    parent?.isRemote === true,
    span.startTime[0],
    span.startTime[1],
    span.endTime[0],
    span.endTime[1],
    span.status.code,
    span.status.message ?? "",
  );
  const attributes = span.attributes;
  const keys = Object.keys(attributes);
  batch.push(keys.length);
  for (const key of keys) batch.push(key, attributes[key]);
  batch.push(
    span.events.length > 0 ? span.events : 0,
    span.links.length > 0 ? span.links.map(linkRecord) : 0,
    span.droppedAttributesCount,
    span.droppedEventsCount,
    span.droppedLinksCount,
  );
}

/** Export thread: the batch's spans as `ReadableSpan`s the official exporters accept, on the given resource/scope. */
export function readSpans(batch: SpanBatch, resource: Resource, scope: InstrumentationScope): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  let i = 0;
  const next = <T>(): T => batch[i++] as T;
  while (i < batch.length) {
    const name = next<string>();
    const kind = next<SpanKind>();
    const traceId = next<string>();
    const spanId = next<string>();
    const traceFlags = next<number>();
    const traceState = next<string>();
    const parentSpanId = next<string>();
    const parentIsRemote = next<boolean>();
    const startTime: [number, number] = [next<number>(), next<number>()];
    const endTime: [number, number] = [next<number>(), next<number>()];
    const statusCode = next<SpanStatusCode>();
    const statusMessage = next<string>();
    const attributes: Attributes = {};
    for (let n = next<number>(); n > 0; n--) {
      const key = next<string>();
      attributes[key] = next<AttributeValue>();
    }
    const events = next<TimedEvent[] | 0>();
    const links = next<LinkRecord[] | 0>();
    const droppedAttributesCount = next<number>();
    const droppedEventsCount = next<number>();
    const droppedLinksCount = next<number>();
    const state = traceState ? new TraceState(traceState) : undefined;
    const context: SpanContext = { traceId, spanId, traceFlags, ...(state ? { traceState: state } : {}) };
    spans.push({
      name,
      kind,
      spanContext: () => context,
      ...(parentSpanId ? { parentSpanContext: { traceId, spanId: parentSpanId, traceFlags, isRemote: parentIsRemote } } : {}),
      startTime,
      endTime,
      duration: hrTimeDuration(startTime, endTime),
      status: statusMessage ? { code: statusCode, message: statusMessage } : { code: statusCode },
      attributes,
      events: events === 0 ? [] : events,
      links: links === 0 ? [] : links.map(fromLinkRecord),
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount,
      droppedEventsCount,
      droppedLinksCount,
    });
  }
  return spans;
}

function fromLinkRecord(link: LinkRecord): Link {
  return {
    context: {
      traceId: link.trace_id,
      spanId: link.span_id,
      traceFlags: link.trace_flags,
      isRemote: link.is_remote,
      ...(link.trace_state ? { traceState: new TraceState(link.trace_state) } : {}),
    },
    ...(link.attributes ? { attributes: link.attributes } : {}),
    ...(link.dropped_attributes_count !== undefined ? { droppedAttributesCount: link.dropped_attributes_count } : {}),
  };
}
