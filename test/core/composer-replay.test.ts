import { describe, expect, it } from "vitest";
import { ResponseComposer } from "../../src/core/compose/response-composer.js";
import { foldEvents } from "../../src/core/compose/fold-events.js";
import { buildResponseObject } from "../../src/core/compose/build-response-object.js";
import type { ToolRoute } from "../../src/core/compose/tool-route.js";
import type { ResponseEvent } from "../../src/core/protocol/events.js";
import { parseCreateRequest } from "../../src/core/request/parse-request.js";
import { recordedChunks, TEXT_SINGLE_STREAM_EVENTS } from "../helpers/recordings.js";
import { typesOf } from "../helpers/sse.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";

let counter = 0;
function composerFor(route: (name: string) => ToolRoute = () => ({ kind: "function" }), format: "open_responses" | "openai" = "open_responses"): ResponseComposer {
  const req = parseCreateRequest({ model: "m", input: "hi" }, { maxInputItems: 100, maxTools: 10 });
  return new ResponseComposer({
    response: buildResponseObject(req, { id: "resp_test", createdAt: 1700000000, tools: [], toolChoice: undefined }),
    newId: (p) => `${p}_${++counter}`,
    now: () => 1700000001,
    reasoningEventFormat: format,
    routeTool: route,
  });
}

function replay(composer: ResponseComposer, path: string): ResponseEvent[] {
  const events = [...composer.start()];
  for (const chunk of recordedChunks(path)) events.push(...composer.chunk(chunk));
  events.push(...composer.endTurn().events);
  composer.finalize(null);
  events.push(...composer.emitFinal());
  return events;
}

describe("composer replaying real upstream recordings", () => {
  it("text-single-stream gives exactly the text grammar", () => {
    const events = replay(composerFor(), "chat_completions/text-single-stream");
    expect(typesOf(events)).toEqual(TEXT_SINGLE_STREAM_EVENTS);
    expect(events.filter((e) => e.type === "response.output_text.delta").map((e: any) => e.delta)).toEqual(["Paris", "."]);
    const completed: any = events[events.length - 1];
    expect(completed.response.output[0].content[0].text).toBe("Paris.");
    expect(completed.response.status).toBe("completed");
    validateEvents(events);
    validateResponse(completed.response);
    expect(foldEvents(events)).toEqual(completed.response);
  });

  it("vllm-code_interpreter-step1-stream gives reasoning, then a message, then a function call, in order", () => {
    const events = replay(composerFor(), "chat_completions/vllm-code_interpreter-step1-stream");
    const added = events.filter((e) => e.type === "response.output_item.added").map((e: any) => [e.output_index, e.item.type]);
    expect(added).toEqual([
      [0, "reasoning"],
      [1, "message"],
      [2, "function_call"],
    ]);
    const final: any = events[events.length - 1];
    const [reasoning, message, call] = final.response.output;
    expect(reasoning.content[0].type).toBe("reasoning_text");
    expect(reasoning.content[0].text.length).toBeGreaterThan(20);
    expect(reasoning.summary).toEqual([]);
    expect(message.content[0].text.length).toBeGreaterThan(0);
    expect(call.name).toBe("code_interpreter");
    expect(JSON.parse(call.arguments)).toEqual({ code: "2+2" });
    // Deltas concatenate to the final arguments exactly.
    const args = events.filter((e) => e.type === "response.function_call_arguments.delta").map((e: any) => e.delta).join("");
    expect(args).toBe(call.arguments);
    // Reasoning is closed before the message opens.
    const reasoningDone = events.findIndex((e) => e.type === "response.output_item.done" && (e as any).item.type === "reasoning");
    const messageAdded = events.findIndex((e) => e.type === "response.output_item.added" && (e as any).item.type === "message");
    expect(reasoningDone).toBeLessThan(messageAdded);
    validateEvents(events);
    validateResponse(final.response);
    expect(final.response.usage).toMatchObject({ input_tokens: 344, output_tokens: 70, total_tokens: 414 });
    expect(foldEvents(events)).toEqual(final.response);
  });

  it("as a gateway tool, the same turn streams a code_interpreter_call whose code deltas decode the JSON arguments", () => {
    const composer = composerFor((name) => (name === "code_interpreter" ? { kind: "code_interpreter" } : { kind: "function" }));
    const events = [...composer.start()];
    for (const chunk of recordedChunks("chat_completions/vllm-code_interpreter-step1-stream")) events.push(...composer.chunk(chunk));
    const { events: endEvents, turn } = composer.endTurn();
    events.push(...endEvents);
    expect(turn.calls).toHaveLength(1);
    expect(turn.calls[0].code).toBe("2+2");
    const code = events.filter((e) => e.type === "response.code_interpreter_call_code.delta").map((e: any) => e.delta).join("");
    expect(code).toBe("2+2");
    const types = typesOf(events);
    const ci = types.indexOf("response.code_interpreter_call.in_progress");
    expect(types[ci - 1]).toBe("response.output_item.added");
    expect(types.at(-1)).toBe("response.code_interpreter_call_code.done");
    events.push(...composer.codeInterpreterInterpreting(turn.calls[0].item_id));
    events.push(...composer.codeInterpreterFinished(turn.calls[0].item_id, { ok: true, logs: "4", includeOutputs: true }));
    expect(typesOf(events).slice(-3)).toEqual(["response.code_interpreter_call.interpreting", "response.code_interpreter_call.completed", "response.output_item.done"]);
    const done: any = events.at(-1);
    expect(done.item).toMatchObject({ type: "code_interpreter_call", code: "2+2", status: "completed", outputs: [{ type: "logs", logs: "4" }] });
    validateEvents(events);
  });

  it("text-max_tokens-length-stream ends incomplete with max_output_tokens", () => {
    const composer = composerFor();
    const events = [...composer.start()];
    for (const chunk of recordedChunks("chat_completions/text-max_tokens-length-stream")) events.push(...composer.chunk(chunk));
    const { events: end, turn } = composer.endTurn();
    events.push(...end);
    expect(turn.finish_reason).toBe("length");
    composer.finalize("max_output_tokens");
    events.push(...composer.emitFinal());
    const final: any = events.at(-1);
    expect(final.type).toBe("response.incomplete");
    expect(final.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(final.response.completed_at).toBeNull();
    expect(final.response.output[0].status).toBe("incomplete");
    expect(final.response.output[0].content[0].text).toBe("Partial output");
    validateEvents(events);
  });

  it("OpenAI reasoning event names on request", () => {
    const events = replay(composerFor(undefined, "openai"), "chat_completions/vllm-code_interpreter-step1-stream");
    expect(events.some((e) => e.type === "response.reasoning_text.delta")).toBe(true);
    expect(events.some((e) => e.type === "response.reasoning.delta")).toBe(false);
    validateEvents(events);
  });

  it("parallel tool calls with interleaved fragments keep their own items, and finish in index order", () => {
    const composer = composerFor();
    const events = [...composer.start()];
    const chunk = (tc: any) => ({ choices: [{ index: 0, delta: { tool_calls: [tc] }, finish_reason: null }] });
    events.push(...composer.chunk(chunk({ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } })));
    events.push(...composer.chunk(chunk({ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "" } })));
    events.push(...composer.chunk(chunk({ index: 0, function: { arguments: '{"city":' } })));
    events.push(...composer.chunk(chunk({ index: 1, function: { arguments: '{"tz":"UTC"}' } })));
    events.push(...composer.chunk(chunk({ index: 0, function: { arguments: '"Paris"}' } })));
    events.push(...composer.chunk({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }));
    const { events: end, turn } = composer.endTurn();
    events.push(...end);
    expect(turn.calls.map((c) => [c.call_id, c.arguments])).toEqual([
      ["call_a", '{"city":"Paris"}'],
      ["call_b", '{"tz":"UTC"}'],
    ]);
    const byItem = new Map<string, string>();
    for (const e of events as any[]) if (e.type === "response.function_call_arguments.delta") byItem.set(e.item_id, (byItem.get(e.item_id) ?? "") + e.delta);
    expect([...byItem.values()]).toEqual(['{"city":"Paris"}', '{"tz":"UTC"}']);
    const doneOrder = (events as any[]).filter((e) => e.type === "response.output_item.done").map((e) => e.output_index);
    expect(doneOrder).toEqual([0, 1]);
    validateEvents(events);
  });
});
