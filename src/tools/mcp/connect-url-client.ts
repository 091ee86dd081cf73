/**
 * Connecting an MCP SDK `Client` to an HTTP server: Streamable HTTP first, then the legacy HTTP+SSE transport,
 * as the MCP spec (2025-03-26, "Backwards Compatibility") advises clients to do.
 *
 * Runtime-agnostic: the SDK's client, Streamable HTTP and SSE transports only use fetch, Streams and
 * `eventsource` (itself fetch-based). Checked by bundling them for `--platform browser` with no Node built-in
 * left; the one `import("node:crypto")` in `pkce-challenge`'s node build is a fallback taken only when
 * `globalThis.crypto` is missing (never on Node ≥ 18) and only on the OAuth path, which we do not use.
 */
import { Client, type ClientOptions } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike, Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { McpUrlTransport } from "./mcp-config.js";
import type { Logger } from "../../observability/logger.js";
import { closeMcpClient } from "./close-client.js";
import { withDeadline } from "./deadline.js";

export const MCP_CLIENT_INFO = { name: "vllm-responses", version: "0.1.0" } as const;

export interface UrlClientConnectOptions {
  url: URL;
  /** Sent on every request of the session (including the SSE GET stream). */
  headers: Record<string, string>;
  transport: McpUrlTransport;
  /** Bounds the whole connect (both attempts for `auto`). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Override for fetch, e.g. one that pins DNS answers to vetted addresses. */
  fetch?: FetchLike;
  clientOptions?: ClientOptions;
  /** Only for debug notes about teardown; never receives headers. */
  logger: Logger;
  /** Names the server in those notes. */
  server_label: string;
}

export interface ConnectedUrlClient {
  client: Client;
  transport: "streamable-http" | "sse";
}

/**
 * HTTP statuses with which a legacy SSE-only server answers the Streamable HTTP initialize POST. Others (401,
 * 403, 5xx, network errors) would fail the same way over SSE, so we report them instead of trying again.
 */
const LEGACY_SERVER_STATUSES = new Set([400, 404, 405]);

export async function connectUrlClient(opts: UrlClientConnectOptions): Promise<ConnectedUrlClient> {
  return withDeadline(
    async (signal) => {
      if (opts.transport === "sse") return { client: await connectWith("sse", opts, signal), transport: "sse" };
      try {
        return { client: await connectWith("streamable-http", opts, signal), transport: "streamable-http" };
      } catch (streamableError) {
        if (opts.transport === "streamable-http" || !shouldFallBackToSse(streamableError) || signal.aborted) {
          throw streamableError;
        }
        try {
          return { client: await connectWith("sse", opts, signal), transport: "sse" };
        } catch (sseError) {
          throw new Error(
            `Streamable HTTP failed (${errorMessage(streamableError)}); SSE fallback failed (${errorMessage(sseError)})`,
            { cause: sseError },
          );
        }
      }
    },
    { timeoutMs: opts.timeoutMs, signal: opts.signal, timeoutMessage: `MCP connect timed out after ${opts.timeoutMs} ms` },
  );
}

async function connectWith(kind: "streamable-http" | "sse", opts: UrlClientConnectOptions, signal: AbortSignal): Promise<Client> {
  const requestInit: RequestInit = { headers: { ...opts.headers } };
  const transport: Transport =
    kind === "streamable-http"
      ? new StreamableHTTPClientTransport(opts.url, { requestInit, fetch: opts.fetch })
      : new SSEClientTransport(opts.url, { requestInit, fetch: opts.fetch });
  const client = new Client({ ...MCP_CLIENT_INFO }, { capabilities: {}, ...opts.clientOptions });
  // The SSE transport's start() ignores signals: closing on abort is what unblocks it and frees the socket.
  const logFields = { server_label: opts.server_label, transport: kind };
  const onAbort = (): void => {
    void closeMcpClient(client, opts.logger, logFields);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await client.connect(transport, { signal, timeout: opts.timeoutMs });
    return client;
  } catch (error) {
    await closeMcpClient(client, opts.logger, logFields);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function shouldFallBackToSse(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code !== undefined && LEGACY_SERVER_STATUSES.has(error.code);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
