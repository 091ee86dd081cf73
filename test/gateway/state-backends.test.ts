/**
 * The same conversation flows through the HTTP gateway on each durable backend the Node adapter opens from
 * VR_DB_PATH: SQLite, and PostgreSQL with the Redis cache (real servers started by the test setup).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeGateway } from "../../adapters/node/node-gateway.js";
import type { Gateway } from "../../src/index.js";
import { silentLogger } from "../../src/observability/logger.js";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { createTestDatabase, ENV } from "../setup/services.js";

let mock: MockUpstream;
const dir = mkdtempSync(join(tmpdir(), "vr-backends-"));
const dbs: Array<{ drop(): Promise<void> }> = [];

beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => {
  await mock.close();
  for (const db of dbs) await db.drop();
});

const backends: Array<[string, () => Promise<Record<string, string>>]> = [
  ["sqlite", async () => ({ VR_DB_PATH: `sqlite:///${join(dir, "state.db")}` })],
  [
    "postgres + redis cache",
    async () => {
      const db = await createTestDatabase("vr_http");
      dbs.push(db);
      return { VR_DB_PATH: db.url, VR_RESPONSE_STORE_CACHE: "1", VR_REDIS_HOST: process.env[ENV.redisHost]!, VR_REDIS_PORT: process.env[ENV.redisPort]! };
    },
  ],
];

describe.each(backends)("state on %s", (_name, envFor) => {
  let env: Record<string, string>;
  let gateway: Gateway;
  const open = async () => createNodeGateway({ upstream: mock.url, env: { ...env }, logger: silentLogger });
  const post = (body: unknown) => gateway.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  beforeAll(async () => {
    env = await envFor();
    gateway = await open();
  });
  afterAll(() => gateway.close());

  it("a continuation of parallel tool calls sends vLLM exactly the messages the client would have sent", async () => {
    const tools = [
      { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
      { type: "function", name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } },
    ];
    const first = await (await post({ model: "mock-model", input: "parallel please", tools, instructions: "Be brief." })).json();
    const [a, b] = first.output;
    const second = await post({
      model: "mock-model",
      previous_response_id: first.id,
      input: [
        { type: "function_call_output", call_id: a.call_id, output: "sunny" },
        { type: "function_call_output", call_id: b.call_id, output: "noon" },
      ],
    });
    expect(second.status).toBe(200);
    expect(mock.stats.requests.at(-1)!.messages).toEqual([
      { role: "user", content: "parallel please" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: a.call_id, type: "function", function: { name: "get_weather", arguments: a.arguments } },
          { id: b.call_id, type: "function", function: { name: "get_time", arguments: b.arguments } },
        ],
      },
      { role: "tool", tool_call_id: a.call_id, content: "sunny" },
      { role: "tool", tool_call_id: b.call_id, content: "noon" },
    ]);
  });

  it("a restart loses nothing; DELETE removes for good", async () => {
    const kept = await (await post({ model: "mock-model", input: "remember me 😀" })).json();
    const doomed = await (await post({ model: "mock-model", input: "forget me" })).json();
    expect((await gateway.request(`/v1/responses/${doomed.id}`, { method: "DELETE" })).status).toBe(200);
    await gateway.close();
    gateway = await open();
    const got = await gateway.request(`/v1/responses/${kept.id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(kept);
    expect((await gateway.request(`/v1/responses/${doomed.id}`)).status).toBe(404);
    const cont = await (await post({ model: "mock-model", previous_response_id: kept.id, input: "and?" })).json();
    expect(cont.status).toBe("completed");
    expect(mock.stats.requests.at(-1)!.messages![0]).toEqual({ role: "user", content: "remember me 😀" });
  });
});
