/**
 * The loopback runtime service and the gateway's HTTP client for it, end to end with a real stdio server.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMcpRuntimeService, type McpRuntimeService } from "../../adapters/node/mcp/runtime-service.js";
import { McpConfigError } from "../../src/tools/mcp/mcp-config.js";
import { McpRuntimeHttpClient } from "../../src/tools/mcp/runtime-http-client.js";
import {
  McpRuntimeUnreachableError,
  McpServerUnavailableError,
  McpToolNotFoundError,
  McpUnknownServerError,
} from "../../src/tools/mcp/runtime.js";
import { capturingLogger, freePort, STDIO_SERVER, waitFor } from "./support.js";

const ENV_SECRET = "service-env-secret-77";

describe("MCP runtime service + runtime HTTP client", () => {
  let dir: string;
  let service: McpRuntimeService;
  let client: McpRuntimeHttpClient;
  const logger = capturingLogger();
  const startups: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vr-mcp-"));
    const configPath = join(dir, "mcp.json");
    await writeFile(
      configPath,
      JSON.stringify({
        mcpServers: {
          local: { command: process.execPath, args: [STDIO_SERVER], env: { TEST_SECRET: ENV_SECRET } },
          broken: { command: process.execPath, args: [STDIO_SERVER, "--fail-start"], env: { TEST_SECRET: ENV_SECRET } },
        },
      }),
    );
    service = await runMcpRuntimeService({
      host: "127.0.0.1",
      port: 0,
      configPath,
      startupTimeoutMs: 5_000,
      toolTimeoutMs: 2_000,
      logger,
      onStartup: (label, status) => startups.push(`${label}:${status}`),
      // Slow retries: this suite checks the counters and must not race with background attempts.
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    client = new McpRuntimeHttpClient({ baseUrl: service.url });
  });

  afterAll(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves /health and the server list", async () => {
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const servers = await client.listServers();
    expect(servers[0]).toEqual({ server_label: "local", available: true, transport: "stdio" });
    expect(servers[1]).toMatchObject({ server_label: "broken", available: false, transport: "stdio" });
    expect(servers[1].error).toContain("api key *** rejected");
  });

  it("lists tools; 404 unknown, 409 unavailable", async () => {
    expect((await client.listTools("local")).map((t) => t.name)).toContain("echo");
    await expect(client.listTools("nope")).rejects.toBeInstanceOf(McpUnknownServerError);
    const unavailable = await client.listTools("broken").catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(McpServerUnavailableError);
    expect((unavailable as McpServerUnavailableError).reason).toContain("api key *** rejected");
    expect((unavailable as Error).message).not.toContain(ENV_SECRET);
  });

  it("calls tools: ok, isError, redacted throw, timeout capped by the service", async () => {
    const opts = { timeoutMs: 5_000, requestId: "req_test_1" };
    expect(await client.callTool("local", "echo", { text: "via service" }, opts)).toEqual({ ok: true, output_text: "via service", error_text: null });
    expect(await client.callTool("local", "fail", {}, opts)).toEqual({ ok: false, output_text: "", error_text: "the tool failed on purpose" });
    expect(await client.callTool("local", "boom", {}, opts)).toEqual({
      ok: false,
      output_text: "",
      error_text: "boom: secret=*** Authorization: ***",
    });
    const started = Date.now();
    // The client asks for 5 s but the service's ceiling (toolTimeoutMs) is 2 s.
    expect(await client.callTool("local", "slow", { ms: 10_000 }, opts)).toEqual({
      ok: false,
      output_text: "",
      error_text: "MCP tool call timed out after 2000 ms",
    });
    expect(Date.now() - started).toBeLessThan(3_500);
  });

  it("a gateway-side abort propagates unchanged and cancels the call in the service", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.callTool("local", "slow", { ms: 10_000 }, { timeoutMs: 1_900, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("client disconnected")), 150);
    await expect(pending).rejects.toThrow("client disconnected");
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(() => (logger.records.some((r) => r.message === "mcp runtime service: client went away") ? true : undefined), 2_000, "service-side cancel");
    expect((await client.callTool("local", "echo", { text: "after" }, { timeoutMs: 2_000 })).output_text).toBe("after");
  });

  it("maps missing tools, unknown and unavailable servers on call", async () => {
    const opts = { timeoutMs: 1_000 };
    await expect(client.callTool("local", "no_such_tool", {}, opts)).rejects.toBeInstanceOf(McpToolNotFoundError);
    await expect(client.callTool("nope", "echo", {}, opts)).rejects.toBeInstanceOf(McpUnknownServerError);
    await expect(client.callTool("broken", "echo", {}, opts)).rejects.toBeInstanceOf(McpServerUnavailableError);
  });

  it("echoes x-request-id and rejects bad bodies with 400", async () => {
    const res = await fetch(`${service.url}/internal/mcp/servers/local/tools/echo/call`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "abc-123" },
      body: JSON.stringify({ arguments: { text: "id" } }),
    });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
    expect(await res.json()).toEqual({ ok: true, output_text: "id", error_text: null });

    const bad = await fetch(`${service.url}/internal/mcp/servers/local/tools/echo/call`, { method: "POST", body: '{"arguments": [1]}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { type: "bad_request", message: "`arguments` must be an object" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    expect((await fetch(`${service.url}/internal/mcp/servers`, { method: "DELETE" })).status).toBe(405);
    expect((await fetch(`${service.url}/elsewhere`)).status).toBe(404);
  });

  it("exposes cumulative start-up outcome counts for the metric", async () => {
    expect(startups.sort()).toEqual(["broken:error", "local:ok"]);
    expect(await client.startupCounts()).toEqual([
      { server_label: "local", status: "ok", count: 1 },
      { server_label: "local", status: "error", count: 0 },
      { server_label: "broken", status: "ok", count: 0 },
      { server_label: "broken", status: "error", count: 1 },
    ]);
  });

  it("never logs the env secret", () => {
    expect(logger.text()).not.toContain(ENV_SECRET);
  });
});

describe("runtime HTTP client against a runtime that is not there", () => {
  it("maps a closed port and a stopped service to McpRuntimeUnreachableError (503)", async () => {
    const port = await freePort();
    const client = new McpRuntimeHttpClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await client.listServers().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpRuntimeUnreachableError);
    expect((error as McpRuntimeUnreachableError).status).toBe(503);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);

    const service = await runMcpRuntimeService({
      port: 0,
      config: { servers: [] },
      startupTimeoutMs: 1_000,
      toolTimeoutMs: 1_000,
      logger: capturingLogger(),
    });
    const live = new McpRuntimeHttpClient({ baseUrl: service.url });
    expect(await live.listServers()).toEqual([]);
    await service.close();
    await expect(live.listServers()).rejects.toBeInstanceOf(McpRuntimeUnreachableError);
    await expect(live.callTool("x", "y", {}, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(McpRuntimeUnreachableError);
  });

  it("maps a runtime that does not answer in time to McpRuntimeUnreachableError", async () => {
    const { createServer } = await import("node:http");
    const hang = createServer(() => undefined);
    await new Promise<void>((resolve) => hang.listen(0, "127.0.0.1", resolve));
    const port = (hang.address() as { port: number }).port;
    try {
      const client = new McpRuntimeHttpClient({ baseUrl: `http://127.0.0.1:${port}`, listServersTimeoutMs: 200 });
      await expect(client.listServers()).rejects.toThrow(/did not answer within 200 ms/);
    } finally {
      hang.closeAllConnections();
      await new Promise((resolve) => hang.close(resolve));
    }
  });

  it("fails fast on a busy port and on a bad config file", async () => {
    const service = await runMcpRuntimeService({ port: 0, config: { servers: [] }, startupTimeoutMs: 1_000, toolTimeoutMs: 1_000, logger: capturingLogger() });
    const port = Number(new URL(service.url).port);
    try {
      await expect(
        runMcpRuntimeService({ port, config: { servers: [] }, startupTimeoutMs: 1_000, toolTimeoutMs: 1_000, logger: capturingLogger() }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await service.close();
    }
    await expect(
      runMcpRuntimeService({ port: 0, configPath: "/nonexistent/mcp.json", startupTimeoutMs: 1_000, toolTimeoutMs: 1_000, logger: capturingLogger() }),
    ).rejects.toBeInstanceOf(McpConfigError);
  });
});
