/**
 * The contract between the gateway and the built-in ("hosted") MCP servers of mcp.json.
 *
 * Two implementations: the in-process hosted manager (adapters/node/mcp/hosted-manager.ts) and the fetch client
 * of the loopback runtime service (runtime-http-client.ts) that several gateway worker processes share. The
 * gateway only sees this interface, so a runtime without child processes (Workers) can plug in its own.
 */

export interface McpToolInfo {
  name: string;
  description: string | null;
  /** The tool's JSON Schema as the server sent it (`{"type":"object"}` when the server sent none). */
  input_schema: Record<string, unknown>;
}

export type McpServerTransport = "stdio" | "streamable-http" | "sse" | "auto";

export interface McpServerInfo {
  server_label: string;
  available: boolean;
  /**
   * The negotiated transport while connected; for a url entry without an explicit transport this is `auto`
   * until the first successful connection.
   */
  transport: McpServerTransport;
  /** Why the server is unavailable (secrets redacted); absent while available. */
  error?: string;
}

/**
 * The outcome of one tools/call. A failing tool (isError result, thrown handler, timeout, transport failure) is
 * `ok:false` with an `error_text`: per the Responses API an MCP failure fails the item, not the response.
 */
export interface McpCallResult {
  ok: boolean;
  output_text: string;
  error_text: string | null;
}

export interface McpCallOptions {
  timeoutMs: number;
  /** Aborting rejects the call with the signal's reason (the caller is gone; there is no item to fail). */
  signal?: AbortSignal;
  requestId?: string;
}

export interface McpRuntime {
  listServers(): Promise<McpServerInfo[]>;
  /** Throws McpUnknownServerError / McpServerUnavailableError / McpRuntimeUnreachableError. */
  listTools(label: string): Promise<McpToolInfo[]>;
  /** Throws McpUnknownServerError / McpServerUnavailableError / McpToolNotFoundError / McpRuntimeUnreachableError. */
  callTool(label: string, tool: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<McpCallResult>;
  close(): Promise<void>;
}

/** One row of the cumulative `mcp_server_startup_total{server_label,status}` counter. */
export interface McpStartupCount {
  server_label: string;
  status: "ok" | "error";
  count: number;
}

/** Runtimes that can report their connect-attempt outcomes (both implementations here do). */
export interface McpStartupCountsSource {
  startupCounts(): Promise<McpStartupCount[]>;
}

/** Base class: `status` is the HTTP status the gateway's discovery routes answer with. */
export class McpRuntimeError extends Error {
  override name = "McpRuntimeError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class McpUnknownServerError extends McpRuntimeError {
  override name = "McpUnknownServerError";
  constructor(readonly server_label: string) {
    super(`Unknown MCP server_label: ${server_label}`, 404);
  }
}

export class McpServerUnavailableError extends McpRuntimeError {
  override name = "McpServerUnavailableError";
  constructor(
    readonly server_label: string,
    /** The server's last (redacted) connection error. */
    readonly reason: string | null,
  ) {
    super(`MCP server '${server_label}' is unavailable${reason ? `: ${reason}` : ""}`, 409);
  }
}

export class McpToolNotFoundError extends McpRuntimeError {
  override name = "McpToolNotFoundError";
  constructor(
    readonly server_label: string,
    readonly tool_name: string,
  ) {
    super(`MCP_TOOL_NOT_FOUND: tool '${tool_name}' not found on MCP server '${server_label}'`, 404);
  }
}

export class McpRuntimeUnreachableError extends McpRuntimeError {
  override name = "McpRuntimeUnreachableError";
  constructor(message: string) {
    super(message, 503);
  }
}
