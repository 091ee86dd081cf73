/**
 * Glue between the request path and the MCP layer (src/tools/mcp): built-in servers through an McpRuntime
 * (in-process manager or the shared loopback runtime), request-scoped remote servers through the URL policy and a
 * per-request connection. Runtime errors become the HTTP errors the contract names.
 */
import { GatewayError, invalidRequest } from "../core/errors.js";
import type { McpTool } from "../core/protocol/request.js";
import type { McpSupport } from "../gateway-context.js";
import type { McpDiscovery } from "../handlers/mcp-discovery.js";
import type { Logger } from "../observability/logger.js";
import { buildRemoteMcpHeaders, checkRemoteMcpServerUrl, RemoteMcpPolicyError, type ResolveHost } from "../tools/mcp/remote-policy.js";
import { McpRuntimeError, McpRuntimeUnreachableError, McpServerUnavailableError, McpToolNotFoundError, McpUnknownServerError, type McpRuntime } from "../tools/mcp/runtime.js";
import type { McpCaller } from "./gateway-tools.js";

export interface McpSupportOptions {
  runtime: McpRuntime | null;
  remote: { enabled: boolean; urlChecks: boolean; resolveHost: ResolveHost | null; connectTimeoutMs: number; listTimeoutMs: number } | null;
  logger: Logger;
}

export function createMcpSupport(opts: McpSupportOptions): McpSupport {
  const support: McpSupport = {};
  const runtime = opts.runtime;
  if (runtime) {
    support.hosted = {
      async listTools(label, param) {
        try {
          return await runtime.listTools(label);
        } catch (err) {
          throw requestError(err, label, `${param}.server_label`);
        }
      },
      caller: {
        async callTool(label, tool, args, callOpts) {
          try {
            return await runtime.callTool(label, tool, args, callOpts);
          } catch (err) {
            if (callOpts.signal?.aborted) throw err;
            // Per the Responses API an MCP failure fails the item, never the response: report it to the model.
            if (err instanceof McpRuntimeError) return { ok: false, output_text: "", error_text: err.message };
            throw err;
          }
        },
      },
    };
  }
  const remote = opts.remote;
  if (remote?.enabled) {
    support.remote = {
      async connect(tool: McpTool, param: string, signal: AbortSignal) {
        const index = Number(/\[(\d+)\]/.exec(param)?.[1] ?? 0);
        let url: URL;
        let headers: Record<string, string>;
        try {
          url = await checkRemoteMcpServerUrl(tool.server_url, index, { urlChecks: remote.urlChecks, resolveHost: remote.resolveHost });
          headers = buildRemoteMcpHeaders(index, tool.headers ?? undefined, tool.authorization);
        } catch (err) {
          if (err instanceof RemoteMcpPolicyError) throw invalidRequest(err.message, err.param, "mcp_server_url_rejected");
          throw err;
        }
        // Loaded on first use: the MCP SDK client costs ~25 MB of memory that a gateway without remote MCP never needs.
        const { connectRemoteMcp, RemoteMcpError } = await import("../tools/mcp/remote-client.js");
        try {
          const session = await connectRemoteMcp({ server_label: tool.server_label, server_url: url, headers, connectTimeoutMs: remote.connectTimeoutMs, signal, logger: opts.logger });
          const tools = await session.listTools({ timeoutMs: remote.listTimeoutMs, signal }).catch(async (err: unknown) => {
            await session.close();
            throw err;
          });
          const caller: McpCaller = { callTool: (_label, name, args, o) => session.callTool(name, args, o) };
          return { tools, caller, close: () => session.close() };
        } catch (err) {
          if (err instanceof RemoteMcpError) {
            throw new GatewayError(424, `MCP tool inventory resolution failed for server '${tool.server_label}': ${err.message}`, "invalid_request_error", `${param}.server_url`, "mcp_server_unreachable");
          }
          throw err;
        }
      },
    };
  }
  return support;
}

function requestError(err: unknown, label: string, param: string): GatewayError {
  if (err instanceof McpUnknownServerError) return invalidRequest(`Unknown MCP server_label '${label}': it is not one of this gateway's built-in servers (GET /v1/mcp/servers lists them).`, param, "mcp_server_not_found");
  if (err instanceof McpServerUnavailableError) return new GatewayError(409, err.message, "invalid_request_error", param, "mcp_server_unavailable");
  if (err instanceof McpRuntimeUnreachableError) return new GatewayError(503, `The built-in MCP runtime is unreachable: ${err.message}`, "api_error", null, "mcp_runtime_unavailable");
  return err instanceof GatewayError ? err : new GatewayError(502, `MCP discovery failed: ${(err as Error).message}`, "api_error", param, "mcp_error");
}

/** The discovery routes over the same runtime. */
export function createMcpDiscovery(runtime: McpRuntime): McpDiscovery {
  return {
    listServers: () => runtime.listServers(),
    listTools: (label) => runtime.listTools(label),
    toGatewayError(err, label) {
      if (err instanceof McpUnknownServerError || err instanceof McpToolNotFoundError) return new GatewayError(404, err.message, "invalid_request_error", "server_label", "mcp_server_not_found");
      if (err instanceof McpServerUnavailableError) return new GatewayError(409, err.message, "invalid_request_error", "server_label", "mcp_server_unavailable");
      if (err instanceof McpRuntimeUnreachableError) return new GatewayError(503, err.message, "api_error", null, "mcp_runtime_unavailable");
      return new GatewayError(503, `MCP runtime error${label ? ` for '${label}'` : ""}: ${(err as Error).message}`, "api_error", null, "mcp_runtime_unavailable");
    },
  };
}
