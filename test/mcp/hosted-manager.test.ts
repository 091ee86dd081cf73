/**
 * The hosted manager against real MCP servers: a stdio child (test/mcp-servers/stdio-server.mjs), Streamable
 * HTTP and legacy SSE servers on node:http.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HostedMcpManager, type McpStartupStatus } from "../../adapters/node/mcp/hosted-manager.js";
import type { McpServerConfig } from "../../src/tools/mcp/mcp-config.js";
import { McpServerUnavailableError, McpToolNotFoundError, McpUnknownServerError } from "../../src/tools/mcp/runtime.js";
import { startSseMcpServer, startStreamableHttpMcpServer, type StartedTestMcpServer } from "../mcp-servers/http-server.mjs";
import { capturingLogger, freePort, STDIO_SERVER, waitFor } from "./support.js";

const ENV_SECRET = "env-secret-value-42";
const HEADER_SECRET = "header-token-xyz-789";
const FAST_RETRY = { initialDelayMs: 100, maxDelayMs: 400 };

function stdioEntry(label: string, extraArgs: string[] = []): McpServerConfig {
  return {
    kind: "command",
    server_label: label,
    command: process.execPath,
    args: [STDIO_SERVER, ...extraArgs],
    env: { TEST_SECRET: ENV_SECRET },
    cwd: null,
    transport: "stdio",
  };
}

function urlEntry(label: string, url: string, headers: Record<string, string> = {}, transport: "auto" | "sse" | "streamable-http" = "auto"): McpServerConfig {
  return { kind: "url", server_label: label, url, headers, transport };
}

async function startManager(servers: McpServerConfig[], startupTimeoutMs = 5_000) {
  const logger = capturingLogger();
  const startups: Array<[string, McpStartupStatus]> = [];
  const manager = await HostedMcpManager.start({
    config: { servers },
    startupTimeoutMs,
    logger,
    onStartup: (label, status) => startups.push([label, status]),
    reconnect: FAST_RETRY,
  });
  return { manager, logger, startups };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("hosted manager over stdio", () => {
  let ctx: Awaited<ReturnType<typeof startManager>>;
  beforeAll(async () => {
    process.env["VR_TEST_PARENT_ONLY"] = "must-not-leak";
    ctx = await startManager([stdioEntry("local")]);
  });
  afterAll(async () => {
    delete process.env["VR_TEST_PARENT_ONLY"];
    await ctx.manager.close();
  });

  it("reports the server and its tools", async () => {
    expect(await ctx.manager.listServers()).toEqual([{ server_label: "local", available: true, transport: "stdio" }]);
    const tools = await ctx.manager.listTools("local");
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "add", "slow", "fail", "boom", "search_docs"]));
    const echo = tools.find((t) => t.name === "echo");
    expect(echo?.description).toBe("Echo the text back");
    expect(echo?.input_schema).toMatchObject({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(ctx.startups).toEqual([["local", "ok"]]);
    expect(await ctx.manager.startupCounts()).toEqual([
      { server_label: "local", status: "ok", count: 1 },
      { server_label: "local", status: "error", count: 0 },
    ]);
  });

  it("calls tools: text, structured output, isError, thrown errors", async () => {
    const call = (tool: string, args: Record<string, unknown> = {}) => ctx.manager.callTool("local", tool, args, { timeoutMs: 5_000 });
    expect(await call("echo", { text: "hello" })).toEqual({ ok: true, output_text: "hello", error_text: null });
    expect(await call("add", { a: 2, b: 3 })).toEqual({ ok: true, output_text: '{"sum":5}', error_text: null });
    expect(await call("structured")).toEqual({ ok: true, output_text: '{"alpha":{"a":1,"b":2},"zeta":1}', error_text: null });
    expect(await call("empty")).toEqual({ ok: true, output_text: "", error_text: null });
    expect(await call("fail")).toEqual({ ok: false, output_text: "", error_text: "the tool failed on purpose" });

    const boom = await call("boom");
    expect(boom.ok).toBe(false);
    expect(boom.error_text).toBe("boom: secret=*** Authorization: ***");
    // Server-side input validation failure is an item failure too, not an exception.
    const invalid = await call("add", { a: "x" });
    expect(invalid.ok).toBe(false);
    expect(invalid.error_text).toMatch(/Input validation error/);
  });

  it("gives the child the configured env on a minimal base environment", async () => {
    const env = async (name: string) => (await ctx.manager.callTool("local", "env", { name }, { timeoutMs: 5_000 })).output_text;
    expect(await env("TEST_SECRET")).toBe(ENV_SECRET);
    expect(await env("PATH")).not.toBe("(unset)");
    expect(await env("VR_TEST_PARENT_ONLY")).toBe("(unset)");
  });

  it("times a slow call out within the limit", async () => {
    const started = Date.now();
    const result = await ctx.manager.callTool("local", "slow", { ms: 10_000 }, { timeoutMs: 300 });
    const elapsed = Date.now() - started;
    expect(result).toEqual({ ok: false, output_text: "", error_text: "MCP tool call timed out after 300 ms" });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    // The session survives a timeout.
    expect((await ctx.manager.callTool("local", "echo", { text: "still here" }, { timeoutMs: 5_000 })).output_text).toBe("still here");
  });

  it("re-throws the caller's abort", async () => {
    const controller = new AbortController();
    const pending = ctx.manager.callTool("local", "slow", { ms: 10_000 }, { timeoutMs: 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("client went away")), 100);
    await expect(pending).rejects.toThrow("client went away");
  });

  it("throws typed errors for unknown servers and tools", async () => {
    await expect(ctx.manager.listTools("nope")).rejects.toBeInstanceOf(McpUnknownServerError);
    await expect(ctx.manager.callTool("nope", "echo", {}, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(McpUnknownServerError);
    await expect(ctx.manager.callTool("local", "no_such_tool", {}, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(McpToolNotFoundError);
  });

  it("never logs the env secret or the bearer token", () => {
    const logs = ctx.logger.text();
    expect(logs).toContain("mcp tool call failed");
    expect(logs).not.toContain(ENV_SECRET);
    expect(logs).not.toContain("sk-boom-123");
  });
});

describe("hosted manager: failures, retries, reconnects", () => {
  it("a stdio server that dies at start-up is unavailable with its redacted stderr, and keeps being retried", async () => {
    const ctx = await startManager([stdioEntry("broken", ["--fail-start"]), stdioEntry("fine")]);
    cleanups.push(() => ctx.manager.close());
    const servers = await ctx.manager.listServers();
    expect(servers[1]).toEqual({ server_label: "fine", available: true, transport: "stdio" });
    expect(servers[0]).toMatchObject({ server_label: "broken", available: false, transport: "stdio" });
    expect(servers[0].error).toContain("stderr: fatal: cannot start, api key *** rejected");
    expect(servers[0].error).not.toContain(ENV_SECRET);
    await expect(ctx.manager.listTools("broken")).rejects.toBeInstanceOf(McpServerUnavailableError);
    const callError = await ctx.manager.callTool("broken", "echo", {}, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(callError).toBeInstanceOf(McpServerUnavailableError);
    expect((callError as McpServerUnavailableError).status).toBe(409);
    await waitFor(() => (ctx.startups.filter(([l, s]) => l === "broken" && s === "error").length >= 3 ? true : undefined), 5_000, "retries");
    expect(ctx.startups.filter(([l]) => l === "fine")).toEqual([["fine", "ok"]]);
  });

  it("a start-up that hangs is cut off at startupTimeoutMs", async () => {
    const started = Date.now();
    const ctx = await startManager([stdioEntry("sleepy", ["--delay-ms", "5000"])], 500);
    cleanups.push(() => ctx.manager.close());
    expect(Date.now() - started).toBeLessThan(2_500);
    const [info] = await ctx.manager.listServers();
    expect(info).toMatchObject({ available: false, error: "MCP server start-up timed out after 500 ms" });
    expect(ctx.startups[0]).toEqual(["sleepy", "error"]);
  });

  it("reconnects a stdio server whose process exits later", async () => {
    const ctx = await startManager([stdioEntry("crashy")]);
    cleanups.push(() => ctx.manager.close());
    const pid1 = (await ctx.manager.callTool("crashy", "pid", {}, { timeoutMs: 5_000 })).output_text;
    expect((await ctx.manager.callTool("crashy", "crash", {}, { timeoutMs: 5_000 })).output_text).toBe("crashing");
    await waitFor(async () => ((await ctx.manager.listServers())[0].available ? undefined : true), 5_000, "drop detected");
    await waitFor(async () => ((await ctx.manager.listServers())[0].available ? true : undefined), 10_000, "reconnect");
    const pid2 = (await ctx.manager.callTool("crashy", "pid", {}, { timeoutMs: 5_000 })).output_text;
    expect(pid2).not.toBe(pid1);
    expect(ctx.startups).toEqual([
      ["crashy", "ok"],
      ["crashy", "ok"],
    ]);
  });

  it("close() terminates stdio children", async () => {
    const ctx = await startManager([stdioEntry("child")]);
    const pid = Number((await ctx.manager.callTool("child", "pid", {}, { timeoutMs: 5_000 })).output_text);
    expect(() => process.kill(pid, 0)).not.toThrow();
    await ctx.manager.close();
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 5_000, "child exit");
    expect((await ctx.manager.listServers())[0]).toMatchObject({ available: false, error: "runtime closed" });
  });

  it("a URL server that is down at start-up comes up in the background once it listens", async () => {
    const port = await freePort();
    const ctx = await startManager([urlEntry("late", `http://127.0.0.1:${port}/mcp`)], 2_000);
    cleanups.push(() => ctx.manager.close());
    const [info] = await ctx.manager.listServers();
    expect(info).toMatchObject({ server_label: "late", available: false, transport: "auto" });
    expect(info.error).toMatch(/ECONNREFUSED|fetch failed/);
    expect(ctx.startups[0]).toEqual(["late", "error"]);

    const server = await startStreamableHttpMcpServer({ port });
    cleanups.push(() => server.close());
    await waitFor(async () => ((await ctx.manager.listServers())[0].available ? true : undefined), 5_000, "background connect");
    expect(ctx.startups.at(-1)).toEqual(["late", "ok"]);
    expect((await ctx.manager.listServers())[0]).toEqual({ server_label: "late", available: true, transport: "streamable-http" });
    expect(await ctx.manager.callTool("late", "echo", { text: "up" }, { timeoutMs: 5_000 })).toEqual({ ok: true, output_text: "up", error_text: null });
  });
});

describe("hosted manager over HTTP", () => {
  let session: StartedTestMcpServer;
  let sse: StartedTestMcpServer;
  beforeAll(async () => {
    session = await startStreamableHttpMcpServer({ mode: "session", requiredAuthorization: `Bearer ${HEADER_SECRET}` });
    sse = await startSseMcpServer();
  });
  afterAll(async () => {
    await session.close();
    await sse.close();
  });

  it("Streamable HTTP with headers: list, call ok, isError, thrown, timeout", async () => {
    const ctx = await startManager([urlEntry("remote_docs", session.url, { Authorization: `Bearer ${HEADER_SECRET}` })]);
    cleanups.push(() => ctx.manager.close());
    expect(await ctx.manager.listServers()).toEqual([{ server_label: "remote_docs", available: true, transport: "streamable-http" }]);
    expect((await ctx.manager.listTools("remote_docs")).map((t) => t.name)).toContain("search_docs");
    const opts = { timeoutMs: 5_000 };
    expect(await ctx.manager.callTool("remote_docs", "search_docs", { query: "migration notes" }, opts)).toEqual({
      ok: true,
      output_text: 'Found 2 results for "migration notes": migration notes; release notes',
      error_text: null,
    });
    expect((await ctx.manager.callTool("remote_docs", "fail", {}, opts)).ok).toBe(false);
    const boom = await ctx.manager.callTool("remote_docs", "boom", {}, opts);
    expect(boom).toEqual({ ok: false, output_text: "", error_text: "boom: secret=unset Authorization: ***" });
    expect(await ctx.manager.callTool("remote_docs", "leak_auth", {}, opts)).toEqual({
      ok: false,
      output_text: "",
      error_text: "upstream rejected credentials ***",
    });
    const started = Date.now();
    expect(await ctx.manager.callTool("remote_docs", "slow", { ms: 10_000 }, { timeoutMs: 250 })).toEqual({
      ok: false,
      output_text: "",
      error_text: "MCP tool call timed out after 250 ms",
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(session.requests.every((r) => r.headers["authorization"] === `Bearer ${HEADER_SECRET}`)).toBe(true);
    expect(ctx.logger.text()).not.toContain(HEADER_SECRET);
  });

  it("a wrong header is a start-up error that never shows the header value", async () => {
    const ctx = await startManager([urlEntry("denied", session.url, { Authorization: "Bearer wrong-token-555" }, "streamable-http")]);
    cleanups.push(() => ctx.manager.close());
    const [info] = await ctx.manager.listServers();
    expect(info.available).toBe(false);
    expect(info.error).toMatch(/401/);
    expect(info.error).not.toContain("wrong-token-555");
    expect(ctx.logger.text()).not.toContain("wrong-token-555");
  });

  it("auto falls back to SSE for a legacy server; explicit sse works too", async () => {
    const ctx = await startManager([urlEntry("legacy_auto", sse.url), urlEntry("legacy", sse.url, {}, "sse")]);
    cleanups.push(() => ctx.manager.close());
    expect(await ctx.manager.listServers()).toEqual([
      { server_label: "legacy_auto", available: true, transport: "sse" },
      { server_label: "legacy", available: true, transport: "sse" },
    ]);
    for (const label of ["legacy_auto", "legacy"]) {
      expect(await ctx.manager.callTool(label, "add", { a: 1, b: 2 }, { timeoutMs: 5_000 })).toEqual({
        ok: true,
        output_text: '{"sum":3}',
        error_text: null,
      });
    }
  });

  it("an HTTP server restarted on the same port is reconnected after a failing call", async () => {
    const first = await startStreamableHttpMcpServer({ mode: "session" });
    const ctx = await startManager([urlEntry("flaky", first.url)]);
    cleanups.push(() => ctx.manager.close());
    expect((await ctx.manager.callTool("flaky", "echo", { text: "1" }, { timeoutMs: 5_000 })).ok).toBe(true);
    await first.close();
    const failed = await ctx.manager.callTool("flaky", "echo", { text: "2" }, { timeoutMs: 5_000 });
    expect(failed.ok).toBe(false);
    expect((await ctx.manager.listServers())[0].available).toBe(false);
    const second = await startStreamableHttpMcpServer({ mode: "session", port: first.port });
    cleanups.push(() => second.close());
    await waitFor(async () => ((await ctx.manager.listServers())[0].available ? true : undefined), 5_000, "reconnect");
    expect((await ctx.manager.callTool("flaky", "echo", { text: "3" }, { timeoutMs: 5_000 })).output_text).toBe("3");
  });
});
