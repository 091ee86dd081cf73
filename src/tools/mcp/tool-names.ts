/**
 * Model-facing names of MCP tools: `mcp__<label>__<tool>`, characters outside `[a-zA-Z0-9_-]` replaced by `_`,
 * at most 64 characters (the OpenAI / vLLM function-name limit). A name that is too long, or that collides with
 * one already taken, becomes `<prefix>__<first 10 hex of sha1("mode:label:tool")>` — deterministic, so the same
 * tool keeps its name across turns of a conversation and across gateway workers.
 */
import { sha1Hex } from "./sha1-hex.js";

export type McpToolMode = "hosted" | "request_remote";

export interface McpToolRef {
  mode: McpToolMode;
  server_label: string;
  tool_name: string;
}

export interface McpToolNameEntry extends McpToolRef {
  /** The function name the model sees and calls. */
  name: string;
}

export const MCP_MODEL_NAME_PREFIX = "mcp__";
export const MAX_MODEL_TOOL_NAME_CHARS = 64;
const HASH_HEX_CHARS = 10;
/** `__` + 10 hex. */
const HASH_SUFFIX_CHARS = 2 + HASH_HEX_CHARS;

export class McpToolNameCollisionError extends Error {
  override readonly name = "McpToolNameCollisionError";
}

/** True for names in the reserved `mcp__` namespace (client function tools may not use it). */
export function isMcpModelToolName(name: string): boolean {
  return name.startsWith(MCP_MODEL_NAME_PREFIX);
}

export function sanitizeMcpNamePart(part: string): string {
  return part.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** `mcp__<label>__<tool>`, sanitised but not shortened (may exceed 64 characters). */
export function plainMcpToolName(serverLabel: string, toolName: string): string {
  return `${MCP_MODEL_NAME_PREFIX}${sanitizeMcpNamePart(serverLabel)}__${sanitizeMcpNamePart(toolName)}`;
}

/** The hashed form, always ≤ 64 characters. */
export function hashedMcpToolName(ref: McpToolRef): string {
  const plain = plainMcpToolName(ref.server_label, ref.tool_name);
  const prefix = plain.slice(0, MAX_MODEL_TOOL_NAME_CHARS - HASH_SUFFIX_CHARS);
  const hash = sha1Hex(`${ref.mode}:${ref.server_label}:${ref.tool_name}`).slice(0, HASH_HEX_CHARS);
  return `${prefix}__${hash}`;
}

/** Model name ↔ (mode, server_label, tool_name) for the MCP tools of one request. */
export class McpToolNameMap {
  private readonly byName = new Map<string, McpToolNameEntry>();
  private readonly byRef = new Map<string, McpToolNameEntry>();

  /**
   * Names are handed out in `refs` order, so earlier refs win the plain name on a collision: pass the tools of
   * historical `mcp_call` items first, then the request's tools, so a continuation keeps the names the model has
   * already seen. Repeated refs get the same name. `takenNames` are names already used by other tools.
   */
  static build(refs: Iterable<McpToolRef>, takenNames: Iterable<string> = []): McpToolNameMap {
    const map = new McpToolNameMap();
    const taken = new Set(takenNames);
    for (const ref of refs) map.add(ref, taken);
    return map;
  }

  private add(ref: McpToolRef, taken: Set<string>): void {
    const key = refKey(ref);
    if (this.byRef.has(key)) return;
    const plain = plainMcpToolName(ref.server_label, ref.tool_name);
    let name = plain;
    if (plain.length > MAX_MODEL_TOOL_NAME_CHARS || this.byName.has(plain) || taken.has(plain)) {
      name = hashedMcpToolName(ref);
      if (this.byName.has(name) || taken.has(name)) {
        // Two distinct tools sharing a 52-character prefix *and* 40 bits of SHA-1: refuse rather than guess.
        throw new McpToolNameCollisionError(
          `MCP tool name collision: '${ref.server_label}:${ref.tool_name}' maps to '${name}', which is already taken`,
        );
      }
    }
    const entry: McpToolNameEntry = { name, mode: ref.mode, server_label: ref.server_label, tool_name: ref.tool_name };
    this.byName.set(name, entry);
    this.byRef.set(key, entry);
  }

  /** The model-facing name of a tool, if it is in the map. */
  nameOf(ref: McpToolRef): string | undefined {
    return this.byRef.get(refKey(ref))?.name;
  }

  /** The tool behind a model-facing name, if any. */
  resolve(modelName: string): McpToolNameEntry | undefined {
    return this.byName.get(modelName);
  }

  entries(): McpToolNameEntry[] {
    return [...this.byName.values()];
  }
}

function refKey(ref: McpToolRef): string {
  return `${ref.mode}\u0000${ref.server_label}\u0000${ref.tool_name}`;
}
