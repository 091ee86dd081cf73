import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

const weather = { type: "function", name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const time = { type: "function", name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } };

describe("POST /v1/responses — function tools", () => {
  it("a function call streams added → argument deltas → done → item done, deltas concatenating to arguments", async () => {
    const { events } = await readSse(await fx.post({ model: "mock-model", input: "weather?", tools: [weather], stream: true }));
    validateEvents(events);
    const types = typesOf(events);
    expect(types).toContain("response.function_call_arguments.done");
    const final = events.at(-1)!.response;
    expect(final.output).toHaveLength(1);
    const call = final.output[0];
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", status: "completed" });
    expect(call.call_id).toMatch(/^chatcmpl-tool-/);
    expect(JSON.parse(call.arguments)).toEqual({ city: "Paris" });
    const deltas = events.filter((e) => e.type === "response.function_call_arguments.delta" && e.item_id === call.id).map((e) => e.delta).join("");
    expect(deltas).toBe(call.arguments);
    const sent = fx.mock.stats.requests.at(-1)!;
    expect(sent.tools).toEqual([{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: weather.parameters } }]);
    expect(sent.tool_choice).toBe("auto");
  });

  it("parallel tool calls interleave but keep their own item ids and output indexes", async () => {
    const { events } = await readSse(await fx.post({ model: "mock-model", input: "parallel please", tools: [weather, time], stream: true }));
    validateEvents(events);
    const final = events.at(-1)!.response;
    expect(final.output.map((o: any) => o.name)).toEqual(["get_weather", "get_time"]);
    const deltaItems = events.filter((e) => e.type === "response.function_call_arguments.delta").map((e) => e.item_id);
    // interleaved: the first item's deltas do not all come before the second's
    const firstOfSecond = deltaItems.indexOf(final.output[1].id);
    const lastOfFirst = deltaItems.lastIndexOf(final.output[0].id);
    expect(firstOfSecond).toBeLessThan(lastOfFirst);
    for (const item of final.output) {
      const joined = events.filter((e) => e.type === "response.function_call_arguments.delta" && e.item_id === item.id).map((e) => e.delta).join("");
      expect(joined).toBe(item.arguments);
    }
  });

  it("tool_choice forms are forwarded to vLLM", async () => {
    await fx.post({ model: "mock-model", input: "x", tools: [weather, time], tool_choice: { type: "function", name: "get_time" } });
    expect(fx.mock.stats.requests.at(-1)!.tool_choice).toEqual({ type: "function", function: { name: "get_time" } });
    await fx.post({ model: "mock-model", input: "x", tools: [weather, time], tool_choice: "required" });
    expect(fx.mock.stats.requests.at(-1)!.tool_choice).toBe("required");
    await fx.post({ model: "mock-model", input: "x", tools: [weather, time], tool_choice: "none" });
    expect(fx.mock.stats.requests.at(-1)!.tool_choice).toBe("none");
    await fx.post({ model: "mock-model", input: "x", tools: [weather, time], tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "get_time" }] } });
    const sent = fx.mock.stats.requests.at(-1)!;
    expect(sent.tools!.map((t) => t.function.name)).toEqual(["get_time"]);
    expect(sent.tool_choice).toBe("required");
    await fx.post({ model: "mock-model", input: "x", tools: [weather], parallel_tool_calls: false });
    expect(fx.mock.stats.requests.at(-1)).toMatchObject({ parallel_tool_calls: false });
  });

  it("a client function round trip: function_call_output continues through previous_response_id", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "weather in Paris?", tools: [weather] })).json();
    const call = first.output[0];
    const second = await fx.post({ model: "mock-model", previous_response_id: first.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "22C and sunny" }] });
    expect(second.status).toBe(200);
    const body = await second.json();
    validateResponse(body);
    expect(body.output[0].content[0].text).toBe("The tool returned: 22C and sunny");
    expect(body.tools).toEqual([{ ...weather, strict: null }]);
    const sent = fx.mock.stats.requests.at(-1)!;
    expect(sent.messages).toEqual([
      { role: "user", content: "weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: call.call_id, type: "function", function: { name: "get_weather", arguments: call.arguments } }] },
      { role: "tool", tool_call_id: call.call_id, content: "22C and sunny" },
    ]);
    // tools were inherited
    expect(sent.tools!.map((t) => t.function.name)).toEqual(["get_weather"]);
  });

  it("parallel calls and their outputs replay as one assistant message and two tool messages", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "parallel please", tools: [weather, time] })).json();
    const [a, b] = first.output;
    await fx.post({
      model: "mock-model",
      previous_response_id: first.id,
      input: [
        { type: "function_call_output", call_id: a.call_id, output: "sunny" },
        { type: "function_call_output", call_id: b.call_id, output: "noon" },
      ],
    });
    const sent = fx.mock.stats.requests.at(-1)!;
    expect(sent.messages!.slice(1)).toEqual([
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
});
