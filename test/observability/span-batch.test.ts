// The flat span batches that carry spans to the Node export thread must lose nothing the OTLP exporters send:
// spans read back from a batch serialize to exactly the same OTLP bytes (protobuf and JSON) as the originals.
import { SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { appendSpan, readSpans, type SpanBatch } from "../../adapters/node/trace-export/span-batch.js";
import { silentLogger } from "../../src/observability/logger.js";
import { createTracing } from "../../src/observability/tracing.js";

function recordSpans(): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const collect: SpanProcessor = { onStart() {}, onEnd: (span) => void ended.push(span), forceFlush: async () => {}, shutdown: async () => {} };
  const tracing = createTracing({ enabled: true, sampleRatio: 1, serviceName: "batch-test", exporter: null, spanProcessor: collect, logger: silentLogger });
  const incoming = tracing.extract(new Headers({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "vendor=abc,other=1" }));
  const server = tracing.startSpan("POST /v1/responses", { kind: SpanKind.SERVER, attributes: { "http.request.method": "POST", "http.route": "/v1/responses" } }, incoming);
  const client = tracing.startSpan("POST /v1/chat/completions", { kind: SpanKind.CLIENT, attributes: { "url.full": "http://vllm:8000/v1/chat/completions", "server.port": 8000, retried: false, tags: ["a", "b"] } }, server.context);
  client.span.addEvent("first byte", { bytes: 12 });
  client.span.addLink({ context: { traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState("k=v") }, attributes: { why: "retry" } });
  client.span.setStatus({ code: SpanStatusCode.ERROR, message: "upstream_timeout" });
  client.span.end();
  const tool = tracing.startSpan("tool code_interpreter", { kind: SpanKind.INTERNAL, startTime: performance.now() - 5 }, server.context);
  tool.span.end();
  server.span.setAttribute("http.response.status_code", 200);
  server.span.end();
  // A root span (no parent) from a fresh trace.
  const root = tracing.startSpan("GET /v1/models", { kind: SpanKind.SERVER }, tracing.extract(new Headers()));
  root.span.end();
  expect(trace.getSpan(server.context)).toBe(server.span);
  return ended;
}

describe("span batches for the export thread", () => {
  it("read back to spans that serialize to the same OTLP protobuf and JSON as the originals", () => {
    const spans = recordSpans();
    expect(spans).toHaveLength(4);
    const batch: SpanBatch = [];
    for (const span of spans) appendSpan(batch, span);
    // What postMessage does to the batch.
    const received = structuredClone(batch);
    const read = readSpans(received, spans[0]!.resource, spans[0]!.instrumentationScope);
    expect(read).toHaveLength(4);
    expect(Buffer.from(ProtobufTraceSerializer.serializeRequest(read)!)).toEqual(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
    expect(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(read))).toBe(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    // Spot checks of what the serializers read, so a mistake in both directions cannot cancel out.
    const client = read.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(client.spanContext().traceState?.serialize()).toBe("vendor=abc,other=1");
    expect(client.parentSpanContext?.spanId).toBe(spans.find((s) => s.kind === SpanKind.SERVER && s.parentSpanContext)!.spanContext().spanId);
    expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: "upstream_timeout" });
    expect(client.events.map((e) => e.name)).toEqual(["first byte"]);
    expect(client.links[0]!.context.traceState?.serialize()).toBe("k=v");
    expect(client.attributes).toEqual({ "url.full": "http://vllm:8000/v1/chat/completions", "server.port": 8000, retried: false, tags: ["a", "b"] });
    expect(read.find((s) => s.name === "GET /v1/models")!.parentSpanContext).toBeUndefined();
    expect(read.find((s) => s.kind === SpanKind.SERVER && s.parentSpanContext)!.parentSpanContext!.isRemote).toBe(true);
  });
});
