/**
 * The Node adapter's `fetch` for upstream calls: node:http(s) with a keep-alive agent, returning a standard
 * `Response` whose body is a pull-based ReadableStream. On Node 20 undici's fetch cost 16–20 % of the gateway's
 * CPU per request in the benchmark (bench/RESULTS.md); this path cut CPU per request by a quarter and is what lets
 * `/v1/responses` throughput at c=32 reach the target. Only what the gateway sends upstream is supported (string or
 * byte bodies, no redirects to follow, no compression asked for); anything else falls back to the global fetch.
 *
 * Errors mimic undici's shape (`TypeError` with a `cause` carrying the socket error `code`), so the upstream
 * client's retry and timeout rules apply unchanged.
 */
import http from "node:http";
import https from "node:https";

const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 1024, maxFreeSockets: 256, scheduling: "lifo" as const };
const agents = { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) };

/** Like undici: a TCP connect that takes this long fails with UND_ERR_CONNECT_TIMEOUT (→ 504 upstream_timeout). */
const CONNECT_TIMEOUT_MS = 10_000;

export function createNodeHttpFetch(): typeof fetch {
  return (input, init) => {
    const body = init?.body;
    const simpleBody = body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer;
    if (!simpleBody || input instanceof Request) return fetch(input, init);
    return request(new URL(input instanceof URL ? input.href : input), init ?? {}, body as string | Uint8Array | ArrayBuffer | null | undefined);
  };
}

function fetchError(message: string, cause: unknown): TypeError {
  return new TypeError(message, { cause });
}

function request(url: URL, init: RequestInit, body: string | Uint8Array | ArrayBuffer | null | undefined): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const headers: Record<string, string> = {};
    // The gateway passes a Headers object: read it as is (a copy would only be thrown away).
    (init.headers instanceof Headers ? init.headers : new Headers(init.headers)).forEach((value, key) => {
      headers[key] = value;
    });
    // Views, not copies: node:http only reads the bytes, and the caller keeps them unchanged (they are replayed on a retry).
    const payload =
      body === undefined || body === null
        ? null
        : typeof body === "string"
          ? Buffer.from(body)
          : body instanceof ArrayBuffer
            ? Buffer.from(body)
            : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (payload) headers["content-length"] = String(payload.byteLength);
    const secure = url.protocol === "https:";
    const req = (secure ? https : http).request(url, { method: init.method ?? "GET", headers, agent: secure ? agents.https : agents.http });

    let settled = false;
    let stream: ReadableStreamDefaultController<Uint8Array> | null = null;
    const onAbort = (): void => {
      const reason = signal!.reason;
      req.destroy();
      if (!settled) {
        settled = true;
        reject(reason);
      } else stream?.error(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const detach = (): void => signal?.removeEventListener("abort", onAbort);

    req.on("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => req.destroy(Object.assign(new Error("Connect Timeout Error"), { code: "UND_ERR_CONNECT_TIMEOUT" })), CONNECT_TIMEOUT_MS);
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    });
    req.on("error", (err) => {
      detach();
      if (!settled) {
        settled = true;
        reject(fetchError("fetch failed", err));
      } else stream?.error(fetchError("terminated", err));
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 502;
      const responseHeaders = new Headers();
      for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      const empty = status === 204 || status === 304 || init.method === "HEAD";
      const responseBody = empty
        ? null
        : new ReadableStream<Uint8Array>(
            {
              start(controller) {
                stream = controller;
                let finished = false;
                const fail = (err: unknown): void => {
                  if (finished) return;
                  finished = true;
                  detach();
                  controller.error(fetchError("terminated", err));
                };
                res.on("data", (chunk: Buffer) => {
                  if (finished) return;
                  controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
                  // Back-pressure: stop reading the socket until the consumer pulls again.
                  if ((controller.desiredSize ?? 0) <= 0) res.pause();
                });
                res.on("end", () => {
                  if (finished) return;
                  finished = true;
                  detach();
                  controller.close();
                });
                // The upstream died mid-body (vLLM crashed, the connection reset): the stream must fail, not end.
                res.on("error", fail);
                res.on("aborted", () => fail(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })));
              },
              pull() {
                res.resume();
              },
              cancel() {
                detach();
                res.destroy();
              },
            },
            { highWaterMark: 16 },
          );
      if (empty) {
        res.resume();
        detach();
      }
      settled = true;
      resolve(new Response(responseBody, { status, statusText: res.statusMessage, headers: responseHeaders }));
    });
    req.end(payload ?? undefined);
  });
}
