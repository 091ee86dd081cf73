/**
 * Timeouts and retries against misbehaving upstreams: silent, slow first byte, a handshake that never completes,
 * stalls (mid-stream, inside an error body, inside a passthrough body), resets (before and after the first byte),
 * garbage, refused-then-available, and vLLM's 429/503 back-pressure. Before the stream starts a failure is an
 * ordinary HTTP error (504 upstream_timeout / 502 upstream_unavailable); after it, `error` + `response.failed` +
 * `[DONE]`. Nothing is retried after the first byte. Each case has its own upstream and gateway, so they run
 * concurrently.
 */
import { describe, expect, it } from "vitest";
import { startMockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents } from "../helpers/spec-validator.js";
import { chunkFrame, healthyStream, startBlackholePort, startFaultServer, unusedPort } from "./support/fault-servers.js";
import { expectError, sleep, testGateway, waitFor, type TestGateway } from "./support/gateway.js";

const LIMITS = { upstreamFirstByteTimeoutMs: 300, upstreamIdleTimeoutMs: 300, upstreamRetries: 2 };
/** For the retry cases: the first-byte deadline covers the retries too, so it must not be what ends them here. */
const RETRYING = { ...LIMITS, upstreamFirstByteTimeoutMs: 5000 };
const PROMPT = "private prompt 7f3a9c";

/** A stream that failed in-band: the 200 was committed, then `error`, `response.failed`, `[DONE]`. */
async function expectInBandFailure(res: Response, code: string): Promise<Array<Record<string, any>>> {
  expect(res.status).toBe(200);
  const { events, done } = await readSse(res);
  expect(done).toBe(true);
  const types = typesOf(events);
  expect(types.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
  expect(types.slice(-2)).toEqual(["error", "response.failed"]);
  expect(events.at(-2)!.error.code).toBe(code);
  expect(events.at(-1)!.response.error.code).toBe(code);
  validateEvents(events);
  return events;
}

function expectNoConversationInLogs(gw: TestGateway, ...texts: string[]): void {
  const logged = gw.logs.text();
  for (const t of [PROMPT, ...texts]) expect(logged).not.toContain(t);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
}

describe.concurrent("before the first byte → an HTTP error, at the configured time", () => {
  it("silent upstream (accepts, never answers): 504 upstream_timeout for JSON, SSE and passthrough; the upstream request is dropped", async () => {
    const srv = await startFaultServer(() => {});
    const gw = testGateway(srv.url, LIMITS);
    try {
      for (const stream of [false, true]) {
        const { value: res, ms } = await timed(() => gw.post({ model: "m", input: PROMPT, stream }));
        await expectError(res, 504, "upstream_timeout");
        expect(ms).toBeGreaterThanOrEqual(290);
        expect(ms).toBeLessThan(2000);
      }
      await expectError(await gw.gateway.request("/v1/models"), 504, "upstream_timeout");
      // Timeouts are not retried: one upstream request per client request, each closed when the gateway gave up.
      expect(srv.hits.length).toBe(3);
      await waitFor(() => srv.clientGone === 3, 2000, "upstream connections closed");
      expectNoConversationInLogs(gw);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("slow first byte: past the limit → 504; within it → 200", async () => {
    const mock = await startMockUpstream();
    const gw = testGateway(mock.url, LIMITS);
    try {
      await expectError(await gw.post({ model: "mock:ttft=900", input: PROMPT }), 504, "upstream_timeout");
      await expectError(await gw.post({ model: "mock:ttft=900", input: PROMPT, stream: true }), 504, "upstream_timeout");
      const ok = await gw.post({ model: "mock:ttft=100", input: "quick enough" });
      expect(ok.status).toBe(200);
      expect((await ok.json()).status).toBe("completed");
      await waitFor(() => mock.stats.aborted === 2, 2000, "mock saw both slow requests aborted");
    } finally {
      await gw.gateway.close();
      await mock.close();
    }
  });

  it("a TCP handshake that never completes → 504 within the first-byte limit", async () => {
    const hole = await startBlackholePort();
    const gw = testGateway(`http://127.0.0.1:${hole.port}/v1`, LIMITS);
    try {
      const { value: res, ms } = await timed(() => gw.post({ model: "m", input: "x" }));
      await expectError(res, 504, "upstream_timeout");
      expect(ms).toBeLessThan(2000);
    } finally {
      await gw.gateway.close();
      await hole.close();
    }
  });

  it("the runtime's own connect timeout (Node fetch: 10 s) is reported as 504 upstream_timeout, not retried", async () => {
    const hole = await startBlackholePort();
    const gw = testGateway(`http://127.0.0.1:${hole.port}/v1`, { ...LIMITS, upstreamFirstByteTimeoutMs: 60_000 });
    try {
      const { value: res, ms } = await timed(() => gw.post({ model: "m", input: "x" }));
      const err = await expectError(res, 504, "upstream_timeout");
      expect(err.message).toContain("UND_ERR_CONNECT_TIMEOUT");
      expect(ms).toBeGreaterThan(9_000);
      expect(ms).toBeLessThan(15_000);
    } finally {
      await gw.gateway.close();
      await hole.close();
    }
  }, 30_000);

  it("error headers followed by a stalled body → 504 within the limit (the error body is read under the deadline)", async () => {
    const srv = await startFaultServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.write('{"error": {"message": "half an err');
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      const { value: res, ms } = await timed(() => gw.post({ model: "m", input: "x" }));
      await expectError(res, 504, "upstream_timeout");
      expect(ms).toBeLessThan(2000);
      await waitFor(() => srv.clientGone === 1, 2000, "upstream connection closed");
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("reset before any byte: retried (bounded), then 502 upstream_unavailable", async () => {
    const srv = await startFaultServer((req) => {
      req.socket.destroy();
    });
    const gw = testGateway(srv.url, RETRYING);
    try {
      await expectError(await gw.post({ model: "m", input: PROMPT, stream: true }), 502, "upstream_unavailable");
      expect(srv.hits.length).toBe(LIMITS.upstreamRetries + 1);
      expectNoConversationInLogs(gw);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("retries stay inside the first-byte deadline: 10 allowed retries against a resetting upstream end at the limit as 504", async () => {
    const srv = await startFaultServer((req) => {
      req.socket.destroy();
    });
    const gw = testGateway(srv.url, { ...LIMITS, upstreamRetries: 10 });
    try {
      // Ten back-offs would take 50 ms · (2¹⁰ − 1) ≈ 51 s; the 300 ms deadline ends them.
      const { value: res, ms } = await timed(() => gw.post({ model: "m", input: "x" }));
      await expectError(res, 504, "upstream_timeout");
      expect(ms).toBeLessThan(2000);
      expect(srv.hits.length).toBeGreaterThan(1);
      expect(srv.hits.length).toBeLessThan(11);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("connection refused, then the upstream comes up: retried with back-off and succeeds", async () => {
    const port = await unusedPort();
    const gw = testGateway(`http://127.0.0.1:${port}/v1`, { ...RETRYING, upstreamRetries: 3 });
    let srv: Awaited<ReturnType<typeof startFaultServer>> | undefined;
    const starting = sleep(100).then(async () => {
      srv = await startFaultServer((_req, res) => healthyStream(res, "back again"), port);
    });
    try {
      const res = await gw.post({ model: "m", input: "x" });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.output[0].content[0].text).toBe("back again");
      await starting;
      expect(srv!.hits.length).toBe(1);
    } finally {
      await starting;
      await gw.gateway.close();
      await srv?.close();
    }
  });

  it("connection refused for good: 502 after the bounded retries, with back-off between them", async () => {
    const port = await unusedPort();
    const gw = testGateway(`http://127.0.0.1:${port}/v1`, RETRYING);
    try {
      const { value: res, ms } = await timed(() => gw.post({ model: "m", input: "x" }));
      const err = await expectError(res, 502, "upstream_unavailable");
      expect(err.message).toContain("ECONNREFUSED");
      // Two back-offs: at least 50 ms + 100 ms.
      expect(ms).toBeGreaterThanOrEqual(150);
      expect(ms).toBeLessThan(2000);
    } finally {
      await gw.gateway.close();
    }
  });
});

describe.concurrent("vLLM back-pressure and errors", () => {
  it("429 is passed on at once with Retry-After, never retried (JSON, SSE and passthrough)", async () => {
    const srv = await startFaultServer((_req, res) => {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "7" });
      res.end(JSON.stringify({ error: { message: "queue full", type: "RateLimitError", code: 429 } }));
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      for (const stream of [false, true]) {
        const res = await gw.post({ model: "m", input: "x", stream });
        expect(res.headers.get("retry-after")).toBe("7");
        const err = await expectError(res, 429, "upstream_rate_limited");
        expect(err.type).toBe("rate_limit_error");
        expect(err.message).toBe("queue full");
      }
      const chat = await gw.gateway.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [] }) });
      expect(chat.status).toBe(429);
      expect(chat.headers.get("retry-after")).toBe("7");
      expect((await chat.json()).error.message).toBe("queue full");
      expect(srv.hits.length).toBe(3);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("503 before any byte is retried (bounded); a persistent 503 is passed on with its Retry-After", async () => {
    const srv = await startFaultServer((_req, res) => {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "3" });
      res.end(JSON.stringify({ error: { message: "engine sleeping", type: "ServiceUnavailable", code: 503 } }));
    });
    const gw = testGateway(srv.url, RETRYING);
    try {
      const res = await gw.post({ model: "m", input: "x", stream: true });
      expect(res.headers.get("retry-after")).toBe("3");
      const err = await expectError(res, 503, "upstream_overloaded");
      expect(err.message).toBe("engine sleeping");
      expect(srv.hits.length).toBe(LIMITS.upstreamRetries + 1);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("a passing 503 is absorbed by the retry", async () => {
    const srv = await startFaultServer((_req, res, hit) => {
      if (hit > 0) return healthyStream(res, "recovered");
      res.writeHead(503, { "retry-after": "1" });
      res.end();
    });
    const gw = testGateway(srv.url, RETRYING);
    try {
      const res = await gw.post({ model: "m", input: "x" });
      expect(res.status).toBe(200);
      expect((await res.json()).output[0].content[0].text).toBe("recovered");
      expect(srv.hits.length).toBe(2);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("another 5xx → 502 upstream_error, not retried", async () => {
    const srv = await startFaultServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/html" });
      res.end("<html>boom</html>");
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      await expectError(await gw.post({ model: "m", input: "x" }), 502, "upstream_error");
      expect(srv.hits.length).toBe(1);
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });
});

describe.concurrent("after the first byte → in-band error + response.failed + [DONE], never retried", () => {
  it("stall mid-stream → in-band upstream_timeout after the idle limit; JSON → 504", async () => {
    const mock = await startMockUpstream();
    const gw = testGateway(mock.url, LIMITS);
    try {
      const { value: events, ms } = await timed(async () => expectInBandFailure(await gw.post({ model: "mock-model", input: `STALL ${PROMPT}`, stream: true }), "upstream_timeout"));
      expect(typesOf(events)).toContain("response.output_text.delta");
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(2000);
      await expectError(await gw.post({ model: "mock-model", input: "STALL again" }), 504, "upstream_timeout");
      expect(mock.stats.requests.length).toBe(2);
      await waitFor(() => mock.stats.aborted === 2, 2000, "stalled upstream streams cancelled");
      expectNoConversationInLogs(gw, "You said");
    } finally {
      await gw.gateway.close();
      await mock.close();
    }
  });

  it("reset mid-stream → in-band upstream_unavailable; JSON → 502; one upstream request each", async () => {
    const srv = await startFaultServer(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunkFrame("partial "));
      res.write(chunkFrame("answer "));
      await sleep(30);
      res.destroy();
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      const events = await expectInBandFailure(await gw.post({ model: "m", input: PROMPT, stream: true }), "upstream_unavailable");
      // What was streamed before the failure reached the client.
      expect(events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")).toBe("partial answer ");
      await expectError(await gw.post({ model: "m", input: "x" }), 502, "upstream_unavailable");
      expect(srv.hits.length).toBe(2);
      expectNoConversationInLogs(gw, "partial answer");
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("garbage frames → in-band upstream_invalid_response; the frame (model output) is not logged", async () => {
    const srv = await startFaultServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunkFrame("fine "));
      // Short enough that V8's JSON.parse message quotes all of it: the log must not.
      res.end("data: sEcReT-42\n\n");
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      await expectInBandFailure(await gw.post({ model: "m", input: PROMPT, stream: true }), "upstream_invalid_response");
      expect(srv.hits.length).toBe(1);
      expect(gw.logs.records.some((r) => r.message === "response failed in-band")).toBe(true);
      expectNoConversationInLogs(gw, "sEcReT-42", "fine ");
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("a 200 that is not SSE at all, or an SSE stream cut before [DONE] → in-band failure, never a silent end", async () => {
    const srv = await startFaultServer((_req, res, hit) => {
      if (hit === 0) {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>a captive portal</html>");
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(chunkFrame("cut "));
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      await expectInBandFailure(await gw.post({ model: "m", input: "x", stream: true }), "upstream_stream_interrupted");
      await expectInBandFailure(await gw.post({ model: "m", input: "x", stream: true }), "upstream_stream_interrupted");
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });

  it("passthrough: a body that stalls is ended after the idle limit and the upstream request is dropped", async () => {
    const srv = await startFaultServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunkFrame("first"));
    });
    const gw = testGateway(srv.url, LIMITS);
    try {
      const res = await gw.gateway.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [], stream: true }) });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('"content":"first"');
      const { value: outcome, ms } = await timed(() => reader.read().then(() => "more data", (err: Error) => err.message));
      expect(outcome).toContain("Upstream timeout");
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(2000);
      await waitFor(() => srv.clientGone === 1, 2000, "upstream connection closed");
    } finally {
      await gw.gateway.close();
      await srv.close();
    }
  });
});
