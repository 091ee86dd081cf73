#!/usr/bin/env node
// A real stdio MCP server for tests: `node test/mcp-servers/stdio-server.mjs [--fail-start] [--no-tools]`.
//   --fail-start  write a line to stderr and exit 2 before speaking MCP (start-up failure with a reason)
//   --delay-ms N  wait N ms before connecting (start-up timeout tests)
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { registerTestTools } from "./tools.mjs";

const args = process.argv.slice(2);
if (args.includes("--fail-start")) {
  process.stderr.write(`fatal: cannot start, api key ${process.env.TEST_SECRET ?? "unset"} rejected\n`);
  process.exit(2);
}
const delayIndex = args.indexOf("--delay-ms");
if (delayIndex >= 0) await new Promise((r) => setTimeout(r, Number(args[delayIndex + 1])));

const server = new McpServer({ name: "test-stdio", version: "1.0.0" });
registerTestTools(server, { variant: "stdio" });
process.stderr.write("test-stdio server starting\n");
await server.connect(new StdioServerTransport());
