/**
 * How a tool name the model called maps to who executes it. The composer uses it to choose the item type
 * (`function_call`, `code_interpreter_call`, `mcp_call`, `mcp_approval_request`); the engine to execute.
 */
export type ToolRoute =
  | { kind: "function" }
  | { kind: "code_interpreter" }
  | { kind: "mcp"; server_label: string; tool_name: string; requires_approval: boolean };

export type ToolType = "function" | "code_interpreter" | "mcp" | "web_search";

/** One tool call the model made in a turn, after the turn ended (arguments complete). */
export interface TurnToolCall {
  route: ToolRoute;
  /** The upstream tool-call id (`call_id` on function_call items). */
  call_id: string;
  /** The output item that represents the call (fc_, ci_, mcp_, mcpr_). */
  item_id: string;
  output_index: number;
  /** The name the model used. */
  name: string;
  arguments: string;
  /** For code_interpreter: the code decoded from the arguments (null when the arguments were not valid). */
  code?: string | null;
}

export function toolTypeOf(route: ToolRoute): ToolType {
  return route.kind;
}
