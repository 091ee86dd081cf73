/**
 * Parsing and validation of the built-in ("hosted") MCP server file, `mcp.json`:
 *
 *   {"mcpServers": {"<label>": {"url": "https://…", "headers": {…}, "transport": "streamable-http" | "sse"}}}
 *   {"mcpServers": {"<label>": {"command": "npx", "args": […], "env": {…}, "cwd": "…", "transport": "stdio"}}}
 *
 * Entries are parsed strictly: an unknown key is rejected rather than ignored, because a typo such as `header`
 * for `headers` would otherwise silently drop credentials and surface much later as a confusing 401. Every
 * message names the server label so an operator can find the entry in a long file.
 */

/** `auto` = try Streamable HTTP first, fall back to the legacy HTTP+SSE transport (the MCP spec's client advice). */
export type McpUrlTransport = "streamable-http" | "sse" | "auto";

export interface McpUrlServerConfig {
  kind: "url";
  server_label: string;
  url: string;
  headers: Record<string, string>;
  transport: McpUrlTransport;
}

export interface McpCommandServerConfig {
  kind: "command";
  server_label: string;
  command: string;
  args: string[];
  /** Added on top of a minimal safe environment (PATH, HOME, …), never the whole parent environment. */
  env: Record<string, string>;
  /** Passed to the child as-is (relative paths resolve against the runtime process's working directory). */
  cwd: string | null;
  transport: "stdio";
}

export type McpServerConfig = McpUrlServerConfig | McpCommandServerConfig;

export interface McpConfig {
  /** In file order. */
  servers: McpServerConfig[];
}

export class McpConfigError extends Error {
  override readonly name = "McpConfigError";
  constructor(
    message: string,
    /** The offending server label, when the problem is inside one entry. */
    readonly server_label: string | null = null,
  ) {
    super(message);
  }
}

export const MCP_SERVER_LABEL_PATTERN = /^[a-zA-Z0-9_-]+$/;

const URL_ENTRY_KEYS = ["url", "headers", "transport"] as const;
const COMMAND_ENTRY_KEYS = ["command", "args", "env", "cwd", "transport"] as const;
const URL_TRANSPORTS: readonly string[] = ["streamable-http", "sse"];
/** RFC 9110 `token`: what fetch/Headers accept as a header name. */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses the text of an mcp.json file. `source` only names the file in error messages. */
export function parseMcpConfig(text: string, source = "mcp.json"): McpConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new McpConfigError(`${source}: invalid JSON: ${(error as Error).message}`);
  }
  return parseMcpConfigValue(value, source);
}

/** Validates an already-decoded mcp.json document. */
export function parseMcpConfigValue(value: unknown, source = "mcp.json"): McpConfig {
  if (!isPlainObject(value)) throw new McpConfigError(`${source}: top level must be a JSON object with "mcpServers"`);
  // Other top-level keys (e.g. "$schema", or settings of other tools sharing the file) carry no server semantics,
  // so they are ignored; a misspelt "mcpServers" still fails below because the key is required.
  const serversValue = value["mcpServers"];
  if (serversValue === undefined) throw new McpConfigError(`${source}: "mcpServers" is required`);
  if (!isPlainObject(serversValue)) throw new McpConfigError(`${source}: "mcpServers" must be an object of label → entry`);

  const servers: McpServerConfig[] = [];
  for (const [label, entry] of Object.entries(serversValue)) {
    servers.push(parseEntry(label, entry, source));
  }
  return { servers };
}

function parseEntry(label: string, entry: unknown, source: string): McpServerConfig {
  const fail: (problem: string) => never = (problem) => {
    throw new McpConfigError(`${source}: server '${label}': ${problem}`, label);
  };
  if (!MCP_SERVER_LABEL_PATTERN.test(label)) fail("label must match ^[a-zA-Z0-9_-]+$");
  if (!isPlainObject(entry)) return fail("entry must be an object");

  const transport = entry["transport"];
  if (transport !== undefined && typeof transport !== "string") {
    fail("\"transport\" must be a string (\"streamable-http\", \"sse\" or \"stdio\"); nested transport objects are not supported");
  }
  const hasUrl = entry["url"] !== undefined;
  const hasCommand = entry["command"] !== undefined;
  if (hasUrl && hasCommand) fail("an entry has either \"url\" or \"command\", not both");
  if (!hasUrl && !hasCommand) {
    if (transport === "stdio") fail("\"transport\": \"stdio\" requires a \"command\"");
    fail("an entry needs a \"url\" (HTTP server) or a \"command\" (stdio server)");
  }
  return hasUrl
    ? parseUrlEntry(label, entry, transport as string | undefined, fail)
    : parseCommandEntry(label, entry, transport as string | undefined, fail);
}

function parseUrlEntry(
  label: string,
  entry: Record<string, unknown>,
  transport: string | undefined,
  fail: (problem: string) => never,
): McpUrlServerConfig {
  rejectUnknownKeys(entry, URL_ENTRY_KEYS, "url", fail);
  if (transport === "stdio") fail("\"transport\": \"stdio\" requires a \"command\", not a \"url\"");
  if (transport !== undefined && !URL_TRANSPORTS.includes(transport)) {
    fail(`unknown transport '${transport}' for a url entry (expected "streamable-http" or "sse")`);
  }
  const url = entry["url"];
  if (typeof url !== "string" || url.length === 0) return fail("\"url\" must be a non-empty string");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the URL: it may carry an API key in its query string.
    return fail("\"url\" must be an absolute http:// or https:// URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") fail("\"url\" must use http:// or https://");

  const headers = stringRecord(entry["headers"], "headers", fail);
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME_PATTERN.test(name)) fail(`header name '${name}' is not a valid HTTP header name`);
    if (/[\r\n\0]/.test(value)) fail(`header '${name}' value must not contain CR, LF or NUL`);
  }
  return {
    kind: "url",
    server_label: label,
    url,
    headers,
    transport: (transport as McpUrlTransport | undefined) ?? "auto",
  };
}

function parseCommandEntry(
  label: string,
  entry: Record<string, unknown>,
  transport: string | undefined,
  fail: (problem: string) => never,
): McpCommandServerConfig {
  rejectUnknownKeys(entry, COMMAND_ENTRY_KEYS, "command", fail);
  if (transport !== undefined && transport !== "stdio") {
    fail(`unknown transport '${transport}' for a command entry (only "stdio" is allowed)`);
  }
  const command = entry["command"];
  if (typeof command !== "string" || command.trim().length === 0) return fail("\"command\" must be a non-empty string");

  const argsValue = entry["args"];
  let args: string[] = [];
  if (argsValue !== undefined) {
    if (!Array.isArray(argsValue) || !argsValue.every((a) => typeof a === "string")) {
      fail("\"args\" must be an array of strings");
    }
    args = [...(argsValue as string[])];
  }

  const env = stringRecord(entry["env"], "env", fail);
  for (const name of Object.keys(env)) {
    if (name.length === 0 || name.includes("=") || name.includes("\0")) fail(`env name '${name}' is not a valid variable name`);
  }

  const cwdValue = entry["cwd"];
  if (cwdValue !== undefined && (typeof cwdValue !== "string" || cwdValue.length === 0)) {
    fail("\"cwd\" must be a non-empty string");
  }
  return {
    kind: "command",
    server_label: label,
    command,
    args,
    env,
    cwd: (cwdValue as string | undefined) ?? null,
    transport: "stdio",
  };
}

function rejectUnknownKeys(
  entry: Record<string, unknown>,
  allowed: readonly string[],
  kind: "url" | "command",
  fail: (problem: string) => never,
): void {
  for (const key of Object.keys(entry)) {
    if (allowed.includes(key)) continue;
    if (kind === "command" && key === "headers") fail("\"headers\" only apply to url entries, not command entries");
    fail(`unknown key '${key}' in a ${kind} entry (allowed: ${allowed.join(", ")})`);
  }
}

function stringRecord(value: unknown, field: string, fail: (problem: string) => never): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) return fail(`"${field}" must be an object of string → string`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(`"${field}.${key}" must be a string`);
    out[key] = v as string;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
