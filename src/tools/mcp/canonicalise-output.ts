/**
 * MCP `tools/call` results → the gateway's `McpCallResult`.
 *
 * The text must be stable (the same tool result always yields the same bytes) because it is fed back to the
 * model and stored in `mcp_call.output`: JSON is therefore compact with sorted keys.
 */
import type { McpCallResult } from "./runtime.js";
import { DEFAULT_MCP_ERROR_TEXT, toMcpErrorText } from "./redact-secrets.js";

/** Compact JSON with object keys sorted recursively (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * Text parts are joined with "\n"; other content parts (image, audio, resource, resource_link) become canonical
 * JSON in place. `structuredContent` is used only when there is no content at all: the spec says a tool that
 * returns structured content SHOULD also return it serialised as text, and that text is what the server chose to
 * show. The legacy (2024-10-07) `toolResult` field is accepted for old servers.
 */
export function toolResultText(result: Record<string, unknown>): string {
  const content = Array.isArray(result["content"]) ? (result["content"] as unknown[]) : [];
  if (content.length > 0) {
    return content
      .map((part) => {
        const p = part as Record<string, unknown> | null;
        return p && p["type"] === "text" && typeof p["text"] === "string" ? p["text"] : canonicalJson(part);
      })
      .join("\n");
  }
  for (const key of ["structuredContent", "toolResult"]) {
    const value = result[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "string") return value;
    if (isEmptyContainer(value)) return "";
    return canonicalJson(value);
  }
  return "";
}

/** `isError: true` → ok:false with the (redacted) text as `error_text`. */
export function toMcpCallResult(result: Record<string, unknown>, secrets: readonly string[]): McpCallResult {
  const text = toolResultText(result);
  if (result["isError"] === true) {
    return { ok: false, output_text: "", error_text: text ? toMcpErrorText(text, secrets) : DEFAULT_MCP_ERROR_TEXT };
  }
  return { ok: true, output_text: text, error_text: null };
}

/** A failed call (timeout, transport error, JSON-RPC error) as an item-level failure. */
export function failedMcpCallResult(failure: unknown, secrets: readonly string[]): McpCallResult {
  return { ok: false, output_text: "", error_text: toMcpErrorText(failure, secrets) };
}

function isEmptyContainer(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}
