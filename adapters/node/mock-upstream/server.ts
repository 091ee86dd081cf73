/**
 * A vLLM-compatible HTTP server for trying and testing the gateway with no GPU: `/v1/chat/completions` (stream
 * and non-stream, reasoning_content deltas, tool calls, usage), `/v1/models`, `/health`; scripted (see script.ts)
 * or replaying recordings. It records what it was sent and how each stream ended, so tests can assert that the
 * gateway translated requests correctly and aborted upstream work when its client left.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buildScript, type ChatRequestLike, type Script, type ScriptStep } from "./script.js";
import { loadRecordings, matchRecording, type Recording } from "./replay.js";

export interface MockUpstreamOptions {
  port?: number;
  host?: string;
  replayDir?: string;
  /** Default stream shape when the model name does not set one. */
  ttftMs?: number;
  gapMs?: number;
  chunks?: number | null;
  /** Gap between replayed SSE frames. */
  replayGapMs?: number;
  modelName?: string;
}

export interface MockUpstreamStats {
  requests: ChatRequestLike[];
  /** Request headers of each chat request, lower-cased (traceparent, x-request-id, authorization …). */
  headers: Array<Record<string, string>>;
  /** Streams whose client went away before the end. */
  aborted: number;
  completed: number;
}

export interface MockUpstream {
  url: string;
  stats: MockUpstreamStats;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const recordings: Recording[] | null = options.replayDir ? loadRecordings(options.replayDir) : null;
  const defaults: Script["shape"] = { ttftMs: options.ttftMs ?? 0, gapMs: options.gapMs ?? 0, chunks: options.chunks ?? null };
  const model = options.modelName ?? "mock-model";
  const stats: MockUpstreamStats = { requests: [], headers: [], aborted: 0, completed: 0 };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the mock must be loud in tests, not a hung request.
      console.error("mock-upstream error", err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(err), type: "InternalServerError", code: 500 } }));
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://mock");
    if (req.method === "GET" && url.pathname === "/health") return json(res, 200, {});
    // What the gateway sent and how streams ended, for end-to-end tests that run the mock as a process.
    if (req.method === "GET" && url.pathname === "/_mock/stats") return json(res, 200, { requests: stats.requests.length, last_request: stats.requests.at(-1) ?? null, last_headers: stats.headers.at(-1) ?? null, aborted: stats.aborted, completed: stats.completed });
    if (req.method === "GET" && url.pathname === "/v1/models") {
      return json(res, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: "vllm", max_model_len: 32768 }] });
    }
    if (req.method === "POST" && url.pathname === "/v1/chat/completions") {
      const body = JSON.parse(await readBody(req)) as ChatRequestLike;
      stats.requests.push(body);
      stats.headers.push(Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")])));
      if (recordings) return replay(res, body);
      if (typeof body.model === "string" && body.model.startsWith("missing")) {
        return json(res, 404, { error: { message: `The model \`${body.model}\` does not exist.`, type: "NotFoundError", param: "model", code: 404 } });
      }
      const script = buildScript(body, defaults);
      return body.stream ? stream(res, body, script) : whole(res, body, script);
    }
    json(res, 404, { error: { message: `no route ${req.method} ${url.pathname}`, type: "NotFoundError", code: 404 } });
  }

  async function replay(res: ServerResponse, body: ChatRequestLike): Promise<void> {
    const rec = matchRecording(recordings!, body);
    if (!rec) return json(res, 404, { error: { message: "no recording matches this request", type: "NotFoundError", code: 404 } });
    if (!rec.response.sse) return json(res, rec.response.status_code, rec.response.body ?? {});
    res.writeHead(rec.response.status_code, { "content-type": "text/event-stream; charset=utf-8" });
    let closed = false;
    res.on("close", () => (closed = true));
    for (const line of rec.response.sse) {
      if (closed) break;
      res.write(line);
      if (line === "\n") await sleep(options.replayGapMs ?? 0);
    }
    res.end();
  }

  async function stream(res: ServerResponse, body: ChatRequestLike, script: Script): Promise<void> {
    const id = `chatcmpl-mock${Math.random().toString(16).slice(2, 10)}`;
    const created = Math.floor(Date.now() / 1000);
    const frame = (delta: Record<string, unknown>, finish: string | null = null): string =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    let clientGone = false;
    res.on("close", () => {
      if (!res.writableFinished) {
        clientGone = true;
        stats.aborted++;
      }
    });
    await sleep(script.shape.ttftMs);
    if (clientGone) return;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    await writeSplit(res, frame({ role: "assistant", content: "" }));
    let sent = 0;
    for (const step of script.steps) {
      if (clientGone) return;
      if (script.fault === "fail_midstream" && sent === 2) {
        // Let what was written reach the client first: the failure under test is a connection lost mid-stream.
        await sleep(30);
        res.destroy();
        return;
      }
      if (script.fault === "stall" && sent === 1) return; // say nothing more; the socket stays open
      if (script.fault === "error_frame" && sent === 2) {
        res.end(`data: ${JSON.stringify({ error: { message: "mock engine error", type: "InternalServerError", code: 500 } })}\n\n`);
        return;
      }
      if (script.fault === "garbage" && sent === 2) {
        res.end("data: {this is not json\n\n");
        return;
      }
      await writeSplit(res, frame(deltaOf(step)));
      sent++;
      await sleep(script.shape.gapMs);
    }
    if (clientGone) return;
    await writeSplit(res, frame({}, script.finish_reason));
    if (body.stream_options?.include_usage) {
      const u = script.usage;
      res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage: { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: u.reasoning_tokens } } })}\n\n`);
    }
    res.end("data: [DONE]\n\n");
    stats.completed++;
  }

  function whole(res: ServerResponse, body: ChatRequestLike, script: Script): void {
    const text = script.steps.filter((s) => s.kind === "text").map((s) => (s as { text: string }).text).join("");
    const reasoning = script.steps.filter((s) => s.kind === "reasoning").map((s) => (s as { text: string }).text).join("");
    const calls = new Map<number, { id: string; type: "function"; function: { name: string; arguments: string } }>();
    for (const s of script.steps) {
      if (s.kind !== "tool_call") continue;
      const c = calls.get(s.index) ?? { id: s.id ?? "", type: "function" as const, function: { name: s.name ?? "", arguments: "" } };
      c.function.arguments += s.args ?? "";
      calls.set(s.index, c);
    }
    const u = script.usage;
    stats.completed++;
    json(res, 200, {
      id: `chatcmpl-mock${Math.random().toString(16).slice(2, 10)}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content: text || null, reasoning_content: reasoning || null, tool_calls: [...calls.values()] }, finish_reason: script.finish_reason }],
      usage: { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens },
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/v1`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function deltaOf(step: ScriptStep): Record<string, unknown> {
  switch (step.kind) {
    // vLLM sends both names for the same reasoning text (reasoning_content is the deprecated alias).
    case "reasoning":
      return { reasoning: step.text, reasoning_content: step.text };
    case "text":
      return { content: step.text };
    case "tool_call":
      return {
        tool_calls: [
          {
            index: step.index,
            ...(step.id ? { id: step.id, type: "function" } : {}),
            function: { ...(step.name ? { name: step.name } : {}), arguments: step.args ?? "" },
          },
        ],
      };
  }
}

/**
 * Frames with multi-byte characters are written in two pieces split inside a character, as TCP may deliver them,
 * so the gateway's UTF-8 handling is exercised on every run.
 */
async function writeSplit(res: ServerResponse, text: string): Promise<void> {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length === text.length) {
    res.write(bytes);
    return;
  }
  let cut = Math.floor(bytes.length / 2);
  while (cut < bytes.length && (bytes[cut] & 0xc0) !== 0x80) cut++;
  res.write(bytes.subarray(0, cut));
  await new Promise((r) => setTimeout(r, 1));
  res.write(bytes.subarray(cut));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
