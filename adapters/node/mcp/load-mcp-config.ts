/**
 * Reading mcp.json from disk (`--mcp-config PATH` / VR_MCP_CONFIG_PATH). Parsing and validation are the
 * runtime-agnostic parseMcpConfig; this only adds the file read and names the path in every message.
 */
import { readFile } from "node:fs/promises";
import { McpConfigError, parseMcpConfig, type McpConfig } from "../../../src/tools/mcp/mcp-config.js";

export async function loadMcpConfigFile(path: string): Promise<McpConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new McpConfigError(`cannot read MCP config ${path}: ${typeof code === "string" ? code : (error as Error).message}`);
  }
  return parseMcpConfig(text, path);
}
