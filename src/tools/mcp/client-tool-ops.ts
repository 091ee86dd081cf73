/**
 * tools/list and tools/call on a connected SDK client, shared by the hosted manager and the remote client.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { failedMcpCallResult, toMcpCallResult } from "./canonicalise-output.js";
import { withDeadline } from "./deadline.js";
import type { McpCallResult, McpToolInfo } from "./runtime.js";

/** A server that keeps handing out cursors is broken; stop rather than loop forever. */
const MAX_TOOL_LIST_PAGES = 100;

/** Every page of tools/list. */
export async function listAllTools(
  client: Client,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<McpToolInfo[]> {
  return withDeadline(
    async (signal) => {
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_LIST_PAGES; page++) {
        const result = await client.listTools(cursor === undefined ? {} : { cursor }, { signal, timeout: opts.timeoutMs });
        for (const tool of result.tools) {
          tools.push({
            name: tool.name,
            description: tool.description ?? null,
            input_schema: (tool.inputSchema as Record<string, unknown> | undefined) ?? { type: "object" },
          });
        }
        cursor = result.nextCursor;
        if (!cursor) return tools;
      }
      throw new Error(`tools/list returned more than ${MAX_TOOL_LIST_PAGES} pages`);
    },
    { timeoutMs: opts.timeoutMs, signal: opts.signal, timeoutMessage: `tools/list timed out after ${opts.timeoutMs} ms` },
  );
}

export interface ToolCallOutcome {
  result: McpCallResult;
  /**
   * Set when the failure means the session itself is broken (connection closed, HTTP/transport error), as
   * opposed to the tool failing or running too long: the owner should reconnect.
   */
  sessionFailure: unknown;
}

/**
 * One tools/call with a timeout. Tool errors, JSON-RPC errors, timeouts and transport errors become ok:false;
 * only the caller's own abort is re-thrown (nobody is left to read an item).
 */
export async function callToolOnce(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  opts: { timeoutMs: number; signal?: AbortSignal; secrets: readonly string[] },
): Promise<ToolCallOutcome> {
  const timeoutText = `MCP tool call timed out after ${opts.timeoutMs} ms`;
  try {
    const raw = await withDeadline(
      // The SDK's own timeout also sends notifications/cancelled to the server, so it is set as well.
      (signal) => client.callTool({ name, arguments: args }, undefined, { signal, timeout: opts.timeoutMs }),
      { timeoutMs: opts.timeoutMs, signal: opts.signal, timeoutMessage: timeoutText },
    );
    return { result: toMcpCallResult(raw as Record<string, unknown>, opts.secrets), sessionFailure: null };
  } catch (error) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return { result: failedMcpCallResult(timeoutText, opts.secrets), sessionFailure: null };
    }
    return { result: failedMcpCallResult(error, opts.secrets), sessionFailure: isSessionFailure(error) ? error : null };
  }
}

/** True when `error` means the session is broken (reconnect), false when only the request failed. */
export function isSessionFailure(error: unknown): boolean {
  if (error instanceof McpError) return error.code === ErrorCode.ConnectionClosed;
  // Our own deadline: the session may be fine, the tool was just slow.
  if (error instanceof Error && error.name === "McpDeadlineError") return false;
  // Anything else came from the transport (fetch failures, HTTP statuses, SSE errors, "Not connected").
  return true;
}
