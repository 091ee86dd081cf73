/**
 * A validated `POST /v1/responses` body. Produced by `parse-request.ts`; fields the client omitted stay
 * `undefined` so that "omitted" (inherit / don't forward) differs from an explicit value.
 */
import type { InputItem } from "./input-items.js";

export interface FunctionTool {
  type: "function";
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export interface CodeInterpreterTool {
  type: "code_interpreter";
  container?: unknown;
}

export type McpApprovalFilter = { tool_names?: string[]; read_only?: boolean };

export interface McpTool {
  type: "mcp";
  server_label: string;
  server_url?: string;
  server_description?: string;
  allowed_tools?: string[] | McpApprovalFilter | null;
  require_approval?: "always" | "never" | { always?: McpApprovalFilter; never?: McpApprovalFilter } | null;
  /** Request-scoped secrets: never stored, logged, traced, echoed or sent to the model. */
  authorization?: string;
  headers?: Record<string, string> | null;
}

export type ToolDeclaration = FunctionTool | CodeInterpreterTool | McpTool;

export type HostedToolChoice = { type: "code_interpreter" };
export type FunctionToolChoice = { type: "function"; name: string };
export type McpToolChoice = { type: "mcp"; server_label: string; name?: string | null };
export type AllowedToolsChoice = {
  type: "allowed_tools";
  mode: "auto" | "required";
  tools: Array<FunctionToolChoice | HostedToolChoice | McpToolChoice>;
};

export type ToolChoice = "auto" | "none" | "required" | FunctionToolChoice | HostedToolChoice | McpToolChoice | AllowedToolsChoice;

export type TextFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean | null };

export interface CreateResponseRequest {
  model: string;
  input: InputItem[];
  instructions: string | null;
  previous_response_id: string | null;
  stream: boolean;
  store: boolean;
  tools: ToolDeclaration[] | undefined;
  tool_choice: ToolChoice | undefined;
  include: string[];
  temperature: number | undefined;
  top_p: number | undefined;
  max_output_tokens: number | null | undefined;
  max_tool_calls: number | null | undefined;
  parallel_tool_calls: boolean | undefined;
  reasoning: { effort?: string | null; summary?: string | null } | undefined;
  text: { format?: TextFormat; verbosity?: string | null } | undefined;
  top_logprobs: number | undefined;
  metadata: Record<string, string> | undefined;
  user: string | undefined;
  service_tier: string | undefined;
  truncation: "auto" | "disabled" | undefined;
  safety_identifier: string | undefined;
  prompt_cache_key: string | undefined;
  prompt_cache_retention: string | undefined;
  presence_penalty: number | undefined;
  frequency_penalty: number | undefined;
}
