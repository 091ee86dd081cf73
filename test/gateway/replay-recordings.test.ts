/**
 * The gateway in front of a mock upstream replaying real recorded vLLM / OpenAI Chat Completions traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalize, startFixture, type Fixture } from "../helpers/gateway-fixture.js";
import { CHAT_RECORDINGS_DIR, TEXT_SINGLE_STREAM_EVENTS } from "../helpers/recordings.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture({ mock: { replayDir: CHAT_RECORDINGS_DIR } });
});
afterAll(() => fx.close());

describe("replayed recordings through the HTTP gateway", () => {
  it("text-single-stream: the exact text grammar, then [DONE]; non-stream gives the same object", async () => {
    const { events, done } = await readSse(await fx.post({ model: "gpt-5-nano", input: "What is the capital of France?", stream: true }));
    expect(done).toBe(true);
    expect(typesOf(events)).toEqual(TEXT_SINGLE_STREAM_EVENTS);
    validateEvents(events);
    const final = events.at(-1)!.response;
    // The recording has no usage chunk (its client did not ask): usage is all zeros, not missing.
    expect(final.usage).toEqual({ input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 });
    const plain = await (await fx.post({ model: "gpt-5-nano", input: "What is the capital of France?" })).json();
    validateResponse(plain);
    expect(normalize(plain)).toEqual(normalize(final));
  });

  it("text-max_tokens-length-stream: response.incomplete with max_output_tokens", async () => {
    const { events } = await readSse(await fx.post({ model: "gpt-5-mini", input: "Say something long.", stream: true }));
    const final = events.at(-1)!;
    expect(final.type).toBe("response.incomplete");
    expect(final.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(final.response.output[0].content[0].text).toBe("Partial output");
    validateEvents(events);
  });

  it("model-not-found-stream: vLLM's real 404 becomes an HTTP 404 with its message, before any stream byte", async () => {
    const res = await fx.post({
      model: "MiniMaxAI/MiniMax-M2.1",
      stream: true,
      input: [
        { role: "user", content: "You MUST call the code_interpreter tool now. draw 2 random numbers from 1-100 with replacement and get the difference between the sum and multiple. Then tell me the result." },
        { role: "assistant", content: "earlier turn" },
        { role: "user", content: "again" },
      ],
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "The model `MiniMaxAI/MiniMax-M2.1` does not exist.", type: "invalid_request_error", param: "model", code: "model_not_found" } });
  });
});
