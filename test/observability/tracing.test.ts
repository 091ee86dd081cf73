import { SpanKind, trace } from "@opentelemetry/api";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeTraceExporter } from "../../adapters/node/trace-exporter.js";
import { OTEL_CONTEXT_KEY, observeHttp, otelContextOf } from "../../src/observability/http-middleware.js";
import { createGatewayMetrics } from "../../src/observability/metrics.js";
import { OtlpHttpTraceExporter } from "../../src/observability/trace-exporter-http.js";
import { createTracing, disabledTracing, type Tracing } from "../../src/observability/tracing.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from "../helpers/otlp-grpc-receiver.js";
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from "../helpers/otlp-http-receiver.js";
import { SPAN_KIND, type ReceivedSpan, type SpanSink } from "../helpers/otlp-trace-schema.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";
const traceparent = (flags = "01") => `00-${TRACE_ID}-${PARENT_SPAN_ID}-${flags}`;
const PROMPT = "my secret prompt text";
const dump = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

/** A gateway-shaped app: the handler makes a CLIENT child span and injects it into an "upstream" request. */
function buildApp(tracing: Tracing) {
  const app = new Hono();
  const injected: Headers[] = [];
  app.use(observeHttp({ metrics: createGatewayMetrics(), tracing }));
  app.post("/v1/responses", async (c) => {
    const body = (await c.req.json()) as { input: string };
    const { span, context } = tracing.startSpan(
      "POST /v1/chat/completions",
      { kind: SpanKind.CLIENT, attributes: { "http.request.method": "POST" } },
      otelContextOf(c),
    );
    const upstreamHeaders = new Headers();
    tracing.inject(context, upstreamHeaders);
    injected.push(upstreamHeaders);
    span.end();
    return c.json({ object: "response", echo: body.input.length });
  });
  app.get("/v1/responses/:response_id", (c) => c.json({ id: c.req.param("response_id") }));
  app.get("/v1/fail", (c) => c.json({ error: "upstream down" }, 502));
  app.get("/v1/stream", () => {
    let n = 0;
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (n === 3) return controller.close();
        await sleep(30);
        controller.enqueue(encoder.encode(`data: ${n++}\n\n`));
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });
  return { app, injected };
}

function spanNamed(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((span) => span.name === name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
}

/** The assertions every transport must pass: names, kinds, parentage, resource, propagation, no prompt text. */
async function checkServerAndClientSpans(tracing: Tracing, sink: SpanSink, serviceName: string) {
  const { app, injected } = buildApp(tracing);
  const res = await app.request("/v1/responses", {
    method: "POST",
    headers: { traceparent: traceparent(), "content-type": "application/json" },
    body: JSON.stringify({ model: "m", input: PROMPT }),
  });
  expect(res.status).toBe(200);
  await tracing.forceFlush();
  const spans = await sink.waitFor((all) => all.length >= 2);

  const server = spanNamed(spans, "POST /v1/responses");
  const client = spanNamed(spans, "POST /v1/chat/completions");
  expect(server.kind).toBe(SPAN_KIND.SERVER);
  expect(client.kind).toBe(SPAN_KIND.CLIENT);
  expect(server.traceId).toBe(TRACE_ID);
  expect(server.parentSpanId).toBe(PARENT_SPAN_ID);
  expect(client.traceId).toBe(TRACE_ID);
  expect(client.parentSpanId).toBe(server.spanId);
  expect(server.attributes).toMatchObject({
    "http.request.method": "POST",
    "http.route": "/v1/responses",
    "http.response.status_code": 200,
    "url.scheme": "http",
  });
  expect(server.resource["service.name"]).toBe(serviceName);
  expect(server.resource["service.instance.id"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(server.statusCode).toBe(0);

  // The upstream request carries the same trace, with the CLIENT span as its parent.
  expect(injected[0]!.get("traceparent")).toBe(`00-${TRACE_ID}-${client.spanId}-01`);
  expect(dump(spans)).not.toContain(PROMPT);
}

describe("tracing over OTLP/gRPC (Node adapter exporter)", () => {
  let receiver: OtlpGrpcReceiver;
  let tracing: Tracing;
  const logger = captureLogger();

  beforeAll(async () => {
    receiver = await startOtlpGrpcReceiver();
    tracing = createTracing({
      enabled: true,
      sampleRatio: 1,
      serviceName: "vr-grpc-test",
      exporter: createNodeTraceExporter({ host: receiver.host, port: receiver.port, protocol: "grpc" }),
      logger,
    });
  });
  afterAll(async () => {
    await tracing.shutdown();
    await receiver.close();
    expect(logger.records.filter((r) => r.level === "warn" || r.level === "error")).toEqual([]);
  });

  it("exports a SERVER span parented on the incoming traceparent and a CLIENT child span", async () => {
    receiver.clear();
    await checkServerAndClientSpans(tracing, receiver, "vr-grpc-test");
    expect(receiver.exportCalls).toBeGreaterThan(0);
    expect(receiver.spans.every((span) => span.transport === "grpc")).toBe(true);
  });

  it("names spans by route template, never by raw path, and marks 5xx as errors", async () => {
    receiver.clear();
    const { app } = buildApp(tracing);
    await app.request("/v1/responses/resp_capability_secret");
    await app.request("/v1/fail");
    await app.request("/unknown/resp_abc");
    await tracing.forceFlush();
    const spans = await receiver.waitFor((all) => all.length >= 3);
    const get = spanNamed(spans, "GET /v1/responses/{response_id}");
    expect(get.attributes["http.route"]).toBe("/v1/responses/{response_id}");
    expect(get.parentSpanId).toBe(""); // no traceparent: a new root
    const fail = spanNamed(spans, "GET /v1/fail");
    expect(fail.statusCode).toBe(2);
    expect(fail.attributes["error.type"]).toBe("502");
    const unmatched = spanNamed(spans, "GET");
    expect(unmatched.attributes["http.response.status_code"]).toBe(404);
    expect(unmatched.attributes["http.route"]).toBeUndefined();
    expect(dump(spans)).not.toContain("resp_capability_secret");
    expect(dump(spans)).not.toContain("resp_abc");
  });

  it("ends the SERVER span of an SSE response when the stream ends, not when the handler returns", async () => {
    receiver.clear();
    const { app } = buildApp(tracing);
    const res = await app.request("/v1/stream", { headers: { traceparent: traceparent() } });
    await tracing.forceFlush();
    await sleep(50);
    expect(receiver.spans.filter((span) => span.name === "GET /v1/stream")).toEqual([]);
    const body = await res.text();
    const streamEnded = BigInt(Date.now()) * 1_000_000n;
    expect(body).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\n");
    await tracing.forceFlush();
    const span = await receiver.waitForSpan("GET /v1/stream");
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.endTimeUnixNano - span.startTimeUnixNano).toBeGreaterThanOrEqual(80_000_000n); // 3 × 30 ms
    expect(span.endTimeUnixNano).toBeLessThanOrEqual(streamEnded + 5_000_000n);
  });

  it("records a client disconnect on the SSE span", async () => {
    receiver.clear();
    const { app } = buildApp(tracing);
    const res = await app.request("/v1/stream");
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await tracing.forceFlush();
    const span = await receiver.waitForSpan("GET /v1/stream");
    expect(span.events.map((event) => event.name)).toEqual(["client disconnected"]);
  });
});

describe("tracing over OTLP/HTTP (portable fetch exporter)", () => {
  let receiver: OtlpHttpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpHttpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`exports spans as ${protocol}`, async () => {
      receiver.clear();
      const logger = captureLogger();
      const tracing = createTracing({
        enabled: true,
        sampleRatio: 1,
        serviceName: `vr-${protocol}`,
        exporter: new OtlpHttpTraceExporter({ url: receiver.tracesUrl, protocol }),
        logger,
      });
      await checkServerAndClientSpans(tracing, receiver, `vr-${protocol}`);
      expect(receiver.spans.every((span) => span.transport === protocol)).toBe(true);
      await tracing.shutdown();
      expect(logger.records).toEqual([]);
    });
  }

  // http/json: the official OTLP/HTTP exporter; http/protobuf: the fetch exporter (src/observability).
  for (const [protocol, contentType] of [
    ["http/json", "application/json"],
    ["http/protobuf", "application/x-protobuf"],
  ] as const) {
    it(`the Node adapter's exporter speaks OTLP/HTTP when the protocol is ${protocol}`, async () => {
      receiver.clear();
      const tracing = createTracing({
        enabled: true,
        sampleRatio: 1,
        serviceName: `vr-node-${protocol}`,
        exporter: createNodeTraceExporter({ host: receiver.host, port: receiver.port, protocol }),
        logger: captureLogger(),
      });
      await checkServerAndClientSpans(tracing, receiver, `vr-node-${protocol}`);
      expect(receiver.contentTypes.at(-1)).toBe(contentType);
      await tracing.shutdown();
    });
  }

  it("retries a retryable failure and logs an export that finally fails", async () => {
    receiver.clear();
    const logger = captureLogger();
    const tracing = createTracing({
      enabled: true,
      sampleRatio: 1,
      serviceName: "vr-failing",
      exporter: new OtlpHttpTraceExporter({ url: receiver.tracesUrl, protocol: "http/protobuf" }),
      logger,
    });
    const { app } = buildApp(tracing);

    receiver.failNext(1, 503); // retryable: the second attempt succeeds
    await app.request("/v1/responses/resp_1");
    await tracing.forceFlush();
    await receiver.waitForSpan("GET /v1/responses/{response_id}");
    expect(logger.records).toEqual([]);

    receiver.failNext(1, 400); // not retryable: spans are lost, and the operator hears about it
    await app.request("/v1/fail");
    await expect(tracing.forceFlush()).rejects.toThrow(/failed with HTTP 400/);
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0]).toMatchObject({ level: "warn", message: "trace export failed; spans dropped" });
    expect(logger.records[0]!.fields).toMatchObject({ droppedSpans: 1 });
    await tracing.shutdown();
  });

  it("keeps two gateways in one process apart (no global provider)", async () => {
    const other = await startOtlpHttpReceiver();
    receiver.clear();
    const a = createTracing({ enabled: true, sampleRatio: 1, serviceName: "gateway-a", logger: captureLogger(),
      exporter: new OtlpHttpTraceExporter({ url: receiver.tracesUrl, protocol: "http/json" }) });
    const b = createTracing({ enabled: true, sampleRatio: 1, serviceName: "gateway-b", logger: captureLogger(),
      exporter: new OtlpHttpTraceExporter({ url: other.tracesUrl, protocol: "http/json" }) });
    await buildApp(a).app.request("/v1/responses/resp_a");
    await buildApp(b).app.request("/v1/responses/resp_b");
    await Promise.all([a.forceFlush(), b.forceFlush()]);
    const [spansA, spansB] = await Promise.all([receiver.waitFor((s) => s.length >= 1), other.waitFor((s) => s.length >= 1)]);
    expect(spansA.map((s) => s.resource["service.name"])).toEqual(["gateway-a"]);
    expect(spansB.map((s) => s.resource["service.name"])).toEqual(["gateway-b"]);
    // Nothing was registered with the global API.
    expect(trace.getTracerProvider().getTracer("x").startSpan("probe").isRecording()).toBe(false);
    await Promise.all([a.shutdown(), b.shutdown()]);
    await other.close();
  });

  it("samples by ratio for new traces but follows a sampled parent (ParentBased)", async () => {
    receiver.clear();
    const tracing = createTracing({ enabled: true, sampleRatio: 0, serviceName: "vr-ratio0", logger: captureLogger(),
      exporter: new OtlpHttpTraceExporter({ url: receiver.tracesUrl, protocol: "http/json" }) });
    const { app, injected } = buildApp(tracing);
    const post = (headers: Record<string, string>) =>
      app.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: '{"input":"x"}' });
    await post({}); // new trace, ratio 0: not sampled
    await post({ traceparent: traceparent("00") }); // parent not sampled
    await post({ traceparent: traceparent("01") }); // parent sampled: must be recorded
    await tracing.forceFlush();
    const spans = await receiver.waitFor((s) => s.length >= 2);
    await sleep(100);
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(["POST /v1/chat/completions", "POST /v1/responses"]);
    expect(receiver.spans.every((s) => s.traceId === TRACE_ID)).toBe(true);
    // Unsampled requests still propagate their trace id (with the sampled flag off) to the upstream.
    expect(injected[1]!.get("traceparent")).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(injected[0]!.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(spans.length).toBe(2);
    await tracing.shutdown();
  });
});

describe("disabled tracing", () => {
  it("is a no-op that still gives handlers a context", async () => {
    const tracing = createTracing({ enabled: false, sampleRatio: 1, serviceName: "x", exporter: null, logger: captureLogger() });
    expect(tracing).toBe(disabledTracing);
    const app = new Hono();
    let seen: unknown = "unset";
    app.use(observeHttp({ metrics: null, tracing }));
    app.get("/v1/models", (c) => {
      seen = c.get(OTEL_CONTEXT_KEY as never);
      const headers = new Headers();
      tracing.inject(otelContextOf(c), headers);
      return c.json({ traceparent: headers.get("traceparent") });
    });
    const res = await app.request("/v1/models", { headers: { traceparent: traceparent() } });
    expect(await res.json()).toEqual({ traceparent: null });
    expect(trace.getSpan(seen as never)).toBeUndefined();
  });

  it("rejects a non-numeric sample ratio and clamps out-of-range ones", () => {
    const base = { enabled: true, serviceName: "x", exporter: null, logger: captureLogger() };
    expect(() => createTracing({ ...base, sampleRatio: Number.NaN })).toThrow(RangeError);
    expect(createTracing({ ...base, sampleRatio: 7 }).enabled).toBe(true);
  });
});
