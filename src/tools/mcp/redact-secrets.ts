/**
 * Error text that leaves the MCP layer (item `error`, discovery 409 bodies, logs) must never carry a credential.
 * MCP servers and HTTP stacks love to echo request details into their errors, so every error string is scrubbed
 * of (a) the literal secret values we sent — header values, env values, URL passwords and query values — and
 * (b) anything shaped like a credential (`Bearer …`, `Authorization: …`, `?api_key=…`).
 */
import type { McpServerConfig } from "./mcp-config.js";

export const DEFAULT_MCP_ERROR_TEXT = "MCP tool call failed";
export const MAX_MCP_ERROR_TEXT_CHARS = 4096;
const MASK = "***";

/**
 * Shorter values are not treated as literal secrets: replacing every "1" or "on" in a message (an env flag
 * such as DEBUG=1) would mangle it without protecting anything a 3-character guess could not find anyway.
 */
const MIN_LITERAL_SECRET_CHARS = 4;

const AUTHORIZATION_VALUE = /(\b(?:proxy-)?authorization\b["']?\s*[:=]\s*["']?)(?!\*\*\*)[^\r\n"',;}]+/gi;
const BEARER_TOKEN = /\b(bearer)\s+(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*/gi;
const SECRET_QUERY_PARAM = /([?&][A-Za-z0-9_.-]*(?:key|token|secret|password|auth)[A-Za-z0-9_.-]*=)[^&#\s"']+/gi;

/** The literal secret values of one mcp.json entry. */
export function secretsOfServerConfig(config: McpServerConfig): string[] {
  if (config.kind === "command") return Object.values(config.env);
  return [...secretsOfHeaders(config.headers), ...secretsOfUrl(config.url)];
}

/** Header values (all of them: a custom `x-api-key` is as secret as `Authorization`). */
export function secretsOfHeaders(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const value of Object.values(headers)) {
    out.push(value);
    // `Bearer abc` is also present as just `abc` in some server errors.
    const token = /^\s*\S+\s+(\S+)\s*$/.exec(value)?.[1];
    if (token) out.push(token);
  }
  return out;
}

/** A URL's password and query values: hosted URLs often carry an API key as a query parameter. */
export function secretsOfUrl(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (parsed.password) out.push(decodeURIComponent(parsed.password), parsed.password);
  for (const value of parsed.searchParams.values()) out.push(value);
  return out;
}

/** Replaces every secret in `text` by `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const literals = [...new Set(secrets)].filter((s) => s.length >= MIN_LITERAL_SECRET_CHARS);
  // Longest first, so a secret that contains another one is masked whole.
  literals.sort((a, b) => b.length - a.length);
  for (const secret of literals) out = out.split(secret).join(MASK);
  return out
    .replace(AUTHORIZATION_VALUE, `$1${MASK}`)
    .replace(BEARER_TOKEN, `$1 ${MASK}`)
    .replace(SECRET_QUERY_PARAM, `$1${MASK}`);
}

/**
 * The `error_text` for a failure: message (with its `cause`, which is where fetch puts ECONNREFUSED & co.),
 * redacted, trimmed, capped at 4096 characters, never empty.
 */
export function toMcpErrorText(failure: unknown, secrets: readonly string[]): string {
  const redacted = redactSecrets(describeFailure(failure), secrets).trim();
  if (redacted.length === 0) return DEFAULT_MCP_ERROR_TEXT;
  return redacted.length > MAX_MCP_ERROR_TEXT_CHARS ? redacted.slice(0, MAX_MCP_ERROR_TEXT_CHARS) : redacted;
}

function describeFailure(failure: unknown): string {
  if (typeof failure === "string") return failure;
  if (failure instanceof Error) {
    let text = failure.message;
    // The SDK's StreamableHTTPError / SseError keep the HTTP status in `code`, not always in the message.
    const code = (failure as { code?: unknown }).code;
    if (typeof code === "number" && code >= 100 && code <= 599 && !text.includes(String(code))) text += ` (HTTP ${code})`;
    const cause = (failure as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "";
    return causeText && !text.includes(causeText) ? `${text} (${causeText})` : text;
  }
  if (failure === null || failure === undefined) return "";
  return String(failure);
}
