/**
 * Request limits, each with its OpenAI-shaped error: the body cap (413 before the body is read — declared,
 * streamed, over a real socket, and on the passthrough route), the JSON depth cap, the input-item and tool caps, and
 * the concurrency cap under a burst (exactly `cap` in flight, the rest 429 + Retry-After at once, slots back when
 * streams end or are cancelled).
 */
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { readSse } from "../helpers/sse.js";
import { expectError, testGateway, waitFor, type TestGateway } from "./support/gateway.js";

const MAX_BODY = 64 * 1024;
let mock: MockUpstream;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startMockUpstream();
  gw = testGateway(mock.url, { maxBodyBytes: MAX_BODY, maxInputItems: 10, maxTools: 4 });
});
afterAll(async () => {
  await gw.gateway.close();
  await mock.close();
});

/** A request body that never ends, counting how many bytes the gateway pulled from it. */
function endlessBody(chunkBytes = 8 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new TextEncoder().encode(`{"model":"m","input":"${"x".repeat(chunkBytes)}`);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

describe("body size cap (VR_MAX_BODY_BYTES) → 413 before the body is read", () => {
  it("a declared Content-Length over the cap is refused without reading the body", async () => {
    const body = endlessBody();
    const res = await gw.gateway.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json", "content-length": String(10 * MAX_BODY) }, body: body.stream, duplex: "half" } as RequestInit);
    const err = await expectError(res, 413, "request_too_large");
    expect(err.type).toBe("invalid_request_error");
    expect(err.message).toContain("VR_MAX_BODY_BYTES");
    // Only what the runtime pre-fetched (its own high-water mark), never the cap's worth.
    expect(body.pulled()).toBeLessThan(MAX_BODY);
  });

  it("a chunked body is cut off as soon as it crosses the cap", async () => {
    const body = endlessBody();
    const res = await gw.gateway.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: body.stream, duplex: "half" } as RequestInit);
    await expectError(res, 413, "request_too_large");
    expect(body.pulled()).toBeGreaterThan(MAX_BODY);
    expect(body.pulled()).toBeLessThan(MAX_BODY + 4 * 8 * 1024);
  });

  it("over a real socket: 413 arrives while the client is still sending", async () => {
    const server = serve({ fetch: gw.gateway.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise<void>((r) => server.once("listening", () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const socket = connect(port, "127.0.0.1");
      let answer = "";
      socket.on("data", (d) => (answer += d));
      socket.on("error", () => {
        // The server may close the connection while we would still be sending; that is the point.
      });
      await new Promise<void>((r) => socket.once("connect", () => r()));
      socket.write(`POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n{"model":"m","input":"`);
      // 100 MiB announced, 1 KiB sent: the answer must not wait for the rest.
      socket.write("x".repeat(1024));
      await waitFor(() => answer.includes("\r\n\r\n"), 2000, "the 413 response");
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer.toLowerCase()).toContain("content-type: application/json");
      socket.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("the passthrough route has the same cap (its body is buffered for retries)", async () => {
    const before = mock.stats.requests.length;
    const res = await gw.gateway.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(2 * MAX_BODY) }] }) });
    await expectError(res, 413, "request_too_large");
    expect(mock.stats.requests.length).toBe(before);
    // Under the cap it still passes through.
    const ok = await gw.gateway.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", messages: [{ role: "user", content: "small" }] }) });
    expect(ok.status).toBe(200);
    expect((await ok.json()).choices[0].message.content).toBe("You said: small");
  });

  it("exactly at the cap is accepted", async () => {
    const prefix = '{"model":"mock-model","input":"';
    const body = `${prefix}${"y".repeat(MAX_BODY - prefix.length - 2)}"}`;
    expect(new TextEncoder().encode(body).byteLength).toBe(MAX_BODY);
    expect((await gw.post(body)).status).toBe(200);
  });
});

describe("JSON depth cap (VR_MAX_JSON_DEPTH, default 64) → 400", () => {
  // The default body cap, so a million levels (2 MB) reach the depth check.
  let deep: TestGateway;
  beforeAll(() => {
    deep = testGateway(mock.url);
  });
  afterAll(() => deep.gateway.close());

  it("deep nesting is refused before parsing, even a million levels", async () => {
    for (const depth of [65, 10_000, 1_000_000]) {
      const body = `{"model":"m","input":${"[".repeat(depth)}${"]".repeat(depth)}}`;
      const err = await expectError(await deep.post(body), 400, "nesting_too_deep");
      expect(err.type).toBe("invalid_request_error");
    }
    const objects = `{"model":"m","metadata":${'{"a":'.repeat(100)}1${"}".repeat(100)}}`;
    await expectError(await deep.post(objects), 400, "nesting_too_deep");
  });

  it("brackets inside strings do not count; depth at the limit is parsed normally", async () => {
    const res = await deep.post({ model: "mock-model", input: "[[[[{{{{".repeat(100) });
    expect(res.status).toBe(200);
    // Body, input array and item are 3 levels; 61 more make exactly 64: parsed, then rejected by validation.
    const body = `{"model":"m","input":[{"role":"user","content":${"[".repeat(61)}${"]".repeat(61)}}]}`;
    const err = await expectError(await deep.post(body), 400);
    expect(err.code).not.toBe("nesting_too_deep");
    expect(err.param).toMatch(/^input\[0\]/);
  });
});

describe("input item and tool caps → 400 naming the field", () => {
  const item = { role: "user", content: "hi" };
  it("VR_MAX_INPUT_ITEMS", async () => {
    expect((await gw.post({ model: "mock-model", input: Array(10).fill(item) })).status).toBe(200);
    const err = await expectError(await gw.post({ model: "m", input: Array(11).fill(item) }), 400, "too_many_items");
    expect(err.param).toBe("input");
    // Counted before the items are parsed: the count error wins over a broken item.
    await expectError(await gw.post({ model: "m", input: [...Array(11).fill(item), 42] }), 400, "too_many_items");
  });

  it("VR_MAX_TOOLS", async () => {
    const tool = (i: number) => ({ type: "function", name: `f${i}`, parameters: { type: "object", properties: {} } });
    expect((await gw.post({ model: "mock-model", input: "x", tools: [0, 1, 2, 3].map(tool) })).status).toBe(200);
    const err = await expectError(await gw.post({ model: "m", input: "x", tools: [0, 1, 2, 3, 4].map(tool) }), 400, "too_many_items");
    expect(err.param).toBe("tools");
  });
});

describe("concurrency cap (VR_MAX_CONCURRENCY) under a burst", () => {
  const CAP = 4;
  let capped: TestGateway;
  beforeAll(() => {
    capped = testGateway(mock.url, { maxConcurrency: CAP });
  });
  afterAll(() => capped.gateway.close());

  const slowStream = () => capped.post({ model: "mock:chunks=100,gap=25", input: "hold a slot", stream: true });
  const gauges = async () => {
    const m = parseExposition(await (await capped.gateway.request("/metrics")).text());
    return { http: m.value("vllm_responses_http_in_flight_requests"), sse: m.value("vllm_responses_sse_connections_in_flight") };
  };

  async function expect429(res: Response): Promise<void> {
    expect(res.headers.get("retry-after")).toBe("1");
    const err = await expectError(res, 429, "concurrency_limit");
    expect(err.type).toBe("rate_limit_error");
  }

  it("a burst from idle: exactly CAP admitted, the rest refused at once with Retry-After", async () => {
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: CAP + 12 }, () => slowStream()));
    const admitted = burst.filter((r) => r.status === 200);
    const refused = burst.filter((r) => r.status !== 200);
    expect(admitted.length).toBe(CAP);
    expect(refused.length).toBe(12);
    for (const r of refused) await expect429(r);
    // Refusals do not queue behind the admitted streams (each of which lasts ~2.5 s).
    expect(performance.now() - started).toBeLessThan(1500);

    // While the slots are held, everything on /v1 is refused — JSON, streams, reads — but /health and /metrics answer.
    await expect429(await capped.post({ model: "mock-model", input: "x" }));
    await expect429(await capped.gateway.request("/v1/responses/resp_x"));
    expect((await capped.gateway.request("/health")).status).toBe(200);
    expect(await gauges()).toEqual({ http: 0, sse: CAP });

    // Cancelling two streams frees two slots at once.
    await admitted[0]!.body!.cancel();
    await admitted[1]!.body!.cancel();
    const next = await Promise.all([slowStream(), slowStream(), slowStream()]);
    expect(next.map((r) => r.status)).toEqual([200, 200, 429]);
    await next[2]!.text();

    // Streams that end normally free theirs too.
    const finished = await Promise.all([admitted[2]!, admitted[3]!, next[0]!, next[1]!].map((r) => readSse(r)));
    for (const f of finished) expect(f.events.at(-1)!.type).toBe("response.completed");
    await waitFor(async () => (await gauges()).sse === 0, 2000, "SSE gauge back to 0");
    const again = await Promise.all(Array.from({ length: CAP + 1 }, () => capped.post({ model: "mock-model", input: "x" })));
    expect(again.map((r) => r.status).sort()).toEqual([...Array(CAP).fill(200), 429]);
    for (const r of again) await r.text();
    expect(await gauges()).toEqual({ http: 0, sse: 0 });
  });
});
