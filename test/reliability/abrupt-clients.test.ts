/**
 * Abrupt and slow clients over real sockets. A client that goes away — mid-stream, while the gateway waits for
 * vLLM's first byte, while a JSON answer is being generated, or in the middle of its upload — frees its upstream
 * request, its concurrency slot and its gauges at once, and is never recorded as a gateway failure (5xx). A client
 * that stops reading gets back-pressure: the gateway stops reading from vLLM (bounded memory) and keeps serving
 * everyone else.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { chunkFrame, startFaultServer, type FaultServer } from "./support/fault-servers.js";
import { sleep, testGateway, waitFor, type TestGateway } from "./support/gateway.js";
import { serveGateway, type ServedGateway } from "./support/node-server.js";

interface RawClient {
  socket: Socket;
  received(): string;
  bytes(): number;
}

/** A hand-written HTTP/1.1 request over a plain socket: the test decides when to stop reading or hang up. */
function rawPost(port: number, body: string, opts: { declaredLength?: number; send?: string } = {}): Promise<RawClient> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  let bytes = 0;
  socket.on("data", (d: Buffer) => {
    bytes += d.byteLength;
    if (text.length < 1_000_000) text += d.toString("utf8");
  });
  socket.on("error", () => {
    // The test hangs up on purpose; a reset seen on our side is expected.
  });
  return new Promise((resolve) => {
    socket.once("connect", () => {
      const length = opts.declaredLength ?? Buffer.byteLength(body);
      socket.write(`POST /v1/responses HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n${opts.send ?? body}`);
      resolve({ socket, received: () => text, bytes: () => bytes });
    });
  });
}

let mock: MockUpstream;
let gw: TestGateway;
let served: ServedGateway;

beforeAll(async () => {
  mock = await startMockUpstream();
  gw = testGateway(mock.url, { maxConcurrency: 1 });
  served = await serveGateway(gw.gateway);
});
afterAll(async () => {
  await served.close();
  await gw.gateway.close();
  await mock.close();
});

async function scrape() {
  return parseExposition(await (await gw.gateway.request("/metrics")).text());
}

/** Every gauge at zero, and the single slot (VR_MAX_CONCURRENCY=1) free again. */
async function expectAllFreed(): Promise<void> {
  await waitFor(async () => {
    const m = await scrape();
    return m.value("vllm_responses_http_in_flight_requests") === 0 && m.value("vllm_responses_sse_connections_in_flight") === 0;
  }, 2000, "gauges back to 0");
  const res = await gw.post({ model: "mock-model", input: "the slot is free" });
  expect(res.status).toBe(200);
  await res.text();
}

let closedSoFar = 0;

/**
 * No 5xx and no error log. A hang-up before the response started is recorded as one more 499 (client closed
 * request); a stream that had started keeps the 200 it was answered with.
 */
async function expectRecordedAsClientClosed(beforeResponse = true): Promise<void> {
  const m = await scrape();
  const fivexx = m.samples.filter((s) => s.name === "vllm_responses_http_requests_total" && s.labels.status!.startsWith("5"));
  expect(fivexx).toEqual([]);
  expect(gw.logs.records.filter((r) => r.level === "error")).toEqual([]);
  if (beforeResponse) closedSoFar++;
  expect(m.value("vllm_responses_http_requests_total", { method: "POST", route: "/v1/responses", status: "499" }) ?? 0).toBe(closedSoFar);
}

describe("a client that disconnects frees everything at once", () => {
  it("mid-stream: the upstream request is aborted, the slot and the SSE gauge are released", async () => {
    const aborted = mock.stats.aborted;
    const client = await rawPost(served.port, JSON.stringify({ model: "mock:chunks=300,gap=20", input: "long story", stream: true }));
    await waitFor(() => client.received().includes("response.output_text.delta"), 3000, "first deltas");
    expect((await scrape()).value("vllm_responses_sse_connections_in_flight")).toBe(1);
    const hungUp = performance.now();
    client.socket.destroy();
    await waitFor(() => mock.stats.aborted === aborted + 1, 1000, "upstream request aborted");
    expect(performance.now() - hungUp).toBeLessThan(1000);
    await expectAllFreed();
    await expectRecordedAsClientClosed(false);
  });

  it("while the gateway waits for vLLM's first byte", async () => {
    const aborted = mock.stats.aborted;
    const client = await rawPost(served.port, JSON.stringify({ model: "mock:ttft=5000", input: "queued", stream: true }));
    await waitFor(() => mock.stats.requests.at(-1)?.model === "mock:ttft=5000", 2000, "request reached the upstream");
    expect((await scrape()).value("vllm_responses_http_in_flight_requests")).toBe(1);
    client.socket.destroy();
    await waitFor(() => mock.stats.aborted === aborted + 1, 1000, "upstream request aborted");
    await expectAllFreed();
    await expectRecordedAsClientClosed();
  });

  it("while a JSON (non-stream) answer is being generated", async () => {
    const aborted = mock.stats.aborted;
    const client = await rawPost(served.port, JSON.stringify({ model: "mock:chunks=300,gap=20", input: "long json" }));
    await waitFor(() => mock.stats.requests.at(-1)?.model === "mock:chunks=300,gap=20", 2000, "request reached the upstream");
    await sleep(100);
    client.socket.destroy();
    await waitFor(() => mock.stats.aborted === aborted + 1, 1000, "upstream request aborted");
    await expectAllFreed();
    await expectRecordedAsClientClosed();
  });

  it("in the middle of its upload", async () => {
    const requests = mock.stats.requests.length;
    const client = await rawPost(served.port, "", { declaredLength: 50_000, send: '{"model":"mock-model","input":"cut sh' });
    await sleep(100);
    client.socket.destroy();
    await expectAllFreed();
    await expectRecordedAsClientClosed();
    // Nothing half-read was sent upstream (the one request since is expectAllFreed's probe).
    expect(mock.stats.requests.length).toBe(requests + 1);
  });
});

describe("a client that stops reading", () => {
  const FRAME_TEXT = "z".repeat(32 * 1024);
  const TOTAL_BYTES = 512 * 1024 * 1024;
  let upstream: FaultServer;
  let written = 0;
  let bulk: TestGateway;
  let bulkServed: ServedGateway;

  beforeAll(async () => {
    // An upstream that streams as fast as the gateway reads (it honours back-pressure, like vLLM's server does),
    // up to 512 MiB: whatever it managed to write is what the gateway took off it, plus socket buffers.
    upstream = await startFaultServer(async (req, res) => {
      if (req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"data":[]}');
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      let gone = false;
      res.on("close", () => (gone = true));
      const frame = chunkFrame(FRAME_TEXT);
      let sent = 0;
      while (!gone && sent < TOTAL_BYTES) {
        sent += frame.length;
        written += frame.length;
        if (!res.write(frame)) {
          await new Promise<void>((resolve) => {
            const go = (): void => {
              res.off("drain", go).off("close", go);
              resolve();
            };
            res.on("drain", go).on("close", go);
          });
        }
      }
      if (!gone) res.end(`${chunkFrame("", "stop")}data: [DONE]\n\n`);
    });
    bulk = testGateway(upstream.url, { maxConcurrency: 10 });
    bulkServed = await serveGateway(bulk.gateway);
  });
  afterAll(async () => {
    await bulkServed.close();
    await bulk.gateway.close();
    await upstream.close();
  });

  it("gets back-pressure: the gateway stops reading upstream, memory stays bounded, other requests are served", async () => {
    const client = await rawPost(bulkServed.port, JSON.stringify({ model: "m", input: "flood me", stream: true }));
    await waitFor(() => client.bytes() > 1024 * 1024, 5000, "the first megabyte");
    client.socket.pause();
    const heapBefore = process.memoryUsage().heapUsed;

    // The upstream's progress stops: everything in flight fits in socket buffers and a few stream chunks.
    let last = -1;
    await waitFor(
      async () => {
        const now = written;
        const settled = now === last;
        last = now;
        if (!settled) await sleep(250);
        return settled;
      },
      15_000,
      "the upstream to be held back",
    );
    // Measured here: ~11 MiB (loopback socket buffers on both sides); unbounded reading would reach 512 MiB.
    expect(written).toBeLessThan(48 * 1024 * 1024);
    expect(written).toBeLessThan(TOTAL_BYTES / 4);

    // Meanwhile the gateway answers others promptly (the stalled stream blocks nobody).
    const t = performance.now();
    const other = await fetch(`${bulkServed.url}/v1/models`);
    expect(other.status).toBe(200);
    await other.text();
    expect(performance.now() - t).toBeLessThan(1000);
    // The heap did not absorb the stream the client is not reading (it would be hundreds of MB).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(48 * 1024 * 1024);
    const held = written;
    await sleep(300);
    expect(written).toBe(held);

    // Reading again resumes the flow.
    client.socket.resume();
    await waitFor(() => written > held + 8 * 1024 * 1024, 10_000, "the upstream to resume");

    // Hanging up releases the upstream request and the gauges.
    client.socket.destroy();
    await waitFor(() => upstream.clientGone === 1, 2000, "upstream request aborted");
    await waitFor(async () => parseExposition(await (await bulk.gateway.request("/metrics")).text()).value("vllm_responses_sse_connections_in_flight") === 0, 2000, "SSE gauge 0");
  }, 40_000);
});
