/**
 * Output items exactly as they appear on the wire (`response.output[]`, `output_item.added/done`).
 * snake_case mirrors the Responses API; every union is discriminated by `type`.
 */

export type ItemStatus = "in_progress" | "completed" | "incomplete";

export interface OutputTextPart {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface RefusalPart {
  type: "refusal";
  refusal: string;
}

export interface MessageItem {
  type: "message";
  id: string;
  status: ItemStatus;
  role: "assistant";
  content: Array<OutputTextPart | RefusalPart>;
}

export interface ReasoningTextPart {
  type: "reasoning_text";
  text: string;
}

export interface ReasoningItem {
  type: "reasoning";
  id: string;
  summary: Array<{ type: "summary_text"; text: string }>;
  content: ReasoningTextPart[];
  encrypted_content?: string | null;
}

export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}

export interface CodeInterpreterLogsOutput {
  type: "logs";
  logs: string;
}

export interface CodeInterpreterCallItem {
  type: "code_interpreter_call";
  id: string;
  container_id: string;
  code: string;
  status: "in_progress" | "interpreting" | "completed" | "incomplete" | "failed";
  outputs: CodeInterpreterLogsOutput[] | null;
}

export interface McpCallItem {
  type: "mcp_call";
  id: string;
  server_label: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete" | "calling" | "failed";
  output: string | null;
  error: string | null;
  approval_request_id?: string | null;
}

export interface McpListToolsItem {
  type: "mcp_list_tools";
  id: string;
  server_label: string;
  tools: Array<{ name: string; description: string | null; input_schema: Record<string, unknown>; annotations?: unknown }>;
  error: string | null;
}

export interface McpApprovalRequestItem {
  type: "mcp_approval_request";
  id: string;
  server_label: string;
  name: string;
  arguments: string;
}

export type OutputItem =
  | MessageItem
  | ReasoningItem
  | FunctionCallItem
  | CodeInterpreterCallItem
  | McpCallItem
  | McpListToolsItem
  | McpApprovalRequestItem;
