/**
 * code_interpreter inside the Responses tool loop, with a real Pyodide pool.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPyodidePool, type PyodidePool } from "../../adapters/node/code-interpreter/index.js";
import { silentLogger } from "../../src/observability/logger.js";
import { startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { CHAT_RECORDINGS_DIR } from "../helpers/recordings.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";

let pool: PyodidePool;
let fx: Fixture;
let replay: Fixture;
const CI = { type: "code_interpreter", container: { type: "auto" } };

beforeAll(async () => {
  pool = createPyodidePool({ workers: 1, timeoutMs: 2000, logger: silentLogger });
  await pool.ready();
  fx = await startFixture({ gateway: { codeRunner: pool, env: { VR_MAX_TOOL_ROUNDS: "3" } } });
  replay = await startFixture({ mock: { replayDir: CHAT_RECORDINGS_DIR }, gateway: { codeRunner: pool } });
}, 120_000);

afterAll(async () => {
  await fx?.close();
  await replay?.close();
  await pool?.close();
});

describe("code_interpreter in the tool loop", () => {
  it("the real vLLM two-turn recording replays end to end: reasoning, preamble, the call with logs 4, the answer, usage summed", async () => {
    const { events, done } = await readSse(
      await replay.post({ model: "MiniMaxAI/MiniMax-M2.1", input: "You MUST call the code_interpreter tool now. Execute: 2+2. Then tell me the result.", tools: [CI], include: ["code_interpreter_call.outputs"], stream: true }),
    );
    expect(done).toBe(true);
    validateEvents(events);
    const final = events.at(-1)!.response;
    validateResponse(final);
    expect(final.output.map((o: any) => o.type)).toEqual(["reasoning", "message", "code_interpreter_call", "reasoning", "message"]);
    const call = final.output[2];
    expect(call).toMatchObject({ code: "2+2", status: "completed", outputs: [{ type: "logs", logs: "4" }] });
    expect(call.container_id).toMatch(/^cntr_/);
    expect(final.output[4].content[0].text).toContain("**4**");
    expect(final.usage).toMatchObject({ input_tokens: 344 + 446, output_tokens: 70 + 56, total_tokens: 916 });
    // code deltas concatenate to the code; the call's lifecycle events come in order
    const code = events.filter((e) => e.type === "response.code_interpreter_call_code.delta").map((e) => e.delta).join("");
    expect(code).toBe("2+2");
    const types = typesOf(events).filter((t) => t.includes("code_interpreter_call"));
    expect(types[0]).toBe("response.code_interpreter_call.in_progress");
    expect(types.slice(1, -3).every((t) => t === "response.code_interpreter_call_code.delta")).toBe(true);
    expect(types.slice(-3)).toEqual(["response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting", "response.code_interpreter_call.completed"]);
  });

  it("outputs are null without include, and the model still gets the result", async () => {
    const body = await (await fx.post({ model: "mock-model", input: "run: print(6*7)", tools: [CI] })).json();
    const call = body.output.find((o: any) => o.type === "code_interpreter_call");
    expect(call).toMatchObject({ code: "print(6*7)", status: "completed", outputs: null });
    expect(body.output.at(-1).content[0].text).toBe("The tool returned: 42");
    const sent = fx.mock.stats.requests.at(-1)!.messages!;
    expect(sent.at(-2)).toMatchObject({ role: "assistant", tool_calls: [{ type: "function", function: { name: "code_interpreter", arguments: JSON.stringify({ code: "print(6*7)" }) } }] });
    expect(sent.at(-1)).toMatchObject({ role: "tool", content: "42" });
  });

  it("a Python exception is a completed call whose logs hold the traceback", async () => {
    const body = await (await fx.post({ model: "mock-model", input: "run: 1/0", tools: [CI], include: ["code_interpreter_call.outputs"] })).json();
    const call = body.output.find((o: any) => o.type === "code_interpreter_call");
    expect(call.status).toBe("completed");
    expect(call.outputs[0].logs).toContain("ZeroDivisionError");
  });

  it("runaway code is stopped by the time limit: the call fails, the model is told, the pool keeps serving", async () => {
    const body = await (await fx.post({ model: "mock-model", input: "run: while True: pass", tools: [CI], include: ["code_interpreter_call.outputs"] })).json();
    expect(body.status).toBe("completed");
    const call = body.output.find((o: any) => o.type === "code_interpreter_call");
    expect(call.status).toBe("failed");
    expect(call.outputs[0].logs).toMatch(/timeout/i);
    expect(fx.mock.stats.requests.at(-1)!.messages!.at(-1)!.content).toMatch(/timeout/i);
    const after = await (await fx.post({ model: "mock-model", input: "run: 2+2", tools: [CI] })).json();
    expect(after.output.at(-1).content[0].text).toBe("The tool returned: 4");
  });

  it("a continuation replays the earlier call and its result to the model", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "run: 3+4", tools: [CI] })).json();
    await fx.post({ model: "mock-model", previous_response_id: first.id, input: "thanks", tool_choice: "none" });
    const messages = fx.mock.stats.requests.at(-1)!.messages!;
    expect(messages[1]).toMatchObject({ role: "assistant", tool_calls: [{ function: { name: "code_interpreter", arguments: '{"code":"3+4"}' } }] });
    expect(messages[2]).toMatchObject({ role: "tool", content: "7" });
  });

  it("a turn calling both a client function and the code interpreter runs the code and hands the function call back", async () => {
    const body = await (await fx.post({ model: "mock-model", input: "parallel: run: 5*5", tools: [CI, { type: "function", name: "notify" }] })).json();
    expect(body.output.map((o: any) => o.type)).toEqual(["code_interpreter_call", "function_call"]);
    expect(body.output[0].status).toBe("completed");
    expect(body.output[1].name).toBe("notify");
  });

  it("max_tool_calls is enforced, and VR_MAX_TOOL_ROUNDS ends a runaway loop as incomplete", async () => {
    const limited = await (await fx.post({ model: "mock-model", input: "LOOP run: 1", tools: [CI], max_tool_calls: 2 })).json();
    expect(limited.output.filter((o: any) => o.type === "code_interpreter_call" && o.status === "completed")).toHaveLength(2);
    expect(limited.status).toBe("completed");
    expect(limited.output.at(-1).type).toBe("message");
    // once the budget is spent the tool is withdrawn, so the model must answer
    expect(fx.mock.stats.requests.at(-1)!.tools).toBeUndefined();
    const looping = await (await fx.post({ model: "mock-model", input: "LOOP run: 1", tools: [CI] })).json();
    expect(looping.status).toBe("incomplete");
    expect(looping.incomplete_details).toEqual({ reason: "max_tool_calls" });
    expect(looping.output.filter((o: any) => o.type === "code_interpreter_call")).toHaveLength(3);
  });

  it("counts requested/executed/errors with tool_type code_interpreter", async () => {
    const m = parseExposition(await (await fx.gateway.request("/metrics")).text());
    expect(m.value("vllm_responses_tool_calls_requested_total", { tool_type: "code_interpreter" })).toBeGreaterThanOrEqual(8);
    expect(m.value("vllm_responses_tool_calls_executed_total", { tool_type: "code_interpreter" })).toBeGreaterThanOrEqual(8);
    expect(m.value("vllm_responses_tool_errors_total", { tool_type: "code_interpreter" })).toBeGreaterThanOrEqual(1);
    expect(m.value("vllm_responses_tool_execution_duration_seconds_count", { tool_type: "code_interpreter" })).toBeGreaterThanOrEqual(8);
  });
});
