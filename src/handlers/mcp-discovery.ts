/**
 * GET /v1/mcp/servers and GET /v1/mcp/servers/{label}/tools — what the built-in MCP runtime offers.
 */
import { GatewayError } from "../core/errors.js";

export interface McpDiscovery {
  listServers(): Promise<Array<{ server_label: string; available: boolean; transport: string }>>;
  listTools(label: string): Promise<Array<{ name: string; description: string | null; input_schema: Record<string, unknown> }>>;
  /** Maps a runtime error to the HTTP error the discovery routes answer (404 / 409 / 503). */
  toGatewayError(err: unknown, label: string | null): GatewayError;
}

export async function mcpServers(discovery: McpDiscovery | null): Promise<Response> {
  if (!discovery) return Response.json({ object: "list", data: [] });
  let servers;
  try {
    servers = await discovery.listServers();
  } catch (err) {
    throw discovery.toGatewayError(err, null);
  }
  const data = servers.map((s) => ({ server_label: s.server_label, available: s.available, transport: s.transport })).sort((a, b) => a.server_label.localeCompare(b.server_label));
  return Response.json({ object: "list", data });
}

export async function mcpServerTools(discovery: McpDiscovery | null, label: string): Promise<Response> {
  if (!discovery) throw new GatewayError(404, `Unknown MCP server '${label}' (no built-in MCP servers are configured).`, "invalid_request_error", "server_label", "mcp_server_not_found");
  let tools;
  try {
    tools = await discovery.listTools(label);
  } catch (err) {
    throw discovery.toGatewayError(err, label);
  }
  return Response.json({ server_label: label, available: true, tools: [...tools].sort((a, b) => a.name.localeCompare(b.name)) });
}
