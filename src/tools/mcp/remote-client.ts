/**
 * A request-scoped session with a remote MCP server (`{"type":"mcp","server_url":…}`): connect with the
 * request's headers, list tools, call tools, close when the response is done. Lives in `src/` because the SDK's
 * HTTP client transports are fetch-only (see connect-url-client.ts).
 *
 * Secrets: the request's headers (and the Authorization token) are only handed to the transport. Every error
 * that leaves this module is redacted against them, and logs carry the URL's origin only (paths and query
 * strings can hold keys).
 */
import type { ClientOptions } from "@modelcontextprotocol/sdk/client/index.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Logger } from "../../observability/logger.js";
import { callToolOnce, listAllTools } from "./client-tool-ops.js";
import { closeMcpClient } from "./close-client.js";
import { connectUrlClient } from "./connect-url-client.js";
import type { McpUrlTransport } from "./mcp-config.js";
import { secretsOfHeaders, secretsOfUrl, toMcpErrorText } from "./redact-secrets.js";
import type { McpCallOptions, McpCallResult, McpToolInfo } from "./runtime.js";

export interface RemoteMcpConnectOptions {
  server_label: string;
  /** Already admitted by checkRemoteMcpServerUrl. */
  server_url: URL;
  /** From buildRemoteMcpHeaders. */
  headers: Record<string, string>;
  /** Default `auto`: Streamable HTTP, then SSE. */
  transport?: McpUrlTransport;
  connectTimeoutMs: number;
  signal?: AbortSignal;
  /** e.g. a fetch that pins DNS answers to the addresses the policy vetted. */
  fetch?: FetchLike;
  /**
   * The SDK validates tool results against a tool's `outputSchema` with Ajv, which compiles validators with
   * `new Function` — unavailable on Cloudflare Workers. Workers pass the SDK's CfWorkerJsonSchemaValidator here.
   */
  jsonSchemaValidator?: ClientOptions["jsonSchemaValidator"];
  logger: Logger;
}

/** A failure talking to the remote server; `message` is already redacted. */
export class RemoteMcpError extends Error {
  override readonly name = "RemoteMcpError";
}

export interface RemoteMcpSession {
  readonly server_label: string;
  readonly transport: "streamable-http" | "sse";
  /** Throws RemoteMcpError (redacted), or the signal's reason when aborted. */
  listTools(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<McpToolInfo[]>;
  /** Failures are ok:false results; only the caller's abort throws. */
  callTool(name: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<McpCallResult>;
  close(): Promise<void>;
}

/** Connects; throws RemoteMcpError (redacted) or the signal's reason when aborted. */
export async function connectRemoteMcp(opts: RemoteMcpConnectOptions): Promise<RemoteMcpSession> {
  const secrets = [...secretsOfHeaders(opts.headers), ...secretsOfUrl(opts.server_url.href)];
  const logFields = { server_label: opts.server_label, origin: opts.server_url.origin };
  const started = Date.now();
  let connected;
  try {
    connected = await connectUrlClient({
      url: opts.server_url,
      headers: opts.headers,
      transport: opts.transport ?? "auto",
      timeoutMs: opts.connectTimeoutMs,
      signal: opts.signal,
      fetch: opts.fetch,
      clientOptions: opts.jsonSchemaValidator ? { jsonSchemaValidator: opts.jsonSchemaValidator } : undefined,
      logger: opts.logger,
      server_label: opts.server_label,
    });
  } catch (error) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const message = toMcpErrorText(error, secrets);
    opts.logger.warn("mcp remote connect failed", { ...logFields, error: message, duration_ms: Date.now() - started });
    throw new RemoteMcpError(message);
  }
  const { client, transport } = connected;
  opts.logger.debug("mcp remote connected", { ...logFields, transport, duration_ms: Date.now() - started });

  let closed = false;
  return {
    server_label: opts.server_label,
    transport,
    async listTools(listOpts) {
      try {
        return await listAllTools(client, listOpts);
      } catch (error) {
        if (listOpts.signal?.aborted) throw listOpts.signal.reason;
        const message = toMcpErrorText(error, secrets);
        opts.logger.warn("mcp remote tools/list failed", { ...logFields, error: message });
        throw new RemoteMcpError(message);
      }
    },
    async callTool(name, args, callOpts) {
      const { result } = await callToolOnce(client, name, args, { ...callOpts, secrets });
      if (!result.ok) {
        opts.logger.info("mcp remote tool call failed", {
          ...logFields,
          tool_name: name,
          request_id: callOpts.requestId,
          error: result.error_text,
        });
      }
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeMcpClient(client, opts.logger, logFields);
    },
  };
}
