/**
 * Execution of the tools the gateway runs itself (code interpreter, MCP) inside one response's tool loop.
 * Calls of one turn run concurrently; their events are emitted in output_index order. A tool failure is an
 * item-level outcome the model is told about — it never fails the response.
 */
import type { ResponseComposer } from "../core/compose/response-composer.js";
import type { TurnToolCall, ToolType } from "../core/compose/tool-route.js";
import type { ResponseEvent } from "../core/protocol/events.js";
import { codeInterpreterResultText } from "../core/translate/tool-result-text.js";
import { SpanKind, SpanStatusCode, type Context } from "@opentelemetry/api";
import type { Tracing } from "../observability/tracing.js";

/** Structural contract of a code executor (the Pyodide pool or the HTTP client of the shared service). */
export interface CodeRunner {
  execute(code: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<{
    status: "success" | "exception" | "timeout" | "error";
    stdout: string;
    stderr: string;
    result: string | null;
    error?: string;
  }>;
}

/** Structural contract of an MCP caller (built-in runtime or a request-scoped remote connection). */
export interface McpCaller {
  callTool(label: string, tool: string, args: Record<string, unknown>, opts: { timeoutMs: number; signal?: AbortSignal; requestId?: string }): Promise<{
    ok: boolean;
    output_text: string;
    error_text: string | null;
  }>;
}

export interface ToolContext {
  composer: ResponseComposer;
  signal: AbortSignal;
  requestId: string | undefined;
  codeRunner: CodeRunner | undefined;
  codeTimeoutMs: number;
  mcpCallerFor: (serverLabel: string) => McpCaller | undefined;
  mcpTimeoutMs: number;
  includeCodeOutputs: boolean;
  onExecuted: (toolType: ToolType, seconds: number, ok: boolean) => void;
  /** Tool results for the model, keyed by item id (code interpreter logs are kept even when not `include`d). */
  replayLogs: Map<string, string>;
  tracing: Tracing;
  traceContext: Context;
}

type Outcome = { ok: boolean; text: string | null; error: string | null };

export async function* executeGatewayCalls(calls: readonly TurnToolCall[], ctx: ToolContext, budget: { remaining: number }): AsyncGenerator<ResponseEvent[]> {
  const started: Array<{ call: TurnToolCall; run: Promise<Outcome> }> = [];
  for (const call of calls) {
    if (budget.remaining <= 0) {
      started.push({ call, run: Promise.resolve({ ok: false, text: null, error: "Not executed: the response's max_tool_calls limit was reached." }) });
      continue;
    }
    budget.remaining--;
    if (call.route.kind === "code_interpreter") yield ctx.composer.codeInterpreterInterpreting(call.item_id);
    started.push({ call, run: runOne(call, ctx) });
  }
  for (const { call, run } of started) {
    const outcome = await run;
    if (call.route.kind === "code_interpreter") {
      const logs = outcome.text ?? outcome.error ?? "";
      ctx.replayLogs.set(call.item_id, logs || "(no output)");
      yield ctx.composer.codeInterpreterFinished(call.item_id, { ok: outcome.ok, logs: logs || null, includeOutputs: ctx.includeCodeOutputs });
    } else {
      yield ctx.composer.mcpCallFinished(call.item_id, { ok: outcome.ok, output: outcome.ok ? outcome.text : null, error: outcome.ok ? null : outcome.error });
    }
  }
}

async function runOne(call: TurnToolCall, ctx: ToolContext): Promise<Outcome> {
  const started = performance.now();
  const kind = call.route.kind as ToolType;
  // Tool spans name the tool, never its arguments or output (they can hold user data).
  const { span } = ctx.tracing.startSpan(
    `tool ${kind}`,
    { kind: SpanKind.INTERNAL, attributes: { "vllm_responses.tool.type": kind, ...(call.route.kind === "mcp" ? { "mcp.server_label": call.route.server_label, "mcp.tool_name": call.route.tool_name } : {}) } },
    ctx.traceContext,
  );
  let outcome: Outcome;
  try {
    outcome = call.route.kind === "code_interpreter" ? await runCode(call, ctx) : await runMcp(call, ctx);
  } catch (err) {
    // A tool must never take the response down: report the failure on the item and to the model.
    outcome = { ok: false, text: null, error: `Tool execution failed: ${(err as Error).message}` };
  }
  ctx.onExecuted(kind, (performance.now() - started) / 1000, outcome.ok);
  ctx.tracing.endLater(span, (s) => {
    if (!outcome.ok) s.setStatus({ code: SpanStatusCode.ERROR });
  });
  return outcome;
}

async function runCode(call: TurnToolCall, ctx: ToolContext): Promise<Outcome> {
  if (call.code === null || call.code === undefined) {
    return { ok: false, text: null, error: `Invalid arguments for code_interpreter: expected a JSON object with a string "code", got ${call.arguments.slice(0, 200)}` };
  }
  if (!ctx.codeRunner) return { ok: false, text: null, error: "The code interpreter is not available on this gateway." };
  const r = await ctx.codeRunner.execute(call.code, { signal: ctx.signal, timeoutMs: ctx.codeTimeoutMs });
  const text = codeInterpreterResultText(r);
  // A Python exception is a completed call (the traceback is the output); timeouts and sandbox crashes fail it.
  const ok = r.status === "success" || r.status === "exception";
  return ok ? { ok, text: text === "(no output)" ? "" : text, error: null } : { ok, text, error: r.error ?? `execution ${r.status}` };
}

async function runMcp(call: TurnToolCall, ctx: ToolContext): Promise<Outcome> {
  if (call.route.kind !== "mcp") throw new Error("not an MCP call");
  const caller = ctx.mcpCallerFor(call.route.server_label);
  if (!caller) return { ok: false, text: null, error: `MCP server '${call.route.server_label}' is not available.` };
  let args: unknown;
  try {
    args = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
  } catch (err) {
    return { ok: false, text: null, error: `input_validation_error: arguments are not valid JSON (${(err as Error).message})` };
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) return { ok: false, text: null, error: "input_validation_error: arguments must be a JSON object" };
  const r = await caller.callTool(call.route.server_label, call.route.tool_name, args as Record<string, unknown>, { timeoutMs: ctx.mcpTimeoutMs, signal: ctx.signal, requestId: ctx.requestId });
  return r.ok ? { ok: true, text: r.output_text, error: null } : { ok: false, text: null, error: r.error_text ?? "MCP tool call failed" };
}
