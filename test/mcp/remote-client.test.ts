/**
 * Request-scoped remote MCP against the local test servers (URL checks off, as for a loopback test server),
 * with an Authorization header the server verifies.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRemoteMcp, RemoteMcpError } from "../../src/tools/mcp/remote-client.js";
import { buildRemoteMcpHeaders, checkRemoteMcpServerUrl } from "../../src/tools/mcp/remote-policy.js";
import { startSseMcpServer, startStreamableHttpMcpServer, type StartedTestMcpServer } from "../mcp-servers/http-server.mjs";
import { capturingLogger } from "./support.js";

const TOKEN = "remote-oauth-token-5f3a9c";
const policyOff = { urlChecks: false, resolveHost: null };

describe("remote MCP client", () => {
  let http: StartedTestMcpServer;
  let sse: StartedTestMcpServer;
  let hang: Server;
  let hangUrl: string;

  beforeAll(async () => {
    http = await startStreamableHttpMcpServer({ mode: "stateless", requiredAuthorization: `Bearer ${TOKEN}` });
    sse = await startSseMcpServer({ requiredAuthorization: `Bearer ${TOKEN}` });
    // Accepts connections and never answers: connect timeouts.
    hang = createServer(() => undefined);
    await new Promise<void>((resolve) => hang.listen(0, "127.0.0.1", resolve));
    hangUrl = `http://127.0.0.1:${(hang.address() as { port: number }).port}/mcp`;
  });
  afterAll(async () => {
    await http.close();
    await sse.close();
    hang.closeAllConnections();
    await new Promise((resolve) => hang.close(resolve));
  });

  async function connect(url: string, authorization: string, logger = capturingLogger(), extra: { signal?: AbortSignal; connectTimeoutMs?: number } = {}) {
    const server_url = await checkRemoteMcpServerUrl(url, 0, policyOff);
    const headers = buildRemoteMcpHeaders(0, { "X-Client": "test" }, authorization);
    return connectRemoteMcp({
      server_label: "remote",
      server_url,
      headers,
      connectTimeoutMs: extra.connectTimeoutMs ?? 5_000,
      signal: extra.signal,
      logger,
    });
  }

  it("connects over Streamable HTTP with the bearer token, lists and calls tools", async () => {
    const logger = capturingLogger();
    const session = await connect(http.url, TOKEN, logger);
    try {
      expect(session.transport).toBe("streamable-http");
      const tools = await session.listTools({ timeoutMs: 5_000 });
      expect(tools.find((t) => t.name === "search_docs")).toMatchObject({
        description: "Search the documentation",
        input_schema: { type: "object", properties: { query: { type: "string" } } },
      });
      expect(await session.callTool("search_docs", { query: "migration notes" }, { timeoutMs: 5_000 })).toEqual({
        ok: true,
        output_text: 'Found 2 results for "migration notes": migration notes; release notes',
        error_text: null,
      });
      expect(await session.callTool("fail", {}, { timeoutMs: 5_000 })).toEqual({ ok: false, output_text: "", error_text: "the tool failed on purpose" });
      const boom = await session.callTool("boom", {}, { timeoutMs: 5_000 });
      expect(boom.error_text).toBe("boom: secret=unset Authorization: ***");
      // The bare token (no "Bearer" in front) is still masked: it is a known secret of this session.
      expect(await session.callTool("leak_auth", {}, { timeoutMs: 5_000 })).toEqual({
        ok: false,
        output_text: "",
        error_text: "upstream rejected credentials ***",
      });
      const unknown = await session.callTool("no_such_tool", {}, { timeoutMs: 5_000 });
      expect(unknown.ok).toBe(false);
      expect(unknown.error_text).toMatch(/no_such_tool not found/);
      const started = Date.now();
      expect(await session.callTool("slow", { ms: 10_000 }, { timeoutMs: 200 })).toEqual({
        ok: false,
        output_text: "",
        error_text: "MCP tool call timed out after 200 ms",
      });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await session.close();
    }
    const seen = http.requests.filter((r) => r.method === "POST");
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.headers["authorization"] === `Bearer ${TOKEN}` && r.headers["x-client"] === "test")).toBe(true);
    expect(logger.text()).not.toContain(TOKEN);
  });

  it("falls back to SSE for a legacy server, sending the token on the stream and the posts", async () => {
    const session = await connect(sse.url, TOKEN);
    try {
      expect(session.transport).toBe("sse");
      expect(await session.callTool("echo", { text: "over sse" }, { timeoutMs: 5_000 })).toEqual({ ok: true, output_text: "over sse", error_text: null });
    } finally {
      await session.close();
    }
    const streams = sse.requests.filter((r) => r.method === "GET" && r.path === "/sse");
    expect(streams.length).toBeGreaterThan(0);
    expect(streams.every((r) => r.headers["authorization"] === `Bearer ${TOKEN}`)).toBe(true);
  });

  it("a rejected token fails the connect without the token in the error or the logs", async () => {
    const wrong = "wrong-token-abcdef123";
    const logger = capturingLogger();
    const error = await connect(http.url, wrong, logger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMcpError);
    expect((error as Error).message).toMatch(/401/);
    expect((error as Error).message).not.toContain(wrong);
    expect(logger.text()).toContain("mcp remote connect failed");
    expect(logger.text()).not.toContain(wrong);
  });

  it("a server that never answers hits the connect timeout; a caller abort propagates as is", async () => {
    const started = Date.now();
    const error = await connect(hangUrl, TOKEN, capturingLogger(), { connectTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMcpError);
    expect((error as Error).message).toBe("MCP connect timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(1_500);

    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("request cancelled")), 100);
    await expect(connect(hangUrl, TOKEN, capturingLogger(), { signal: controller.signal })).rejects.toThrow("request cancelled");
  });

  it("a connection refused is reported without trying SSE", async () => {
    const error = await connect("http://127.0.0.1:1/mcp", TOKEN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMcpError);
    expect((error as Error).message).toMatch(/ECONNREFUSED|fetch failed/);
    expect((error as Error).message).not.toMatch(/SSE fallback/);
  });
});
