import { describe, expect, it } from "vitest";
import { McpConfigError, parseMcpConfig } from "../../src/tools/mcp/mcp-config.js";

const doc = (servers: Record<string, unknown>): string => JSON.stringify({ mcpServers: servers });

describe("parseMcpConfig: valid documents", () => {
  it("parses url entries with defaults and explicit transports", () => {
    const config = parseMcpConfig(
      doc({
        docs: { url: "https://docs.example.com/mcp" },
        legacy: { url: "http://127.0.0.1:9000/sse", transport: "sse", headers: { "X-Api-Key": "k" } },
        modern: { url: "https://x.example/mcp", transport: "streamable-http" },
      }),
    );
    expect(config.servers).toEqual([
      { kind: "url", server_label: "docs", url: "https://docs.example.com/mcp", headers: {}, transport: "auto" },
      { kind: "url", server_label: "legacy", url: "http://127.0.0.1:9000/sse", headers: { "X-Api-Key": "k" }, transport: "sse" },
      { kind: "url", server_label: "modern", url: "https://x.example/mcp", headers: {}, transport: "streamable-http" },
    ]);
  });

  it("parses command entries with args, env, cwd and an explicit stdio transport", () => {
    const config = parseMcpConfig(
      doc({
        "fs_tools-1": { command: "npx", args: ["-y", "server"], env: { TOKEN: "t" }, cwd: "/tmp", transport: "stdio" },
        plain: { command: "node" },
      }),
    );
    expect(config.servers).toEqual([
      { kind: "command", server_label: "fs_tools-1", command: "npx", args: ["-y", "server"], env: { TOKEN: "t" }, cwd: "/tmp", transport: "stdio" },
      { kind: "command", server_label: "plain", command: "node", args: [], env: {}, cwd: null, transport: "stdio" },
    ]);
  });

  it("accepts an empty server map and ignores unrelated top-level keys", () => {
    expect(parseMcpConfig(JSON.stringify({ $schema: "x", mcpServers: {} })).servers).toEqual([]);
  });
});

describe("parseMcpConfig: rejections name the label", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["mixed url + command", { both: { url: "https://a.example", command: "node" } }, /server 'both'.*either "url" or "command"/],
    ["neither url nor command", { empty: {} }, /server 'empty'.*needs a "url".*or a "command"/],
    ["nested transport object", { nested: { url: "https://a.example", transport: { type: "sse" } } }, /server 'nested'.*nested transport objects/],
    ["stdio transport without command", { nocmd: { transport: "stdio" } }, /server 'nocmd'.*"stdio" requires a "command"/],
    ["stdio transport on a url entry", { urlstdio: { url: "https://a.example", transport: "stdio" } }, /server 'urlstdio'.*"stdio" requires a "command"/],
    ["unknown url transport", { weird: { url: "https://a.example", transport: "websocket" } }, /server 'weird'.*unknown transport 'websocket'/],
    ["non-stdio transport on a command", { cmdsse: { command: "node", transport: "sse" } }, /server 'cmdsse'.*unknown transport 'sse'/],
    ["relative url", { rel: { url: "/mcp" } }, /server 'rel'.*absolute http/],
    ["ftp url", { ftp: { url: "ftp://a.example/x" } }, /server 'ftp'.*http:\/\/ or https:\/\//],
    ["url not a string", { num: { url: 42 } }, /server 'num'.*"url" must be a non-empty string/],
    ["headers not an object", { hdr: { url: "https://a.example", headers: ["a"] } }, /server 'hdr'.*"headers" must be an object/],
    ["header value not a string", { hv: { url: "https://a.example", headers: { a: 1 } } }, /server 'hv'.*"headers.a" must be a string/],
    ["header value with newline", { crlf: { url: "https://a.example", headers: { a: "x\r\ny" } } }, /server 'crlf'.*CR, LF/],
    ["invalid header name", { hn: { url: "https://a.example", headers: { "bad name": "x" } } }, /server 'hn'.*not a valid HTTP header name/],
    ["headers on a command entry", { cmdh: { command: "node", headers: { a: "b" } } }, /server 'cmdh'.*"headers" only apply to url entries/],
    ["empty command", { blank: { command: "  " } }, /server 'blank'.*"command" must be a non-empty string/],
    ["args not string[]", { args: { command: "node", args: ["a", 1] } }, /server 'args'.*"args" must be an array of strings/],
    ["env value not a string", { envv: { command: "node", env: { A: true } } }, /server 'envv'.*"env.A" must be a string/],
    ["cwd not a string", { cwd: { command: "node", cwd: 3 } }, /server 'cwd'.*"cwd" must be a non-empty string/],
    ["unknown key", { typo: { url: "https://a.example", header: { a: "b" } } }, /server 'typo'.*unknown key 'header'/],
    ["entry not an object", { str: "https://a.example" }, /server 'str'.*entry must be an object/],
    ["bad label", { "bad label!": { command: "node" } }, /server 'bad label!'.*label must match/],
  ];

  it.each(cases)("%s", (_name, servers, message) => {
    let caught: unknown;
    try {
      parseMcpConfig(doc(servers));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(McpConfigError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as McpConfigError).server_label).toBe(Object.keys(servers)[0]);
  });

  it("never echoes an unparseable url (it may carry a key)", () => {
    expect(() => parseMcpConfig(doc({ k: { url: "https//secret-key-123@x" } }))).toThrow(/server 'k'/);
    try {
      parseMcpConfig(doc({ k: { url: "https//secret-key-123@x" } }));
    } catch (error) {
      expect((error as Error).message).not.toContain("secret-key-123");
    }
  });

  it("rejects broken documents with the source named", () => {
    expect(() => parseMcpConfig("{", "/etc/mcp.json")).toThrow(/^\/etc\/mcp.json: invalid JSON/);
    expect(() => parseMcpConfig("[]")).toThrow(/top level must be a JSON object/);
    expect(() => parseMcpConfig("{}")).toThrow(/"mcpServers" is required/);
    expect(() => parseMcpConfig('{"mcpServers": []}')).toThrow(/"mcpServers" must be an object/);
  });
});
