import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalize, startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

describe("POST /v1/responses — text", () => {
  it("non-stream returns a completed response valid against the spec", async () => {
    const res = await fx.post({ model: "mock-model", input: "hello" });
    expect(res.status).toBe(200);
    const body = await res.json();
    validateResponse(body);
    expect(body.status).toBe("completed");
    expect(body.output).toHaveLength(1);
    expect(body.output[0].content[0].text).toBe("You said: hello");
    expect(body.usage.total_tokens).toBeGreaterThan(0);
    expect(body.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("stream has the exact grammar, valid events, [DONE], and the final object equals the non-stream body", async () => {
    const res = await fx.post({ model: "mock-model", input: "hello there", stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const { events, done } = await readSse(res);
    expect(done).toBe(true);
    const types = typesOf(events);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    validateEvents(events);
    const streamed = events.at(-1)!.response;
    const plain = await (await fx.post({ model: "mock-model", input: "hello there" })).json();
    expect(normalize(streamed)).toEqual(normalize(plain));
  });

  it("multi-byte UTF-8 split across upstream chunks comes out intact", async () => {
    const res = await fx.post({ model: "mock-model", input: "emoji please", stream: true });
    const { events } = await readSse(res);
    const text = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
    expect(text).toBe("Here you go: 😀🎉 café – naïve 日本語 👩‍👩‍👧");
    expect(text).not.toContain("\uFFFD");
  });

  it("reasoning comes first as its own item, closed before the message opens", async () => {
    const res = await fx.post({ model: "mock-model", input: "think about it", stream: true });
    const { events } = await readSse(res);
    validateEvents(events);
    const final = events.at(-1)!.response;
    expect(final.output.map((i: any) => i.type)).toEqual(["reasoning", "message"]);
    expect(final.output[0].content[0].text).toContain("Thinking about");
    const types = typesOf(events);
    expect(types.indexOf("response.reasoning.done")).toBeLessThan(types.lastIndexOf("response.output_item.added"));
    expect(final.usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });

  it("instructions become the leading system message; sampling fields are forwarded only when set", async () => {
    await fx.post({ model: "mock-model", input: "a", instructions: "Be brief.", temperature: 0.2, max_output_tokens: 500, reasoning: { effort: "low" } });
    const sent = fx.mock.stats.requests.at(-1)!;
    expect(sent.messages![0]).toEqual({ role: "system", content: "Be brief." });
    expect(sent).toMatchObject({ temperature: 0.2, max_completion_tokens: 500, reasoning_effort: "low", stream: true, stream_options: { include_usage: true } });
    await fx.post({ model: "mock-model", input: "b" });
    const plain = fx.mock.stats.requests.at(-1)! as Record<string, unknown>;
    expect(plain.temperature).toBeUndefined();
    expect(plain.top_p).toBeUndefined();
    expect(plain.max_completion_tokens).toBeUndefined();
  });

  it("text.format json_schema becomes response_format", async () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    const res = await fx.post({ model: "mock-model", input: "json", text: { format: { type: "json_schema", name: "thing", schema, strict: true } } });
    expect(res.status).toBe(200);
    expect((await res.json()).text.format).toMatchObject({ type: "json_schema", name: "thing" });
    expect(fx.mock.stats.requests.at(-1)).toMatchObject({ response_format: { type: "json_schema", json_schema: { name: "thing", schema, strict: true } } });
  });

  it("images become image_url parts", async () => {
    await fx.post({ model: "mock-model", input: [{ role: "user", content: [{ type: "input_text", text: "what is this" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" }] }] });
    expect(fx.mock.stats.requests.at(-1)!.messages!.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "what is this" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
      ],
    });
  });

  it("finish_reason length → incomplete with max_output_tokens (stream and non-stream)", async () => {
    const plain = await (await fx.post({ model: "mock-model", input: "LENGTH please" })).json();
    expect(plain.status).toBe("incomplete");
    expect(plain.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(plain.error).toBeNull();
    const { events } = await readSse(await fx.post({ model: "mock-model", input: "LENGTH please", stream: true }));
    expect(events.at(-1)!.type).toBe("response.incomplete");
    validateEvents(events);
  });
});
