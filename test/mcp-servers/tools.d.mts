import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
export declare function registerTestTools(server: McpServer, opts: { variant: "stdio" | "http" }): void;
