/**
 * The one smoke suite every runtime runs (Node, Deno, Bun, workerd): the same requests against a gateway booted
 * for real in a child process, in front of the scripted mock upstream running in the test process.
 */
import OpenAI from "openai";
import { expect, it } from "vitest";
import type { MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import type { OtlpHttpReceiver } from "../helpers/otlp-http-receiver.js";
import { SPAN_KIND } from "../helpers/otlp-trace-schema.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";
import { readSse, typesOf } from "../helpers/sse.js";

export interface SmokeTarget {
  /** Gateway base URL, no path. */
  url: string;
  mock: MockUpstream;
  /** OTLP/HTTP collector the gateway exports to (VR_TRACING_ENABLED, VR_OPENTELEMETRY_PROTOCOL=http/protobuf). */
  traces: OtlpHttpReceiver;
}

const TOOLS = [
  { type: "function", name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }, strict: false },
  { type: "function", name: "get_time", description: "Local time in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }, strict: false },
] as const;

export async function createResponse(url: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", ...body }) });
}

async function requestCount(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  const exposition = parseExposition(await res.text());
  expect(exposition.types.get("vllm_responses_http_requests_total")).toBe("counter");
  return exposition.value("vllm_responses_http_requests_total", { method: "POST", route: "/v1/responses", status: "200" }) ?? 0;
}

/** Registers the shared smoke tests; `target()` is read when each test runs (after beforeAll booted the runtime). */
export function defineSmokeSuite(target: () => SmokeTarget): void {
  it("GET /health answers 200 {}", async () => {
    const res = await fetch(`${target().url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it("creates a non-streamed text response", async () => {
    const res = await createResponse(target().url, { input: "hello from the smoke suite" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    validateResponse(body);
    expect(body.status).toBe("completed");
    expect(body.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(body.output).toHaveLength(1);
    expect(body.output[0].content[0].text).toBe("You said: hello from the smoke suite");
  });

  it("streams through the official openai SDK with the Responses event grammar", async () => {
    const client = new OpenAI({ baseURL: `${target().url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await client.responses.create({ model: "mock-model", input: "stream emoji please", stream: true });
    const events: Array<Record<string, any>> = [];
    for await (const event of stream) events.push(event as unknown as Record<string, any>);
    const types = typesOf(events);
    validateEvents(events);
    const deltas = types.filter((t) => t === "response.output_text.delta").length;
    expect(deltas).toBeGreaterThan(1);
    expect(types).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...Array<string>(deltas).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const text = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta as string).join("");
    expect(text).toBe("Here you go: 😀🎉 café – naïve 日本語 👩‍👩‍👧");
    const final = events.at(-1)!.response;
    validateResponse(final);
    expect(final.output[0].content[0].text).toBe(text);
  });

  it("streams parallel function calls, each with its own item_id and complete arguments", async () => {
    const res = await createResponse(target().url, { input: "check both in parallel please", tools: TOOLS, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { events, done } = await readSse(res);
    expect(done).toBe(true);
    const types = typesOf(events);
    validateEvents(events);
    expect(types.at(-1)).toBe("response.completed");
    const calls = events.filter((e) => e.type === "response.output_item.done").map((e) => e.item);
    expect(calls.map((c) => [c.type, c.name])).toEqual([
      ["function_call", "get_weather"],
      ["function_call", "get_time"],
    ]);
    expect(new Set(calls.map((c) => c.call_id)).size).toBe(2);
    for (const call of calls) {
      const deltas = events.filter((e) => e.type === "response.function_call_arguments.delta" && e.item_id === call.id);
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.map((e) => e.delta).join("")).toBe(call.arguments);
      expect(JSON.parse(call.arguments)).toEqual({ city: "Paris" });
    }
  });

  it("continues a conversation with previous_response_id (tools inherited, state from the store)", async () => {
    const { url, mock } = target();
    const first = (await (await createResponse(url, { input: "weather and time, in parallel", tools: TOOLS })).json()) as Record<string, any>;
    expect(first.status).toBe("completed");
    const calls = first.output.filter((o: { type: string }) => o.type === "function_call");
    expect(calls).toHaveLength(2);

    const res = await createResponse(url, {
      previous_response_id: first.id,
      input: calls.map((c: { call_id: string }, i: number) => ({ type: "function_call_output", call_id: c.call_id, output: i === 0 ? "sunny" : "noon" })),
    });
    expect(res.status).toBe(200);
    const second = (await res.json()) as Record<string, any>;
    validateResponse(second);
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output[0].content[0].text).toBe("The tool returned: noon");
    // The tools of the first request were inherited and its calls replayed to the model.
    expect(second.tools.map((t: { name: string }) => t.name)).toEqual(["get_weather", "get_time"]);
    const sent = mock.stats.requests.at(-1)!;
    expect(sent.tools?.map((t) => t.function.name)).toEqual(["get_weather", "get_time"]);
    expect(sent.messages?.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool"]);

    const stored = await fetch(`${url}/v1/responses/${second.id}`);
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { id: string }).id).toBe(second.id);
    const unknown = await createResponse(url, { previous_response_id: `resp_${"0".repeat(32)}`, input: "x" });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("previous_response_not_found");
  });

  it("counts requests in /metrics", async () => {
    const { url } = target();
    const before = await requestCount(url);
    expect((await createResponse(url, { input: "count me" })).status).toBe(200);
    expect(await requestCount(url)).toBe(before + 1);
  });

  it("exports the request's spans over OTLP/HTTP, parented on the caller's traceparent", async () => {
    const { url, traces } = target();
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const res = await fetch(`${url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-${"a1".repeat(8)}-01` },
      body: JSON.stringify({ model: "mock-model", input: "traced", stream: true }),
    });
    expect((await readSse(res)).done).toBe(true);
    const spans = await traces.waitFor((all) => all.filter((s) => s.traceId === traceId).length >= 2, 10_000);
    const mine = spans.filter((s) => s.traceId === traceId);
    const server = mine.find((s) => s.kind === SPAN_KIND.SERVER)!;
    expect(server.name).toBe("POST /v1/responses");
    expect(server.parentSpanId).toBe("a1".repeat(8));
    expect(server.transport).toBe("http/protobuf");
    expect(server.resource["service.name"]).toBe("vllm_responses");
    const upstream = mine.find((s) => s.kind === SPAN_KIND.CLIENT)!;
    expect(upstream.parentSpanId).toBe(server.spanId);
  });

  it("aborts the upstream request when the client goes away mid-stream", async () => {
    const { url, mock } = target();
    const aborted = mock.stats.aborted;
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "mock:chunks=400,gap=15", input: "long", stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes("response.output_text.delta")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended early");
      seen += decoder.decode(value, { stream: true });
    }
    controller.abort();
    const deadline = Date.now() + 5000;
    while (mock.stats.aborted === aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(mock.stats.aborted).toBe(aborted + 1);
  });
}
