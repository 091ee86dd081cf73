import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { Agent, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { drainServer } from "../../adapters/node/graceful-server.js";
import { observeHttp } from "../../src/observability/http-middleware.js";
import { createGatewayMetrics, type GatewayMetrics } from "../../src/observability/metrics.js";
import { parseExposition } from "../helpers/prometheus-text.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const P = "vllm_responses_";

interface Harness {
  server: Server;
  port: number;
  metrics: GatewayMetrics;
  streamCancelled: () => boolean;
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

/** A real Node server (the adapter's stack: @hono/node-server + the observing middleware). */
async function startServer(): Promise<Harness> {
  const metrics = createGatewayMetrics();
  let cancelled = false;
  const app = new Hono();
  app.use(observeHttp({ metrics, tracing: null }));
  app.get("/fast", (c) => c.text("fast"));
  app.get("/slow", async (c) => {
    await sleep(Number(c.req.query("ms") ?? 300));
    return c.text("slow done");
  });
  app.get("/stream", () => {
    const encoder = new TextEncoder();
    let n = 0;
    // Endless: only a disconnect or a forced drain ends it.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (n > 0) await sleep(50);
        controller.enqueue(encoder.encode(`data: ${n++}\n\n`));
      },
      cancel() {
        cancelled = true;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, metrics, streamCancelled: () => cancelled };
}

function get(port: number, path: string, agent?: Agent): Promise<{ res: IncomingMessage; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      const body = new Promise<string>((ok, fail) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => ok(text));
        res.on("error", fail);
        res.on("aborted", () => fail(new Error("aborted")));
      });
      resolve({ res, body });
    });
    req.on("error", reject);
    req.end();
  });
}

async function gauge(metrics: GatewayMetrics, name: string): Promise<number | undefined> {
  return parseExposition((await metrics.render()).body).value(`${P}${name}`);
}

describe("drainServer", () => {
  it("lets an in-flight request finish, closes idle keep-alive sockets, and refuses new connections", async () => {
    const { server, port } = await startServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const idle = await get(port, "/fast", agent);
    expect(await idle.body).toBe("fast"); // its socket now sits idle in the agent's pool
    const slowRequest = get(port, "/slow?ms=300", agent);
    await sleep(50);

    const started = Date.now();
    const result = await drainServer(server, { graceMs: 5000 });
    expect(result.forced).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(2000); // the idle keep-alive socket did not hold it up
    const slow = await slowRequest;
    expect(slow.res.statusCode).toBe(200);
    expect(await slow.body).toBe("slow done");
    await expect(get(port, "/fast")).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it("gives an open SSE stream the grace period, then destroys it; the body is cancelled and the gauge closes", async () => {
    const { server, port, metrics, streamCancelled } = await startServer();
    const stream = await get(port, "/stream");
    expect(stream.res.headers["content-type"]).toBe("text/event-stream");
    await sleep(120);
    expect(await gauge(metrics, "sse_connections_in_flight")).toBe(1);

    const result = await drainServer(server, { graceMs: 300 });
    expect(result.forced).toBe(true);
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    await expect(stream.body).rejects.toThrow();
    for (let i = 0; i < 50 && (await gauge(metrics, "sse_connections_in_flight")) !== 0; i++) await sleep(10);
    expect(await gauge(metrics, "sse_connections_in_flight")).toBe(0);
    expect(streamCancelled()).toBe(true);
  });

  it("ends the SSE gauge when a real client disconnects mid-stream", async () => {
    const { port, metrics, streamCancelled } = await startServer();
    const stream = await get(port, "/stream");
    await sleep(80);
    expect(await gauge(metrics, "sse_connections_in_flight")).toBe(1);
    expect(await gauge(metrics, "http_in_flight_requests")).toBe(0);
    stream.res.destroy();
    await expect(stream.body).rejects.toThrow(/aborted/);
    for (let i = 0; i < 100 && !streamCancelled(); i++) await sleep(10);
    expect(streamCancelled()).toBe(true);
    expect(await gauge(metrics, "sse_connections_in_flight")).toBe(0);
  });

  it("waits for isIdle after the last connection closed", async () => {
    const { server } = await startServer();
    let idle = false;
    setTimeout(() => (idle = true), 200);
    const result = await drainServer(server, { graceMs: 2000, isIdle: () => idle });
    expect(result.forced).toBe(false);
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
  });
});
