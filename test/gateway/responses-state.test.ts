import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { readSse } from "../helpers/sse.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx.close());

const get = (path: string, init?: RequestInit) => fx.gateway.request(path, init);

describe("conversation state through the HTTP API", () => {
  it("continuation sends the parent's history, its output and the new input; instructions are not inherited", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "My name is Ada.", instructions: "Be terse." })).json();
    const second = await (await fx.post({ model: "mock-model", previous_response_id: first.id, input: "What is my name?" })).json();
    expect(second.previous_response_id).toBe(first.id);
    expect(second.instructions).toBeNull();
    expect(fx.mock.stats.requests.at(-1)!.messages).toEqual([
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: "You said: My name is Ada." },
      { role: "user", content: "What is my name?" },
    ]);
    // A third turn carries the whole chain.
    await fx.post({ model: "mock-model", previous_response_id: second.id, input: "Again?" });
    expect(fx.mock.stats.requests.at(-1)!.messages).toHaveLength(5);
  });

  it("reasoning replays as reasoning_content, not visible text", async () => {
    const first = await (await fx.post({ model: "mock-model", input: "think about cats" })).json();
    await fx.post({ model: "mock-model", previous_response_id: first.id, input: "and dogs?" });
    const assistant = fx.mock.stats.requests.at(-1)!.messages![1] as any;
    expect(assistant.role).toBe("assistant");
    expect(assistant.content).toBe("You said: think about cats");
    expect(assistant.reasoning_content).toContain("Thinking about");
  });

  it("two continuations of one parent both work (branching)", async () => {
    const parent = await (await fx.post({ model: "mock-model", input: "root" })).json();
    const [a, b] = await Promise.all([fx.post({ model: "mock-model", previous_response_id: parent.id, input: "left" }), fx.post({ model: "mock-model", previous_response_id: parent.id, input: "right" })]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
  });

  it("a streamed response is retrievable the instant response.completed arrives", async () => {
    const res = await fx.post({ model: "mock-model", input: "stream me", stream: true });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let id: string | null = null;
    while (!id) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const m = /"type":"response\.completed","response":\{"id":"(resp_[0-9a-f]+)"/.exec(text);
      if (m) id = m[1];
    }
    expect(id).toBeTruthy();
    const follow = await fx.post({ model: "mock-model", previous_response_id: id, input: "next" });
    expect(follow.status).toBe(200);
    await reader.cancel();
  });

  it("GET returns the stored response; DELETE removes it; both 404 afterwards", async () => {
    const created = await (await fx.post({ model: "mock-model", input: "keep me" })).json();
    const got = await get(`/v1/responses/${created.id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(created);
    const del = await get(`/v1/responses/${created.id}`, { method: "DELETE" });
    expect(await del.json()).toEqual({ id: created.id, object: "response.deleted", deleted: true });
    const gone = await get(`/v1/responses/${created.id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: { message: `No response found with id '${created.id}'.`, type: "invalid_request_error", param: "response_id", code: "response_not_found" } });
    expect((await get(`/v1/responses/${created.id}`, { method: "DELETE" })).status).toBe(404);
    const cont = await fx.post({ model: "mock-model", previous_response_id: created.id, input: "x" });
    expect(cont.status).toBe(400);
  });

  it("store: false responses are neither retrievable nor continuable", async () => {
    const r = await (await fx.post({ model: "mock-model", input: "forget me", store: false })).json();
    expect(r.store).toBe(false);
    expect((await get(`/v1/responses/${r.id}`)).status).toBe(404);
    expect((await fx.post({ model: "mock-model", previous_response_id: r.id, input: "x" })).status).toBe(400);
  });

  it("failed responses are not stored", async () => {
    const { events } = await readSse(await fx.post({ model: "mock-model", input: "ERROR_FRAME", stream: true }));
    const failed = events.at(-1)!.response;
    expect(failed.status).toBe("failed");
    expect((await get(`/v1/responses/${failed.id}`)).status).toBe(404);
  });

  it("input_items lists this request's items in the OpenAI list shape with limit/order/after", async () => {
    const r = await (
      await fx.post({
        model: "mock-model",
        input: [
          { role: "user", content: "one" },
          { role: "user", content: "two" },
          { role: "user", content: [{ type: "input_text", text: "three" }] },
        ],
      })
    ).json();
    const all = await (await get(`/v1/responses/${r.id}/input_items?order=asc`)).json();
    expect(all.object).toBe("list");
    expect(all.data.map((i: any) => i.content[0].text)).toEqual(["one", "two", "three"]);
    expect(all.data.every((i: any) => /^msg_/.test(i.id))).toBe(true);
    expect(all.has_more).toBe(false);
    const desc = await (await get(`/v1/responses/${r.id}/input_items?limit=2`)).json();
    expect(desc.data.map((i: any) => i.content[0].text)).toEqual(["three", "two"]);
    expect(desc.has_more).toBe(true);
    expect(desc.first_id).toBe(desc.data[0].id);
    expect(desc.last_id).toBe(desc.data[1].id);
    const next = await (await get(`/v1/responses/${r.id}/input_items?limit=2&after=${desc.last_id}`)).json();
    expect(next.data.map((i: any) => i.content[0].text)).toEqual(["one"]);
    expect((await get(`/v1/responses/${r.id}/input_items?limit=0`)).status).toBe(400);
    expect((await get(`/v1/responses/resp_missing/input_items`)).status).toBe(404);
  });
});
