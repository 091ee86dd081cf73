/**
 * The Response object (`ResponseResource` in the Open Responses spec). Lifecycle events and non-stream bodies
 * carry it whole, nulls kept.
 */
import type { OutputItem } from "./output-items.js";

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" | "max_tool_calls" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt_cache_key: string | null;
  prompt_cache_retention: string | null;
  reasoning: { effort: string | null; summary: string | null };
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  text: { format: Record<string, unknown>; verbosity: string | null };
  tool_choice: unknown;
  tools: unknown[];
  top_logprobs: number;
  top_p: number;
  truncation: "auto" | "disabled";
  usage: Usage | null;
  user: string | null;
  background: false;
  metadata: Record<string, string>;
  presence_penalty: number;
  frequency_penalty: number;
}
