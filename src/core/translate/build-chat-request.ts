/**
 * The vLLM Chat Completions request for one upstream turn. Sampling fields are forwarded only when the client set
 * them, so vLLM's (and the model's generation_config) defaults stay in charge otherwise.
 */
import type { ChatMessage, ChatRequest } from "../protocol/chat.js";
import type { CreateResponseRequest } from "../protocol/request.js";
import type { ToolSet } from "./build-tool-set.js";

export function buildChatRequest(req: CreateResponseRequest, history: ChatMessage[], tools: ToolSet): ChatRequest {
  const messages = req.instructions ? withInstructions(req.instructions, history) : history;
  const chat: ChatRequest = {
    model: req.model,
    messages,
    stream: true,
    // Without this vLLM omits usage from streams and every response would report zero tokens.
    stream_options: { include_usage: true },
  };
  if (tools.chatTools.length > 0) {
    chat.tools = tools.chatTools;
    if (tools.chatToolChoice !== undefined) chat.tool_choice = tools.chatToolChoice;
    if (req.parallel_tool_calls !== undefined) chat.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (req.temperature !== undefined) chat.temperature = req.temperature;
  if (req.top_p !== undefined) chat.top_p = req.top_p;
  if (req.max_output_tokens !== undefined && req.max_output_tokens !== null) {
    // vLLM reads max_completion_tokens; releases before it was added read max_tokens.
    chat.max_completion_tokens = req.max_output_tokens;
    chat.max_tokens = req.max_output_tokens;
  }
  if (req.reasoning?.effort) chat.reasoning_effort = req.reasoning.effort;
  if (req.top_logprobs !== undefined && req.top_logprobs > 0) {
    chat.logprobs = true;
    chat.top_logprobs = req.top_logprobs;
  }
  if (req.presence_penalty !== undefined) chat.presence_penalty = req.presence_penalty;
  if (req.frequency_penalty !== undefined) chat.frequency_penalty = req.frequency_penalty;
  const format = req.text?.format;
  if (format?.type === "json_object") chat.response_format = { type: "json_object" };
  else if (format?.type === "json_schema") {
    chat.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.strict !== undefined && format.strict !== null ? { strict: format.strict } : {}),
        ...(format.description !== undefined ? { description: format.description } : {}),
      },
    };
  }
  return chat;
}

/**
 * `instructions` lead the conversation as one system message. Leading system messages from the input are merged
 * into it because many chat templates accept a single system message only, at position 0.
 */
function withInstructions(instructions: string, history: ChatMessage[]): ChatMessage[] {
  let i = 0;
  const parts = [instructions];
  while (i < history.length && history[i].role === "system") {
    parts.push((history[i] as { content: string }).content);
    i++;
  }
  return [{ role: "system", content: parts.join("\n\n") }, ...history.slice(i)];
}
