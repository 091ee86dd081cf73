/**
 * Responses items → Chat Completions messages, in order.
 *
 * Consecutive assistant-side items (text, reasoning, tool calls of any kind) merge into ONE assistant message,
 * because that is what the model produced in one turn and what chat templates expect. Gateway-executed tool
 * items (code interpreter, MCP) replay as an assistant tool call plus its `tool` result, so the model sees what it
 * did before; reasoning goes back as `reasoning_content`, never as visible text.
 */
import { invalidRequest } from "../errors.js";
import type { ChatContentPart, ChatMessage, ChatToolCall } from "../protocol/chat.js";
import type { InputItem, UserContentPart } from "../protocol/input-items.js";
import type { CodeInterpreterCallItem, McpCallItem } from "../protocol/output-items.js";
import { codeInterpreterResultText } from "./tool-result-text.js";
import { mcpModelName } from "./tool-names.js";

interface PendingAssistant {
  texts: string[];
  reasoning: string[];
  tool_calls: ChatToolCall[];
  /** Results of gateway-executed calls in this assistant turn: they must follow the assistant message. */
  results: ChatMessage[];
}

export function convertInputItems(items: readonly InputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let pending: PendingAssistant | null = null;

  const flush = (): void => {
    if (!pending) return;
    const msg: ChatMessage = {
      role: "assistant",
      content: pending.texts.length > 0 ? pending.texts.join("\n\n") : null,
      ...(pending.tool_calls.length > 0 ? { tool_calls: pending.tool_calls } : {}),
      ...(pending.reasoning.length > 0 ? { reasoning_content: pending.reasoning.join("\n\n") } : {}),
    };
    messages.push(msg, ...pending.results);
    pending = null;
  };
  const assistant = (startsNewTurn: boolean): PendingAssistant => {
    // Text or reasoning after tool calls is the model's next turn, which comes after the tool results.
    if (pending && startsNewTurn && pending.tool_calls.length > 0) flush();
    pending ??= { texts: [], reasoning: [], tool_calls: [], results: [] };
    return pending;
  };

  items.forEach((item, i) => {
    switch (item.type) {
      case "message": {
        if (item.role === "assistant") {
          const text =
            typeof item.content === "string"
              ? item.content
              : item.content.map((p) => (p.type === "refusal" ? p.refusal : p.text)).join("");
          if (text.length > 0) assistant(true).texts.push(text);
          return;
        }
        flush();
        if (item.role === "user") messages.push({ role: "user", content: convertUserContent(item.content, `input[${i}].content`) });
        else messages.push({ role: "system", content: textOnly(item.content) });
        return;
      }
      case "reasoning": {
        const text = item.content.length > 0 ? item.content.map((c) => c.text).join("") : item.summary.map((s) => s.text).join("\n\n");
        if (text.length > 0) assistant(true).reasoning.push(text);
        return;
      }
      case "function_call":
        assistant(false).tool_calls.push({ id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } });
        return;
      case "function_call_output":
        flush();
        messages.push({ role: "tool", tool_call_id: item.call_id, content: functionOutputText(item.output) });
        return;
      case "code_interpreter_call":
        replayGatewayCall(assistant(false), item.id, "code_interpreter", JSON.stringify({ code: item.code }), codeInterpreterReplayText(item));
        return;
      case "mcp_call":
        if (item.status === "in_progress" || item.status === "calling") return;
        replayGatewayCall(assistant(false), item.id, mcpModelName(item.server_label, item.name), item.arguments, mcpReplayText(item));
        return;
      case "mcp_list_tools":
      case "mcp_approval_request":
      case "mcp_approval_response":
        // Bookkeeping items: what the model needs from them is replayed through the resulting mcp_call.
        return;
      default: {
        const never: never = item;
        throw new Error(`unhandled input item ${(never as { type: string }).type}`);
      }
    }
  });
  flush();
  return messages;
}

function replayGatewayCall(turn: PendingAssistant, id: string, name: string, args: string, result: string): void {
  turn.tool_calls.push({ id, type: "function", function: { name, arguments: args } });
  turn.results.push({ role: "tool", tool_call_id: id, content: result });
}

function codeInterpreterReplayText(item: CodeInterpreterCallItem): string {
  if (item.outputs && item.outputs.length > 0) return item.outputs.map((o) => o.logs).join("\n");
  return codeInterpreterResultText({ status: item.status === "failed" ? "error" : "success", stdout: "", stderr: "", result: null });
}

function mcpReplayText(item: McpCallItem): string {
  return item.status === "failed" ? `Error: ${item.error ?? "MCP tool call failed"}` : (item.output ?? "");
}

function textOnly(content: string | UserContentPart[]): string {
  if (typeof content === "string") return content;
  return content.map((p) => (p.type === "input_text" ? p.text : "")).join("\n");
}

function functionOutputText(output: string | UserContentPart[]): string {
  if (typeof output === "string") return output;
  // Chat tool messages are text-only: keep text parts, describe what cannot be sent.
  return output
    .map((p) => (p.type === "input_text" ? p.text : p.type === "input_image" ? `[image: ${p.image_url.slice(0, 64)}]` : decodeFileText(p.file_data, p.filename, "function_call_output")))
    .join("\n");
}

function convertUserContent(content: string | UserContentPart[], param: string): string | ChatContentPart[] {
  if (typeof content === "string") return content;
  return content.map((part, j): ChatContentPart => {
    switch (part.type) {
      case "input_text":
        return { type: "text", text: part.text };
      case "input_image":
        return { type: "image_url", image_url: { url: part.image_url, detail: part.detail } };
      case "input_file":
        return { type: "text", text: decodeFileText(part.file_data, part.filename, `${param}[${j}].file_data`) };
    }
  });
}

const TEXT_MIME = /^(text\/[\w.+-]+|application\/(json|xml|x-yaml|yaml|csv|javascript|x-ndjson))$/i;

/** input_file → text for models that only read text. Binary formats (PDF, images as files) get a clear 400. */
export function decodeFileText(fileData: string, filename: string | undefined, param: string): string {
  const match = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(fileData);
  if (!match) throw invalidRequest(`'${param}' must be a data URL (data:<mime>;base64,<data>).`, param, "invalid_value");
  const mime = match[1] ?? "text/plain";
  if (!TEXT_MIME.test(mime)) {
    throw invalidRequest(`'${param}': files of type '${mime}' cannot be converted to text for the model; send text, JSON, CSV or Markdown files, or extract the text client-side.`, param, "unsupported_value");
  }
  let text: string;
  try {
    text = match[2] ? new TextDecoder("utf-8", { fatal: true }).decode(base64Bytes(match[3])) : decodeURIComponent(match[3]);
  } catch (err) {
    throw invalidRequest(`'${param}' is not valid base64-encoded UTF-8 text (${(err as Error).message}).`, param, "invalid_value");
  }
  return filename ? `[file: ${filename}]\n${text}` : text;
}

/**
 * `atob` gives one char per byte; a plain loop into a preallocated array is ~20× faster than `Uint8Array.from` with
 * a mapping callback (a function call per byte) — this runs for every attached file on every turn.
 */
function base64Bytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
