/**
 * The gateway's Prometheus metrics. Names, types and labels are a public contract (docs/behaviour.md, "Metrics"):
 * dashboards and alerts of operators depend on them, so change them only together with that table.
 *
 * Every gateway owns an explicit prom-client `Registry` and never touches prom-client's global registry, so two
 * gateways embedded in one process (or a test creating many) never collide on a metric name. No default process
 * metrics are collected: they read `process`/`fs`, which the runtime-agnostic core must not assume.
 *
 * Portability note: prom-client's main entry `require`s Node built-ins at import time (`util`; `http`, `https`,
 * `zlib`, `url` via its Pushgateway; `fs`, `v8`, `perf_hooks` via default metrics). `cluster` is loaded lazily
 * and never by this file. Node, Bun and Deno (npm compat) provide all of them; Cloudflare Workers need the
 * `nodejs_compat` flag. Only `Registry`, `Counter`, `Gauge` and `Histogram` are used here, none of which calls
 * into those modules at runtime.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export const METRIC_PREFIX = "vllm_responses_";

/** Tool families as the `tool_type` label spells them (behaviour.md, Metrics). */
export type ToolType = "function" | "code_interpreter" | "mcp" | "web_search";
export const TOOL_TYPES: readonly ToolType[] = ["function", "code_interpreter", "mcp", "web_search"];

/** Handler time: from sub-millisecond (metadata routes) to the 60 s a slow non-streamed generation may take. */
export const HTTP_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60,
];
/** A streamed response lives from a few tens of ms (cache-hot short answer) to many minutes (agentic tool loops). */
export const SSE_DURATION_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600,
];
/** Tool runs: an in-memory MCP call can take ~1 ms, a cold Pyodide code run or web fetch up to minutes. */
export const TOOL_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120,
];
/** The gateway's own share of a request: the target is well under a millisecond (see peers.md, "Perf bar"). */
export const OVERHEAD_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

export interface GatewayMetrics {
  readonly registry: Registry;
  observeHttpRequest(method: string, route: string, status: number, durationSeconds: number): void;
  httpInFlightInc(): void;
  httpInFlightDec(): void;
  sseOpened(): void;
  sseClosed(route: string, durationSeconds: number): void;
  toolRequested(toolType: ToolType): void;
  /** Counts a gateway-executed tool run and its duration; `ok: false` also counts `tool_errors_total`. */
  toolExecuted(toolType: ToolType, durationSeconds: number, ok: boolean): void;
  mcpServerStartup(serverLabel: string, status: "ok" | "error"): void;
  gatewayOverhead(route: string, seconds: number): void;
  storeCacheError(operation: string): void;
  /** Prometheus text exposition of this gateway's registry. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  const name = (suffix: string): string => METRIC_PREFIX + suffix;

  const httpRequests = new Counter({
    name: name("http_requests_total"),
    help: "HTTP requests handled, by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: name("http_request_duration_seconds"),
    help: "Time until the handler returned its response (excludes the lifetime of SSE bodies).",
    labelNames: ["method", "route"] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers,
  });
  const httpInFlight = new Gauge({
    name: name("http_in_flight_requests"),
    help: "Requests whose handler has not returned yet (open SSE streams are counted separately).",
    registers,
  });
  const sseInFlight = new Gauge({
    name: name("sse_connections_in_flight"),
    help: "Open server-sent-event streams.",
    registers,
  });
  const sseDuration = new Histogram({
    name: name("sse_stream_duration_seconds"),
    help: "Lifetime of an SSE response, from request start to stream end or client disconnect.",
    labelNames: ["route"] as const,
    buckets: SSE_DURATION_BUCKETS,
    registers,
  });
  const toolRequested = new Counter({
    name: name("tool_calls_requested_total"),
    help: "Tool calls the model emitted, by tool type.",
    labelNames: ["tool_type"] as const,
    registers,
  });
  const toolExecuted = new Counter({
    name: name("tool_calls_executed_total"),
    help: "Tool calls executed by the gateway itself, by tool type.",
    labelNames: ["tool_type"] as const,
    registers,
  });
  const toolDuration = new Histogram({
    name: name("tool_execution_duration_seconds"),
    help: "Duration of gateway-executed tool calls.",
    labelNames: ["tool_type"] as const,
    buckets: TOOL_DURATION_BUCKETS,
    registers,
  });
  const toolErrors = new Counter({
    name: name("tool_errors_total"),
    help: "Gateway-executed tool calls that failed.",
    labelNames: ["tool_type"] as const,
    registers,
  });
  const mcpStartup = new Counter({
    name: name("mcp_server_startup_total"),
    help: "MCP server start attempts, by server label and outcome.",
    labelNames: ["server_label", "status"] as const,
    registers,
  });
  const overhead = new Histogram({
    name: name("gateway_overhead_seconds"),
    help: "Time spent in the gateway itself, excluding waiting for the upstream and for tools.",
    labelNames: ["route"] as const,
    buckets: OVERHEAD_BUCKETS,
    registers,
  });
  const cacheErrors = new Counter({
    name: name("store_cache_errors_total"),
    help: "Response-store cache (Redis) failures that degraded to the database.",
    labelNames: ["operation"] as const,
    registers,
  });

  // The tool_type label set is closed and small: expose every series from the start so `rate()` and alerts see
  // an explicit 0 instead of an absent series before the first tool call.
  for (const toolType of TOOL_TYPES) {
    toolRequested.inc({ tool_type: toolType }, 0);
    toolExecuted.inc({ tool_type: toolType }, 0);
    toolErrors.inc({ tool_type: toolType }, 0);
  }

  return {
    registry,
    observeHttpRequest(method, route, status, durationSeconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, durationSeconds);
    },
    httpInFlightInc: () => httpInFlight.inc(),
    httpInFlightDec: () => httpInFlight.dec(),
    sseOpened: () => sseInFlight.inc(),
    sseClosed(route, durationSeconds) {
      sseInFlight.dec();
      sseDuration.observe({ route }, durationSeconds);
    },
    toolRequested: (toolType) => toolRequested.inc({ tool_type: toolType }),
    toolExecuted(toolType, durationSeconds, ok) {
      toolExecuted.inc({ tool_type: toolType });
      toolDuration.observe({ tool_type: toolType }, durationSeconds);
      if (!ok) toolErrors.inc({ tool_type: toolType });
    },
    mcpServerStartup: (serverLabel, status) => mcpStartup.inc({ server_label: serverLabel, status }),
    gatewayOverhead: (route, seconds) => overhead.observe({ route }, seconds),
    storeCacheError: (operation) => cacheErrors.inc({ operation }),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
