import { describe, expect, it } from "vitest";
import { convertInputItems } from "../../src/core/translate/convert-input-items.js";
import { buildChatRequest } from "../../src/core/translate/build-chat-request.js";
import { buildToolSet } from "../../src/core/translate/build-tool-set.js";
import { parseCreateRequest } from "../../src/core/request/parse-request.js";
import { parseInput } from "../../src/core/request/parse-input-items.js";

describe("Responses items → Chat messages", () => {
  it("merges consecutive assistant-side items into one assistant message and keeps tool results after it", () => {
    const items = parseInput([
      { role: "developer", content: "be nice" },
      { role: "user", content: "hi" },
      { type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "thinking" }] },
      { type: "message", role: "assistant", id: "msg_1", status: "completed", content: [{ type: "output_text", text: "Let me check." }] },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
      { type: "code_interpreter_call", id: "ci_1", code: "2+2", container_id: "cntr_1", status: "completed", outputs: [{ type: "logs", logs: "4" }] },
      { type: "function_call_output", call_id: "c1", output: "done" },
      { type: "message", role: "assistant", content: "Result: 4" },
    ]);
    expect(convertInputItems(items)).toEqual([
      { role: "system", content: "be nice" },
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: "Let me check.",
        reasoning_content: "thinking",
        tool_calls: [
          { id: "c1", type: "function", function: { name: "f", arguments: "{}" } },
          { id: "ci_1", type: "function", function: { name: "code_interpreter", arguments: '{"code":"2+2"}' } },
        ],
      },
      { role: "tool", tool_call_id: "ci_1", content: "4" },
      { role: "tool", tool_call_id: "c1", content: "done" },
      { role: "assistant", content: "Result: 4" },
    ]);
  });

  it("text after tool calls in one assistant run starts a new assistant turn", () => {
    const items = parseInput([
      { role: "user", content: "q" },
      { type: "mcp_call", id: "mcp_1", server_label: "s", name: "t", arguments: "{}", status: "completed", output: "out" },
      { type: "message", role: "assistant", content: "answer" },
    ]);
    expect(convertInputItems(items)).toEqual([
      { role: "user", content: "q" },
      { role: "assistant", content: null, tool_calls: [{ id: "mcp_1", type: "function", function: { name: "mcp__s__t", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "mcp_1", content: "out" },
      { role: "assistant", content: "answer" },
    ]);
  });

  it("instructions merge with leading system messages into one system message", () => {
    const req = parseCreateRequest({ model: "m", instructions: "A", input: [{ role: "system", content: "B" }, { role: "user", content: "u" }] }, { maxInputItems: 10, maxTools: 10 });
    const chat = buildChatRequest(req, convertInputItems(req.input), buildToolSet([], undefined, new Map()));
    expect(chat.messages).toEqual([
      { role: "system", content: "A\n\nB" },
      { role: "user", content: "u" },
    ]);
    expect(chat.tools).toBeUndefined();
    expect(chat.tool_choice).toBeUndefined();
  });
});
