/**
 * Property test: thousands of malformed and mutated `POST /v1/responses` bodies, through `app.request()` in front
 * of the real scripted mock upstream. Every answer must be a 200 (a complete response, or an SSE stream that ends
 * with a terminal event and `[DONE]`) or a JSON 4xx in the OpenAI error shape — never a 5xx, an unhandled error in
 * the log, a crash, or a hang (each request has its own deadline).
 *
 * The run uses a fresh random seed each time; a failure prints fast-check's seed and path, which replay it exactly
 * (`fc.assert(..., { seed, path })`).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { parseSse } from "../helpers/sse.js";
import { buildStructural, damageText, hostileValue, structuralCase, textDamage, type Json } from "./support/mutations.js";
import { testGateway, type TestGateway } from "./support/gateway.js";

const REQUEST_DEADLINE_MS = 10_000;
const ERROR_TYPES = new Set(["invalid_request_error", "authentication_error", "not_found_error", "rate_limit_error"]);

let mock: MockUpstream;
let gw: TestGateway;
let seeds: Json[];
let counts: Record<string, number>;

beforeAll(async () => {
  mock = await startMockUpstream();
  // Short upstream limits: should a mutation ever stall the mock, the request ends in seconds, not minutes.
  gw = testGateway(mock.url, { upstreamIdleTimeoutMs: 2000, upstreamFirstByteTimeoutMs: 5000 });
  const parent = await (await gw.post({ model: "mock-model", input: "remember me", tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }] })).json();
  expect(parent.status).toBe("completed");
  const fn = { type: "function", name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }, strict: false };
  seeds = [
    { model: "mock-model", input: "hello" },
    { model: "mock-model", input: "hello", stream: true },
    { model: "mock-model", instructions: "Be brief.", input: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }, { type: "message", role: "user", content: [{ type: "input_text", text: "and now?" }] }], temperature: 0.2, top_p: 0.9, max_output_tokens: 64, store: false },
    { model: "mock-model", input: "weather in Paris?", tools: [fn], tool_choice: "auto", parallel_tool_calls: true },
    { model: "mock-model", input: "weather?", tools: [fn], tool_choice: { type: "function", name: "get_weather" }, stream: true },
    { model: "mock-model", input: [{ type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }, { type: "function_call_output", call_id: "call_1", output: "sunny" }], tools: [fn] },
    { model: "mock-model", input: [{ type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "hmm" }] }, { role: "user", content: "think about it" }], reasoning: { effort: "low" }, include: ["reasoning.encrypted_content"] },
    { model: "mock-model", input: [{ role: "user", content: [{ type: "input_text", text: "what is this?" }, { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" }] }] },
    { model: "mock-model", input: [{ role: "user", content: [{ type: "input_file", filename: "a.txt", file_data: `data:text/plain;base64,${btoa("file text")}` }] }] },
    { model: "mock-model", input: "json please", text: { format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { a: { type: "string" } } }, strict: true }, verbosity: "low" }, metadata: { k: "v" }, top_logprobs: 2, truncation: "disabled" },
    { model: "mock-model", previous_response_id: parent.id, input: [{ type: "function_call_output", call_id: parent.output[0].call_id, output: "22C" }] },
    { model: "mock-model", previous_response_id: parent.id, input: "and tomorrow?", tools: [], stream: true },
    { model: "mock-model", input: "max", max_tool_calls: 2, tools: [fn, { ...fn, name: "other" }], tool_choice: "required", user: "u1", safety_identifier: "s", prompt_cache_key: "p", service_tier: "auto" },
  ];
  counts = {};
});

afterAll(async () => {
  await gw.gateway.close();
  await mock.close();
});

async function withDeadline<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no complete answer within ${REQUEST_DEADLINE_MS} ms for ${what}`)), REQUEST_DEADLINE_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends one body and checks the answer's contract; returns the status for the tally. */
async function check(body: string | Uint8Array): Promise<void> {
  const what = typeof body === "string" ? body.slice(0, 300) : `${body.byteLength} bytes`;
  const outcome = await withDeadline(what, (async () => {
    const res = await gw.gateway.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: body as BodyInit });
    const contentType = res.headers.get("content-type") ?? "";
    const text = await res.text();
    return { status: res.status, contentType, text };
  })());
  const { status, contentType, text } = outcome;
  counts[status] = (counts[status] ?? 0) + 1;
  if (status === 200) {
    if (contentType.startsWith("text/event-stream")) {
      const { events, done } = parseSse(text);
      expect(done, `stream without [DONE] for ${what}`).toBe(true);
      const terminal = events.at(-1)!;
      expect(["response.completed", "response.incomplete"], `stream for ${what} ended with ${terminal.type}: ${JSON.stringify(terminal).slice(0, 300)}`).toContain(terminal.type);
      events.forEach((e, i) => expect(e.sequence_number).toBe(i));
    } else {
      const r = JSON.parse(text);
      expect(r.object).toBe("response");
      expect(["completed", "incomplete"]).toContain(r.status);
    }
    return;
  }
  expect(status >= 400 && status < 500, `status ${status} for ${what}: ${text.slice(0, 300)}`).toBe(true);
  expect(contentType).toContain("application/json");
  const parsed = JSON.parse(text);
  expect(Object.keys(parsed)).toEqual(["error"]);
  const e = parsed.error;
  expect(typeof e.message).toBe("string");
  expect(e.message.length).toBeGreaterThan(0);
  expect(ERROR_TYPES.has(e.type), `error type ${e.type}`).toBe(true);
  expect(e.param === null || typeof e.param === "string").toBe(true);
  expect(e.code === null || typeof e.code === "string").toBe(true);
}

function expectCleanLogs(): void {
  // Client mistakes are not gateway failures: nothing at error level, no "unhandled error".
  expect(gw.logs.records.filter((r) => r.level === "error")).toEqual([]);
}

describe("fuzzed request bodies → 200 or a JSON 4xx, never 5xx, crash or hang", () => {
  it("random JSON documents as the whole body", async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), (v) => check(JSON.stringify(v) ?? "null")), { numRuns: 600 });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom("model", "input", "tools", "tool_choice", "stream", "instructions", "previous_response_id", "text", "reasoning", "include", "metadata", "store", "max_output_tokens", "temperature"), hostileValue), (v) => check(JSON.stringify(v))),
      { numRuns: 600 },
    );
    expectCleanLogs();
  }, 60_000);

  it("structural mutations of valid requests (wrong types, nulls, huge numbers, unicode, nesting, unknown types)", async () => {
    await fc.assert(fc.asyncProperty(structuralCase(seeds.length), (c) => check(JSON.stringify(buildStructural(seeds, c)))), { numRuns: 2000 });
    expectCleanLogs();
  }, 60_000);

  it("byte-level damage of valid and mutated requests (truncated JSON, inserted bytes, invalid UTF-8)", async () => {
    await fc.assert(
      fc.asyncProperty(structuralCase(seeds.length), fc.boolean(), textDamage, (c, mutate, damage) => {
        const value = mutate ? buildStructural(seeds, c) : seeds[c.seed]!;
        return check(damageText(JSON.stringify(value), damage));
      }),
      { numRuns: 1000 },
    );
    expectCleanLogs();
  }, 60_000);

  it("the other routes: hostile ids and query strings on GET/DELETE /v1/responses/{id}[/input_items]", async () => {
    const stored = (await (await gw.post({ model: "mock-model", input: [{ role: "user", content: "a" }, { role: "user", content: "b" }] })).json()).id as string;
    const segment = fc.oneof(fc.constant(stored), fc.string({ unit: "binary", maxLength: 60 }).map(encodeURIComponent), fc.constantFrom("resp_", "..", "%2e%2e", "%00", "resp_%2F..%2Fx", "a".repeat(5000)));
    const query = fc.dictionary(fc.constantFrom("limit", "order", "after", "x"), fc.oneof(fc.constantFrom("0", "1", "100", "101", "-1", "1e3", "NaN", "asc", "desc", "ASC", "", "msg_x"), fc.string({ maxLength: 10 })), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(segment, fc.constantFrom("", "/input_items"), query, fc.constantFrom("GET", "DELETE"), async (id, suffix, q, method) => {
        const path = `/v1/responses/${id}${suffix}?${new URLSearchParams(q).toString()}`;
        // The stored response is only read, so it stays there for the runs that use its id.
        const res = await withDeadline(path, Promise.resolve(gw.gateway.request(path, { method: id === stored ? "GET" : method })));
        const text = await res.text();
        expect(res.status === 200 || (res.status >= 400 && res.status < 500), `${res.status} for ${path}: ${text.slice(0, 200)}`).toBe(true);
        if (res.status !== 200) expect(Object.keys(JSON.parse(text))).toEqual(["error"]);
      }),
      { numRuns: 500 },
    );
    expectCleanLogs();
  }, 60_000);

  it("covered both outcomes, including real upstream round trips", () => {
    // A fuzz run that only ever produced 400s would prove little: the mutations keep many requests valid.
    expect(counts[200] ?? 0).toBeGreaterThan(300);
    expect(counts[400] ?? 0).toBeGreaterThan(1000);
    expect(mock.stats.requests.length).toBeGreaterThan(300);
  });
});
