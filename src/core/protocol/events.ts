/**
 * Streaming events as sent on the wire. The composer assigns `sequence_number` (0, 1, 2 … per response) when it
 * creates each event, so every producer of events goes through it.
 */
import type { OutputItem, OutputTextPart, ReasoningTextPart } from "./output-items.js";
import type { ResponseObject } from "./response.js";

interface Seq {
  sequence_number: number;
}

export type LifecycleEvent = Seq & {
  type: "response.created" | "response.in_progress" | "response.completed" | "response.incomplete" | "response.failed";
  response: ResponseObject;
};

export type ItemEvent = Seq & { type: "response.output_item.added" | "response.output_item.done"; output_index: number; item: OutputItem };

export type ContentPartEvent = Seq & {
  type: "response.content_part.added" | "response.content_part.done";
  item_id: string;
  output_index: number;
  content_index: number;
  part: OutputTextPart | ReasoningTextPart;
};

export type TextDeltaEvent = Seq & { type: "response.output_text.delta"; item_id: string; output_index: number; content_index: number; delta: string; logprobs: unknown[] };
export type TextDoneEvent = Seq & { type: "response.output_text.done"; item_id: string; output_index: number; content_index: number; text: string; logprobs: unknown[] };

export type ReasoningDeltaEvent = Seq & { type: "response.reasoning.delta" | "response.reasoning_text.delta"; item_id: string; output_index: number; content_index: number; delta: string };
export type ReasoningDoneEvent = Seq & { type: "response.reasoning.done" | "response.reasoning_text.done"; item_id: string; output_index: number; content_index: number; text: string };

export type ArgumentsDeltaEvent = Seq & { type: "response.function_call_arguments.delta" | "response.mcp_call_arguments.delta"; item_id: string; output_index: number; delta: string };
export type ArgumentsDoneEvent = Seq & { type: "response.function_call_arguments.done" | "response.mcp_call_arguments.done"; item_id: string; output_index: number; arguments: string };

export type CodeDeltaEvent = Seq & { type: "response.code_interpreter_call_code.delta"; item_id: string; output_index: number; delta: string };
export type CodeDoneEvent = Seq & { type: "response.code_interpreter_call_code.done"; item_id: string; output_index: number; code: string };

export type ToolStatusEvent = Seq & {
  type:
    | "response.code_interpreter_call.in_progress"
    | "response.code_interpreter_call.interpreting"
    | "response.code_interpreter_call.completed"
    | "response.mcp_call.in_progress"
    | "response.mcp_call.completed"
    | "response.mcp_call.failed"
    | "response.mcp_list_tools.in_progress"
    | "response.mcp_list_tools.completed"
    | "response.mcp_list_tools.failed";
  item_id: string;
  output_index: number;
};

export type ErrorEvent = Seq & { type: "error"; error: { type: string; code: string | null; message: string; param: string | null } };

export type ResponseEvent =
  | LifecycleEvent
  | ItemEvent
  | ContentPartEvent
  | TextDeltaEvent
  | TextDoneEvent
  | ReasoningDeltaEvent
  | ReasoningDoneEvent
  | ArgumentsDeltaEvent
  | ArgumentsDoneEvent
  | CodeDeltaEvent
  | CodeDoneEvent
  | ToolStatusEvent
  | ErrorEvent;

/** An event before the composer numbered it. */
export type UnnumberedEvent = ResponseEvent extends infer E ? (E extends ResponseEvent ? Omit<E, "sequence_number"> : never) : never;
