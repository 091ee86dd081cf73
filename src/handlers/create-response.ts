/**
 * POST /v1/responses — thin: validate → load state → resolve tools → run the engine → stream or fold → respond.
 */
import type { Context } from "@opentelemetry/api";
import { buildResponseObject } from "../core/compose/build-response-object.js";
import { ResponseComposer } from "../core/compose/response-composer.js";
import { clientClosedRequest, GatewayError, invalidRequest } from "../core/errors.js";
import type { ResponseEvent } from "../core/protocol/events.js";
import type { InputItem } from "../core/protocol/input-items.js";
import type { McpApprovalRequestItem, McpListToolsItem, OutputItem } from "../core/protocol/output-items.js";
import type { CreateResponseRequest, ToolChoice, ToolDeclaration } from "../core/protocol/request.js";
import type { ResponseObject } from "../core/protocol/response.js";
import { parseCreateRequest } from "../core/request/parse-request.js";
import { DONE_FRAME, encodeEvents } from "../core/sse/encode-sse.js";
import { buildToolSet, type McpInventory } from "../core/translate/build-tool-set.js";
import type { McpCaller } from "../engine/gateway-tools.js";
import { runResponse } from "../engine/run-response.js";
import type { GatewayContext } from "../gateway-context.js";
import type { StoredResponseRecord } from "../store/response-store.js";
import { inStoreSpan } from "../observability/child-spans.js";
import { readStored } from "./store-access.js";
import { readJsonBody } from "./read-json-body.js";

export const RESPONSES_ROUTE = "/v1/responses";

export async function createResponse(gw: GatewayContext, request: Request, requestId: string | undefined, forwardHeaders: Headers, traceContext: Context): Promise<Response> {
  try {
    return await create(gw, request, requestId, forwardHeaders, traceContext);
  } catch (err) {
    // Whatever failed after the client left failed because it left (an aborted upstream fetch, a cut-short
    // generation): that is not a gateway error.
    if (request.signal.aborted) throw clientClosedRequest();
    throw err;
  }
}

async function create(gw: GatewayContext, request: Request, requestId: string | undefined, forwardHeaders: Headers, traceContext: Context): Promise<Response> {
  const started = performance.now();
  const raw = await readJsonBody(request, gw.config.maxBodyBytes, gw.config.maxJsonDepth);
  const req = parseCreateRequest(raw, { maxInputItems: gw.config.maxInputItems, maxTools: gw.config.maxTools });
  const parent = req.previous_response_id ? await loadParent(gw, req.previous_response_id, traceContext) : null;

  const tools: ToolDeclaration[] = req.tools ?? (parent?.tools as ToolDeclaration[] | null) ?? [];
  // tool_choice is inherited only together with the tools it refers to.
  const toolChoice: ToolChoice | undefined = req.tool_choice ?? (req.tools === undefined ? ((parent?.tool_choice ?? undefined) as ToolChoice | undefined) : undefined);
  const history: InputItem[] = parent ? [...(parent.history as InputItem[]), ...req.input] : req.input;

  checkCodeInterpreter(gw, tools);
  const abort = new AbortController();
  const signal = AbortSignal.any([request.signal, abort.signal]);
  const mcp = await resolveMcp(gw, tools, signal);
  const toolSet = buildToolSet(tools, toolChoice, mcp.inventory);
  const approvals = resolveApprovals(req, history);

  const response = buildResponseObject(req, { id: gw.newId("resp"), createdAt: gw.now(), tools, toolChoice });
  const composer = new ResponseComposer({
    response,
    newId: gw.newId,
    now: gw.now,
    reasoningEventFormat: gw.config.reasoningEventFormat,
    routeTool: toolSet.route,
  });
  const timing = { gatewayMs: 0 };
  const events = runResponse({
    req,
    history,
    preludeReplay: approvals.declined,
    toolSet,
    composer,
    upstream: gw.upstream,
    forwardHeaders,
    signal,
    requestId,
    idleTimeoutMs: gw.config.upstreamIdleTimeoutMs,
    maxToolRounds: gw.config.maxToolRounds,
    codeRunner: gw.codeRunner,
    codeTimeoutMs: gw.config.codeInterpreterTimeoutMs,
    mcpCallerFor: mcp.callerFor,
    mcpTimeoutMs: gw.config.mcpToolTimeoutMs,
    approvedCalls: approvals.approved,
    mcpListTools: listToolsItems(gw, tools, mcp.inventory, history),
    persist: req.store ? (final, replay) => inStoreSpan(gw.tracing, traceContext, "put", gw.store.kind, () => persist(gw, req, history, toolChoice, final, replay)) : null,
    onToolRequested: (t) => gw.metrics?.toolRequested(t),
    onToolExecuted: (t, s, ok) => gw.metrics?.toolExecuted(t, s, ok),
    timing,
    newId: gw.newId,
    logger: gw.logger,
    tracing: gw.tracing,
    traceContext,
  });
  if (gw.config.logModelMessages) gw.logger.info("model input", { response_id: response.id, input: req.input });

  const setupMs = performance.now() - started;
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    const overheadMs = setupMs + timing.gatewayMs;
    gw.metrics?.gatewayOverhead(RESPONSES_ROUTE, overheadMs / 1000);
    // VR_LOG_TIMINGS: where one response's time went, without any of its content.
    if (gw.config.logTimings) {
      gw.logger.info("response timings", { request_id: requestId, response_id: response.id, total_ms: round(performance.now() - started), gateway_ms: round(overheadMs), setup_ms: round(setupMs), stream: req.stream });
    }
    void mcp.close();
  };

  let first: IteratorResult<ResponseEvent[], void>;
  try {
    // Pull until the upstream accepted the request: failures up to here are ordinary HTTP errors.
    first = await events.next();
  } catch (err) {
    cleanup();
    throw err;
  }
  if (!req.stream) return foldToJson(events, first, cleanup);
  return streamSse(events, first, abort, cleanup, gw);
}

async function foldToJson(events: AsyncGenerator<ResponseEvent[]>, first: IteratorResult<ResponseEvent[], void>, cleanup: () => void): Promise<Response> {
  let terminal: ResponseEvent | undefined;
  try {
    for (let next = first; !next.done; next = await events.next()) {
      const batch = next.value;
      if (batch.length > 0) terminal = batch[batch.length - 1];
    }
  } finally {
    cleanup();
  }
  if (!terminal || !("response" in terminal)) throw new GatewayError(500, "The response ended without a terminal event.", "api_error", null, "internal_error");
  const response = terminal.response as ResponseObject;
  if (response.status === "failed") {
    const code = response.error?.code ?? "upstream_error";
    throw new GatewayError(statusForFailure(code), response.error?.message ?? "The response failed.", "api_error", null, code);
  }
  return new Response(JSON.stringify(response), { status: 200, headers: { "content-type": "application/json" } });
}

function statusForFailure(code: string): number {
  if (code === "upstream_timeout") return 504;
  if (code === "store_write_failed") return 503;
  if (code === "context_length_exceeded") return 400;
  return 502;
}

function streamSse(events: AsyncGenerator<ResponseEvent[]>, first: IteratorResult<ResponseEvent[], void>, abort: AbortController, cleanup: () => void, gw: GatewayContext): Response {
  // Set when the client cancels: a pull still waiting on the engine then finds a closed controller and must not
  // write to it (nor report the resulting error as a crash).
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (!first.done && first.value.length > 0) controller.enqueue(encodeEvents(first.value));
      },
      // Pull-driven: the next upstream chunk is read only when the client has taken the previous frames, so a
      // slow reader slows its own upstream instead of growing a buffer.
      async pull(controller) {
        try {
          const next = await events.next();
          if (cancelled) return;
          if (next.done) {
            controller.enqueue(DONE_FRAME);
            controller.close();
            cleanup();
            return;
          }
          if (next.value.length > 0) controller.enqueue(encodeEvents(next.value));
        } catch (err) {
          if (cancelled) return;
          // The engine converts every failure into in-band events; reaching here is a bug. End the stream visibly.
          gw.logger.error("stream engine crashed", { error: err as Error });
          controller.error(err);
          cleanup();
        }
      },
      async cancel() {
        cancelled = true;
        abort.abort(new Error("client disconnected"));
        cleanup();
        await events.return(undefined).catch((err: unknown) => gw.logger.debug("engine cleanup after disconnect", { error: err as Error }));
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}

async function loadParent(gw: GatewayContext, id: string, traceContext: Context): Promise<StoredResponseRecord> {
  const record = await readStored(gw, id, traceContext);
  if (!record) throw invalidRequest(`Previous response with id '${id}' not found.`, "previous_response_id", "previous_response_not_found");
  return record;
}

function checkCodeInterpreter(gw: GatewayContext, tools: readonly ToolDeclaration[]): void {
  const i = tools.findIndex((t) => t.type === "code_interpreter");
  if (i >= 0 && !gw.codeRunner) {
    throw invalidRequest("The code_interpreter tool is disabled on this gateway (--code-interpreter disabled).", `tools[${i}].type`, "tool_disabled");
  }
}

interface ResolvedMcp {
  inventory: McpInventory;
  callerFor: (label: string) => McpCaller | undefined;
  close: () => Promise<void>;
}

async function resolveMcp(gw: GatewayContext, tools: readonly ToolDeclaration[], signal: AbortSignal): Promise<ResolvedMcp> {
  const inventory: McpInventory = new Map();
  const callers = new Map<string, McpCaller>();
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    await Promise.all(closers.map((c) => c().catch((err: unknown) => gw.logger.warn("closing a remote MCP connection failed", { error: err as Error }))));
  };
  try {
    await Promise.all(
      tools.map(async (tool, i) => {
        if (tool.type !== "mcp") return;
        const param = `tools[${i}]`;
        if (tool.server_url !== undefined) {
          if (!gw.mcp.remote) throw invalidRequest("Remote MCP servers (server_url) are disabled on this gateway (VR_MCP_REQUEST_REMOTE_ENABLED=false).", `${param}.server_url`, "tool_disabled");
          const conn = await gw.mcp.remote.connect(tool, param, signal);
          closers.push(conn.close);
          inventory.set(tool.server_label, filterAllowed(conn.tools, tool.allowed_tools, param));
          callers.set(tool.server_label, conn.caller);
          return;
        }
        if (tool.authorization !== undefined || tool.headers) {
          throw invalidRequest(`${param}: authorization and headers are only for remote servers (server_url); built-in servers carry their own credentials.`, `${param}.authorization`, "invalid_value");
        }
        if (!gw.mcp.hosted) throw invalidRequest(`${param}: no built-in MCP servers are configured on this gateway (start it with --mcp-config), so '${tool.server_label}' needs a server_url.`, `${param}.server_label`, "invalid_value");
        inventory.set(tool.server_label, filterAllowed(await gw.mcp.hosted.listTools(tool.server_label, param), tool.allowed_tools, param));
        callers.set(tool.server_label, gw.mcp.hosted.caller);
      }),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { inventory, callerFor: (label) => callers.get(label), close };
}

function filterAllowed<T extends { name: string }>(tools: T[], allowed: unknown, param: string): T[] {
  if (allowed === undefined || allowed === null) return tools;
  const names = Array.isArray(allowed) ? (allowed as string[]) : ((allowed as { tool_names?: string[] }).tool_names ?? null);
  if (names === null) return tools;
  const filtered = tools.filter((t) => names.includes(t.name));
  if (filtered.length === 0) throw invalidRequest(`${param}.allowed_tools matches none of the server's tools (${tools.map((t) => t.name).join(", ") || "none"}).`, `${param}.allowed_tools`, "invalid_value");
  return filtered;
}

function resolveApprovals(req: CreateResponseRequest, history: readonly InputItem[]): { approved: Array<{ approval_request_id: string; server_label: string; name: string; arguments: string }>; declined: OutputItem[] } {
  const approved: Array<{ approval_request_id: string; server_label: string; name: string; arguments: string }> = [];
  const declined: OutputItem[] = [];
  req.input.forEach((item, i) => {
    if (item.type !== "mcp_approval_response") return;
    const request = history.find((h): h is McpApprovalRequestItem => h.type === "mcp_approval_request" && h.id === item.approval_request_id);
    if (!request) {
      throw invalidRequest(`input[${i}].approval_request_id '${item.approval_request_id}' does not match an mcp_approval_request of this conversation.`, `input[${i}].approval_request_id`, "invalid_value");
    }
    if (item.approve) approved.push({ approval_request_id: request.id, server_label: request.server_label, name: request.name, arguments: request.arguments });
    else {
      // The model must learn the call did not happen, or it will assume it did.
      declined.push({ type: "mcp_call", id: request.id, server_label: request.server_label, name: request.name, arguments: request.arguments, status: "failed", output: null, error: `The user declined this tool call${item.reason ? `: ${item.reason}` : "."}` });
    }
  });
  return { approved, declined };
}

async function persist(
  gw: GatewayContext,
  req: CreateResponseRequest,
  history: InputItem[],
  toolChoice: ToolChoice | undefined,
  response: ResponseObject,
  replayOutput: OutputItem[],
): Promise<void> {
  if (response.status !== "completed" && response.status !== "incomplete") return;
  const ttl = gw.config.responseTtlSeconds;
  const record: StoredResponseRecord = {
    schema_version: 1,
    id: response.id,
    previous_response_id: response.previous_response_id,
    model: response.model,
    created_at: response.created_at,
    expires_at: ttl ? response.created_at + ttl : null,
    response: response as unknown as Record<string, unknown>,
    history: [...history, ...replayOutput],
    input_items: listableInputItems(gw, req.input),
    // The response's own tool list: the declarations with their secrets already stripped (build-response-object.ts).
    tools: response.tools,
    tool_choice: toolChoice ?? null,
  };
  await gw.store.put(record);
}

/** Input items as `GET /v1/responses/{id}/input_items` lists them: every item has an id, messages have part lists. */
function listableInputItems(gw: GatewayContext, input: readonly InputItem[]): unknown[] {
  return input.map((item) => {
    if (item.type === "message") {
      const content = typeof item.content === "string" ? [{ type: item.role === "assistant" ? "output_text" : "input_text", text: item.content }] : item.content;
      return { id: ("id" in item && item.id) || gw.newId("msg"), type: "message", role: item.role, content, status: "completed" };
    }
    return { ...item, id: ("id" in item && item.id) || gw.newId(item.type === "function_call" ? "fc" : "msg") };
  });
}

/** One mcp_list_tools item per MCP server this conversation has not listed yet (OpenAI lists once per server). */
function listToolsItems(gw: GatewayContext, tools: readonly ToolDeclaration[], inventory: McpInventory, history: readonly InputItem[]): McpListToolsItem[] {
  const listed = new Set(history.filter((h): h is McpListToolsItem => h.type === "mcp_list_tools").map((h) => h.server_label));
  const items: McpListToolsItem[] = [];
  for (const tool of tools) {
    if (tool.type !== "mcp" || listed.has(tool.server_label)) continue;
    items.push({ type: "mcp_list_tools", id: gw.newId("mcpl"), server_label: tool.server_label, tools: (inventory.get(tool.server_label) ?? []).map((t) => ({ name: t.name, description: t.description, input_schema: t.input_schema })), error: null });
  }
  return items;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
