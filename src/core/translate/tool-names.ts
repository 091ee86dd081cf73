/**
 * The names the model sees for gateway tools. MCP tools are `mcp__<label>__<tool>` (the prefix is reserved for
 * client function tools); characters chat templates reject become `_`.
 */
export const CODE_INTERPRETER_FUNCTION = "code_interpreter";

export function mcpModelName(serverLabel: string, toolName: string): string {
  return `mcp__${serverLabel}__${toolName}`.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
}
