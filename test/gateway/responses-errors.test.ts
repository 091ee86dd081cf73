import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../src/index.js";
import { silentLogger } from "../../src/observability/logger.js";
import { startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents } from "../helpers/spec-validator.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture({ gateway: { config: { upstreamIdleTimeoutMs: 300 } } });
});
afterAll(() => fx.close());

async function expectError(res: Response, status: number, param: string | null, code?: string): Promise<any> {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error).toBeDefined();
  expect(typeof body.error.message).toBe("string");
  expect(body.error.param).toBe(param);
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

describe("bad input → 400 naming the field", () => {
  it.each([
    ["not json", "{oops", null, "invalid_json"],
    ["missing model", { input: "x" }, "model", "missing_required_parameter"],
    ["missing input", { model: "m" }, "input", "missing_required_parameter"],
    ["bad input type", { model: "m", input: 42 }, "input", "invalid_type"],
    ["bad role", { model: "m", input: [{ role: "robot", content: "x" }] }, "input[0].role", "invalid_value"],
    ["reserved function name", { model: "m", input: "x", tools: [{ type: "function", name: "mcp__x" }] }, "tools[0].name", "invalid_value"],
    ["unknown tool type", { model: "m", input: "x", tools: [{ type: "teleport" }] }, "tools[0].type", "invalid_value"],
    ["chat-style tool", { model: "m", input: "x", tools: [{ type: "function", function: { name: "f" } }] }, "tools[0].name", "missing_required_parameter"],
    ["temperature range", { model: "m", input: "x", temperature: 3 }, "temperature", "invalid_value"],
    ["max_tool_calls 0", { model: "m", input: "x", max_tool_calls: 0 }, "max_tool_calls", "invalid_value"],
    ["required without tools", { model: "m", input: "x", tool_choice: "required" }, "tool_choice", "invalid_value"],
    ["named choice not in tools", { model: "m", input: "x", tools: [{ type: "function", name: "f" }], tool_choice: { type: "function", name: "g" } }, "tool_choice.name", "invalid_value"],
    ["duplicate function", { model: "m", input: "x", tools: [{ type: "function", name: "f" }, { type: "function", name: "f" }] }, "tools[1]", "invalid_value"],
    ["unknown include", { model: "m", input: "x", include: ["everything"] }, "include[0]", "invalid_value"],
    ["background", { model: "m", input: "x", background: true }, "background", "unsupported_value"],
    ["pdf file", { model: "m", input: [{ role: "user", content: [{ type: "input_file", file_data: "data:application/pdf;base64,AAAA" }] }] }, "input[0].content[0].file_data", "unsupported_value"],
    ["code_interpreter without a sandbox", { model: "m", input: "x", tools: [{ type: "code_interpreter" }] }, "tools[0].type", "tool_disabled"],
  ])("%s", async (_name, body, param, code) => {
    await expectError(await fx.post(body), 400, param, code);
  });

  it("unknown previous_response_id → 400 previous_response_not_found", async () => {
    const err = await expectError(await fx.post({ model: "m", input: "x", previous_response_id: "resp_nope" }), 400, "previous_response_id", "previous_response_not_found");
    expect(err.type).toBe("invalid_request_error");
  });

  it("text files are inlined for the model", async () => {
    const res = await fx.post({ model: "mock-model", input: [{ role: "user", content: [{ type: "input_file", filename: "a.txt", file_data: `data:text/plain;base64,${btoa("hello file")}` }] }] });
    expect(res.status).toBe(200);
    expect(fx.mock.stats.requests.at(-1)!.messages!.at(-1)).toEqual({ role: "user", content: [{ type: "text", text: "[file: a.txt]\nhello file" }] });
  });

  it("unknown routes answer a JSON 404", async () => {
    await expectError(await fx.gateway.request("/v2/nothing"), 404, null, "not_found");
  });
});

describe("upstream failures", () => {
  it("upstream 4xx keeps its status and message, stream or not", async () => {
    const err = await expectError(await fx.post({ model: "missing-model", input: "x" }), 404, "model");
    expect(err.message).toBe("The model `missing-model` does not exist.");
    await expectError(await fx.post({ model: "missing-model", input: "x", stream: true }), 404, "model");
  });

  it("unreachable upstream → 502 upstream_unavailable (and passthrough too)", async () => {
    const gw = createGateway({ upstream: "http://127.0.0.1:9/v1", logger: silentLogger, config: { upstreamRetries: 1 } });
    await expectError(await gw.request("/v1/responses", { method: "POST", body: JSON.stringify({ model: "m", input: "x", stream: true }) }), 502, null, "upstream_unavailable");
    await expectError(await gw.request("/v1/models"), 502, null, "upstream_unavailable");
    await gw.close();
  });

  it.each([
    ["FAIL_MIDSTREAM", "upstream_unavailable"],
    ["ERROR_FRAME", "upstream_error"],
    ["GARBAGE", "upstream_invalid_response"],
    ["STALL", "upstream_timeout"],
  ])("%s mid-stream → error + response.failed + [DONE]", async (word, code) => {
    const { events, done } = await readSse(await fx.post({ model: "mock-model", input: `${word} now`, stream: true }));
    expect(done).toBe(true);
    const types = typesOf(events);
    expect(types.slice(-2)).toEqual(["error", "response.failed"]);
    const failed = events.at(-1)!.response;
    expect(failed.status).toBe("failed");
    expect(failed.error.code).toBe(code);
    // the text streamed before the failure reached the client
    expect(types).toContain("response.output_text.delta");
    validateEvents(events);
  });

  it("mid-stream failure in non-stream mode is an HTTP error, not a 200", async () => {
    const res = await fx.post({ model: "mock-model", input: "ERROR_FRAME now" });
    expect(res.status).toBe(502);
  });

  it("a client that disconnects aborts the upstream request at once", async () => {
    const before = fx.mock.stats.aborted;
    const res = await fx.post({ model: "mock:chunks=200,gap=20", input: "long story", stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    const deadline = Date.now() + 2000;
    while (fx.mock.stats.aborted === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(fx.mock.stats.aborted).toBe(before + 1);
  });
});

describe("passthrough and health", () => {
  it("GET /v1/models and POST /v1/chat/completions pass through unchanged", async () => {
    const models = await fx.gateway.request("/v1/models");
    expect(models.status).toBe(200);
    expect((await models.json()).data[0].id).toBe("mock-model");
    const chat = await fx.gateway.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", messages: [{ role: "user", content: "hi" }], stream: true }) });
    expect(chat.headers.get("content-type")).toContain("text/event-stream");
    const text = await chat.text();
    expect(text).toContain('"content":"You "');
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    const missing = await fx.gateway.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "missing-x", messages: [] }) });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.type).toBe("NotFoundError");
  });

  it("GET /health → 200 {}", async () => {
    const res = await fx.gateway.request("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });
});
