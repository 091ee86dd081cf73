// The benchmark's scripted upstream: a vLLM-shaped OpenAI server kept as cheap as possible, so what the bench
// measures is the gateway in front of it, not the mock. Runs as its own process (never in the gateway's or the
// client's event loop).
//
//   node bench/upstream.js [--port 0] [--otlp-port 0]
//   → prints one JSON line {"port":N,"otlpPort":M} on stdout when listening.
//
// The shape of each answer comes from the model name, so the same upstream serves every row and every gateway
// forwards it unchanged: `bench:ttft=5,gap=20,n=64,ts=1`
//   ttft  ms before the response headers / first chunk (non-stream: before the whole body)
//   gap   ms between streamed deltas (non-stream: added n×gap to the wait)
//   n     number of content deltas
//   ts    1 = each delta's text is "T<µs> ", the upstream's CLOCK_MONOTONIC send time in µs (process.hrtime is
//         system-wide on Linux), so the client can compute per-frame latency through any hop
// Routes: POST /v1/chat/completions (stream and non-stream, usage when stream_options.include_usage),
// POST /v1/responses (a minimal native Responses endpoint like vLLM's, so a gateway that can only pass
// /v1/responses through — Portkey 1.15.2 — can be measured), GET /v1/models, GET /health.
// A second listener (--otlp-port) accepts OTLP/HTTP exports (POST /v1/traces → 200, empty protobuf message)
// and counts them: GET /stats on the main port reports { requests, otlpExports, otlpBytes }.
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, "otlp-port": { type: "string", default: "0" } } });

const stats = { requests: 0, streams: 0, aborted: 0, otlpExports: 0, otlpBytes: 0 };
const shapes = new Map();
const DEFAULT_SHAPE = { ttft: 0, gap: 0, n: 16, ts: false };

function shapeOf(model) {
  let s = shapes.get(model);
  if (s) return s;
  s = { ...DEFAULT_SHAPE };
  if (typeof model === "string" && model.startsWith("bench:")) {
    for (const kv of model.slice(6).split(",")) {
      const [k, v] = kv.split("=");
      if (k === "ts") s.ts = v === "1";
      else if (k in s) s[k] = Number(v);
    }
  }
  if (shapes.size < 1000) shapes.set(model, s);
  return s;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const WORDS = ["Hello", " from", " the", " scripted", " upstream", ",", " one", " token", " at", " a", " time", "."];
const textOf = (shape, i) => (shape.ts ? `T${nowUs()} ` : WORDS[i % WORDS.length]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

/** A non-streamed answer: waits as long as the stream would take, then its whole text (null if the client left). */
async function wholeText(shape, isGone) {
  const wait = shape.ttft + shape.gap * shape.n;
  if (wait > 0) await sleep(wait);
  if (isGone()) return null;
  let text = "";
  for (let i = 0; i < shape.n; i++) text += textOf(shape, i);
  return text;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

async function chat(req, res, body) {
  const shape = shapeOf(body.model);
  const id = `chatcmpl-bench${++seq}`;
  const created = Math.floor(Date.now() / 1000);
  const model = JSON.stringify(body.model);
  const usage = { prompt_tokens: 8, completion_tokens: shape.n, total_tokens: 8 + shape.n };
  let gone = false;
  res.on("close", () => {
    if (!res.writableFinished) {
      gone = true;
      stats.aborted++;
    }
  });
  if (!body.stream) {
    const text = await wholeText(shape, () => gone);
    if (text === null) return;
    json(res, 200, {
      id,
      object: "chat.completion",
      created,
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content: text, reasoning_content: null, tool_calls: [] }, logprobs: null, finish_reason: "stop" }],
      usage,
    });
    return;
  }
  stats.streams++;
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${model},"choices":[{"index":0,"delta":`;
  const frame = (delta, finish) => `${head}${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
  const tail = () =>
    frame("{}", '"stop"') +
    (body.stream_options?.include_usage ? `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${model},"choices":[],"usage":${JSON.stringify(usage)}}\n\n` : "") +
    "data: [DONE]\n\n";
  if (shape.ttft > 0) await sleep(shape.ttft);
  if (gone) return;
  res.writeHead(200, SSE_HEADERS);
  const first = frame('{"role":"assistant","content":""}', "null");
  if (shape.gap <= 0) {
    // One write: what a fast engine flushing a whole short answer looks like, and the cheapest for the mock.
    let all = first;
    for (let i = 0; i < shape.n; i++) all += frame(`{"content":${JSON.stringify(textOf(shape, i))}}`, "null");
    res.end(all + tail());
    return;
  }
  res.write(first);
  for (let i = 0; i < shape.n; i++) {
    if (gone) return;
    res.write(frame(`{"content":${JSON.stringify(textOf(shape, i))}}`, "null"));
    if (i < shape.n - 1) await sleep(shape.gap);
  }
  if (!gone) res.end(tail());
}

/** A minimal native /v1/responses (the subset a passthrough gateway needs): text output, optional stream. */
async function responses(req, res, body) {
  const shape = shapeOf(body.model);
  const id = `resp_bench${++seq}`;
  const msgId = `msg_bench${seq}`;
  const created = Math.floor(Date.now() / 1000);
  let gone = false;
  res.on("close", () => {
    if (!res.writableFinished) {
      gone = true;
      stats.aborted++;
    }
  });
  const resource = (status, text) => ({
    id,
    object: "response",
    created_at: created,
    status,
    model: body.model,
    output: text === null ? [] : [{ type: "message", id: msgId, status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] }],
    usage: text === null ? null : { input_tokens: 8, output_tokens: shape.n, total_tokens: 8 + shape.n },
  });
  if (!body.stream) {
    const text = await wholeText(shape, () => gone);
    if (text === null) return;
    json(res, 200, resource("completed", text));
    return;
  }
  stats.streams++;
  let sn = 0;
  const ev = (type, rest) => `event: ${type}\ndata: {"type":"${type}","sequence_number":${sn++}${rest}}\n\n`;
  const delta = (t) => ev("response.output_text.delta", `,"item_id":"${msgId}","output_index":0,"content_index":0,"delta":${JSON.stringify(t)}`);
  if (shape.ttft > 0) await sleep(shape.ttft);
  if (gone) return;
  res.writeHead(200, SSE_HEADERS);
  let head = ev("response.created", `,"response":${JSON.stringify(resource("in_progress", null))}`);
  head += ev("response.output_item.added", `,"output_index":0,"item":{"type":"message","id":"${msgId}","status":"in_progress","role":"assistant","content":[]}`);
  head += ev("response.content_part.added", `,"item_id":"${msgId}","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}`);
  let text = "";
  const end = () => {
    const part = `{"type":"output_text","text":${JSON.stringify(text)},"annotations":[]}`;
    return (
      ev("response.output_text.done", `,"item_id":"${msgId}","output_index":0,"content_index":0,"text":${JSON.stringify(text)}`) +
      ev("response.content_part.done", `,"item_id":"${msgId}","output_index":0,"content_index":0,"part":${part}`) +
      ev("response.output_item.done", `,"output_index":0,"item":{"type":"message","id":"${msgId}","status":"completed","role":"assistant","content":[${part}]}`) +
      ev("response.completed", `,"response":${JSON.stringify(resource("completed", text))}`)
    );
  };
  if (shape.gap <= 0) {
    let all = head;
    for (let i = 0; i < shape.n; i++) {
      const t = textOf(shape, i);
      text += t;
      all += delta(t);
    }
    res.end(all + end());
    return;
  }
  res.write(head);
  for (let i = 0; i < shape.n; i++) {
    if (gone) return;
    const t = textOf(shape, i);
    text += t;
    res.write(delta(t));
    if (i < shape.n - 1) await sleep(shape.gap);
  }
  if (!gone) res.end(end());
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (req.method === "GET") {
    if (url === "/health") return json(res, 200, {});
    if (url === "/stats") return json(res, 200, stats);
    if (url === "/v1/models") return json(res, 200, { object: "list", data: [{ id: "bench", object: "model", created: 0, owned_by: "vllm", max_model_len: 32768 }] });
    return json(res, 404, { error: { message: "not found", type: "NotFoundError", code: 404 } });
  }
  if (req.method === "POST" && (url === "/v1/chat/completions" || url === "/v1/responses")) {
    stats.requests++;
    readBody(req)
      .then((text) => {
        const body = JSON.parse(text);
        return url === "/v1/responses" ? responses(req, res, body) : chat(req, res, body);
      })
      .catch((err) => {
        if (!res.headersSent) json(res, 400, { error: { message: String(err?.message ?? err), type: "BadRequestError", code: 400 } });
        else res.destroy();
      });
    return;
  }
  json(res, 404, { error: { message: `no route ${req.method} ${url}`, type: "NotFoundError", code: 404 } });
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

// The OTLP/HTTP sink for the tracing row: accepts and counts, never slow.
const otlp = createServer((req, res) => {
  let bytes = 0;
  req.on("data", (c) => (bytes += c.length));
  req.on("end", () => {
    stats.otlpExports++;
    stats.otlpBytes += bytes;
    const json = (req.headers["content-type"] ?? "").includes("json");
    res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf", "content-length": json ? 2 : 0 });
    res.end(json ? "{}" : undefined);
  });
});

const listen = (srv, port) => new Promise((resolve, reject) => {
  srv.once("error", reject);
  srv.listen(Number(port), "127.0.0.1", () => resolve(srv.address().port));
});
const port = await listen(server, values.port);
const otlpPort = await listen(otlp, values["otlp-port"]);
process.stdout.write(JSON.stringify({ port, otlpPort }) + "\n");

const stop = () => {
  server.closeAllConnections();
  otlp.closeAllConnections();
  server.close();
  otlp.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Never outlive the bench: the runner's death closes stdin.
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
