/**
 * MCP tools inside the Responses tool loop, against real MCP servers: a stdio server run by the in-process hosted
 * manager, and a Streamable HTTP server used as a request-scoped remote server (server_url).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHostedMcpManager, type HostedMcpManager } from "../../adapters/node/mcp/hosted-manager.js";
import { createMcpDiscovery, createMcpSupport } from "../../src/engine/mcp-support.js";
import { silentLogger } from "../../src/observability/logger.js";
import { parseMcpConfigValue } from "../../src/tools/mcp/mcp-config.js";
import { startStreamableHttpMcpServer, type StartedTestMcpServer } from "../mcp-servers/http-server.mjs";
import { STDIO_SERVER } from "../mcp/support.js";
import { startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";

const TOKEN = "remote-secret-token-5150";
let manager: HostedMcpManager;
let remote: StartedTestMcpServer;
let fx: Fixture;

beforeAll(async () => {
  manager = await startHostedMcpManager({
    config: parseMcpConfigValue({ mcpServers: { local: { command: process.execPath, args: [STDIO_SERVER] } } }),
    startupTimeoutMs: 10_000,
    logger: silentLogger,
  });
  remote = await startStreamableHttpMcpServer({ requiredAuthorization: `Bearer ${TOKEN}` });
  fx = await startFixture({
    gateway: {
      mcp: createMcpSupport({ runtime: manager, remote: { enabled: true, urlChecks: false, resolveHost: null, connectTimeoutMs: 5000, listTimeoutMs: 5000 }, logger: silentLogger }),
      mcpDiscovery: createMcpDiscovery(manager),
    },
  });
}, 60_000);

afterAll(async () => {
  await fx?.close();
  await manager?.close();
  await remote?.close();
});

const local = (extra: Record<string, unknown> = {}) => ({ type: "mcp", server_label: "local", allowed_tools: ["echo", "fail", "add"], ...extra });

describe("built-in MCP servers in a response", () => {
  it("streams mcp_list_tools, an mcp_call with its events, then the model's answer — in one request", async () => {
    const { events, done } = await readSse(await fx.post({ model: "mock-model", input: "use the tool", tools: [local()], tool_choice: { type: "mcp", server_label: "local", name: "echo" }, stream: true }));
    expect(done).toBe(true);
    validateEvents(events);
    const types = typesOf(events);
    const callStart = types.indexOf("response.mcp_call.in_progress");
    expect(types.slice(2, 6)).toEqual(["response.output_item.added", "response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed", "response.output_item.done"]);
    expect(types.slice(callStart - 1, callStart + 1)).toEqual(["response.output_item.added", "response.mcp_call.in_progress"]);
    expect(types).toContain("response.mcp_call_arguments.delta");
    expect(types).toContain("response.mcp_call_arguments.done");
    expect(types.indexOf("response.mcp_call.completed")).toBeGreaterThan(types.indexOf("response.mcp_call_arguments.done"));
    const final = events.at(-1)!.response;
    validateResponse(final);
    expect(final.output.map((o: any) => o.type)).toEqual(["mcp_list_tools", "mcp_call", "message"]);
    expect(final.output[0].tools.map((t: any) => t.name).sort()).toEqual(["add", "echo", "fail"]);
    const call = final.output[1];
    expect(call).toMatchObject({ type: "mcp_call", server_label: "local", name: "echo", status: "completed", output: "value of text", error: null });
    expect(final.output[2].content[0].text).toBe("The tool returned: value of text");
    // The model saw the tool as a function named mcp__local__echo, forced by tool_choice.
    const first = fx.mock.stats.requests.at(-2)!;
    expect(first.tools!.map((t) => t.function.name).sort()).toEqual(["mcp__local__add", "mcp__local__echo", "mcp__local__fail"]);
    expect(first.tool_choice).toEqual({ type: "function", function: { name: "mcp__local__echo" } });
  });

  it("a failing tool fails the item, not the response", async () => {
    const body = await (await fx.post({ model: "mock-model", input: "x", tools: [local()], tool_choice: { type: "mcp", server_label: "local", name: "fail" } })).json();
    expect(body.status).toBe("completed");
    const call = body.output.find((o: any) => o.type === "mcp_call");
    expect(call.status).toBe("failed");
    expect(call.error).toContain("the tool failed on purpose");
  });

  it("approvals: an mcp_approval_request ends the response; approving runs the call and continues", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "x", tools: [local({ require_approval: "always" })], tool_choice: { type: "mcp", server_label: "local", name: "echo" } })).json();
    expect(first.status).toBe("completed");
    const request = first.output.at(-1);
    expect(request).toMatchObject({ type: "mcp_approval_request", server_label: "local", name: "echo" });
    expect(request.id).toMatch(/^mcpr_/);
    expect(first.output.some((o: any) => o.type === "mcp_call")).toBe(false);
    const second = await (await fx.post({ model: "mock-model", previous_response_id: first.id, input: [{ type: "mcp_approval_response", approval_request_id: request.id, approve: true }] })).json();
    if (second.error?.message) throw new Error(JSON.stringify(second.error));
    expect(second.status).toBe("completed");
    const call = second.output.find((o: any) => o.type === "mcp_call");
    expect(call).toMatchObject({ status: "completed", approval_request_id: request.id, output: "value of text" });
    expect(second.output.at(-1).content[0].text).toBe("The tool returned: value of text");
    expect(second.output.some((o: any) => o.type === "mcp_list_tools")).toBe(false);
  });

  it("approvals: declining tells the model the call did not happen", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "x", tools: [local({ require_approval: { always: { tool_names: ["echo"] } } })], tool_choice: { type: "mcp", server_label: "local", name: "echo" } })).json();
    const request = first.output.at(-1);
    expect(request.type).toBe("mcp_approval_request");
    const second = await (await fx.post({ model: "mock-model", previous_response_id: first.id, input: [{ type: "mcp_approval_response", approval_request_id: request.id, approve: false }] })).json();
    expect(second.output.some((o: any) => o.type === "mcp_call")).toBe(false);
    const sent = fx.mock.stats.requests.at(-1)!.messages!;
    expect(sent.at(-1)).toMatchObject({ role: "tool", content: "Error: The user declined this tool call." });
  });

  it("continuations replay mcp_call items to the model as a tool call plus its result", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "x", tools: [local()], tool_choice: { type: "mcp", server_label: "local", name: "echo" } })).json();
    await fx.post({ model: "mock-model", previous_response_id: first.id, input: "and now?", tool_choice: "none" });
    const messages = fx.mock.stats.requests.at(-1)!.messages!;
    expect(messages[1]).toMatchObject({ role: "assistant", tool_calls: [{ type: "function", function: { name: "mcp__local__echo" } }] });
    expect(messages[2]).toMatchObject({ role: "tool", content: "value of text" });
  });

  it("unknown built-in server → 400 naming the field; discovery routes list servers and tools", async () => {
    const res = await fx.post({ model: "mock-model", input: "x", tools: [{ type: "mcp", server_label: "nope" }] });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe("tools[0].server_label");
    const servers = await (await fx.gateway.request("/v1/mcp/servers")).json();
    expect(servers).toEqual({ object: "list", data: [{ server_label: "local", available: true, transport: "stdio" }] });
    const tools = await (await fx.gateway.request("/v1/mcp/servers/local/tools")).json();
    expect(tools.tools.map((t: any) => t.name)).toContain("echo");
    expect((await fx.gateway.request("/v1/mcp/servers/nope/tools")).status).toBe(404);
  });
});

describe("remote MCP servers (server_url)", () => {
  it("calls a remote server with a request-scoped token that is never echoed or stored", async () => {
    const tools = [{ type: "mcp", server_label: "docs", server_url: remote.url, authorization: TOKEN, require_approval: "never", allowed_tools: ["search_docs"] }];
    const res = await fx.post({ model: "mock-model", input: "search", tools });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(TOKEN);
    const body = JSON.parse(text);
    expect(body.output.find((o: any) => o.type === "mcp_call")).toMatchObject({ server_label: "docs", name: "search_docs", status: "completed" });
    expect(body.tools[0].authorization).toBeUndefined();
    const stored = await fx.gateway.store.get(body.id);
    expect(JSON.stringify(stored)).not.toContain(TOKEN);
    expect(JSON.stringify(fx.mock.stats.requests)).not.toContain(TOKEN);
    expect(remote.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it("a wrong token is a 4xx for the request, with the token redacted", async () => {
    const res = await fx.post({ model: "mock-model", input: "search", tools: [{ type: "mcp", server_label: "docs", server_url: remote.url, authorization: "wrong-token-123456" }] });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).not.toContain("wrong-token-123456");
  });

  it("remote servers require approval by default", async () => {
    const body = await (await fx.post({ model: "mock-model", input: "search", tools: [{ type: "mcp", server_label: "docs", server_url: remote.url, authorization: TOKEN }] })).json();
    expect(body.output.at(-1).type).toBe("mcp_approval_request");
  });
});
