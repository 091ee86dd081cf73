import { describe, expect, it } from "vitest";
import { canonicalJson, toMcpCallResult, toolResultText } from "../../src/tools/mcp/canonicalise-output.js";
import { redactSecrets, secretsOfServerConfig, toMcpErrorText } from "../../src/tools/mcp/redact-secrets.js";

describe("tool result → output_text", () => {
  it("joins text parts", () => {
    expect(toolResultText({ content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] })).toBe("a\nb");
  });
  it("renders non-text parts as canonical JSON in place", () => {
    expect(toolResultText({ content: [{ type: "text", text: "x" }, { type: "image", mimeType: "image/png", data: "aGk=" }] })).toBe(
      'x\n{"data":"aGk=","mimeType":"image/png","type":"image"}',
    );
  });
  it("uses structuredContent (sorted, compact) only when there is no content", () => {
    expect(toolResultText({ content: [], structuredContent: { z: 1, a: { d: [3, { c: 1, b: 2 }] } } })).toBe('{"a":{"d":[3,{"b":2,"c":1}]},"z":1}');
    expect(toolResultText({ content: [{ type: "text", text: "shown" }], structuredContent: { a: 1 } })).toBe("shown");
    expect(toolResultText({ toolResult: { b: 1, a: 2 } })).toBe('{"a":2,"b":1}');
    expect(toolResultText({ toolResult: "legacy text" })).toBe("legacy text");
  });
  it("empty results are the empty string", () => {
    expect(toolResultText({})).toBe("");
    expect(toolResultText({ content: [] })).toBe("");
    expect(toolResultText({ content: [], structuredContent: {} })).toBe("");
    expect(toolResultText({ toolResult: [] })).toBe("");
    expect(toolResultText({ toolResult: null })).toBe("");
  });
  it("canonicalJson is stable", () => {
    expect(canonicalJson({ b: 1, a: [{ y: 1, x: 2 }] })).toBe('{"a":[{"x":2,"y":1}],"b":1}');
    expect(canonicalJson("s")).toBe('"s"');
  });
  it("isError → ok:false with redacted error text; default text when empty", () => {
    expect(toMcpCallResult({ isError: true, content: [{ type: "text", text: "bad token sk-123456" }] }, ["sk-123456"])).toEqual({
      ok: false,
      output_text: "",
      error_text: "bad token ***",
    });
    expect(toMcpCallResult({ isError: true, content: [] }, [])).toEqual({ ok: false, output_text: "", error_text: "MCP tool call failed" });
    expect(toMcpCallResult({ content: [{ type: "text", text: "hi" }] }, [])).toEqual({ ok: true, output_text: "hi", error_text: null });
  });
});

describe("secret redaction", () => {
  it("masks configured header and env values, URL query values and passwords", () => {
    const urlSecrets = secretsOfServerConfig({
      kind: "url",
      server_label: "x",
      url: "https://user:hunter22@mcp.example/mcp?exaApiKey=exa-key-999",
      headers: { "X-Api-Key": "header-secret-1" },
      transport: "auto",
    });
    expect(redactSecrets("x header-secret-1 y exa-key-999 z hunter22", urlSecrets)).toBe("x *** y *** z ***");
    const envSecrets = secretsOfServerConfig({
      kind: "command",
      server_label: "c",
      command: "node",
      args: [],
      env: { TOKEN: "env-token-abc", DEBUG: "1" },
      cwd: null,
      transport: "stdio",
    });
    // Values shorter than 4 characters are not literal secrets (would mangle "line 1").
    expect(redactSecrets("token env-token-abc at line 1", envSecrets)).toBe("token *** at line 1");
  });

  it("masks bearer tokens, authorization values and key-like query params without knowing them", () => {
    expect(redactSecrets("sent Bearer abc.def-ghi_jkl= upstream", [])).toBe("sent Bearer *** upstream");
    expect(redactSecrets('{"Authorization": "Basic dXNlcjpwYXNz"}', [])).toBe('{"Authorization": "***"}');
    expect(redactSecrets("authorization=Token xyz, next", [])).toBe("authorization=***, next");
    expect(redactSecrets("GET https://h/x?api_key=k123&q=ok failed", [])).toBe("GET https://h/x?api_key=***&q=ok failed");
  });

  it("error text: cause included, trimmed, capped at 4096, default when empty", () => {
    const error = new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
    expect(toMcpErrorText(error, [])).toBe("fetch failed (connect ECONNREFUSED 127.0.0.1:1)");
    expect(toMcpErrorText("   ", [])).toBe("MCP tool call failed");
    expect(toMcpErrorText(new Error(""), [])).toBe("MCP tool call failed");
    expect(toMcpErrorText(`  ${"e".repeat(5000)}  `, [])).toHaveLength(4096);
  });
});
