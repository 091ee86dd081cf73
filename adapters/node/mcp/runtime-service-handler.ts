/**
 * Routes of the loopback MCP runtime service (the wire contract runtime-http-client.ts speaks):
 *
 *   GET  /health                                            200 {"ok":true} | 503 {"ok":false} while starting
 *   GET  /internal/mcp/servers                              {"data":[McpServerInfo]}
 *   GET  /internal/mcp/servers/{label}/tools                {"server_label","data":[McpToolInfo]}   404 | 409
 *   POST /internal/mcp/servers/{label}/tools/{tool}/call    {arguments, timeout_ms?, request_id?}
 *                                                           → {ok, output_text, error_text}     404 | 409
 *   GET  /internal/mcp/startup-events                       {"data":[{server_label,status,count}]} (cumulative)
 *
 * Errors are `{"error":{"type","message"[, "reason"]}}` with type unknown_server | tool_not_found |
 * server_unavailable | bad_request | not_found | method_not_allowed | starting | internal_error.
 * `x-request-id` is echoed (or generated) on every answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../src/observability/logger.js";
import {
  type McpRuntime,
  McpRuntimeError,
  McpServerUnavailableError,
  type McpStartupCountsSource,
  McpToolNotFoundError,
  McpUnknownServerError,
} from "../../../src/tools/mcp/runtime.js";

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface RuntimeServiceHandlerOptions {
  /** Null while the hosted servers are still starting. */
  runtime: () => (McpRuntime & McpStartupCountsSource) | null;
  /** Default and ceiling for a call's `timeout_ms` (VR_MCP_HOSTED_TOOL_TIMEOUT_SEC). */
  toolTimeoutMs: number;
  logger: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export function createRuntimeServiceHandler(opts: RuntimeServiceHandlerOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = headerValue(req, "x-request-id") ?? randomUUID();
    res.setHeader("x-request-id", requestId);
    try {
      await route(req, res, requestId, opts);
    } catch (error) {
      if (res.headersSent || res.destroyed) {
        opts.logger.debug("mcp runtime service: client went away", { request_id: requestId, error });
        return;
      }
      if (error instanceof HttpError) return sendError(res, error.status, error.type, error.message);
      if (error instanceof McpRuntimeError) return sendRuntimeError(res, error);
      opts.logger.error("mcp runtime service: unexpected error", { request_id: requestId, error });
      sendError(res, 500, "internal_error", "internal error in the MCP runtime");
    }
  };
}

async function route(req: IncomingMessage, res: ServerResponse, requestId: string, opts: RuntimeServiceHandlerOptions): Promise<void> {
  const url = new URL(req.url ?? "/", "http://runtime.invalid");
  const segments = url.pathname.split("/").filter((s) => s.length > 0).map(decodeSegment);
  const method = req.method ?? "GET";

  if (url.pathname === "/health") {
    requireMethod(method, "GET");
    return opts.runtime() ? sendJson(res, 200, { ok: true }) : sendJson(res, 503, { ok: false, status: "starting" });
  }
  if (segments[0] !== "internal" || segments[1] !== "mcp") throw new HttpError(404, "not_found", "no such route");

  const runtime = opts.runtime();
  if (!runtime) throw new HttpError(503, "starting", "the MCP runtime is still starting");

  if (segments.length === 3 && segments[2] === "startup-events") {
    requireMethod(method, "GET");
    return sendJson(res, 200, { data: await runtime.startupCounts() });
  }
  if (segments[2] !== "servers") throw new HttpError(404, "not_found", "no such route");
  if (segments.length === 3) {
    requireMethod(method, "GET");
    return sendJson(res, 200, { data: await runtime.listServers() });
  }
  const label = segments[3];
  if (segments.length === 5 && segments[4] === "tools") {
    requireMethod(method, "GET");
    return sendJson(res, 200, { server_label: label, data: await runtime.listTools(label) });
  }
  if (segments.length === 7 && segments[4] === "tools" && segments[6] === "call") {
    requireMethod(method, "POST");
    const tool = segments[5];
    const body = parseCallBody(await readBody(req));
    const timeoutMs = Math.min(body.timeout_ms ?? opts.toolTimeoutMs, opts.toolTimeoutMs);
    // The gateway hanging up (client disconnect, its own timeout) cancels the tool call on the MCP server.
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort(new Error("gateway closed the connection"));
    });
    const result = await runtime.callTool(label, tool, body.arguments, {
      timeoutMs,
      signal: controller.signal,
      requestId: body.request_id ?? requestId,
    });
    return sendJson(res, 200, result);
  }
  throw new HttpError(404, "not_found", "no such route");
}

interface CallBody {
  arguments: Record<string, unknown>;
  timeout_ms?: number;
  request_id?: string;
}

function parseCallBody(text: string): CallBody {
  let value: unknown;
  try {
    value = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, "bad_request", "body must be JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "bad_request", "body must be a JSON object");
  const body = value as Record<string, unknown>;
  const args = body["arguments"] ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw new HttpError(400, "bad_request", "`arguments` must be an object");
  }
  const timeout = body["timeout_ms"];
  if (timeout !== undefined && (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0)) {
    throw new HttpError(400, "bad_request", "`timeout_ms` must be a positive number");
  }
  const requestId = body["request_id"];
  if (requestId !== undefined && requestId !== null && typeof requestId !== "string") {
    throw new HttpError(400, "bad_request", "`request_id` must be a string");
  }
  return {
    arguments: args as Record<string, unknown>,
    timeout_ms: timeout as number | undefined,
    request_id: (requestId as string | null | undefined) ?? undefined,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "bad_request", `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function requireMethod(actual: string, expected: "GET" | "POST"): void {
  if (actual !== expected) throw new HttpError(405, "method_not_allowed", `use ${expected}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "bad_request", "malformed percent-encoding in the path");
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.length <= 200 ? first : undefined;
}

function sendRuntimeError(res: ServerResponse, error: McpRuntimeError): void {
  if (error instanceof McpToolNotFoundError) return sendError(res, 404, "tool_not_found", error.message);
  if (error instanceof McpUnknownServerError) return sendError(res, 404, "unknown_server", error.message);
  if (error instanceof McpServerUnavailableError) {
    return sendError(res, 409, "server_unavailable", error.message, error.reason ?? undefined);
  }
  sendError(res, error.status, "internal_error", error.message);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, reason?: string): void {
  sendJson(res, status, { error: { type, message, ...(reason !== undefined ? { reason } : {}) } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
