/**
 * A bounded mixed load against the real CLI (one process, SQLite, API keys from VR_API_KEYS_FILE) and the mock
 * upstream as a process: text, streams, function tools, continuations, reads, client mistakes, store:false, and 10%
 * of requests abandoned mid-stream, 32 at a time. Afterwards: every completed stored response is retrievable (also
 * from a fresh process on the same database), `http_requests_total` sums to the requests sent, the in-flight gauges
 * are zero, every abandoned stream's upstream request was aborted, and the gateway's RSS is back near where it
 * started. Then SIGTERM during open streams drains them to their end and the process exits 0.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition } from "../helpers/prometheus-text.js";
import { parseSse } from "../helpers/sse.js";
import { rssBytes, startCli, transpileGraph, type CliProcess } from "./support/cli.js";
import { sleep, waitFor } from "./support/gateway.js";

const KEY = "load-test-key-6e1f0b";
const READY = /"msg":"ready","url":"(http:\/\/[^"]+)\/v1\/responses"/;
const dir = mkdtempSync(join(tmpdir(), "vr-load-"));
const dbPath = `sqlite:///${join(dir, "load.db")}`;
const keysFile = join(dir, "keys");
writeFileSync(keysFile, `# load test\n${KEY}\n`);

let cli: string;
let removeCli = (): void => {};
let mock: CliProcess;
let gateway: CliProcess;
const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

function startGateway(): Promise<CliProcess> {
  return startCli(cli, ["serve", "--upstream", mock.url, "--gateway-host", "127.0.0.1", "--gateway-port", "0", "--code-interpreter", "disabled", "--graceful-timeout", "10"], {
    env: { VR_DB_PATH: dbPath, VR_API_KEYS_FILE: keysFile, VR_MAX_CONCURRENCY: "64", VR_MCP_REQUEST_REMOTE_ENABLED: "false" },
    readyPattern: READY,
  });
}

beforeAll(async () => {
  ({ cli, remove: removeCli } = transpileGraph("reliability-cli", "adapters/node/cli.ts"));
  mock = await startCli(cli, ["mock-upstream", "--port", "0"], { readyPattern: /"url":"(http:\/\/[^"]+)"/ });
  gateway = await startGateway();
}, 60_000);

afterAll(async () => {
  await gateway?.stop("SIGKILL");
  await mock?.stop();
  removeCli();
});

interface Tally {
  sent: number;
  stored: Map<string, string>;
  functionCalls: Array<{ id: string; call_id: string }>;
  abandoned: number;
  statuses: Record<number, number>;
}

const TOOLS = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];

/** One request of the mix, chosen by `i`; records what it sent and what must be retrievable afterwards. */
async function one(i: number, tally: Tally): Promise<void> {
  const base = gateway.url;
  const post = (body: unknown, signal?: AbortSignal) => {
    tally.sent++;
    return fetch(`${base}/v1/responses`, { method: "POST", headers: auth, body: JSON.stringify(body), signal });
  };
  const count = (status: number) => (tally.statuses[status] = (tally.statuses[status] ?? 0) + 1);
  const kind = i % 20;
  if (kind === 0 || kind === 10) {
    // 10%: a stream abandoned after its first frames.
    const ac = new AbortController();
    const res = await post({ model: "mock:chunks=100,gap=10", input: `abandon ${i}`, stream: true }, ac.signal);
    count(res.status);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    ac.abort();
    await reader.cancel().catch(() => undefined);
    tally.abandoned++;
    return;
  }
  if (kind <= 5) {
    const res = await post({ model: "mock-model", input: `text ${i}` });
    count(res.status);
    const body = await res.json();
    if (body.status === "completed") tally.stored.set(body.id, body.status);
    return;
  }
  if (kind <= 9) {
    const res = await post({ model: i % 3 === 0 ? "mock:chunks=20" : "mock-model", input: `think about stream ${i}`, stream: true });
    count(res.status);
    const { events, done } = parseSse(await res.text());
    expect(done).toBe(true);
    const final = events.at(-1)!.response;
    if (final.status === "completed") tally.stored.set(final.id, final.status);
    return;
  }
  if (kind <= 13) {
    const res = await post({ model: "mock-model", input: `weather ${i}`, tools: TOOLS });
    count(res.status);
    const body = await res.json();
    tally.stored.set(body.id, body.status);
    tally.functionCalls.push({ id: body.id, call_id: body.output.at(-1).call_id });
    return;
  }
  if (kind <= 15 && tally.functionCalls.length > 0) {
    const parent = tally.functionCalls[i % tally.functionCalls.length]!;
    const res = await post({ model: "mock-model", previous_response_id: parent.id, input: [{ type: "function_call_output", call_id: parent.call_id, output: `sunny ${i}` }], stream: i % 2 === 0 });
    count(res.status);
    const text = await res.text();
    const final = i % 2 === 0 ? parseSse(text).events.at(-1)!.response : JSON.parse(text);
    expect(final.output.at(-1).content[0].text).toBe(`The tool returned: sunny ${i}`);
    tally.stored.set(final.id, final.status);
    return;
  }
  if (kind === 16) {
    const res = await post({ model: "mock-model", input: `ephemeral ${i}`, store: false });
    count(res.status);
    await res.text();
    return;
  }
  if (kind === 17 && tally.stored.size > 0) {
    const ids = [...tally.stored.keys()];
    tally.sent++;
    const res = await fetch(`${base}/v1/responses/${ids[i % ids.length]}`, { headers: auth });
    count(res.status);
    await res.text();
    return;
  }
  // Client mistakes: they must be 4xx and must not disturb anything else.
  const res = await post({ model: "mock-model", input: [{ role: "robot", content: "x" }] });
  count(res.status);
  await res.text();
}

async function runLoad(n: number, concurrency: number, offset: number, tally: Tally): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await one(offset + i, tally);
    }),
  );
}

async function scrape() {
  const res = await fetch(`${gateway.url}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

async function settledRss(): Promise<number> {
  // Let timers, sockets and the store settle, then take the lowest of a few samples (GC is not under our control).
  await sleep(500);
  const samples: number[] = [];
  for (let k = 0; k < 5; k++) {
    samples.push(rssBytes(gateway.pid));
    await sleep(100);
  }
  return Math.min(...samples);
}

describe("mixed load against the CLI with SQLite", () => {
  const tally: Tally = { sent: 0, stored: new Map(), functionCalls: [], abandoned: 0, statuses: {} };

  it("nothing lost, counters exact, gauges at zero, memory back near its start", async () => {
    // Warm-up: the first requests load code, open the database and let V8 size its heap (measured here: RSS
    // climbs for ~500 requests, then plateaus around 150-160 MiB); the baseline is taken after them.
    await runLoad(200, 32, 0, tally);
    const baseline = await settledRss();

    const started = performance.now();
    await runLoad(200, 32, 200, tally);
    const middle = await settledRss();
    await runLoad(200, 32, 400, tally);
    const loadMs = performance.now() - started;

    await waitFor(async () => {
      const m = await scrape();
      return m.value("vllm_responses_http_in_flight_requests") === 0 && m.value("vllm_responses_sse_connections_in_flight") === 0;
    }, 5000, "in-flight gauges back to 0");
    const after = await settledRss();
    const rss = [baseline, middle, after].map((b) => `${(b / 1048576).toFixed(1)} MiB`).join(" → ");

    const m = await scrape();
    const counted = m.samples.filter((s) => s.name === "vllm_responses_http_requests_total").reduce((sum, s) => sum + s.value, 0);
    expect(counted).toBe(tally.sent);
    expect(Object.keys(tally.statuses).sort()).toEqual(["200", "400"]);
    expect(m.samples.filter((s) => s.name === "vllm_responses_http_requests_total" && s.labels.status!.startsWith("5"))).toEqual([]);
    expect(tally.abandoned).toBe(60);

    // Every abandoned stream's upstream request was aborted (the mock counts streams cut before their end).
    const mockStats = await (await fetch(`${mock.url.replace(/\/v1$/, "")}/_mock/stats`)).json();
    expect(mockStats.aborted).toBe(tally.abandoned);

    // Every completed stored response is there.
    expect(tally.stored.size).toBeGreaterThan(300);
    for (const [id, status] of tally.stored) {
      const res = await fetch(`${gateway.url}/v1/responses/${id}`, { headers: auth });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.id).toBe(id);
      expect(body.status).toBe(status);
    }

    // What is left is heap the collector has not handed back yet (±10 MiB between samples). A leak of what a
    // request carries (its input, history, events: tens of KiB) across 400 requests would exceed the bound.
    expect(after - baseline, rss).toBeLessThan(32 * 1024 * 1024);
    expect(loadMs).toBeLessThan(30_000);
    expect(gateway.output()).not.toContain(KEY);
    expect(gateway.output()).not.toMatch(/"level":"error"/);
  }, 90_000);

  it("SIGTERM during open streams drains them to their end; stored answers survive into the next process", async () => {
    const opened = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const res = await fetch(`${gateway.url}/v1/responses`, { method: "POST", headers: { ...auth, connection: "close" }, body: JSON.stringify({ model: "mock:chunks=40,gap=25", input: `drain ${i}`, stream: true }) });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        await reader.read();
        return reader;
      }),
    );
    const url = gateway.url;
    // A connection that never sends a request (a browser's pre-connect, an HTTP client's spare socket) must not
    // hold the drain for the whole grace period.
    const preconnect = connect(Number(new URL(url).port), "127.0.0.1");
    preconnect.on("error", () => undefined);
    await new Promise<void>((r) => preconnect.once("connect", () => r()));
    const preconnectClosed = new Promise<void>((r) => preconnect.once("close", () => r()));
    const signalled = performance.now();
    const exited = gateway.stop("SIGTERM");
    await waitFor(() => gateway.output().includes('"msg":"draining"'), 3000, "the drain to start");
    // No new connections while draining.
    await expect(fetch(`${url}/health`)).rejects.toThrow();

    const finals = await Promise.all(
      opened.map(async (reader) => {
        const decoder = new TextDecoder();
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
        expect(text.trim().endsWith("data: [DONE]")).toBe(true);
        const completed = text.split("\n").find((l) => l.startsWith("data: ") && l.includes('"type":"response.completed"'))!;
        return JSON.parse(completed.slice(6)).response.id as string;
      }),
    );
    expect(await exited).toBe(0);
    await preconnectClosed;
    expect(gateway.output()).toMatch(/"msg":"drained","forced":false/);
    // The streams needed ~1 s; the grace period is 10 s.
    expect(performance.now() - signalled).toBeLessThan(5000);

    // A new process on the same database finds the drained streams' responses and the load's.
    gateway = await startGateway();
    const sample = [...finals, ...[...tally.stored.keys()].filter((_, k) => k % 25 === 0)];
    for (const id of sample) {
      const res = await fetch(`${gateway.url}/v1/responses/${id}`, { headers: auth });
      expect(res.status, id).toBe(200);
      expect((await res.json()).id).toBe(id);
    }
  }, 60_000);
});
