/**
 * The initial response object (status in_progress) echoing the request, as OpenAI does. Request-scoped secrets
 * (MCP `authorization`, `headers`) are stripped here, so nothing downstream — events, bodies, the store — sees them.
 */
import type { CreateResponseRequest, ToolChoice, ToolDeclaration } from "../protocol/request.js";
import type { ResponseObject } from "../protocol/response.js";

export function stripToolSecrets(tools: readonly ToolDeclaration[]): ToolDeclaration[] {
  return tools.map((t) => {
    if (t.type === "function") {
      // The response echoes every FunctionTool field (the spec requires them, nullable).
      return { type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null };
    }
    if (t.type !== "mcp") return t;
    const { authorization: _a, headers: _h, ...rest } = t;
    return rest;
  });
}

export function buildResponseObject(
  req: CreateResponseRequest,
  effective: { id: string; createdAt: number; tools: readonly ToolDeclaration[]; toolChoice: ToolChoice | undefined },
): ResponseObject {
  return {
    id: effective.id,
    object: "response",
    created_at: effective.createdAt,
    completed_at: null,
    status: "in_progress",
    error: null,
    incomplete_details: null,
    instructions: req.instructions,
    max_output_tokens: req.max_output_tokens ?? null,
    max_tool_calls: req.max_tool_calls ?? null,
    model: req.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id,
    prompt_cache_key: req.prompt_cache_key ?? null,
    prompt_cache_retention: req.prompt_cache_retention ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    safety_identifier: req.safety_identifier ?? null,
    service_tier: req.service_tier ?? "default",
    store: req.store,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: "text" }, verbosity: req.text?.verbosity ?? "medium" },
    tool_choice: effective.toolChoice ?? "auto",
    tools: stripToolSecrets(effective.tools),
    top_logprobs: req.top_logprobs ?? 0,
    top_p: req.top_p ?? 1,
    truncation: req.truncation ?? "disabled",
    usage: null,
    user: req.user ?? null,
    background: false,
    metadata: req.metadata ?? {},
    presence_penalty: req.presence_penalty ?? 0,
    frequency_penalty: req.frequency_penalty ?? 0,
  };
}
