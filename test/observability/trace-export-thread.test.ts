/**
 * The Node adapter's span pipeline (adapters/node/trace-export): spans finished on this thread are posted to a
 * real worker thread, which exports them with the official OTLP exporters to real in-process receivers.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { startTraceExportThread, type TraceExportThreadOptions } from "../../adapters/node/trace-export/export-thread.js";
import { createTracing, type Tracing } from "../../src/observability/tracing.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { freePort } from "../setup/services.js";
import { startOtlpGrpcReceiver } from "../helpers/otlp-grpc-receiver.js";
import { startOtlpHttpReceiver } from "../helpers/otlp-http-receiver.js";
import {
  decodeProtobufExport,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  SPAN_KIND,
  SpanSink,
  TRACE_SERVICE_EXPORT_PATH,
} from "../helpers/otlp-trace-schema.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";
const TRACESTATE = "vendor=abc,other=1";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const settled = (promise: Promise<unknown>) => promise.then(() => "resolved", (error: unknown) => error);

type Logger = ReturnType<typeof captureLogger>;
async function threadTracing(exporter: TraceExportThreadOptions["exporter"], logger: Logger = captureLogger()) {
  const spanProcessor = await startTraceExportThread({ exporter, logger });
  const tracing = createTracing({ enabled: true, sampleRatio: 1, serviceName: "vr-thread", exporter: null, spanProcessor, logger });
  return { tracing, spanProcessor, logger };
}
const endSpan = (tracing: Tracing, name: string) => tracing.startSpan(name, { kind: SpanKind.INTERNAL }, ROOT_CONTEXT).span.end();


/**
 * An OTLP/gRPC receiver like test/helpers' that also keeps each span's `trace_state` and status message, which
 * the shared normalised span shape leaves out.
 */
async function startGrpcReceiverWithTraceState() {
  interface RawSpan { spanId: string; traceState?: string; status?: { message?: string } }
  interface RawRequest { resourceSpans?: { scopeSpans?: { spans?: RawSpan[] }[] }[] }
  const sink = new SpanSink();
  const extras = new Map<string, { traceState: string; statusMessage: string }>();
  const raw = (bytes: Buffer) => bytes;
  const server = new Server();
  server.addService(
    {
      Export: {
        path: TRACE_SERVICE_EXPORT_PATH, requestStream: false, responseStream: false,
        requestDeserialize: raw, requestSerialize: raw, responseDeserialize: raw,
        responseSerialize: () => Buffer.from(ExportTraceServiceResponse.encode({}).finish()),
      },
    },
    {
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        const request = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(call.request), { bytes: String }) as RawRequest;
        for (const span of (request.resourceSpans ?? []).flatMap((r) => r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])) {
          const id = Buffer.from(span.spanId, "base64").toString("hex");
          extras.set(id, { traceState: span.traceState ?? "", statusMessage: span.status?.message ?? "" });
        }
        sink.add(decodeProtobufExport(call.request, "grpc"));
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { sink, extras, port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

describe("trace export thread", () => {
  it("exports over gRPC (the default) with context, tracestate, kinds, status, events, attributes, resource and scope", async () => {
    const receiver = await startGrpcReceiverWithTraceState();
    const { tracing, logger } = await threadTracing({ host: "127.0.0.1", port: receiver.port });
    const startedAt = BigInt(Date.now()) * 1_000_000n;
    const incoming = tracing.extract(new Headers({ traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`, tracestate: TRACESTATE }));
    const server = tracing.startSpan("POST /v1/responses", { kind: SpanKind.SERVER, attributes: { "http.request.method": "POST" } }, incoming);
    const client = tracing.startSpan("POST /v1/chat/completions", { kind: SpanKind.CLIENT, attributes: { "server.port": 8000 } }, server.context);
    client.span.end();
    const tool = tracing.startSpan("execute_tool", { kind: SpanKind.INTERNAL, attributes: { "tool.names": ["a", "b"], "tool.ok": false } }, server.context);
    tool.span.addEvent("x", { "event.n": 3 });
    tool.span.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
    tracing.later(() => tool.span.end());
    tracing.later(() => {
      server.span.setAttribute("http.response.status_code", 200);
      server.span.end();
    });
    await tracing.forceFlush();
    const finishedAt = BigInt(Date.now()) * 1_000_000n;

    const spans = receiver.sink.spans;
    expect(spans.map((s) => s.name).sort()).toEqual(["POST /v1/chat/completions", "POST /v1/responses", "execute_tool"]);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const [srv, cli, int] = [byName["POST /v1/responses"]!, byName["POST /v1/chat/completions"]!, byName["execute_tool"]!];
    expect([srv.kind, cli.kind, int.kind]).toEqual([SPAN_KIND.SERVER, SPAN_KIND.CLIENT, SPAN_KIND.INTERNAL]);
    expect(spans.every((s) => s.traceId === TRACE_ID)).toBe(true);
    expect(srv.parentSpanId).toBe(PARENT_SPAN_ID);
    expect(cli.parentSpanId).toBe(srv.spanId);
    expect(int.parentSpanId).toBe(srv.spanId);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(3);
    expect(srv.spanId).toBe(server.span.spanContext().spanId);
    for (const span of spans) expect(receiver.extras.get(span.spanId)?.traceState).toBe(TRACESTATE);
    expect([srv.statusCode, cli.statusCode, int.statusCode]).toEqual([0, 0, 2]);
    expect(receiver.extras.get(int.spanId)?.statusMessage).toBe("boom");
    expect(int.events).toEqual([{ name: "x", attributes: { "event.n": 3 } }]);
    expect(srv.attributes).toEqual({ "http.request.method": "POST", "http.response.status_code": 200 });
    expect(cli.attributes).toEqual({ "server.port": 8000 });
    expect(int.attributes).toEqual({ "tool.names": ["a", "b"], "tool.ok": false });
    for (const span of spans) {
      expect(span.resource["service.name"]).toBe("vr-thread");
      expect(span.resource["service.instance.id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(span.scope).toBe("vllm-responses");
      expect(span.endTimeUnixNano).toBeGreaterThanOrEqual(span.startTimeUnixNano);
      expect(span.startTimeUnixNano).toBeGreaterThanOrEqual(startedAt - 1_000_000_000n);
      expect(span.endTimeUnixNano).toBeLessThanOrEqual(finishedAt + 1_000_000_000n);
    }
    await tracing.shutdown();
    await receiver.close();
    expect(logger.records).toEqual([]);
  });

  for (const [protocol, contentType] of [["http/protobuf", "application/x-protobuf"], ["http/json", "application/json"]] as const) {
    it(`exports over ${protocol}`, async () => {
      const receiver = await startOtlpHttpReceiver();
      const { tracing, logger } = await threadTracing({ host: receiver.host, port: receiver.port, protocol });
      endSpan(tracing, `span over ${protocol}`);
      await tracing.forceFlush();
      expect(receiver.spans.map((s) => [s.name, s.transport, s.resource["service.name"], s.scope])).toEqual([
        [`span over ${protocol}`, protocol, "vr-thread", "vllm-responses"],
      ]);
      expect(receiver.contentTypes).toEqual([contentType]);
      await tracing.shutdown();
      await receiver.close();
      expect(logger.records).toEqual([]);
    });
  }

  it("delivers many spans (many post batches, several exports) exactly once", async () => {
    const receiver = await startOtlpGrpcReceiver();
    const { tracing, logger } = await threadTracing({ host: receiver.host, port: receiver.port });
    for (let i = 0; i < 1000; i++) endSpan(tracing, `span-${i}`);
    await tracing.forceFlush();
    expect(receiver.spans).toHaveLength(1000);
    expect(new Set(receiver.spans.map((s) => s.name)).size).toBe(1000);
    expect(new Set(receiver.spans.map((s) => s.spanId)).size).toBe(1000);
    expect(receiver.exportCalls).toBeGreaterThan(1); // the worker's batches hold at most 512 spans
    await tracing.shutdown();
    await receiver.close();
    expect(logger.records).toEqual([]);
  });

  it("a burst beyond the worker's queue is reported through the gateway logger, not dropped silently", async () => {
    const receiver = await startOtlpGrpcReceiver();
    const { tracing, logger } = await threadTracing({ host: receiver.host, port: receiver.port });
    // 20,000 spans at once: more than the worker's queue (8192) holds before its first export returns.
    for (let i = 0; i < 20_000; i++) endSpan(tracing, "burst");
    await tracing.forceFlush();
    // The SDK reports the count when the next span finds room again.
    endSpan(tracing, "after-burst");
    await tracing.forceFlush();
    const exported = receiver.spans.filter((s) => s.name === "burst").length;
    expect(exported).toBeLessThan(20_000);
    const warning = logger.records.find((r) => r.level === "warn" && /Dropped \d+ spans because maxQueueSize reached/.test(r.message));
    expect(warning?.message).toBe(`Dropped ${20_000 - exported} spans because maxQueueSize reached`);
    expect(receiver.spans.some((s) => s.name === "after-burst")).toBe(true);
    await tracing.shutdown();
    await receiver.close();
  });

  it("a collector that is down: forceFlush rejects and the worker's warning reaches the logger", async () => {
    const { tracing, logger } = await threadTracing({ host: "127.0.0.1", port: await freePort(), timeoutMillis: 300 });
    endSpan(tracing, "lost-1");
    endSpan(tracing, "lost-2");
    const error = (await settled(tracing.forceFlush())) as AggregateError;
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.message).toMatch(/^trace export failed: 14 UNAVAILABLE/);
    expect(error.errors.map((e: Error) => e.name)).toEqual(["TraceExportError"]);
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0]).toMatchObject({ level: "warn", message: "trace export failed; spans dropped", fields: { droppedSpans: 2 } });
    // The exporter's error crossed the thread boundary as an Error.
    expect(logger.records[0]!.fields!.error).toBeInstanceOf(Error);
    expect((logger.records[0]!.fields!.error as Error).message).toMatch(/UNAVAILABLE/);
    // Nothing is left to export: shutdown succeeds.
    await tracing.shutdown();
    expect(logger.records).toHaveLength(1);
  });

  it("shutdown exports pending spans, stops the thread and can be repeated", async () => {
    const receiver = await startOtlpGrpcReceiver();
    const { tracing, logger } = await threadTracing({ host: receiver.host, port: receiver.port });
    for (const name of ["pending-1", "pending-2", "pending-3"]) endSpan(tracing, name);
    const started = Date.now();
    await tracing.shutdown();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(["pending-1", "pending-2", "pending-3"]);
    expect(() => endSpan(tracing, "after-shutdown")).not.toThrow();
    await expect(tracing.shutdown()).resolves.toBeUndefined();
    await sleep(100);
    expect(receiver.spans).toHaveLength(3);
    await receiver.close();
    expect(logger.records).toEqual([]);
  });

  it("an idle thread does not keep the process alive; a flush in progress does", async () => {
    // Only ref'ed handles count as active resources: the worker (and its message port) must be unref'ed when idle.
    const active = () => process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "Worker").length;
    const baseline = active();
    const receiver = await startOtlpGrpcReceiver();
    const { tracing } = await threadTracing({ host: receiver.host, port: receiver.port });
    try {
      await sleep(200); // the thread has started and is idle
      expect(active()).toBe(baseline);
      endSpan(tracing, "span");
      const flushed = tracing.forceFlush();
      expect(active()).toBeGreaterThan(baseline);
      await flushed;
      expect(active()).toBe(baseline);
    } finally {
      await tracing.shutdown();
      await receiver.close();
    }
    expect(active()).toBe(baseline);
  });

  it("a worker that dies is logged once; flushes reject and later spans are dropped (and counted at shutdown)", async () => {
    const logger = captureLogger();
    const spanProcessor: SpanProcessor = await startTraceExportThread({ exporter: { host: "127.0.0.1", port: 1, protocol: "bogus" as never }, logger });
    const tracing = createTracing({ enabled: true, sampleRatio: 1, serviceName: "vr-dead", exporter: null, spanProcessor, logger });
    endSpan(tracing, "before-death");
    const error = (await settled(tracing.forceFlush())) as AggregateError;
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.message).toBe("trace export failed: unsupported OTLP protocol bogus (expected grpc, http/protobuf or http/json)");
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0]).toMatchObject({ level: "error", message: "the trace export thread failed; spans are dropped from now on" });
    expect((logger.records[0]!.fields!.error as Error).message).toMatch(/unsupported OTLP protocol bogus/);

    expect(() => {
      endSpan(tracing, "after-death-1");
      endSpan(tracing, "after-death-2");
    }).not.toThrow();
    await expect(spanProcessor.forceFlush()).rejects.toThrow(/unsupported OTLP protocol bogus/);
    // shutdown rejects with the same failure (after terminating the thread) and reports the spans it dropped.
    await expect(tracing.shutdown()).rejects.toThrow(/^trace export failed: unsupported OTLP protocol bogus/);
    expect(logger.records.filter((r) => r.level === "error")).toHaveLength(1);
    expect(logger.records.slice(1)).toEqual([
      { level: "warn", message: "spans dropped after the trace export thread failed", fields: { droppedSpans: 2 } },
    ]);
  }, 10_000);
});
