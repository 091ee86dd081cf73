import { describe, expect, it } from "vitest";
import { createGatewayMetrics, TOOL_TYPES } from "../../src/observability/metrics.js";
import { parseExposition } from "../helpers/prometheus-text.js";

const P = "vllm_responses_";

describe("createGatewayMetrics", () => {
  it("exposes every contract metric with its type and exact labels", async () => {
    const metrics = createGatewayMetrics();
    metrics.observeHttpRequest("POST", "/v1/responses", 200, 0.012);
    metrics.httpInFlightInc();
    metrics.sseOpened();
    metrics.sseOpened();
    metrics.sseClosed("/v1/responses", 3.5);
    metrics.toolRequested("function");
    metrics.toolExecuted("code_interpreter", 0.2, true);
    metrics.toolExecuted("web_search", 1.5, false);
    metrics.mcpServerStartup("docs", "ok");
    metrics.mcpServerStartup("broken", "error");
    metrics.gatewayOverhead("/v1/responses", 0.0003);
    metrics.storeCacheError("get");

    const { contentType, body } = await metrics.render();
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = parseExposition(body);

    expect(Object.fromEntries(text.types)).toEqual({
      [`${P}http_requests_total`]: "counter",
      [`${P}http_request_duration_seconds`]: "histogram",
      [`${P}http_in_flight_requests`]: "gauge",
      [`${P}sse_connections_in_flight`]: "gauge",
      [`${P}sse_stream_duration_seconds`]: "histogram",
      [`${P}tool_calls_requested_total`]: "counter",
      [`${P}tool_calls_executed_total`]: "counter",
      [`${P}tool_execution_duration_seconds`]: "histogram",
      [`${P}tool_errors_total`]: "counter",
      [`${P}mcp_server_startup_total`]: "counter",
      [`${P}gateway_overhead_seconds`]: "histogram",
      [`${P}store_cache_errors_total`]: "counter",
    });
    // No process/default metrics sneak in.
    expect(text.samples.every((s) => s.name.startsWith(P))).toBe(true);

    expect(text.value(`${P}http_requests_total`, { method: "POST", route: "/v1/responses", status: "200" })).toBe(1);
    expect(text.value(`${P}http_request_duration_seconds_count`, { method: "POST", route: "/v1/responses" })).toBe(1);
    expect(text.value(`${P}http_request_duration_seconds_sum`, { method: "POST", route: "/v1/responses" })).toBeCloseTo(0.012);
    expect(text.value(`${P}http_request_duration_seconds_bucket`, { method: "POST", route: "/v1/responses", le: "0.0005" })).toBe(0);
    expect(text.value(`${P}http_request_duration_seconds_bucket`, { method: "POST", route: "/v1/responses", le: "0.025" })).toBe(1);
    expect(text.value(`${P}http_request_duration_seconds_bucket`, { method: "POST", route: "/v1/responses", le: "60" })).toBe(1);
    expect(text.value(`${P}http_in_flight_requests`)).toBe(1);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(1);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/responses" })).toBe(1);
    expect(text.value(`${P}sse_stream_duration_seconds_bucket`, { route: "/v1/responses", le: "0.05" })).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_bucket`, { route: "/v1/responses", le: "600" })).toBe(1);

    expect(text.value(`${P}tool_calls_requested_total`, { tool_type: "function" })).toBe(1);
    // Every tool type is present from the start, at 0.
    for (const toolType of TOOL_TYPES) {
      expect(text.value(`${P}tool_calls_requested_total`, { tool_type: toolType })).toBeDefined();
      expect(text.value(`${P}tool_calls_executed_total`, { tool_type: toolType })).toBeDefined();
      expect(text.value(`${P}tool_errors_total`, { tool_type: toolType })).toBeDefined();
    }
    expect(text.value(`${P}tool_calls_requested_total`, { tool_type: "mcp" })).toBe(0);
    expect(text.value(`${P}tool_calls_executed_total`, { tool_type: "code_interpreter" })).toBe(1);
    expect(text.value(`${P}tool_calls_executed_total`, { tool_type: "web_search" })).toBe(1);
    expect(text.value(`${P}tool_errors_total`, { tool_type: "web_search" })).toBe(1);
    expect(text.value(`${P}tool_errors_total`, { tool_type: "code_interpreter" })).toBe(0);
    expect(text.value(`${P}tool_execution_duration_seconds_count`, { tool_type: "web_search" })).toBe(1);
    expect(text.value(`${P}tool_execution_duration_seconds_bucket`, { tool_type: "web_search", le: "0.001" })).toBe(0);
    expect(text.value(`${P}tool_execution_duration_seconds_bucket`, { tool_type: "web_search", le: "120" })).toBe(1);

    expect(text.value(`${P}mcp_server_startup_total`, { server_label: "docs", status: "ok" })).toBe(1);
    expect(text.value(`${P}mcp_server_startup_total`, { server_label: "broken", status: "error" })).toBe(1);
    expect(text.value(`${P}gateway_overhead_seconds_count`, { route: "/v1/responses" })).toBe(1);
    expect(text.value(`${P}gateway_overhead_seconds_bucket`, { route: "/v1/responses", le: "0.00005" })).toBe(0);
    expect(text.value(`${P}gateway_overhead_seconds_bucket`, { route: "/v1/responses", le: "0.0005" })).toBe(1);
    expect(text.value(`${P}store_cache_errors_total`, { operation: "get" })).toBe(1);

    // Label names per metric family are exactly the contract's (le only on buckets).
    const labelNames = (prefix: string): string[] =>
      [...new Set(text.samples.filter((s) => s.name.startsWith(prefix)).flatMap((s) => Object.keys(s.labels)))]
        .filter((l) => l !== "le")
        .sort();
    expect(labelNames(`${P}http_requests_total`)).toEqual(["method", "route", "status"]);
    expect(labelNames(`${P}http_request_duration_seconds`)).toEqual(["method", "route"]);
    expect(labelNames(`${P}sse_stream_duration_seconds`)).toEqual(["route"]);
    expect(labelNames(`${P}tool_execution_duration_seconds`)).toEqual(["tool_type"]);
    expect(labelNames(`${P}mcp_server_startup_total`)).toEqual(["server_label", "status"]);
    expect(labelNames(`${P}store_cache_errors_total`)).toEqual(["operation"]);
  });

  it("gives each gateway its own registry", async () => {
    const a = createGatewayMetrics();
    const b = createGatewayMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.observeHttpRequest("GET", "/v1/models", 200, 0.001);
    a.observeHttpRequest("GET", "/v1/models", 200, 0.001);
    b.observeHttpRequest("GET", "/v1/models", 200, 0.001);
    const labels = { method: "GET", route: "/v1/models", status: "200" };
    expect(parseExposition((await a.render()).body).value(`${P}http_requests_total`, labels)).toBe(2);
    expect(parseExposition((await b.render()).body).value(`${P}http_requests_total`, labels)).toBe(1);
  });

  it("stays off prom-client's global registry", async () => {
    const { register } = await import("prom-client");
    createGatewayMetrics();
    expect(register.getMetricsAsArray().filter((m) => String((m as { name?: string }).name).startsWith(P))).toEqual([]);
  });
});
