/**
 * The scripted model behind `vllm-responses mock-upstream`: deterministic answers shaped like vLLM's, so the
 * gateway can be tried and tested without a GPU. What it answers depends on the request:
 *
 * - tools offered (and tool_choice not "none"), last message from the user → tool calls: the forced tool, else
 *   the first tool; "parallel" in the prompt → the first two tools at once, argument fragments interleaved;
 * - last message a tool result → a text answer quoting it;
 * - otherwise → text echoing the prompt, with reasoning first when the prompt contains "think" or
 *   reasoning_effort is set.
 *
 * Magic words in the last user message drive failure tests: LOOP (call tools again after every result), LENGTH (finish_reason length), FAIL_MIDSTREAM
 * (connection dropped after a few chunks), STALL (one chunk, then silence), ERROR_FRAME (an error frame), and
 * GARBAGE (an unparsable frame). The model name `mock:chunks=64,gap=20,ttft=5` sets the stream's shape.
 */
export interface ChatRequestLike {
  model?: string;
  messages?: Array<{ role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; parameters?: Record<string, unknown> } }>;
  tool_choice?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  reasoning_effort?: string;
  max_completion_tokens?: number;
  max_tokens?: number;
}

export type ScriptStep =
  | { kind: "reasoning"; text: string }
  | { kind: "text"; text: string }
  | { kind: "tool_call"; index: number; id?: string; name?: string; args?: string };

export interface Script {
  steps: ScriptStep[];
  finish_reason: "stop" | "length" | "tool_calls";
  fault: "none" | "fail_midstream" | "stall" | "error_frame" | "garbage";
  shape: { ttftMs: number; gapMs: number; chunks: number | null };
  usage: { prompt_tokens: number; completion_tokens: number; reasoning_tokens: number };
}

export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join("");
  return "";
}

export function parseShape(model: string | undefined, defaults: Script["shape"]): Script["shape"] {
  const shape = { ...defaults };
  const m = /^mock:(.*)$/.exec(model ?? "");
  if (!m) return shape;
  for (const pair of m[1].split(",")) {
    const [k, v] = pair.split("=");
    const n = Number(v);
    if (!Number.isFinite(n)) continue;
    if (k === "chunks") shape.chunks = n;
    else if (k === "gap") shape.gapMs = n;
    else if (k === "ttft") shape.ttftMs = n;
  }
  return shape;
}

export function buildScript(req: ChatRequestLike, defaults: Script["shape"]): Script {
  const messages = req.messages ?? [];
  const last = messages[messages.length - 1];
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const prompt = contentText(lastUser?.content);
  const shape = parseShape(req.model, defaults);
  const fault: Script["fault"] = /FAIL_MIDSTREAM/.test(prompt) ? "fail_midstream" : /STALL/.test(prompt) ? "stall" : /ERROR_FRAME/.test(prompt) ? "error_frame" : /GARBAGE/.test(prompt) ? "garbage" : "none";
  const promptTokens = Math.max(1, Math.ceil(JSON.stringify(messages).length / 4));
  const steps: ScriptStep[] = [];
  let finish: Script["finish_reason"] = "stop";

  const tools = req.tools ?? [];
  const choice = req.tool_choice;
  // LOOP keeps calling tools after tool results too, to exercise the gateway's round and call limits.
  const wantsTools = tools.length > 0 && choice !== "none" && (last?.role === "user" || /LOOP/.test(prompt));
  if (/think/i.test(prompt) || req.reasoning_effort) steps.push(...split("reasoning", `Thinking about: ${prompt.slice(0, 60)}`, shape.chunks));

  if (wantsTools) {
    const forced = typeof choice === "object" && choice !== null ? (choice as { function?: { name?: string } }).function?.name : undefined;
    const chosen = forced ? tools.filter((t) => t.function.name === forced) : /parallel/i.test(prompt) ? tools.slice(0, 2) : tools.slice(0, 1);
    const calls = chosen.map((t, i) => ({ index: i, id: `chatcmpl-tool-${i}${Math.random().toString(16).slice(2, 10)}`, name: t.function.name, args: JSON.stringify(argumentsFor(t.function.name, t.function.parameters, prompt)) }));
    // Announce every call first, then interleave their argument fragments, as vLLM does for parallel calls.
    for (const c of calls) steps.push({ kind: "tool_call", index: c.index, id: c.id, name: c.name, args: "" });
    const pieces = calls.map((c) => chunkString(c.args, 3));
    for (let k = 0; pieces.some((p) => k < p.length); k++) {
      pieces.forEach((p, i) => {
        if (k < p.length) steps.push({ kind: "tool_call", index: calls[i].index, args: p[k] });
      });
    }
    finish = "tool_calls";
  } else {
    const answer = last?.role === "tool" ? `The tool returned: ${contentText(last.content)}` : answerFor(prompt);
    steps.push(...split("text", answer, shape.chunks));
  }
  if (/LENGTH/.test(prompt) || ((req.max_completion_tokens ?? req.max_tokens ?? Infinity) < steps.length && !wantsTools)) {
    const limit = Math.max(1, Math.min(steps.length, req.max_completion_tokens ?? req.max_tokens ?? 3));
    steps.length = Math.min(steps.length, limit);
    finish = "length";
  }
  const reasoningTokens = steps.filter((s) => s.kind === "reasoning").length;
  return { steps, finish_reason: finish, fault, shape, usage: { prompt_tokens: promptTokens, completion_tokens: steps.length, reasoning_tokens: reasoningTokens } };
}

function answerFor(prompt: string): string {
  if (/emoji/i.test(prompt)) return "Here you go: 😀🎉 café – naïve 日本語 👩‍👩‍👧";
  return `You said: ${prompt}`;
}

function argumentsFor(name: string, parameters: Record<string, unknown> | undefined, prompt: string): Record<string, unknown> {
  if (name === "code_interpreter") {
    const m = /run:\s*([\s\S]+)$/i.exec(prompt);
    return { code: m ? m[1].trim() : "2+2" };
  }
  // Clients send any JSON as a tool's schema; the mock must answer (as vLLM does), not crash on a null or an array.
  const raw = parameters?.properties;
  const props = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(props)) {
    const type = schema && typeof schema === "object" ? (schema as { type?: unknown }).type : undefined;
    args[key] = type === "number" || type === "integer" ? 42 : type === "boolean" ? true : key === "city" || key === "location" ? "Paris" : `value of ${key}`;
  }
  return args;
}

function split(kind: "reasoning" | "text", text: string, chunks: number | null): ScriptStep[] {
  if (chunks !== null && chunks > 0) {
    const out: ScriptStep[] = [];
    for (let i = 0; i < chunks; i++) out.push({ kind, text: i === 0 ? text.slice(0, 8) || "x" : ` t${i}` });
    return out;
  }
  return chunkString(text, 0).map((t) => ({ kind, text: t }));
}

/** Word-ish pieces (size 0) or fixed-size pieces, never splitting a surrogate pair. */
function chunkString(text: string, size: number): string[] {
  if (size === 0) return text.match(/\S+\s*|\s+/gu) ?? [text];
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out.length > 0 ? out : [""];
}
