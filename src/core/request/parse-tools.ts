/**
 * `tools` and `tool_choice` → typed declarations. Shape checks only; whether a tool_choice names a tool that is
 * actually available is decided after `previous_response_id` inheritance (see resolve-tools.ts).
 */
import { invalidRequest } from "../errors.js";
import type { McpApprovalFilter, McpTool, ToolChoice, ToolDeclaration } from "../protocol/request.js";
import {
  describe,
  expectArray,
  expectObject,
  expectOneOf,
  expectString,
  isObject,
  optionalBoolean,
  optionalString,
  stringRecord,
} from "./field-readers.js";

/** Names starting with this prefix are how MCP tools are shown to the model, so clients may not use it. */
export const RESERVED_FUNCTION_PREFIX = "mcp__";
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const UNSUPPORTED_TOOL_TYPES = new Set([
  "web_search",
  "web_search_preview",
  "web_search_2025_08_26",
  "web_search_preview_2025_03_11",
  "file_search",
  "computer_use_preview",
  "image_generation",
  "local_shell",
  "shell",
  "custom",
  "apply_patch",
]);

export function parseTools(value: unknown): ToolDeclaration[] | undefined {
  if (value === undefined) return undefined;
  if (value === null) return [];
  const list = expectArray(value, "tools");
  const tools = list.map((raw, i) => parseTool(raw, `tools[${i}]`));
  rejectDuplicates(tools);
  return tools;
}

function parseTool(raw: unknown, param: string): ToolDeclaration {
  const tool = expectObject(raw, param);
  const type = expectString(tool.type, `${param}.type`);
  switch (type) {
    case "function": {
      // Chat Completions' nested shape is a common mistake; say so instead of "name is required".
      if (tool.name === undefined && isObject(tool.function)) {
        throw invalidRequest(`'${param}': Responses function tools are flat ({type, name, parameters}); the nested 'function' object is the Chat Completions shape.`, `${param}.name`, "missing_required_parameter");
      }
      const name = expectString(tool.name, `${param}.name`);
      if (!FUNCTION_NAME.test(name)) throw invalidRequest(`Invalid '${param}.name': must match ^[a-zA-Z0-9_-]{1,64}$.`, `${param}.name`, "invalid_value");
      if (name.startsWith(RESERVED_FUNCTION_PREFIX)) {
        throw invalidRequest(`Invalid '${param}.name': function names starting with '${RESERVED_FUNCTION_PREFIX}' are reserved for MCP tools.`, `${param}.name`, "invalid_value");
      }
      if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) {
        throw invalidRequest(`Invalid type for '${param}.parameters': expected a JSON Schema object, but got ${describe(tool.parameters)}.`, `${param}.parameters`, "invalid_type");
      }
      return {
        type: "function",
        name,
        ...(tool.description !== undefined ? { description: optionalString(tool.description, `${param}.description`) ?? null } : {}),
        ...(tool.parameters !== undefined ? { parameters: (tool.parameters as Record<string, unknown> | null) ?? null } : {}),
        ...(tool.strict !== undefined ? { strict: optionalBoolean(tool.strict, `${param}.strict`) ?? null } : {}),
      };
    }
    case "code_interpreter":
      return { type: "code_interpreter", ...(tool.container !== undefined ? { container: tool.container } : {}) };
    case "mcp":
      return parseMcpTool(tool, param);
    default:
      if (UNSUPPORTED_TOOL_TYPES.has(type)) {
        throw invalidRequest(`Tool type '${type}' is not supported by this gateway (${param}).`, `${param}.type`, "unsupported_value");
      }
      throw invalidRequest(`Unknown tool type '${type}' at '${param}'.`, `${param}.type`, "invalid_value");
  }
}

function parseMcpTool(tool: Record<string, unknown>, param: string): McpTool {
  const server_label = expectString(tool.server_label, `${param}.server_label`);
  if (!/^[a-zA-Z0-9_-]+$/.test(server_label)) {
    throw invalidRequest(`Invalid '${param}.server_label': use letters, digits, '_' and '-'.`, `${param}.server_label`, "invalid_value");
  }
  if (tool.connector_id !== undefined) {
    throw invalidRequest(`'${param}.connector_id': connectors are not supported; use server_url or a built-in server_label.`, `${param}.connector_id`, "unsupported_value");
  }
  const mcp: McpTool = { type: "mcp", server_label };
  if (tool.server_url !== undefined) mcp.server_url = expectString(tool.server_url, `${param}.server_url`);
  if (tool.server_description !== undefined) mcp.server_description = expectString(tool.server_description, `${param}.server_description`);
  if (tool.allowed_tools !== undefined && tool.allowed_tools !== null) {
    mcp.allowed_tools = Array.isArray(tool.allowed_tools)
      ? tool.allowed_tools.map((t, j) => expectString(t, `${param}.allowed_tools[${j}]`))
      : parseApprovalFilter(tool.allowed_tools, `${param}.allowed_tools`);
  }
  if (tool.require_approval !== undefined && tool.require_approval !== null) {
    const ra = tool.require_approval;
    if (typeof ra === "string") mcp.require_approval = expectOneOf(ra, ["always", "never"] as const, `${param}.require_approval`);
    else {
      const obj = expectObject(ra, `${param}.require_approval`);
      mcp.require_approval = {
        ...(obj.always !== undefined ? { always: parseApprovalFilter(obj.always, `${param}.require_approval.always`) } : {}),
        ...(obj.never !== undefined ? { never: parseApprovalFilter(obj.never, `${param}.require_approval.never`) } : {}),
      };
    }
  }
  if (tool.authorization !== undefined) mcp.authorization = expectString(tool.authorization, `${param}.authorization`);
  if (tool.headers !== undefined && tool.headers !== null) mcp.headers = stringRecord(tool.headers, `${param}.headers`);
  return mcp;
}

function parseApprovalFilter(value: unknown, param: string): McpApprovalFilter {
  const obj = expectObject(value, param);
  const filter: McpApprovalFilter = {};
  if (obj.tool_names !== undefined) filter.tool_names = expectArray(obj.tool_names, `${param}.tool_names`).map((t, j) => expectString(t, `${param}.tool_names[${j}]`));
  if (obj.read_only !== undefined) filter.read_only = optionalBoolean(obj.read_only, `${param}.read_only`);
  return filter;
}

function rejectDuplicates(tools: ToolDeclaration[]): void {
  const seen = new Map<string, number>();
  tools.forEach((tool, i) => {
    const key = tool.type === "function" ? `function:${tool.name}` : tool.type === "mcp" ? `mcp:${tool.server_label}` : tool.type;
    const first = seen.get(key);
    if (first !== undefined) {
      const what = tool.type === "function" ? `function '${tool.name}'` : tool.type === "mcp" ? `MCP server_label '${tool.server_label}'` : `'${tool.type}'`;
      throw invalidRequest(`Duplicate tool: ${what} is declared at tools[${first}] and tools[${i}].`, `tools[${i}]`, "invalid_value");
    }
    seen.set(key, i);
  });
}

export function parseToolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return expectOneOf(value, ["auto", "none", "required"] as const, "tool_choice");
  const obj = expectObject(value, "tool_choice");
  const type = expectString(obj.type, "tool_choice.type");
  switch (type) {
    case "function": {
      // Accept the Chat Completions nesting too ({type, function:{name}}): clients port code between the APIs.
      const name = obj.name ?? (isObject(obj.function) ? obj.function.name : undefined);
      return { type: "function", name: expectString(name, "tool_choice.name") };
    }
    case "code_interpreter":
      return { type: "code_interpreter" };
    case "mcp":
      return {
        type: "mcp",
        server_label: expectString(obj.server_label, "tool_choice.server_label"),
        name: optionalString(obj.name, "tool_choice.name") ?? null,
      };
    case "allowed_tools": {
      const mode = expectOneOf(obj.mode ?? "auto", ["auto", "required"] as const, "tool_choice.mode");
      const tools = expectArray(obj.tools, "tool_choice.tools").map((t, i) => {
        const param = `tool_choice.tools[${i}]`;
        const entry = expectObject(t, param);
        const entryType = expectOneOf(entry.type, ["function", "code_interpreter", "mcp"] as const, `${param}.type`);
        if (entryType === "function") return { type: "function" as const, name: expectString(entry.name, `${param}.name`) };
        if (entryType === "mcp") {
          return { type: "mcp" as const, server_label: expectString(entry.server_label, `${param}.server_label`), name: optionalString(entry.name, `${param}.name`) ?? null };
        }
        return { type: "code_interpreter" as const };
      });
      return { type: "allowed_tools", mode, tools };
    }
    default:
      throw invalidRequest(`Unsupported tool_choice type '${type}'.`, "tool_choice.type", "invalid_value");
  }
}
