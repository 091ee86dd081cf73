/**
 * Metrics and traces of the real gateway after real traffic (the middleware's own unit tests are in
 * test/observability).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeTraceExporter } from "../../adapters/node/trace-exporter.js";
import { silentLogger } from "../../src/observability/logger.js";
import { createTracing } from "../../src/observability/tracing.js";
import { startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from "../helpers/otlp-grpc-receiver.js";
import { SPAN_KIND } from "../helpers/otlp-trace-schema.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { readSse } from "../helpers/sse.js";

const CONTRACT: Record<string, string> = {
  vllm_responses_http_requests_total: "counter",
  vllm_responses_http_request_duration_seconds: "histogram",
  vllm_responses_http_in_flight_requests: "gauge",
  vllm_responses_sse_connections_in_flight: "gauge",
  vllm_responses_sse_stream_duration_seconds: "histogram",
  vllm_responses_tool_calls_requested_total: "counter",
  vllm_responses_tool_calls_executed_total: "counter",
  vllm_responses_tool_execution_duration_seconds: "histogram",
  vllm_responses_tool_errors_total: "counter",
  vllm_responses_mcp_server_startup_total: "counter",
  vllm_responses_gateway_overhead_seconds: "histogram",
  vllm_responses_store_cache_errors_total: "counter",
};

describe("metrics after real traffic", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(() => fx.close());
  const scrape = async () => {
    const res = await fx.gateway.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return parseExposition(await res.text());
  };

  it("exposes exactly the documented families with their labels", async () => {
    await fx.post({ model: "mock-model", input: "hi" });
    await readSse(await fx.post({ model: "mock-model", input: "hi", stream: true }));
    await fx.post({ model: "mock-model", input: "weather", tools: [{ type: "function", name: "get_weather" }] });
    const id = (await (await fx.post({ model: "mock-model", input: "x" })).json()).id;
    await fx.gateway.request(`/v1/responses/${id}`);
    await fx.gateway.request("/v1/responses/resp_unknown");
    await fx.gateway.request("/no/such/path");
    await fx.gateway.request("/health");
    const m = await scrape();
    expect(Object.fromEntries([...m.types].filter(([k]) => k.startsWith("vllm_responses_")))).toEqual(CONTRACT);
    expect(m.value("vllm_responses_http_requests_total", { method: "POST", route: "/v1/responses", status: "200" })).toBe(4);
    expect(m.value("vllm_responses_http_requests_total", { method: "GET", route: "/v1/responses/{response_id}", status: "200" })).toBe(1);
    expect(m.value("vllm_responses_http_requests_total", { method: "GET", route: "/v1/responses/{response_id}", status: "404" })).toBe(1);
    expect(m.value("vllm_responses_http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    // no raw paths or ids in any label, /health not counted
    for (const s of m.samples) for (const v of Object.values(s.labels)) expect(v).not.toMatch(/resp_|\/health|\/no\/such/);
    expect(m.value("vllm_responses_tool_calls_requested_total", { tool_type: "function" })).toBe(1);
    expect(m.value("vllm_responses_sse_stream_duration_seconds_count", { route: "/v1/responses" })).toBe(1);
    expect(m.value("vllm_responses_gateway_overhead_seconds_count", { route: "/v1/responses" })).toBe(4);
    expect(m.value("vllm_responses_http_in_flight_requests")).toBe(0);
    expect(m.value("vllm_responses_sse_connections_in_flight")).toBe(0);
  });

  it("the SSE gauge is 1 during a stream and back to 0 after a client disconnect", async () => {
    const res = await fx.post({ model: "mock:chunks=100,gap=20", input: "slow", stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    expect((await scrape()).value("vllm_responses_sse_connections_in_flight")).toBe(1);
    expect((await scrape()).value("vllm_responses_http_in_flight_requests")).toBe(0);
    await reader.cancel();
    const deadline = Date.now() + 2000;
    while ((await scrape()).value("vllm_responses_sse_connections_in_flight") !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect((await scrape()).value("vllm_responses_sse_connections_in_flight")).toBe(0);
  });
});

describe("metrics configuration", () => {
  it("VR_METRICS_PATH moves the endpoint; VR_METRICS_ENABLED=false turns it off (404)", async () => {
    const moved = await startFixture({ gateway: { env: { VR_METRICS_PATH: "/internal/prom" } } });
    expect((await moved.gateway.request("/internal/prom")).status).toBe(200);
    expect((await moved.gateway.request("/metrics")).status).toBe(404);
    await moved.close();
    const off = await startFixture({ gateway: { env: { VR_METRICS_ENABLED: "false" } } });
    expect((await off.gateway.request("/metrics")).status).toBe(404);
    await off.close();
  });

  it("a malformed boolean is a startup error naming the variable", async () => {
    await expect(startFixture({ gateway: { env: { VR_METRICS_ENABLED: "maybe" } } })).rejects.toThrow(/VR_METRICS_ENABLED/);
  });
});

describe("tracing end to end over OTLP gRPC", () => {
  let receiver: OtlpGrpcReceiver;
  let fx: Fixture;
  beforeAll(async () => {
    receiver = await startOtlpGrpcReceiver();
    const tracing = createTracing({
      enabled: true,
      sampleRatio: 1,
      serviceName: "vr-e2e",
      exporter: createNodeTraceExporter({ host: receiver.host, port: receiver.port, protocol: "grpc" }),
      logger: silentLogger,
      scheduledDelayMillis: 50,
    });
    fx = await startFixture({ gateway: { tracing } });
  });
  afterAll(async () => {
    await fx.close();
    await receiver.close();
  });

  it("server span → upstream client span, trace id from the incoming traceparent, and vLLM receives the client span's traceparent", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fx.post({ model: "mock-model", input: "secret prompt text", stream: true }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await res.text();
    const spans = await receiver.waitFor((s) => s.some((x) => x.name === "POST /v1/responses") && s.some((x) => x.name === "POST /v1/chat/completions"));
    const server = spans.find((s) => s.name === "POST /v1/responses")!;
    const client = spans.find((s) => s.name === "POST /v1/chat/completions")!;
    expect(server.kind).toBe(SPAN_KIND.SERVER);
    expect(client.kind).toBe(SPAN_KIND.CLIENT);
    expect(server.traceId).toBe(traceId);
    expect(server.parentSpanId).toBe("00f067aa0ba902b7");
    expect(client.traceId).toBe(traceId);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(server.resource["service.name"]).toBe("vr-e2e");
    const upstreamTraceparent = fx.mock.stats.headers.at(-1)!.traceparent;
    expect(upstreamTraceparent).toBe(`00-${traceId}-${client.spanId}-01`);
    expect(JSON.stringify(spans, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("secret prompt text");
  });

  it("store operations and passthrough calls are child spans of the request", async () => {
    receiver.clear();
    const first = await (await fx.post({ model: "mock-model", input: "one" })).json();
    await (await fx.post({ model: "mock-model", previous_response_id: first.id, input: "two" })).text();
    await (await fx.gateway.request("/v1/models")).text();
    const spans = await receiver.waitFor((s) => s.filter((x) => x.name === "store put").length >= 2 && s.some((x) => x.name === "store get") && s.some((x) => x.name === "GET /v1/models" && x.kind === SPAN_KIND.CLIENT));
    const servers = new Map(spans.filter((s) => s.kind === SPAN_KIND.SERVER).map((s) => [s.spanId, s]));
    for (const name of ["store put", "store get", "GET /v1/models"]) {
      const span = spans.find((s) => s.name === name && s.kind === SPAN_KIND.CLIENT)!;
      expect(servers.has(span.parentSpanId)).toBe(true);
    }
    expect(spans.find((s) => s.name === "store get")!.attributes["db.system.name"]).toBe("memory");
  });
});

describe("VR_LOG_TIMINGS", () => {
  it("logs one timing line per response, with no content", async () => {
    const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    const logger = { debug() {}, warn() {}, error() {}, info: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields }) };
    const fx = await startFixture({ gateway: { env: { VR_LOG_TIMINGS: "true" }, logger } });
    const body = await (await fx.post({ model: "mock-model", input: "private words" })).json();
    await fx.close();
    const timing = lines.filter((l) => l.msg === "response timings");
    expect(timing).toHaveLength(1);
    expect(timing[0].fields).toMatchObject({ response_id: body.id, stream: false });
    expect(timing[0].fields!.gateway_ms as number).toBeGreaterThan(0);
    expect(timing[0].fields!.total_ms as number).toBeGreaterThanOrEqual(timing[0].fields!.gateway_ms as number);
    expect(JSON.stringify(lines)).not.toContain("private words");
  });
});
