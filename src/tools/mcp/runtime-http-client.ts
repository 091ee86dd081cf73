/**
 * McpRuntime over HTTP: the gateway side of the loopback MCP runtime service
 * (adapters/node/mcp/runtime-service.ts) that owns the hosted servers for all gateway worker processes.
 *
 * Status mapping: 404 → McpUnknownServerError (or McpToolNotFoundError when the body says `tool_not_found`),
 * 409 → McpServerUnavailableError, anything the service cannot answer properly (connection refused, timeout,
 * 5xx, a body that is not the expected JSON) → McpRuntimeUnreachableError. No retries: a tool call is not
 * idempotent, and listing is repeated by the next request anyway.
 */
import {
  type McpCallOptions,
  type McpCallResult,
  McpRuntimeError,
  McpRuntimeUnreachableError,
  type McpRuntime,
  McpServerUnavailableError,
  type McpServerInfo,
  type McpStartupCount,
  type McpStartupCountsSource,
  McpToolNotFoundError,
  type McpToolInfo,
  McpUnknownServerError,
} from "./runtime.js";

export interface McpRuntimeHttpClientOptions {
  /** e.g. `http://127.0.0.1:5981` (VR_MCP_BUILTIN_RUNTIME_URL). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Defaults match the original gateway: 10 s servers, 15 s tools; a call gets its own timeout + grace. */
  listServersTimeoutMs?: number;
  listToolsTimeoutMs?: number;
  /** Added to a call's `timeoutMs` so the service's own timeout (an ok:false result) normally answers first. */
  callGraceMs?: number;
}

/** The service's error body: `{"error":{"type","message"}}`. */
interface ServiceErrorBody {
  error?: { type?: string; message?: string };
}

export class McpRuntimeHttpClient implements McpRuntime, McpStartupCountsSource {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly listServersTimeoutMs: number;
  private readonly listToolsTimeoutMs: number;
  private readonly callGraceMs: number;

  constructor(opts: McpRuntimeHttpClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.listServersTimeoutMs = opts.listServersTimeoutMs ?? 10_000;
    this.listToolsTimeoutMs = opts.listToolsTimeoutMs ?? 15_000;
    this.callGraceMs = opts.callGraceMs ?? 5_000;
  }

  async listServers(): Promise<McpServerInfo[]> {
    const body = await this.request("GET", "/internal/mcp/servers", { timeoutMs: this.listServersTimeoutMs });
    return dataArray<McpServerInfo>(body, "servers");
  }

  async listTools(label: string): Promise<McpToolInfo[]> {
    const body = await this.request("GET", `/internal/mcp/servers/${encodeURIComponent(label)}/tools`, {
      timeoutMs: this.listToolsTimeoutMs,
      label,
    });
    return dataArray<McpToolInfo>(body, "tools");
  }

  async callTool(label: string, tool: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<McpCallResult> {
    const path = `/internal/mcp/servers/${encodeURIComponent(label)}/tools/${encodeURIComponent(tool)}/call`;
    const body = await this.request("POST", path, {
      timeoutMs: opts.timeoutMs + this.callGraceMs,
      signal: opts.signal,
      requestId: opts.requestId,
      label,
      tool,
      json: { arguments: args, timeout_ms: opts.timeoutMs, ...(opts.requestId ? { request_id: opts.requestId } : {}) },
    });
    const result = body as Partial<McpCallResult>;
    if (typeof result?.ok !== "boolean" || typeof result.output_text !== "string") {
      throw new McpRuntimeUnreachableError("MCP runtime returned a malformed tool call result");
    }
    return { ok: result.ok, output_text: result.output_text, error_text: result.error_text ?? null };
  }

  async startupCounts(): Promise<McpStartupCount[]> {
    const body = await this.request("GET", "/internal/mcp/startup-events", { timeoutMs: this.listServersTimeoutMs });
    return dataArray<McpStartupCount>(body, "startup events");
  }

  /** Nothing to release: the service belongs to whoever started it. */
  async close(): Promise<void> {}

  private async request(
    method: "GET" | "POST",
    path: string,
    opts: {
      timeoutMs: number;
      signal?: AbortSignal;
      requestId?: string;
      label?: string;
      tool?: string;
      json?: unknown;
    },
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.json !== undefined) headers["content-type"] = "application/json";
    if (opts.requestId) headers["x-request-id"] = opts.requestId;

    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
        signal,
      });
      text = await response.text();
    } catch (error) {
      // The caller's abort is not the runtime's fault: propagate it unchanged.
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (timeout.aborted) throw new McpRuntimeUnreachableError(`MCP runtime did not answer within ${opts.timeoutMs} ms`);
      const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
      throw new McpRuntimeUnreachableError(
        `MCP runtime unreachable at ${this.baseUrl}: ${(error as Error)?.message ?? String(error)}${typeof cause === "string" ? ` (${cause})` : ""}`,
      );
    }

    let body: unknown;
    try {
      body = text.length === 0 ? null : JSON.parse(text);
    } catch {
      throw new McpRuntimeUnreachableError(`MCP runtime answered ${response.status} with a non-JSON body`);
    }
    if (response.ok) return body;

    const error = (body as ServiceErrorBody | null)?.error;
    const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
    if (response.status === 404) {
      if (error?.type === "tool_not_found" && opts.label !== undefined && opts.tool !== undefined) {
        throw new McpToolNotFoundError(opts.label, opts.tool);
      }
      if (opts.label !== undefined) throw new McpUnknownServerError(opts.label);
    }
    if (response.status === 409 && opts.label !== undefined) {
      const reason = typeof (error as { reason?: unknown } | undefined)?.reason === "string" ? (error as { reason: string }).reason : null;
      throw new McpServerUnavailableError(opts.label, reason);
    }
    if (response.status >= 500) throw new McpRuntimeUnreachableError(`MCP runtime error (HTTP ${response.status}): ${message}`);
    // 400 & co.: this client sent something the service rejects — a bug on our side, not the runtime's.
    throw new McpRuntimeError(`MCP runtime rejected the request (HTTP ${response.status}): ${message}`, 500);
  }
}

function dataArray<T>(body: unknown, what: string): T[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new McpRuntimeUnreachableError(`MCP runtime returned a malformed ${what} list`);
  return data as T[];
}
