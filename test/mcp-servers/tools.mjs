// Tools shared by the test MCP servers (stdio and HTTP). Real McpServer + zod: the gateway's MCP layer is
// tested against the SDK's own server behaviour, not a mock of it.
import { z } from "zod";

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error("cancelled"));
    });
  });

/**
 * @param {import("@modelcontextprotocol/sdk/server/mcp.js").McpServer} server
 * @param {{ variant: "stdio" | "http" }} opts
 */
export function registerTestTools(server, { variant }) {
  server.registerTool(
    "echo",
    { description: "Echo the text back", inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "add",
    { description: "Add two numbers", inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } },
    async ({ a, b }) => ({ content: [{ type: "text", text: JSON.stringify({ sum: a + b }) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool("structured", { description: "Structured content only" }, async () => ({
    content: [],
    structuredContent: { zeta: 1, alpha: { b: 2, a: 1 } },
  }));
  server.registerTool("mixed", { description: "Text and an image" }, async () => ({
    content: [
      { type: "text", text: "caption" },
      { type: "image", mimeType: "image/png", data: "aGk=" },
    ],
  }));
  server.registerTool("empty", { description: "Returns nothing" }, async () => ({ content: [] }));
  server.registerTool(
    "slow",
    { description: "Sleep for ms milliseconds", inputSchema: { ms: z.number() } },
    async ({ ms }, extra) => {
      await sleep(ms, extra.signal);
      return { content: [{ type: "text", text: `slept ${ms}` }] };
    },
  );
  server.registerTool("fail", { description: "Returns isError" }, async () => ({
    isError: true,
    content: [{ type: "text", text: "the tool failed on purpose" }],
  }));
  server.registerTool("boom", { description: "Throws, leaking secrets into its message" }, async () => {
    throw new Error(`boom: secret=${process.env.TEST_SECRET ?? "unset"} Authorization: Bearer sk-boom-123`);
  });
  server.registerTool(
    "env",
    { description: "Read an environment variable", inputSchema: { name: z.string() } },
    async ({ name }) => ({ content: [{ type: "text", text: process.env[name] ?? "(unset)" }] }),
  );
  server.registerTool(
    "search_docs",
    { description: "Search the documentation", inputSchema: { query: z.string() } },
    async ({ query }) => ({ content: [{ type: "text", text: `Found 2 results for "${query}": migration notes; release notes` }] }),
  );
  if (variant === "http") {
    // Echoes the bare token of the request's Authorization header into an error: the client must redact it.
    server.registerTool("leak_auth", { description: "Fails, quoting the caller's token" }, async (extra) => {
      const header = extra.requestInfo?.headers?.authorization ?? "";
      throw new Error(`upstream rejected credentials ${String(header).replace(/^Bearer\s+/i, "")}`);
    });
  }
  if (variant === "stdio") {
    server.registerTool("pid", { description: "The server process id" }, async () => ({
      content: [{ type: "text", text: String(process.pid) }],
    }));
    server.registerTool("crash", { description: "Exit the server process shortly after answering" }, async () => {
      setTimeout(() => process.exit(3), 50);
      return { content: [{ type: "text", text: "crashing" }] };
    });
  }
}
