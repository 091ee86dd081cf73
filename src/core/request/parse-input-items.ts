/**
 * `input` → typed input items. Strict where the Responses spec is strict (clear 400 naming `input[i]…`), lenient
 * where clients send harmless variants (an easy message without `type`, text parts in system messages).
 */
import { invalidRequest } from "../errors.js";
import type {
  AssistantMessageInput,
  InputItem,
  UserContentPart,
  FunctionCallOutputInput,
} from "../protocol/input-items.js";
import {
  expectArray,
  expectBoolean,
  expectObject,
  expectOneOf,
  expectString,
  isObject,
  optionalString,
  type JsonObject,
} from "./field-readers.js";

export function parseInput(value: unknown): InputItem[] {
  if (typeof value === "string") return [{ type: "message", role: "user", content: value }];
  const list = expectArray(value, "input");
  return list.map((raw, i) => parseInputItem(raw, `input[${i}]`));
}

function parseInputItem(raw: unknown, param: string): InputItem {
  const item = expectObject(raw, param);
  const type = item.type === undefined ? "message" : expectString(item.type, `${param}.type`);
  switch (type) {
    case "message":
      return parseMessage(item, param);
    case "function_call":
      return {
        type: "function_call",
        ...(item.id !== undefined ? { id: expectString(item.id, `${param}.id`) } : {}),
        call_id: expectString(item.call_id, `${param}.call_id`),
        name: expectString(item.name, `${param}.name`),
        arguments: expectString(item.arguments, `${param}.arguments`),
        status: "completed",
      };
    case "function_call_output":
      return parseFunctionCallOutput(item, param);
    case "reasoning":
      return {
        type: "reasoning",
        ...(item.id !== undefined ? { id: expectString(item.id, `${param}.id`) } : {}),
        summary: expectArray(item.summary ?? [], `${param}.summary`).map((s, j) => {
          const part = expectObject(s, `${param}.summary[${j}]`);
          return { type: "summary_text" as const, text: expectString(part.text, `${param}.summary[${j}].text`) };
        }),
        content: expectArray(item.content ?? [], `${param}.content`).map((c, j) => {
          const part = expectObject(c, `${param}.content[${j}]`);
          return { type: "reasoning_text" as const, text: expectString(part.text, `${param}.content[${j}].text`) };
        }),
        ...(typeof item.encrypted_content === "string" ? { encrypted_content: item.encrypted_content } : {}),
      };
    case "code_interpreter_call":
      return {
        type: "code_interpreter_call",
        id: expectString(item.id, `${param}.id`),
        container_id: optionalString(item.container_id, `${param}.container_id`) ?? "",
        code: optionalString(item.code, `${param}.code`) ?? "",
        status: expectOneOf(item.status ?? "completed", ["in_progress", "interpreting", "completed", "incomplete", "failed"] as const, `${param}.status`),
        outputs: Array.isArray(item.outputs)
          ? item.outputs.filter(isObject).map((o) => ({ type: "logs" as const, logs: typeof o.logs === "string" ? o.logs : "" }))
          : null,
      };
    case "mcp_call":
      return {
        type: "mcp_call",
        id: expectString(item.id, `${param}.id`),
        server_label: expectString(item.server_label, `${param}.server_label`),
        name: expectString(item.name, `${param}.name`),
        arguments: expectString(item.arguments ?? "{}", `${param}.arguments`),
        status: expectOneOf(item.status ?? "completed", ["in_progress", "completed", "incomplete", "calling", "failed"] as const, `${param}.status`),
        output: optionalString(item.output, `${param}.output`) ?? null,
        error: optionalString(item.error, `${param}.error`) ?? null,
      };
    case "mcp_list_tools":
      return {
        type: "mcp_list_tools",
        id: expectString(item.id, `${param}.id`),
        server_label: expectString(item.server_label, `${param}.server_label`),
        tools: expectArray(item.tools ?? [], `${param}.tools`).map((t, j) => {
          const tool = expectObject(t, `${param}.tools[${j}]`);
          return {
            name: expectString(tool.name, `${param}.tools[${j}].name`),
            description: optionalString(tool.description, `${param}.tools[${j}].description`) ?? null,
            input_schema: isObject(tool.input_schema) ? tool.input_schema : {},
          };
        }),
        error: optionalString(item.error, `${param}.error`) ?? null,
      };
    case "mcp_approval_request":
      return {
        type: "mcp_approval_request",
        id: expectString(item.id, `${param}.id`),
        server_label: expectString(item.server_label, `${param}.server_label`),
        name: expectString(item.name, `${param}.name`),
        arguments: expectString(item.arguments ?? "{}", `${param}.arguments`),
      };
    case "mcp_approval_response":
      return {
        type: "mcp_approval_response",
        ...(item.id !== undefined ? { id: expectString(item.id, `${param}.id`) } : {}),
        approval_request_id: expectString(item.approval_request_id, `${param}.approval_request_id`),
        approve: expectBoolean(item.approve, `${param}.approve`),
        reason: optionalString(item.reason, `${param}.reason`) ?? null,
      };
    case "item_reference":
      throw invalidRequest(`'${param}': item_reference inputs are not supported; send the item itself or use previous_response_id.`, `${param}.type`, "unsupported_value");
    default:
      throw invalidRequest(`Unsupported input item type '${type}' at '${param}'.`, `${param}.type`, "unsupported_value");
  }
}

function parseMessage(item: JsonObject, param: string): InputItem {
  const role = expectOneOf(item.role, ["user", "assistant", "system", "developer"] as const, `${param}.role`);
  if (role === "assistant") return parseAssistantMessage(item, param);
  const content = item.content;
  if (typeof content === "string") return { type: "message", role, content };
  const parts = expectArray(content, `${param}.content`).map((p, j) => parseUserPart(p, `${param}.content[${j}]`));
  if (role !== "user") {
    // System/developer prompts are text for every chat template vLLM ships; reject what cannot be text.
    const bad = parts.findIndex((p) => p.type !== "input_text");
    if (bad >= 0) throw invalidRequest(`'${param}': ${role} messages accept only text content.`, `${param}.content[${bad}].type`, "invalid_value");
  }
  return { type: "message", role, content: parts };
}

function parseAssistantMessage(item: JsonObject, param: string): AssistantMessageInput {
  const content = item.content;
  const base = {
    type: "message" as const,
    role: "assistant" as const,
    ...(typeof item.id === "string" ? { id: item.id } : {}),
    ...(typeof item.status === "string" ? { status: item.status } : {}),
  };
  if (typeof content === "string") return { ...base, content };
  const parts = expectArray(content, `${param}.content`).map((p, j) => {
    const partParam = `${param}.content[${j}]`;
    const part = expectObject(p, partParam);
    const type = expectOneOf(part.type, ["output_text", "refusal", "input_text"] as const, `${partParam}.type`);
    if (type === "refusal") return { type, refusal: expectString(part.refusal, `${partParam}.refusal`) };
    return { type, text: expectString(part.text, `${partParam}.text`) };
  });
  return { ...base, content: parts };
}

function parseFunctionCallOutput(item: JsonObject, param: string): FunctionCallOutputInput {
  const output = item.output;
  const parsed: FunctionCallOutputInput["output"] =
    typeof output === "string"
      ? output
      : expectArray(output, `${param}.output`).map((p, j) => parseUserPart(p, `${param}.output[${j}]`));
  return {
    type: "function_call_output",
    ...(item.id !== undefined ? { id: expectString(item.id, `${param}.id`) } : {}),
    call_id: expectString(item.call_id, `${param}.call_id`),
    output: parsed,
  };
}

function parseUserPart(raw: unknown, param: string): UserContentPart {
  const part = expectObject(raw, param);
  const type = expectOneOf(part.type, ["input_text", "input_image", "input_file"] as const, `${param}.type`);
  switch (type) {
    case "input_text":
      return { type, text: expectString(part.text, `${param}.text`) };
    case "input_image": {
      if (part.image_url === undefined && part.file_id !== undefined) {
        throw invalidRequest(`'${param}': file_id images are not supported (this gateway has no Files API); send image_url.`, `${param}.file_id`, "unsupported_value");
      }
      const detail = part.detail === undefined || part.detail === null ? "auto" : expectOneOf(part.detail, ["low", "high", "auto"] as const, `${param}.detail`);
      return { type, image_url: expectString(part.image_url, `${param}.image_url`), detail };
    }
    case "input_file": {
      if (part.file_data === undefined) {
        throw invalidRequest(`'${param}': only input_file with file_data is supported (no Files API, no file_url fetching).`, `${param}.file_data`, "unsupported_value");
      }
      return {
        type,
        file_data: expectString(part.file_data, `${param}.file_data`),
        ...(typeof part.filename === "string" ? { filename: part.filename } : {}),
      };
    }
  }
}
