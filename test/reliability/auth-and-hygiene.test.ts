/**
 * Gateway API keys (VR_API_KEYS / VR_API_KEYS_FILE: the 401 shape, constant-time comparison against every key, open
 * /health and metrics, keys never logged or sent upstream), request ids (taken or generated, echoed, forwarded),
 * response ids as capabilities (128 random bits), CORS on and off, no prompt text in logs unless
 * VR_LOG_MODEL_MESSAGES=true, and no secret — gateway keys, the upstream key, MCP authorization and headers — in
 * logs, metrics, traces, stored state or anything echoed.
 */
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import fc from "fast-check";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resolveApiKeysFile } from "../../adapters/node/api-keys-file.js";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { createNodeGateway } from "../../adapters/node/node-gateway.js";
import { ConfigError } from "../../src/config/env-values.js";
import { loadGatewayConfig } from "../../src/config/gateway-config.js";
import { randomId } from "../../src/core/compose/ids.js";
import { createMcpSupport } from "../../src/engine/mcp-support.js";
import { constantTimeEqual } from "../../src/handlers/constant-time.js";
import { createGateway } from "../../src/index.js";
import { silentLogger } from "../../src/observability/logger.js";
import { createTracing } from "../../src/observability/tracing.js";
import { startStreamableHttpMcpServer, type StartedTestMcpServer } from "../mcp-servers/http-server.mjs";
import { readSse } from "../helpers/sse.js";
import { expectError, testGateway, waitFor, type TestGateway } from "./support/gateway.js";

// The comparison function is wrapped (not replaced) so the test can see that the gateway uses it, for every key.
vi.mock("../../src/handlers/constant-time.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/handlers/constant-time.js")>();
  return { ...real, constantTimeEqual: vi.fn(real.constantTimeEqual) };
});

const KEY_A = "gw-key-alpha-5b9e1c";
const KEY_B = "gw-key-beta-77d2aa";
const UPSTREAM_KEY = "upstream-key-c0ffee42";
const PROMPT = "confidential prompt 31337";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(() => mock.close());

describe("gateway API keys", () => {
  let gw: TestGateway;
  beforeAll(() => {
    gw = testGateway(mock.url, { apiKeys: [KEY_A, KEY_B], upstreamApiKey: UPSTREAM_KEY });
  });
  afterAll(() => gw.gateway.close());

  it("/v1/* without a valid key → 401 authentication_error, whatever the shape of the attempt", async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: `Basic ${btoa(`user:${KEY_A}`)}` },
      { authorization: `bearer${KEY_A}` },
      { authorization: `Bearer ${KEY_A.toUpperCase()}` },
      { authorization: `Bearer ${KEY_A.slice(0, -1)}` },
      { authorization: `Bearer ${KEY_A}x` },
      { authorization: `Bearer ${KEY_A},${KEY_B}` },
      { "x-api-key": KEY_A },
    ];
    for (const headers of attempts) {
      const res = await gw.post({ model: "mock-model", input: "x" }, { ...headers, "x-request-id": "auth-probe-1" });
      const err = await expectError(res, 401, "invalid_api_key");
      expect(err).toEqual({ message: "Missing or invalid API key. Send 'Authorization: Bearer <key>'.", type: "authentication_error", param: null, code: "invalid_api_key" });
      expect(res.headers.get("x-request-id")).toBe("auth-probe-1");
    }
    for (const path of ["/v1/models", "/v1/responses/resp_x", "/v1/responses/resp_x/input_items", "/v1/mcp/servers", "/v1/nothing-here", "/%76%31/models", "/v1/%6Dodels"]) {
      await expectError(await gw.gateway.request(path), 401, "invalid_api_key");
    }
    expect(mock.stats.requests.length).toBe(0);
  });

  it("either configured key is accepted; /health and the metrics path stay open", async () => {
    for (const key of [KEY_A, KEY_B]) {
      const res = await gw.post({ model: "mock-model", input: "x" }, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(200);
      await res.text();
    }
    expect((await gw.gateway.request("/health")).status).toBe(200);
    const metrics = await gw.gateway.request("/metrics");
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain("vllm_responses_http_requests_total");
    for (const secret of [KEY_A, KEY_B, UPSTREAM_KEY]) expect(text).not.toContain(secret);
  });

  it("compares in constant time, against every key, even after a match", async () => {
    const spy = vi.mocked(constantTimeEqual);
    for (const token of [KEY_A, KEY_B, "wrong-key-00000000"]) {
      spy.mockClear();
      const res = await gw.gateway.request("/v1/models", { headers: { authorization: `Bearer ${token}` } });
      await res.text();
      expect(spy.mock.calls).toEqual([
        [KEY_A, token],
        [KEY_B, token],
      ]);
    }
  });

  it("the comparison is exact: equal iff the strings are equal (any unicode, any length)", () => {
    const real = vi.mocked(constantTimeEqual).getMockImplementation()!;
    fc.assert(fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => real(a, b) === (a === b)), { numRuns: 5000 });
    fc.assert(fc.property(fc.string({ unit: "binary" }), (a) => real(a, a)), { numRuns: 1000 });
    fc.assert(fc.property(fc.string({ unit: "binary", minLength: 1 }), fc.nat(), (a, cut) => !real(a, a.slice(0, cut % a.length))), { numRuns: 1000 });
    // Strings that differ only where a byte encoding would blur them (lone surrogates both become U+FFFD in UTF-8).
    for (const [a, b] of [["\ud800", "\udfff"], ["k\ud800", "k\ufffd"], ["", "\u0000"], ["a", "a\u0000"]] as const) expect(real(a, b)).toBe(false);
  });

  it("the gateway key never reaches vLLM (the upstream gets VR_OPENAI_API_KEY, passthrough included) and is never logged", async () => {
    const before = mock.stats.headers.length;
    await (await gw.post({ model: "mock-model", input: "x", stream: true }, { authorization: `Bearer ${KEY_A}` })).text();
    const chat = await gw.gateway.request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${KEY_B}`, "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", messages: [{ role: "user", content: "hi" }] }) });
    expect(chat.status).toBe(200);
    await chat.text();
    const seen = mock.stats.headers.slice(before);
    expect(seen.length).toBe(2);
    for (const h of seen) expect(h.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    const logged = gw.logs.text();
    for (const secret of [KEY_A, KEY_B, UPSTREAM_KEY]) expect(logged).not.toContain(secret);
  });
});

describe("VR_API_KEYS_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "vr-keys-"));

  it("one key per line (comments, blank lines, CRLF) is added to VR_API_KEYS", async () => {
    const file = join(dir, "keys.txt");
    writeFileSync(file, `# team keys\r\nfile-key-one\r\n\r\n   file-key-two  \n# old: revoked-key\n`);
    const config = resolveApiKeysFile(loadGatewayConfig({ VR_UPSTREAM: mock.url, VR_API_KEYS: "env-key", VR_API_KEYS_FILE: file }));
    expect(config.apiKeys).toEqual(["env-key", "file-key-one", "file-key-two"]);
    expect(config.apiKeysFile).toBeNull();

    const gateway = await createNodeGateway({ env: { VR_UPSTREAM: mock.url, VR_API_KEYS_FILE: file, VR_DB_PATH: "memory://", VR_MCP_REQUEST_REMOTE_ENABLED: "false" }, logger: silentLogger });
    try {
      await expectError(await gateway.request("/v1/models"), 401, "invalid_api_key");
      await expectError(await gateway.request("/v1/models", { headers: { authorization: "Bearer revoked-key" } }), 401, "invalid_api_key");
      expect((await gateway.request("/v1/models", { headers: { authorization: "Bearer file-key-two" } })).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it("fails closed: an unreadable or empty file, or a runtime that cannot read files, is a start-up error", () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "# nothing yet\n\n");
    const spaced = join(dir, "spaced.txt");
    writeFileSync(spaced, "two words\n");
    const load = (path: string) => () => resolveApiKeysFile(loadGatewayConfig({ VR_UPSTREAM: mock.url, VR_API_KEYS_FILE: path }));
    expect(load(join(dir, "missing.txt"))).toThrow(ConfigError);
    expect(load(empty)).toThrow(/contains no keys/);
    expect(load(spaced)).toThrow(/key 1 contains whitespace/);
    // The error never quotes the file's content.
    expect(load(spaced)).not.toThrow(/two words/);
    expect(() => createGateway({ env: { VR_UPSTREAM: mock.url, VR_API_KEYS_FILE: empty }, logger: silentLogger })).toThrow(/VR_API_KEYS_FILE/);
  });
});

describe("the upstream key", () => {
  it("an upstream URL carrying credentials is refused at start-up, without quoting them", () => {
    const load = () => loadGatewayConfig({ VR_UPSTREAM: "http://vllm:s3cr3t-pw@10.0.0.5:8000/v1" });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/VR_OPENAI_API_KEY/);
    expect(load).not.toThrow(/s3cr3t-pw/);
  });
});

describe("request ids", () => {
  let gw: TestGateway;
  let keyed: TestGateway;
  beforeAll(() => {
    gw = testGateway(mock.url);
    keyed = testGateway(mock.url, { apiKeys: [KEY_A], maxConcurrency: 1 });
  });
  afterAll(async () => {
    await gw.gateway.close();
    await keyed.gateway.close();
  });

  it("a client's id is echoed on every kind of answer and forwarded to vLLM", async () => {
    const id = "client-req_42.a:b";
    const ok = await gw.post({ model: "mock-model", input: "x" }, { "x-request-id": id });
    expect(ok.headers.get("x-request-id")).toBe(id);
    expect(mock.stats.headers.at(-1)!["x-request-id"]).toBe(id);
    const stream = await gw.post({ model: "mock-model", input: "x", stream: true }, { "x-request-id": `${id}-s` });
    expect(stream.headers.get("x-request-id")).toBe(`${id}-s`);
    await stream.text();
    expect(mock.stats.headers.at(-1)!["x-request-id"]).toBe(`${id}-s`);
    const passthrough = await gw.gateway.request("/v1/chat/completions", { method: "POST", headers: { "x-request-id": `${id}-p`, "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", messages: [{ role: "user", content: "x" }] }) });
    expect(passthrough.headers.get("x-request-id")).toBe(`${id}-p`);
    await passthrough.text();
    expect(mock.stats.headers.at(-1)!["x-request-id"]).toBe(`${id}-p`);
    for (const res of [
      await gw.post({ model: 42, input: "x" }, { "x-request-id": id }),
      await gw.gateway.request("/v1/responses/resp_missing", { headers: { "x-request-id": id } }),
      await gw.gateway.request("/nowhere", { headers: { "x-request-id": id } }),
      await keyed.post({ model: "m", input: "x" }, { "x-request-id": id }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("x-request-id")).toBe(id);
      await res.text();
    }
    // The 429 of the concurrency cap too.
    const holding = await keyed.post({ model: "mock:chunks=40,gap=20", input: "x", stream: true }, { authorization: `Bearer ${KEY_A}` });
    const refused = await keyed.post({ model: "mock-model", input: "x" }, { authorization: `Bearer ${KEY_A}`, "x-request-id": id });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-request-id")).toBe(id);
    await holding.body!.cancel();
  });

  it("without one (or with one that is not a bounded token) a UUID is generated, echoed and forwarded", async () => {
    for (const given of [undefined, "has spaces", "x".repeat(129), "semi;colon", "é"]) {
      const res = await gw.post({ model: "mock-model", input: "x" }, given === undefined ? {} : { "x-request-id": given });
      expect(res.status).toBe(200);
      const echoed = res.headers.get("x-request-id")!;
      expect(echoed).toMatch(UUID);
      expect(mock.stats.headers.at(-1)!["x-request-id"]).toBe(echoed);
      await res.text();
    }
  });
});

describe("response and item ids are capabilities", () => {
  it("every id is a prefix and 128 random bits (32 hex digits)", async () => {
    const gw = testGateway(mock.url);
    try {
      const tools = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];
      const a = await (await gw.post({ model: "mock-model", input: "think, then call", tools, reasoning: { effort: "low" } })).json();
      const b = await (await gw.post({ model: "mock-model", previous_response_id: a.id, input: [{ type: "function_call_output", call_id: a.output.at(-1).call_id, output: "sunny" }] })).json();
      const ids = [a.id, b.id, ...a.output.map((o: any) => o.id), ...b.output.map((o: any) => o.id)];
      expect(new Set(ids.map((id: string) => id.replace(/_.*/, "")))).toEqual(new Set(["resp", "rs", "fc", "msg"]));
      for (const id of ids) expect(id).toMatch(/^(resp|msg|rs|fc)_[0-9a-f]{32}$/);
    } finally {
      await gw.gateway.close();
    }
  });

  it("100k ids: no collision, and every one of the 128 bits is a fair coin", () => {
    const n = 100_000;
    const seen = new Set<string>();
    const ones = new Array<number>(128).fill(0);
    for (let i = 0; i < n; i++) {
      const id = randomId("resp");
      seen.add(id);
      const hex = id.slice(5);
      for (let d = 0; d < 32; d++) {
        const v = parseInt(hex[d]!, 16);
        for (let bit = 0; bit < 4; bit++) ones[d * 4 + bit]! += (v >> bit) & 1;
      }
    }
    expect(seen.size).toBe(n);
    // Binomial(100k, ½): σ ≈ 158; ±2000 is > 12σ, so only a biased or constant bit (a counter, a clock) fails.
    for (const count of ones) expect(Math.abs(count - n / 2)).toBeLessThan(2000);
  });
});

describe("CORS (VR_CORS_ORIGINS)", () => {
  const APP = "https://app.example";
  const preflight = (gw: TestGateway, origin: string) =>
    gw.gateway.request("/v1/responses", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });

  it("off by default: no CORS headers, no preflight answer", async () => {
    const gw = testGateway(mock.url);
    try {
      const res = await gw.post({ model: "mock-model", input: "x" }, { origin: APP });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      await res.text();
      const pre = await preflight(gw, APP);
      expect(pre.status).toBe(404);
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await gw.gateway.close();
    }
  });

  it("on: listed origins get preflights and headers on every answer (errors, 401, SSE); others get none", async () => {
    const gw = testGateway(mock.url, { corsOrigins: [APP], apiKeys: [KEY_A] });
    try {
      const pre = await preflight(gw, APP);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(APP);
      expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
      expect(pre.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
      expect(pre.headers.get("vary")).toContain("origin");
      const auth = { authorization: `Bearer ${KEY_A}`, origin: APP };
      const answers = [
        await gw.post({ model: "mock-model", input: "x" }, auth),
        await gw.post({ model: "mock-model", input: "x", stream: true }, auth),
        await gw.post({ model: 1 }, auth),
        await gw.post({ model: "mock-model", input: "x" }, { origin: APP }),
      ];
      expect(answers.map((r) => r.status)).toEqual([200, 200, 400, 401]);
      for (const r of answers) {
        expect(r.headers.get("access-control-allow-origin")).toBe(APP);
        expect(r.headers.get("vary")).toContain("origin");
        await r.text();
      }
      const other = await gw.post({ model: "mock-model", input: "x" }, { authorization: `Bearer ${KEY_A}`, origin: "https://evil.example" });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
      await other.text();
      expect((await preflight(gw, "https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await gw.gateway.close();
    }
  });

  it("'*' allows any origin", async () => {
    const gw = testGateway(mock.url, { corsOrigins: ["*"] });
    try {
      const res = await gw.post({ model: "mock-model", input: "x" }, { origin: "https://anywhere.example" });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      await res.text();
    } finally {
      await gw.gateway.close();
    }
  });
});

describe("no conversation text in logs unless VR_LOG_MODEL_MESSAGES=true", () => {
  async function traffic(gw: TestGateway): Promise<void> {
    const tools = [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } }];
    const first = await (await gw.post({ model: "mock-model", input: PROMPT, instructions: PROMPT, tools })).json();
    await (await gw.post({ model: "mock-model", previous_response_id: first.id, input: [{ type: "function_call_output", call_id: first.output[0].call_id, output: PROMPT }] })).text();
    await (await gw.post({ model: "mock-model", input: `think ${PROMPT}`, stream: true })).text();
    for (const word of ["FAIL_MIDSTREAM", "ERROR_FRAME", "GARBAGE", "STALL"]) await (await gw.post({ model: "mock-model", input: `${word} ${PROMPT}`, stream: true })).text();
    await (await gw.post({ model: "missing-model", input: PROMPT })).text();
    await (await gw.post({ model: "mock-model", input: [{ role: "robot", content: PROMPT }] })).text();
    await (await gw.post(`{"model":"mock-model","input":"${PROMPT}`)).text();
  }

  it("off (default): prompts, instructions, tool outputs and completions never appear in a log record", async () => {
    const gw = testGateway(mock.url, { upstreamIdleTimeoutMs: 200 });
    try {
      await traffic(gw);
      // The failures were logged (so the capture works), without their content.
      expect(gw.logs.records.filter((r) => r.message === "response failed in-band").length).toBe(4);
      const logged = gw.logs.text();
      expect(logged).not.toContain(PROMPT);
      expect(logged).not.toContain("You said");
    } finally {
      await gw.gateway.close();
    }
  });

  it("on: the model input is logged (the switch is real)", async () => {
    const gw = testGateway(mock.url, { upstreamIdleTimeoutMs: 200, logModelMessages: true });
    try {
      await traffic(gw);
      expect(gw.logs.records.some((r) => r.message === "model input" && JSON.stringify(r.fields).includes(PROMPT))).toBe(true);
    } finally {
      await gw.gateway.close();
    }
  });
});

describe("secrets never in logs, metrics, traces, stored state or echoes", () => {
  const MCP_TOKEN = "mcp-bearer-9f8e7d6c";
  const MCP_HEADER = "mcp-header-secret-4a4a4a";
  let remote: StartedTestMcpServer;
  let exporter: InMemorySpanExporter;
  let gw: TestGateway;
  const seenByClient: string[] = [];

  beforeAll(async () => {
    remote = await startStreamableHttpMcpServer({ requiredAuthorization: `Bearer ${MCP_TOKEN}` });
    exporter = new InMemorySpanExporter();
    const tracing = createTracing({ enabled: true, sampleRatio: 1, serviceName: "vr-secrets", exporter, logger: silentLogger, scheduledDelayMillis: 20 });
    gw = testGateway(mock.url, { apiKeys: [KEY_A], upstreamApiKey: UPSTREAM_KEY }, {
      tracing,
      mcp: createMcpSupport({ runtime: null, remote: { enabled: true, urlChecks: false, resolveHost: null, connectTimeoutMs: 5000, listTimeoutMs: 5000 }, logger: silentLogger }),
    });
  });
  afterAll(async () => {
    await gw.gateway.close();
    await remote.close();
  });

  it("holds across successful and failing MCP calls, streams, upstream failures and passthrough", async () => {
    const auth = { authorization: `Bearer ${KEY_A}` };
    const mcpTool = (token: string) => ({ type: "mcp", server_label: "docs", server_url: remote.url, authorization: token, headers: { "x-api-key": MCP_HEADER }, require_approval: "never", allowed_tools: ["search_docs"] });
    const ids: string[] = [];
    const ok = await gw.post({ model: "mock-model", input: "search", tools: [mcpTool(MCP_TOKEN)] }, auth);
    expect(ok.status).toBe(200);
    const okText = await ok.text();
    seenByClient.push(okText);
    const okBody = JSON.parse(okText);
    expect(okBody.output.find((o: any) => o.type === "mcp_call").status).toBe("completed");
    ids.push(okBody.id);

    const streamed = await gw.post({ model: "mock-model", input: "search", tools: [mcpTool(MCP_TOKEN)], stream: true }, auth);
    const { events, raw } = await readSse(streamed);
    seenByClient.push(raw);
    ids.push(events.at(-1)!.response.id);

    const follow = await gw.post({ model: "mock-model", previous_response_id: okBody.id, input: "and again" }, auth);
    const followText = await follow.text();
    seenByClient.push(followText);
    ids.push(JSON.parse(followText).id);

    const wrong = await gw.post({ model: "mock-model", input: "search", tools: [mcpTool(`${MCP_TOKEN}-wrong`)] }, auth);
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    seenByClient.push(await wrong.text());
    seenByClient.push(await (await gw.post({ model: "mock-model", input: "FAIL_MIDSTREAM", stream: true }, auth)).text());
    seenByClient.push(await (await gw.gateway.request("/v1/models", { headers: auth })).text());
    seenByClient.push(await (await gw.post({ model: "mock-model", input: "x" }, { authorization: "Bearer not-the-key-123" })).text());

    // The secrets were really used: the MCP server got both, vLLM got the upstream key.
    expect(remote.requests.some((r) => r.headers.authorization === `Bearer ${MCP_TOKEN}` && r.headers["x-api-key"] === MCP_HEADER)).toBe(true);
    expect(mock.stats.headers.at(-1)!.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);

    await gw.gateway.tracing.forceFlush();
    await waitFor(() => exporter.getFinishedSpans().length > 0, 2000, "spans exported");
    const spans = JSON.stringify(exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, resource: s.resource.attributes })));
    const metrics = await (await gw.gateway.request("/metrics")).text();
    const stored = JSON.stringify(await Promise.all(ids.map((id) => gw.gateway.store.get(id))));
    expect(stored).toContain(okBody.id);
    const upstreamSaw = JSON.stringify(mock.stats.requests);

    const places: Record<string, string> = { logs: gw.logs.text(), spans, metrics, stored, echoed: seenByClient.join("\n"), upstream: upstreamSaw };
    for (const [where, text] of Object.entries(places)) {
      for (const secret of [KEY_A, UPSTREAM_KEY, MCP_TOKEN, MCP_HEADER, "not-the-key-123"]) {
        expect(text.includes(secret), `${secret} found in ${where}`).toBe(false);
      }
    }
  });
});
