/**
 * `serve --gateway-workers 2` for real: summed metrics in every scrape, one shared MCP runtime, graceful drain.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayProcess, startMockProcess, type CliProcess } from "../helpers/cli-process.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { freePort, STDIO_SERVER } from "../mcp/support.js";

let mock: CliProcess;
let gateway: CliProcess;
let base: string;
const dir = mkdtempSync(join(tmpdir(), "vr-workers-"));

beforeAll(async () => {
  mock = await startMockProcess();
  const mcpConfig = join(dir, "mcp.json");
  writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { local: { command: process.execPath, args: [STDIO_SERVER] } } }));
  const port = await freePort();
  gateway = await startGatewayProcess(mock.url, ["--gateway-port", String(port), "--gateway-workers", "2", "--graceful-timeout", "10", "--mcp-config", mcpConfig, "--mcp-port", String(await freePort()), "--code-interpreter", "spawn", "--code-interpreter-workers", "1", "--code-interpreter-port", String(await freePort())], {
    VR_DB_PATH: `sqlite:///${join(dir, "workers.db")}`,
  });
  base = `http://127.0.0.1:${port}`;
  // Both workers must be listening before the load: wait for the second ready line.
  const deadline = Date.now() + 30_000;
  while ((gateway.output().match(/"msg":"ready"/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await mock?.stop();
});

const post = (body: unknown) => fetch(`${base}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", connection: "close" }, body: JSON.stringify(body) });

describe("two workers", () => {
  it("N requests give N in every scrape, whichever worker answers", async () => {
    const n = 24;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => post({ model: "mock-model", input: `req ${i}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const pids = new Set<string>();
    for (let i = 0; i < 6; i++) {
      // A fresh connection per scrape, so the kernel spreads them over both workers.
      const res = await fetch(`${base}/metrics`, { headers: { connection: "close" } });
      const m = parseExposition(await res.text());
      expect(m.value("vllm_responses_http_requests_total", { method: "POST", route: "/v1/responses", status: "200" })).toBe(n);
      pids.add(res.headers.get("x-request-id") ?? "");
    }
  });

  it("a response stored by one worker is continued by the other (shared SQLite)", async () => {
    for (let i = 0; i < 10; i++) {
      const first = await (await post({ model: "mock-model", input: `turn ${i}` })).json();
      const second = await post({ model: "mock-model", previous_response_id: first.id, input: "next" });
      expect(second.status).toBe(200);
    }
  });

  it("one MCP runtime serves both workers, and its startup metric is in every scrape", async () => {
    const servers = await (await fetch(`${base}/v1/mcp/servers`)).json();
    expect(servers.data).toEqual([{ server_label: "local", available: true, transport: "stdio" }]);
    for (let i = 0; i < 4; i++) {
      const r = await (await post({ model: "mock-model", input: "x", tools: [{ type: "mcp", server_label: "local", allowed_tools: ["echo"] }] })).json();
      expect(r.output.find((o: any) => o.type === "mcp_call").status).toBe("completed");
    }
    const m = parseExposition(await (await fetch(`${base}/metrics`, { headers: { connection: "close" } })).text());
    expect(m.value("vllm_responses_mcp_server_startup_total", { server_label: "local", status: "ok" })).toBe(1);
    expect(m.value("vllm_responses_tool_calls_executed_total", { tool_type: "mcp" })).toBe(4);
    // One stdio server process for the whole machine, not one per worker.
    expect((gateway.output().match(/"msg":"mcp server available"/g) ?? []).length).toBe(1);
  });

  it("one shared code-interpreter service runs the model's code for both workers", async () => {
    for (let i = 0; i < 6; i++) {
      const r = await (await post({ model: "mock-model", input: `run: ${i}*${i}`, tools: [{ type: "code_interpreter" }] })).json();
      expect(r.output.find((o: any) => o.type === "code_interpreter_call").status).toBe("completed");
      expect(r.output.at(-1).content[0].text).toBe(`The tool returned: ${i * i}`);
    }
    // One pool for the machine (in the supervisor), none in the workers.
    expect((gateway.output().match(/"msg":"code interpreter pool ready"/g) ?? []).length).toBe(1);
  });

  it("SIGTERM drains an open stream to its end, then exits 0", async () => {
    const res = await post({ model: "mock:chunks=40,gap=25", input: "drain me", stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    const exited = gateway.stop("SIGTERM");
    let text = "";
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain("response.completed");
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    expect(await exited).toBe(0);
  });
});
