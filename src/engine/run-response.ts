/**
 * One response from start to terminal event: upstream turns, the gateway tool loop, the store write. Yields
 * batches of events; the handler streams them (SSE) or folds them (JSON). Errors before the first upstream byte are
 * thrown (they become ordinary HTTP errors); after `response.created` they are in-band: `error` + `response.failed`.
 */
import type { IdGenerator } from "../core/compose/ids.js";
import type { ResponseComposer, TurnResult } from "../core/compose/response-composer.js";
import type { ToolType } from "../core/compose/tool-route.js";
import { GatewayError } from "../core/errors.js";
import type { ResponseEvent } from "../core/protocol/events.js";
import type { InputItem } from "../core/protocol/input-items.js";
import type { McpListToolsItem, OutputItem } from "../core/protocol/output-items.js";
import type { CreateResponseRequest } from "../core/protocol/request.js";
import type { ResponseObject } from "../core/protocol/response.js";
import { UpstreamSseDecoder } from "../core/sse/parse-upstream-sse.js";
import type { ToolSet } from "../core/translate/build-tool-set.js";
import { buildChatRequest } from "../core/translate/build-chat-request.js";
import { convertInputItems } from "../core/translate/convert-input-items.js";
import type { Logger } from "../observability/logger.js";
import type { UpstreamClient } from "../upstream/chat-client.js";
import { SpanKind, type Context, type Span } from "@opentelemetry/api";
import type { ChatRequest } from "../core/protocol/chat.js";
import { markSpanFailed, type Tracing } from "../observability/tracing.js";
import { describeFetchError } from "../upstream/chat-client.js";
import { IdleWatchdog } from "../upstream/idle-watchdog.js";
import { executeGatewayCalls, type CodeRunner, type McpCaller, type ToolContext } from "./gateway-tools.js";

export interface EngineContext {
  req: CreateResponseRequest;
  /** Effective history: the parent's history + this request's input. */
  history: InputItem[];
  /** Items to show the model after the history and before this response's own output (declined approvals). */
  preludeReplay: OutputItem[];
  toolSet: ToolSet;
  composer: ResponseComposer;
  upstream: UpstreamClient;
  forwardHeaders: Headers;
  signal: AbortSignal;
  requestId: string | undefined;
  idleTimeoutMs: number;
  maxToolRounds: number;
  codeRunner: CodeRunner | undefined;
  codeTimeoutMs: number;
  mcpCallerFor: (label: string) => McpCaller | undefined;
  mcpTimeoutMs: number;
  /** mcp_list_tools items recording what each newly declared MCP server offered. */
  mcpListTools: McpListToolsItem[];
  /** Approved MCP calls to run before the first model turn (continuations answering an approval request). */
  approvedCalls: Array<{ approval_request_id: string; server_label: string; name: string; arguments: string }>;
  /** Persists the terminal response before its event is sent; null when the response is not stored. */
  persist: ((response: ResponseObject, replayOutput: OutputItem[]) => Promise<void>) | null;
  onToolRequested: (toolType: ToolType) => void;
  onToolExecuted: (toolType: ToolType, seconds: number, ok: boolean) => void;
  /** Accumulates milliseconds the gateway itself spent (excludes waiting for upstream and tools). */
  timing: { gatewayMs: number };
  newId: IdGenerator;
  logger: Logger;
  tracing: Tracing;
  /** The request's SERVER span context: upstream CLIENT spans and tool spans are its children. */
  traceContext: Context;
}

class InBandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly errorType = "api_error",
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export async function* runResponse(ctx: EngineContext): AsyncGenerator<ResponseEvent[], void, undefined> {
  const { composer } = ctx;
  const replayLogs = new Map<string, string>();
  const replayOutput = (): OutputItem[] => [
    ...ctx.preludeReplay,
    ...composer.output.map((item) => (item.type === "code_interpreter_call" && replayLogs.has(item.id) ? { ...item, outputs: [{ type: "logs" as const, logs: replayLogs.get(item.id)! }] } : item)),
  ];
  const toolCtx: ToolContext = {
    composer,
    signal: ctx.signal,
    requestId: ctx.requestId,
    codeRunner: ctx.codeRunner,
    codeTimeoutMs: ctx.codeTimeoutMs,
    mcpCallerFor: ctx.mcpCallerFor,
    mcpTimeoutMs: ctx.mcpTimeoutMs,
    includeCodeOutputs: ctx.req.include.includes("code_interpreter_call.outputs"),
    onExecuted: ctx.onToolExecuted,
    replayLogs,
    tracing: ctx.tracing,
    traceContext: ctx.traceContext,
  };
  const budget = { remaining: ctx.req.max_tool_calls ?? Number.POSITIVE_INFINITY };
  let toolSet = ctx.toolSet;

  // Events produced before the first upstream byte are held back: if opening the upstream fails, the client gets
  // a plain HTTP error instead of a 200 stream.
  const held: ResponseEvent[] = [...composer.start()];
  for (const item of ctx.mcpListTools) {
    held.push(...composer.addWholeItem(item, { in_progress: "response.mcp_list_tools.in_progress", done: "response.mcp_list_tools.completed" }));
  }
  for (const approved of ctx.approvedCalls) held.push(...(await runApproved(approved, ctx, toolCtx)));

  let turnSpan: Span;
  let stream: ReadableStream<Uint8Array>;
  ({ stream, span: turnSpan } = await openUpstream(ctx, buildChatRequest(ctx.req, convertInputItems([...ctx.history, ...replayOutput()]), toolSet)));
  yield held;

  let round = 0;
  let lastFinish: string | null = null;
  try {
    for (;;) {
      let turn: TurnResult;
      let failure: string | null = null;
      try {
        turn = yield* pumpTurn(stream, ctx);
      } catch (err) {
        // The upstream failed after its headers: the CLIENT span records it (by kind, never by content).
        failure = err instanceof InBandError ? err.code : (err as Error).name;
        throw err;
      } finally {
        endTurnSpan(ctx, turnSpan, failure);
      }
      lastFinish = turn.finish_reason;
      for (const call of turn.calls) ctx.onToolRequested(call.route.kind);
      const gatewayCalls = turn.calls.filter((c) => c.route.kind === "code_interpreter" || (c.route.kind === "mcp" && !c.route.requires_approval));
      const handBack = turn.calls.some((c) => c.route.kind === "function" || (c.route.kind === "mcp" && c.route.requires_approval));
      if (gatewayCalls.length > 0) yield* executeGatewayCalls(gatewayCalls, toolCtx, budget);
      // The loop ends when the model answered without a gateway call, or handed control back to the client
      // (a client function call or an approval request), or its output was cut off.
      if (gatewayCalls.length === 0 || handBack || lastFinish === "length" || lastFinish === "content_filter") break;
      round++;
      if (round >= ctx.maxToolRounds) {
        ctx.logger.warn("tool loop stopped at VR_MAX_TOOL_ROUNDS", { response_id: composer.responseId, rounds: round });
        yield* finish(ctx, composer, "max_tool_calls", replayOutput);
        return;
      }
      if (budget.remaining <= 0 && toolSet.hasGatewayTools) toolSet = toolSet.withoutGatewayTools();
      try {
        ({ stream, span: turnSpan } = await openUpstream(ctx, buildChatRequest(ctx.req, convertInputItems([...ctx.history, ...replayOutput()]), toolSet)));
      } catch (err) {
        throw asInBand(err);
      }
    }
  } catch (err) {
    if (ctx.signal.aborted) return; // the client left: nobody to tell, nothing to store
    const e = asInBand(err);
    ctx.logger.warn("response failed in-band", { response_id: composer.responseId, code: e.code, error: e.message });
    yield composer.fail({ type: e.errorType, code: e.code, message: e.message, param: e.param }).events;
    return;
  }
  const reason = lastFinish === "length" ? "max_output_tokens" : lastFinish === "content_filter" ? "content_filter" : null;
  yield* finish(ctx, composer, reason, replayOutput);
}

async function* finish(
  ctx: EngineContext,
  composer: ResponseComposer,
  reason: "max_output_tokens" | "content_filter" | "max_tool_calls" | null,
  replayOutput: () => OutputItem[],
): AsyncGenerator<ResponseEvent[], void, undefined> {
  const response = composer.finalize(reason);
  if (ctx.persist) {
    const t = performance.now();
    try {
      await ctx.persist(response, replayOutput());
    } catch (err) {
      // The client was promised a stored response; a failed write must not look like success.
      ctx.logger.error("store write failed", { response_id: response.id, error: err as Error });
      yield composer.fail({ type: "api_error", code: "store_write_failed", message: `The response could not be stored: ${(err as Error).message}`, param: null }).events;
      return;
    }
    ctx.timing.gatewayMs += performance.now() - t;
  }
  yield composer.emitFinal();
}

async function runApproved(
  approved: EngineContext["approvedCalls"][number],
  ctx: EngineContext,
  toolCtx: ToolContext,
): Promise<ResponseEvent[]> {
  const item = { type: "mcp_call" as const, id: ctx.newId("mcp"), server_label: approved.server_label, name: approved.name, arguments: approved.arguments, status: "in_progress" as const, output: null, error: null, approval_request_id: approved.approval_request_id };
  const events: ResponseEvent[] = [];
  const { events: opened, index } = ctx.composer.openWholeItem(item);
  events.push(...opened);
  ctx.onToolRequested("mcp");
  for await (const batch of executeGatewayCalls(
    [{ route: { kind: "mcp", server_label: item.server_label, tool_name: item.name, requires_approval: false }, call_id: item.id, item_id: item.id, output_index: index, name: item.name, arguments: item.arguments }],
    toolCtx,
    { remaining: 1 },
  )) {
    events.push(...batch);
  }
  return events;
}

/**
 * Opens one upstream turn under its own CLIENT span; the span's `traceparent` goes to vLLM, so vLLM's spans join
 * the same trace. The span ends when the turn's stream ends. Attributes carry no prompt or completion text.
 */
async function openUpstream(ctx: EngineContext, body: ChatRequest): Promise<{ stream: ReadableStream<Uint8Array>; span: Span }> {
  const url = `${ctx.upstream.baseUrl}/chat/completions`;
  const { span, context } = ctx.tracing.startSpan(
    "POST /v1/chat/completions",
    { kind: SpanKind.CLIENT, attributes: { "http.request.method": "POST", "url.full": url, "server.address": ctx.upstream.host, "gen_ai.request.model": body.model } },
    ctx.traceContext,
  );
  // A copy only to carry this turn's traceparent; without tracing the forwarded headers are only read.
  const headers = ctx.tracing.enabled ? new Headers(ctx.forwardHeaders) : ctx.forwardHeaders;
  ctx.tracing.inject(context, headers);
  try {
    const stream = await ctx.upstream.openChatStream(body, ctx.signal, headers);
    return { stream, span };
  } catch (err) {
    const failure = err instanceof GatewayError ? (err.code ?? String(err.status)) : (err as Error).name;
    ctx.tracing.endLater(span, (s) => markSpanFailed(s, failure));
    throw err;
  }
}

/** Ends a turn's CLIENT span when its stream ended (the SDK's work runs after the response, `Tracing.later`). */
function endTurnSpan(ctx: EngineContext, span: Span, failure: string | null): void {
  ctx.tracing.endLater(span, (s) => {
    s.setAttribute("http.response.status_code", 200);
    if (failure !== null) markSpanFailed(s, failure);
  });
}

/** Reads one upstream turn to its end, yielding the composed events as chunks arrive. */
async function* pumpTurn(stream: ReadableStream<Uint8Array>, ctx: EngineContext): AsyncGenerator<ResponseEvent[], TurnResult, undefined> {
  const reader = stream.getReader();
  const decoder = new UpstreamSseDecoder();
  let sawDone = false;
  const watchdog = new IdleWatchdog(reader, ctx.idleTimeoutMs, () => new InBandError("upstream_timeout", `The upstream sent nothing for ${Math.round(ctx.idleTimeoutMs / 1000)} s mid-stream.`), ctx.logger);
  try {
    for (;;) {
      const read = await watchdog.read();
      const t = performance.now();
      const frames = read.done ? decoder.end() : decoder.push(read.value);
      const batch: ResponseEvent[] = [];
      let failure: InBandError | null = null;
      for (const frame of frames) {
        if (frame.kind === "done") sawDone = true;
        // The parser's message is not quoted: on some runtimes it contains a slice of the frame, i.e. model
        // output, and this message is logged.
        else if (frame.kind === "invalid") failure = new InBandError("upstream_invalid_response", `The upstream sent a stream frame that is not valid JSON (${frame.data.length} characters).`);
        else if (frame.chunk.error) {
          const err = frame.chunk.error;
          failure = new InBandError(typeof err.code === "string" ? err.code : "upstream_error", err.message ?? "The upstream reported an error mid-stream.");
        } else batch.push(...ctx.composer.chunk(frame.chunk));
        if (failure) break;
      }
      ctx.timing.gatewayMs += performance.now() - t;
      // Events already numbered must reach the client before the failure, or sequence numbers would skip.
      if (batch.length > 0) yield batch;
      if (failure) throw failure;
      if (read.done || sawDone) break;
    }
  } catch (err) {
    await reader.cancel().catch((cancelErr: unknown) => ctx.logger.debug("upstream cancel after failure", { error: cancelErr as Error }));
    throw err;
  } finally {
    watchdog.stop();
    reader.releaseLock();
  }
  if (!sawDone) {
    // vLLM always ends a healthy stream with [DONE]; a stream that just stops means the server died mid-answer.
    throw new InBandError("upstream_stream_interrupted", "The upstream stream ended before it was complete.");
  }
  const { events, turn } = ctx.composer.endTurn();
  if (events.length > 0) yield events;
  return turn;
}

function asInBand(err: unknown): InBandError {
  if (err instanceof InBandError) return err;
  if (err instanceof GatewayError) return new InBandError(err.code ?? "upstream_error", err.message, err.type, err.param);
  return new InBandError("upstream_unavailable", `Upstream connection failed: ${describeFetchError(err)}`);
}
