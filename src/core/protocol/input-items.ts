/**
 * Input items a client may send in `input` (after validation). Output items can be replayed as input, so the
 * union includes them; `function_call_output` and `mcp_approval_response` exist only on the input side.
 */
import type {
  CodeInterpreterCallItem,
  FunctionCallItem,
  McpApprovalRequestItem,
  McpCallItem,
  McpListToolsItem,
  ReasoningItem,
} from "./output-items.js";

export interface InputTextPart {
  type: "input_text";
  text: string;
}

export interface InputImagePart {
  type: "input_image";
  image_url: string;
  detail: "low" | "high" | "auto";
}

export interface InputFilePart {
  type: "input_file";
  filename?: string;
  file_data: string;
}

/** Parts of a replayed assistant message. */
export interface ReplayedOutputTextPart {
  type: "output_text";
  text: string;
}

export interface ReplayedRefusalPart {
  type: "refusal";
  refusal: string;
}

export type UserContentPart = InputTextPart | InputImagePart | InputFilePart;

export interface UserMessageInput {
  type: "message";
  role: "user" | "system" | "developer";
  content: string | UserContentPart[];
}

export interface AssistantMessageInput {
  type: "message";
  role: "assistant";
  id?: string;
  status?: string;
  content: string | Array<ReplayedOutputTextPart | ReplayedRefusalPart | InputTextPart>;
}

export interface FunctionCallOutputInput {
  type: "function_call_output";
  id?: string;
  call_id: string;
  output: string | Array<InputTextPart | InputImagePart | InputFilePart>;
  status?: string;
}

export interface McpApprovalResponseInput {
  type: "mcp_approval_response";
  id?: string;
  approval_request_id: string;
  approve: boolean;
  reason?: string | null;
}

export type FunctionCallInput = Omit<FunctionCallItem, "id" | "status"> & { id?: string; status?: FunctionCallItem["status"] };
export type ReasoningInput = Omit<ReasoningItem, "id"> & { id?: string };

export type InputItem =
  | UserMessageInput
  | AssistantMessageInput
  | FunctionCallInput
  | FunctionCallOutputInput
  | ReasoningInput
  | CodeInterpreterCallItem
  | McpCallItem
  | McpListToolsItem
  | McpApprovalRequestItem
  | McpApprovalResponseInput;
