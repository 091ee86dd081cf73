/**
 * Untrusted JSON → CreateResponseRequest, or a 400 naming the field. Unknown top-level fields are ignored (clients
 * send newer fields all the time); known fields we cannot honour (background, conversation, prompt) are rejected
 * rather than silently dropped, because dropping them would change what the client gets.
 */
import { invalidRequest } from "../errors.js";
import type { CreateResponseRequest, TextFormat } from "../protocol/request.js";
import {
  expectArray,
  expectObject,
  expectOneOf,
  expectString,
  isObject,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalString,
  type JsonObject,
} from "./field-readers.js";
import { parseInput } from "./parse-input-items.js";
import { parseToolChoice, parseTools } from "./parse-tools.js";

export const SUPPORTED_INCLUDES = [
  "code_interpreter_call.outputs",
  "web_search_call.action.sources",
  "computer_call_output.output.image_url",
  "file_search_call.results",
  "message.input_image.image_url",
  "message.output_text.logprobs",
  "reasoning.encrypted_content",
] as const;

export interface RequestLimits {
  maxInputItems: number;
  maxTools: number;
}

export function parseCreateRequest(raw: unknown, limits: RequestLimits): CreateResponseRequest {
  const body = expectObject(raw, "body");
  const model = body.model;
  if (model === undefined || model === null) throw invalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  if (expectString(model, "model").length === 0) throw invalidRequest("Invalid 'model': must not be empty.", "model", "invalid_value");

  const previous_response_id = optionalString(body.previous_response_id, "previous_response_id") ?? null;
  if (body.input === undefined && previous_response_id === null) {
    throw invalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  }
  // Counted before the items are parsed, so an over-long list costs no per-item work.
  if (Array.isArray(body.input) && body.input.length > limits.maxInputItems) {
    throw invalidRequest(`Too many input items: ${body.input.length} (limit ${limits.maxInputItems}, VR_MAX_INPUT_ITEMS).`, "input", "too_many_items");
  }
  const input = body.input === undefined ? [] : parseInput(body.input);

  rejectUnsupported(body);

  if (Array.isArray(body.tools) && body.tools.length > limits.maxTools) {
    throw invalidRequest(`Too many tools: ${body.tools.length} (limit ${limits.maxTools}, VR_MAX_TOOLS).`, "tools", "too_many_items");
  }
  const tools = parseTools(body.tools);

  const include = body.include === undefined || body.include === null ? [] : expectArray(body.include, "include").map((v, i) => expectOneOf(v, SUPPORTED_INCLUDES, `include[${i}]`));

  return {
    model: model as string,
    input,
    instructions: optionalString(body.instructions, "instructions") ?? null,
    previous_response_id,
    stream: optionalBoolean(body.stream, "stream") ?? false,
    store: optionalBoolean(body.store, "store") ?? true,
    tools,
    tool_choice: parseToolChoice(body.tool_choice),
    include,
    temperature: optionalNumber(body.temperature, "temperature", 0, 2),
    top_p: optionalNumber(body.top_p, "top_p", 0, 1),
    max_output_tokens: body.max_output_tokens === null ? null : optionalInteger(body.max_output_tokens, "max_output_tokens", 1),
    max_tool_calls: body.max_tool_calls === null ? null : optionalInteger(body.max_tool_calls, "max_tool_calls", 1),
    parallel_tool_calls: optionalBoolean(body.parallel_tool_calls, "parallel_tool_calls"),
    reasoning: parseReasoning(body.reasoning),
    text: parseText(body.text),
    top_logprobs: optionalInteger(body.top_logprobs, "top_logprobs", 0, 20),
    metadata: parseMetadata(body.metadata),
    user: optionalString(body.user, "user"),
    service_tier: optionalString(body.service_tier, "service_tier"),
    truncation: body.truncation === undefined || body.truncation === null ? undefined : expectOneOf(body.truncation, ["auto", "disabled"] as const, "truncation"),
    safety_identifier: optionalString(body.safety_identifier, "safety_identifier"),
    prompt_cache_key: optionalString(body.prompt_cache_key, "prompt_cache_key"),
    prompt_cache_retention: optionalString(body.prompt_cache_retention, "prompt_cache_retention"),
    presence_penalty: optionalNumber(body.presence_penalty, "presence_penalty", -2, 2),
    frequency_penalty: optionalNumber(body.frequency_penalty, "frequency_penalty", -2, 2),
  };
}

function rejectUnsupported(body: JsonObject): void {
  if (body.background === true) {
    throw invalidRequest("background mode is not supported by this gateway; use stream: true for long responses.", "background", "unsupported_value");
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw invalidRequest("The Conversations API is not supported; continue with previous_response_id instead.", "conversation", "unsupported_value");
  }
  if (body.prompt !== undefined && body.prompt !== null) {
    throw invalidRequest("Prompt templates are not supported; send instructions and input instead.", "prompt", "unsupported_value");
  }
}

function parseReasoning(value: unknown): CreateResponseRequest["reasoning"] {
  if (value === undefined || value === null) return undefined;
  const obj = expectObject(value, "reasoning");
  const effort = obj.effort === undefined || obj.effort === null ? obj.effort : expectOneOf(obj.effort, ["none", "minimal", "low", "medium", "high", "xhigh"] as const, "reasoning.effort");
  const summary = obj.summary === undefined || obj.summary === null ? obj.summary : expectOneOf(obj.summary, ["auto", "concise", "detailed"] as const, "reasoning.summary");
  return { ...(effort !== undefined ? { effort } : {}), ...(summary !== undefined ? { summary } : {}) } as CreateResponseRequest["reasoning"];
}

function parseText(value: unknown): CreateResponseRequest["text"] {
  if (value === undefined || value === null) return undefined;
  const obj = expectObject(value, "text");
  const out: NonNullable<CreateResponseRequest["text"]> = {};
  if (obj.format !== undefined && obj.format !== null) out.format = parseTextFormat(obj.format);
  if (obj.verbosity !== undefined) {
    out.verbosity = obj.verbosity === null ? null : expectOneOf(obj.verbosity, ["low", "medium", "high"] as const, "text.verbosity");
  }
  return out;
}

function parseTextFormat(value: unknown): TextFormat {
  const fmt = expectObject(value, "text.format");
  const type = expectOneOf(fmt.type, ["text", "json_object", "json_schema"] as const, "text.format.type");
  if (type !== "json_schema") return { type };
  const name = expectString(fmt.name, "text.format.name");
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) throw invalidRequest("Invalid 'text.format.name': must match ^[a-zA-Z0-9_-]{1,64}$.", "text.format.name", "invalid_value");
  if (!isObject(fmt.schema)) throw invalidRequest("Missing required parameter: 'text.format.schema' (a JSON Schema object).", "text.format.schema", "missing_required_parameter");
  return {
    type,
    name,
    schema: fmt.schema,
    ...(fmt.description !== undefined ? { description: expectString(fmt.description, "text.format.description") } : {}),
    ...(fmt.strict !== undefined ? { strict: optionalBoolean(fmt.strict, "text.format.strict") ?? null } : {}),
  };
}

function parseMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = expectObject(value, "metadata");
  const keys = Object.keys(obj);
  if (keys.length > 16) throw invalidRequest(`Invalid 'metadata': at most 16 keys, got ${keys.length}.`, "metadata", "invalid_value");
  for (const key of keys) {
    if (key.length > 64) throw invalidRequest(`Invalid 'metadata': key '${key.slice(0, 16)}…' is longer than 64 characters.`, "metadata", "invalid_value");
    const v = expectString(obj[key], `metadata.${key}`);
    if (v.length > 512) throw invalidRequest(`Invalid 'metadata.${key}': longer than 512 characters.`, `metadata.${key}`, "invalid_value");
  }
  return obj as Record<string, string>;
}
