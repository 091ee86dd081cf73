import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha1Hex } from "../../src/tools/mcp/sha1-hex.js";
import {
  hashedMcpToolName,
  isMcpModelToolName,
  McpToolNameCollisionError,
  McpToolNameMap,
  plainMcpToolName,
} from "../../src/tools/mcp/tool-names.js";

const nodeSha1 = (s: string): string => createHash("sha1").update(s).digest("hex");

describe("sha1Hex", () => {
  it("matches node:crypto on edge-length and non-ASCII inputs", () => {
    for (const input of ["", "abc", "héllo ✓ 日本", "a".repeat(55), "a".repeat(56), "a".repeat(64), "x".repeat(1000)]) {
      expect(sha1Hex(input)).toBe(nodeSha1(input));
    }
  });
});

describe("MCP tool names", () => {
  it("builds mcp__<label>__<tool> with unsafe characters replaced", () => {
    expect(plainMcpToolName("github_docs", "search_docs")).toBe("mcp__github_docs__search_docs");
    expect(plainMcpToolName("a-b", "tool.with spaces/and:colons")).toBe("mcp__a-b__tool_with_spaces_and_colons");
    expect(isMcpModelToolName("mcp__x__y")).toBe(true);
    expect(isMcpModelToolName("get_weather")).toBe(false);
  });

  it("keeps short names and resolves them both ways", () => {
    const map = McpToolNameMap.build([
      { mode: "hosted", server_label: "docs", tool_name: "search" },
      { mode: "request_remote", server_label: "remote", tool_name: "fetch.page" },
    ]);
    expect(map.nameOf({ mode: "hosted", server_label: "docs", tool_name: "search" })).toBe("mcp__docs__search");
    expect(map.resolve("mcp__remote__fetch_page")).toEqual({
      name: "mcp__remote__fetch_page",
      mode: "request_remote",
      server_label: "remote",
      tool_name: "fetch.page",
    });
    expect(map.resolve("mcp__nope__x")).toBeUndefined();
  });

  it("hashes overlong names deterministically to exactly 64 characters", () => {
    const ref = { mode: "hosted" as const, server_label: "a_rather_long_server_label", tool_name: "and_an_even_longer_tool_name_that_overflows" };
    const plain = plainMcpToolName(ref.server_label, ref.tool_name);
    expect(plain.length).toBeGreaterThan(64);
    const hashed = hashedMcpToolName(ref);
    const expectedHash = nodeSha1("hosted:a_rather_long_server_label:and_an_even_longer_tool_name_that_overflows").slice(0, 10);
    expect(hashed).toBe(`${plain.slice(0, 52)}__${expectedHash}`);
    expect(hashed).toHaveLength(64);
    expect(hashed).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(McpToolNameMap.build([ref]).nameOf(ref)).toBe(hashed);
    // Same input, same name: a continuation on another worker sees the same function name.
    expect(McpToolNameMap.build([ref]).nameOf(ref)).toBe(McpToolNameMap.build([ref]).nameOf(ref));
  });

  it("gives a colliding second tool the hashed name; the first keeps the plain one", () => {
    const first = { mode: "hosted" as const, server_label: "docs", tool_name: "search.v1" };
    const second = { mode: "hosted" as const, server_label: "docs", tool_name: "search/v1" };
    const map = McpToolNameMap.build([first, second]);
    expect(map.nameOf(first)).toBe("mcp__docs__search_v1");
    const expectedHash = nodeSha1("hosted:docs:search/v1").slice(0, 10);
    expect(map.nameOf(second)).toBe(`mcp__docs__search_v1__${expectedHash}`);
    expect(map.resolve(`mcp__docs__search_v1__${expectedHash}`)?.tool_name).toBe("search/v1");
    // Order decides: history first means the historical tool keeps its name.
    expect(McpToolNameMap.build([second, first]).nameOf(second)).toBe("mcp__docs__search_v1");
  });

  it("uses the mode in the hash and treats names taken by other tools as collisions", () => {
    const ref = { mode: "request_remote" as const, server_label: "docs", tool_name: "search" };
    const map = McpToolNameMap.build([ref], ["mcp__docs__search"]);
    expect(map.nameOf(ref)).toBe(`mcp__docs__search__${nodeSha1("request_remote:docs:search").slice(0, 10)}`);
  });

  it("dedupes repeated refs and refuses a true hash collision", () => {
    const ref = { mode: "hosted" as const, server_label: "s", tool_name: "t" };
    expect(McpToolNameMap.build([ref, ref]).entries()).toHaveLength(1);
    const taken = ["mcp__s__t", hashedMcpToolName(ref)];
    expect(() => McpToolNameMap.build([ref], taken)).toThrow(McpToolNameCollisionError);
  });
});
