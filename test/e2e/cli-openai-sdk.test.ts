/**
 * End to end as a user runs it: the real CLI and the mock upstream as processes, driven by the official `openai` SDK.
 */
import OpenAI from "openai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalize } from "../helpers/gateway-fixture.js";
import { startGatewayProcess, startMockProcess, type CliProcess } from "../helpers/cli-process.js";
import { validateResponse } from "../helpers/spec-validator.js";

let mock: CliProcess;
let gateway: CliProcess;
let client: OpenAI;
const dir = mkdtempSync(join(tmpdir(), "vr-e2e-"));

beforeAll(async () => {
  mock = await startMockProcess();
  gateway = await startGatewayProcess(mock.url, [], { VR_DB_PATH: `sqlite:///${join(dir, "e2e.db")}` });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await mock?.stop();
});

describe("the CLI through the official openai SDK", () => {
  it("responses.create returns text", async () => {
    const r = await client.responses.create({ model: "mock-model", input: "hello sdk" });
    expect(r.status).toBe("completed");
    expect(r.output_text).toBe("You said: hello sdk");
    validateResponse(r);
  });

  it("responses.stream(...).finalResponse() equals the non-stream result, emoji intact", async () => {
    const stream = client.responses.stream({ model: "mock-model", input: "emoji please" });
    const deltas: string[] = [];
    stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    const plain = await client.responses.create({ model: "mock-model", input: "emoji please" });
    expect(final.output_text).toBe("Here you go: 😀🎉 café – naïve 日本語 👩‍👩‍👧");
    expect(deltas.join("")).toBe(final.output_text);
    // The SDK's stream helper adds `output_parsed` and per-part `parsed` (for text.format parsing); strip them.
    const { output_parsed: _parsed, ...finalWire } = JSON.parse(JSON.stringify(final, (k, v) => (k === "parsed" && v === null ? undefined : v)));
    expect(Object.keys(finalWire).sort()).toEqual(Object.keys(plain).sort());
    expect(normalize(finalWire)).toEqual(normalize(plain));
  });

  it("function calls round-trip through previous_response_id", async () => {
    const tools = [{ type: "function" as const, name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false }];
    const first = await client.responses.create({ model: "mock-model", input: "weather?", tools });
    const call = first.output.find((o) => o.type === "function_call");
    expect(call?.type).toBe("function_call");
    if (call?.type !== "function_call") throw new Error("no call");
    expect(JSON.parse(call.arguments)).toEqual({ city: "Paris" });
    const second = await client.responses.create({ model: "mock-model", previous_response_id: first.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }] });
    expect(second.output_text).toBe("The tool returned: sunny");
    const again = await client.responses.retrieve(second.id);
    expect(again.id).toBe(second.id);
  });

  it("an aborted stream aborts the upstream request", async () => {
    const stats = async () => (await (await fetch(mock.url.replace(/\/v1$/, "/_mock/stats"))).json()) as { aborted: number };
    const before = (await stats()).aborted;
    const controller = new AbortController();
    const stream = await client.responses.create({ model: "mock:chunks=300,gap=20", input: "long", stream: true }, { signal: controller.signal });
    let seen = 0;
    try {
      for await (const event of stream) {
        if (event.type === "response.output_text.delta" && ++seen === 3) controller.abort();
      }
    } catch (err) {
      // The SDK may end the iteration or throw its abort error; either way the client is gone.
      expect((err as Error).name).toMatch(/Abort/);
    }
    expect(seen).toBe(3);
    const deadline = Date.now() + 3000;
    while ((await stats()).aborted === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect((await stats()).aborted).toBe(before + 1);
  });

  it("bad input is a 400 the SDK surfaces with its param", async () => {
    await expect(client.responses.create({ model: "mock-model", input: "x", temperature: 5 })).rejects.toMatchObject({ status: 400, param: "temperature" });
  });
});
