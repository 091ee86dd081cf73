import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { observeHttp } from "../../src/observability/http-middleware.js";
import { createGatewayMetrics, type GatewayMetrics } from "../../src/observability/metrics.js";
import { toOpenApiTemplate } from "../../src/observability/route-template.js";
import { parseExposition, type Exposition } from "../helpers/prometheus-text.js";

const P = "vllm_responses_";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scrape(metrics: GatewayMetrics): Promise<Exposition> {
  return parseExposition((await metrics.render()).body);
}

/** An SSE body that emits `frames` frames `intervalMs` apart and records whether it was cancelled. */
function sseSource(frames: number, intervalMs: number) {
  const state = { cancelled: false, sent: 0 };
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (state.sent === frames) {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
        return;
      }
      if (state.sent > 0) await sleep(intervalMs);
      if (state.cancelled) return;
      controller.enqueue(encoder.encode(`event: tick\ndata: {"n":${state.sent}}\n\n`));
      state.sent++;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

function buildApp(metrics: GatewayMetrics) {
  const app = new Hono();
  const errors: Error[] = [];
  // Hono's default handler prints the error; keep it for assertions instead.
  app.onError((error, c) => {
    errors.push(error);
    return c.json({ error: "internal" }, 500);
  });
  const sources: ReturnType<typeof sseSource>[] = [];
  let inFlightSeenByHandler: number | undefined;
  app.use(observeHttp({ metrics, tracing: null }));
  // Auth-like middleware that answers some requests itself before any route handler runs.
  app.use("/v1/*", async (c, next) => {
    if (c.req.header("x-deny")) return c.json({ error: "denied" }, 401);
    await next();
  });
  app.get("/health", (c) => c.json({}));
  app.get("/metrics", async (c) => c.text((await metrics.render()).body));
  app.post("/v1/responses", (c) => c.json({ object: "response" }));
  app.get("/v1/responses/:response_id", async (c) => {
    inFlightSeenByHandler = (await scrape(metrics)).value(`${P}http_in_flight_requests`);
    return c.json({ id: c.req.param("response_id") });
  });
  app.get("/v1/things/:id{[0-9]+}", (c) => c.text("thing"));
  app.get("/v1/boom", () => {
    throw new Error("handler failed");
  });
  app.get("/v1/stream", () => {
    const source = sseSource(4, 40);
    sources.push(source);
    return new Response(source.stream, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
  });
  app.get("/v1/stream-fails", () => {
    const encoder = new TextEncoder();
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent) throw new Error("upstream connection reset");
        sent = true;
        controller.enqueue(encoder.encode("data: 0\n\n"));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const mcp = new Hono();
  mcp.get("/servers/:server_label/tools", (c) => c.json({ data: [] }));
  app.route("/v1/mcp", mcp);
  return { app, sources, errors, inFlight: () => inFlightSeenByHandler };
}

describe("observeHttp metrics", () => {
  it("labels requests with the OpenAPI-style route template; unknown paths share one value", async () => {
    const metrics = createGatewayMetrics();
    const { app, errors } = buildApp(metrics);
    expect((await app.request("/v1/responses", { method: "POST" })).status).toBe(200);
    expect((await app.request("/v1/responses/resp_secret123")).status).toBe(200);
    expect((await app.request("/v1/responses/resp_other456")).status).toBe(200);
    expect((await app.request("/v1/things/42")).status).toBe(200);
    expect((await app.request("/v1/mcp/servers/docs/tools")).status).toBe(200);
    expect((await app.request("/v1/responses/resp_x", { headers: { "x-deny": "1" } })).status).toBe(401);
    expect((await app.request("/no/such/path")).status).toBe(404);
    expect((await app.request("/v1/responses/resp_abc/nope")).status).toBe(404);
    expect((await app.request("/v1/responses", { method: "PUT" })).status).toBe(404);
    expect((await app.request("/health")).status).toBe(200);
    expect((await app.request("/metrics")).status).toBe(200);
    expect((await app.request("/v1/boom")).status).toBe(500);
    expect(errors.map((e) => e.message)).toEqual(["handler failed"]);

    const text = await scrape(metrics);
    const count = (method: string, route: string, status: string) =>
      text.value(`${P}http_requests_total`, { method, route, status });
    expect(count("POST", "/v1/responses", "200")).toBe(1);
    expect(count("GET", "/v1/responses/{response_id}", "200")).toBe(2);
    expect(count("GET", "/v1/responses/{response_id}", "401")).toBe(1);
    expect(count("GET", "/v1/things/{id}", "200")).toBe(1);
    expect(count("GET", "/v1/mcp/servers/{server_label}/tools", "200")).toBe(1);
    expect(count("GET", "unmatched", "404")).toBe(2);
    expect(count("PUT", "unmatched", "404")).toBe(1);
    expect(count("GET", "/v1/boom", "500")).toBe(1);

    const routes = new Set(text.samples.filter((s) => s.name === `${P}http_requests_total`).map((s) => s.labels.route));
    // No raw paths, no ids; /health and /metrics are not counted.
    expect([...routes].sort()).toEqual(
      ["/v1/boom", "/v1/mcp/servers/{server_label}/tools", "/v1/responses", "/v1/responses/{response_id}", "/v1/things/{id}", "unmatched"].sort(),
    );
    expect(text.value(`${P}http_request_duration_seconds_count`, { method: "GET", route: "/v1/responses/{response_id}" })).toBe(3);
  });

  it("converts Hono path syntax to templates", () => {
    expect(toOpenApiTemplate("/v1/responses/:response_id/input_items")).toBe("/v1/responses/{response_id}/input_items");
    expect(toOpenApiTemplate("/a/:id{[0-9]{2,3}}/b/:opt?")).toBe("/a/{id}/b/{opt}");
  });

  it("counts a request in flight while its handler runs and not after", async () => {
    const metrics = createGatewayMetrics();
    const harness = buildApp(metrics);
    await harness.app.request("/v1/responses/resp_1");
    expect(harness.inFlight()).toBe(1);
    expect((await scrape(metrics)).value(`${P}http_in_flight_requests`)).toBe(0);
    expect((await harness.app.request("/v1/boom")).status).toBe(500);
    expect(harness.errors).toHaveLength(1);
    expect((await scrape(metrics)).value(`${P}http_in_flight_requests`)).toBe(0);
  });

  it("tracks an SSE stream from handler return to its end, separately from handler time", async () => {
    const metrics = createGatewayMetrics();
    const { app, sources } = buildApp(metrics);
    const started = performance.now();
    const res = await app.request("/v1/stream");
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");

    let text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(1);
    expect(text.value(`${P}http_in_flight_requests`)).toBe(0);
    // Handler time is already recorded, before the stream is consumed.
    expect(text.value(`${P}http_request_duration_seconds_count`, { method: "GET", route: "/v1/stream" })).toBe(1);
    expect(text.value(`${P}http_requests_total`, { method: "GET", route: "/v1/stream", status: "200" })).toBe(1);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream" })).toBeUndefined();

    const body = await res.text();
    const elapsed = (performance.now() - started) / 1000;
    expect(body.match(/event: tick/g)).toHaveLength(4);
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);

    text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream" })).toBe(1);
    const streamSeconds = text.value(`${P}sse_stream_duration_seconds_sum`, { route: "/v1/stream" })!;
    const handlerSeconds = text.value(`${P}http_request_duration_seconds_sum`, { method: "GET", route: "/v1/stream" })!;
    expect(streamSeconds).toBeGreaterThanOrEqual(0.11); // 3 gaps of 40 ms
    expect(streamSeconds).toBeLessThanOrEqual(elapsed + 0.001);
    expect(handlerSeconds).toBeLessThan(0.05);
    expect(sources[0]!.state.cancelled).toBe(false);
  });

  it("closes the SSE gauge exactly once when the client cancels mid-stream, and cancels the source", async () => {
    const metrics = createGatewayMetrics();
    const { app, sources } = buildApp(metrics);
    const res = await app.request("/v1/stream");
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('data: {"n":0}');
    expect((await scrape(metrics)).value(`${P}sse_connections_in_flight`)).toBe(1);

    await reader.cancel(new Error("client went away"));
    let text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream" })).toBe(1);
    // The cancellation reaches the producer: that is what aborts the upstream request.
    expect(sources[0]!.state.cancelled).toBe(true);

    await sleep(100); // the source's pending pull settles; nothing may be counted twice
    text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream" })).toBe(1);
  });

  it("closes the SSE gauge when the client cancels while a read is pending", async () => {
    const metrics = createGatewayMetrics();
    const { app, sources } = buildApp(metrics);
    const res = await app.request("/v1/stream");
    const reader = res.body!.getReader();
    await reader.read();
    const pending = reader.read(); // waits on the source's 40 ms delay
    await reader.cancel();
    expect(await pending).toEqual({ done: true, value: undefined });
    await sleep(80);
    const text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream" })).toBe(1);
    expect(sources[0]!.state.cancelled).toBe(true);
  });

  it("closes the SSE gauge and propagates the error when the stream fails", async () => {
    const metrics = createGatewayMetrics();
    const { app } = buildApp(metrics);
    const res = await app.request("/v1/stream-fails");
    await expect(res.text()).rejects.toThrow("upstream connection reset");
    const text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream-fails" })).toBe(1);
  });

  it("keeps the gauge balanced over many concurrent streams, some cancelled", async () => {
    const metrics = createGatewayMetrics();
    const { app } = buildApp(metrics);
    const responses = await Promise.all(Array.from({ length: 20 }, () => app.request("/v1/stream")));
    expect((await scrape(metrics)).value(`${P}sse_connections_in_flight`)).toBe(20);
    await Promise.all(
      responses.map(async (res, i) => {
        if (i % 2 === 0) return res.text();
        const reader = res.body!.getReader();
        await reader.read();
        return reader.cancel();
      }),
    );
    const text = await scrape(metrics);
    expect(text.value(`${P}sse_connections_in_flight`)).toBe(0);
    expect(text.value(`${P}sse_stream_duration_seconds_count`, { route: "/v1/stream" })).toBe(20);
  });
});
