/** Test records: realistic shapes (a response object, growing history), unicode-heavy text, unique ids. */
import type { StoredResponseRecord } from "../../src/store/response-store.js";

export function newId(): string {
  return `resp_${crypto.randomUUID().replaceAll("-", "")}`;
}

export const UNICODE_TEXT = "héllo wörld — 世界 🚀👩‍👩‍👧‍👦 \u2028 \"quoted\" \\ back\\slash \n\t tab";

export function makeRecord(overrides: Partial<StoredResponseRecord> = {}): StoredResponseRecord {
  const id = overrides.id ?? newId();
  const created_at = overrides.created_at ?? Math.floor(Date.now() / 1000);
  const output = [
    {
      type: "message",
      id: `msg_${id.slice(5, 21)}`,
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: `answer ${UNICODE_TEXT}`, annotations: [], logprobs: [] }],
    },
  ];
  const input_items = [{ type: "message", role: "user", content: [{ type: "input_text", text: UNICODE_TEXT }] }];
  return {
    schema_version: 1,
    id,
    previous_response_id: null,
    model: "Qwen/Qwen3-0.6B",
    created_at,
    expires_at: null,
    response: {
      id,
      object: "response",
      created_at,
      status: "completed",
      model: "Qwen/Qwen3-0.6B",
      output,
      usage: { input_tokens: 12, output_tokens: 34, total_tokens: 46 },
      metadata: { nested: { deep: [1, 2.5, -3e-7, true, null, "ünïcödé"] } },
    },
    history: [...input_items, ...output],
    input_items,
    tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: {} } }],
    tool_choice: "auto",
    ...overrides,
  };
}

/** A conversation of `turns` records, each continuing the previous one with its history grown by one exchange. */
export function makeChain(turns: number): StoredResponseRecord[] {
  const chain: StoredResponseRecord[] = [];
  let history: unknown[] = [];
  for (let turn = 0; turn < turns; turn += 1) {
    const base = makeRecord({ previous_response_id: chain.at(-1)?.id ?? null });
    const input = [{ type: "message", role: "user", content: [{ type: "input_text", text: `turn ${turn} ✓` }] }];
    const output = (base.response.output as unknown[]) ?? [];
    history = [...history, ...input, ...output];
    chain.push({ ...base, input_items: input, history });
  }
  return chain;
}
