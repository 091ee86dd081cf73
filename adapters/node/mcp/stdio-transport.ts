/**
 * The stdio transport for a command entry of mcp.json (Node-only: it spawns a child process).
 *
 * Environment: the SDK's StdioClientTransport starts from `getDefaultEnvironment()` (HOME, LOGNAME, PATH, SHELL,
 * TERM, USER only) and adds the entry's `env`, so the gateway's own secrets (VR_OPENAI_API_KEY, database URLs …)
 * never leak into third-party server processes.
 *
 * stderr is piped rather than inherited: the last lines are kept so a server that dies during start-up reports
 * *why* (a missing module, a bad API key) instead of the SDK's bare "Connection closed".
 */
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { McpCommandServerConfig } from "../../../src/tools/mcp/mcp-config.js";

const STDERR_TAIL_LINES = 20;
const STDERR_TAIL_LINE_CHARS = 500;

export interface StdioTransportHandle {
  transport: StdioClientTransport;
  /** The last lines the child wrote to stderr (unredacted: redact before showing). */
  stderrTail(): string[];
}

export function createStdioTransport(config: McpCommandServerConfig, onStderrLine: (line: string) => void): StdioTransportHandle {
  const transport = new StdioClientTransport({
    command: config.command,
    args: config.args,
    env: config.env,
    cwd: config.cwd ?? undefined,
    stderr: "pipe",
  });
  const tail: string[] = [];
  let partial = "";
  // Available before start() (the SDK hands out a PassThrough), so nothing the child prints early is lost.
  transport.stderr?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split(/\r?\n/);
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.length === 0) continue;
      const clipped = line.slice(0, STDERR_TAIL_LINE_CHARS);
      tail.push(clipped);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      onStderrLine(clipped);
    }
  });
  return {
    transport,
    stderrTail: () => (partial ? [...tail, partial.slice(0, STDERR_TAIL_LINE_CHARS)] : [...tail]),
  };
}
