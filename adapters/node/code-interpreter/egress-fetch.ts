/**
 * Performs Python's HTTP requests for the sandbox (main thread, outside the worker's realm), under the egress
 * policy. Every hop is checked: the URL, then every address DNS returns, and each redirect again (redirects are
 * followed here, never by a library). The connection is made to exactly the addresses that were checked — a
 * pinned `lookup` — so a DNS answer that changes between check and connect (rebinding) cannot reach a
 * blocked network.
 */
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { pipeline, type Readable } from "node:stream";
import zlib from "node:zlib";
import { type EgressPolicy, evaluateEgress, precheckEgress } from "../../../src/tools/code-interpreter/egress-policy.js";
import type { SerializedRequest, SerializedResponse } from "./worker-protocol.js";

export interface EgressFetchOptions {
  policy: EgressPolicy;
  signal?: AbortSignal;
  /** Decoded body size limit; larger responses fail (a zip bomb is stopped after decompression too). */
  maxResponseBytes: number;
  maxRedirects?: number;
  /** DNS seam for tests; default `dns.lookup(host, {all: true})` (the system resolver, like curl). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Message is the text Python sees: `Code interpreter egress denied: host=… scheme=… reason=…`. */
export class EgressDeniedError extends Error {
  override name = "EgressDeniedError";
}

const dropRequestHeaders = new Set(["host", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "expect", "proxy-authorization", "proxy-connection"]);

export async function egressFetch(request: SerializedRequest, options: EgressFetchOptions): Promise<SerializedResponse> {
  const maxRedirects = options.maxRedirects ?? 20;
  let url = new URL(request.url);
  let method = request.method.toUpperCase();
  let body = request.body;
  let headers = new Map<string, string>();
  for (const [name, value] of request.headers) {
    if (!dropRequestHeaders.has(name.toLowerCase())) headers.set(name.toLowerCase(), value);
  }
  if (!headers.has("accept")) headers.set("accept", "*/*");
  if (!headers.has("accept-encoding")) headers.set("accept-encoding", "gzip, deflate, br");
  if (!headers.has("user-agent")) headers.set("user-agent", "vllm-responses-code-interpreter");

  for (let hop = 0; ; hop++) {
    options.signal?.throwIfAborted();
    const addresses = await checkedAddresses(url, options);
    const response = await send(url, method, headers, body, addresses, options.signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location && request.redirect !== "manual") {
      response.resume(); // the redirect's own body is not needed; drain it so the socket closes cleanly
      if (request.redirect === "error") throw new Error(`fetch to ${url.href} was redirected and redirect is "error"`);
      if (hop >= maxRedirects) throw new Error(`fetch to ${request.url} exceeded ${maxRedirects} redirects`);
      const next = new URL(location, url);
      // Fetch spec, HTTP-redirect fetch: 303 (and 301/302 after POST) become a body-less GET.
      if ((status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST")) {
        method = "GET";
        body = null;
        headers = new Map([...headers].filter(([name]) => !name.startsWith("content-")));
      }
      if (next.origin !== url.origin) {
        headers.delete("authorization");
        headers.delete("cookie");
      }
      url = next;
      continue;
    }
    const bytes = method === "HEAD" || status === 204 || status === 304 ? new Uint8Array(0) : await readBody(response, url, options);
    const responseHeaders: [string, string][] = [];
    const decoded = bytes.length > 0 && response.headers["content-encoding"] !== undefined;
    for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
      const name = response.rawHeaders[i] as string;
      // The body is handed over decoded (as fetch does), so its original length no longer applies.
      if (decoded && name.toLowerCase() === "content-length") continue;
      responseHeaders.push([name, response.rawHeaders[i + 1] as string]);
    }
    return { url: url.href, status, statusText: response.statusMessage ?? "", headers: responseHeaders, body: bytes, redirected: hop > 0 };
  }
}

async function checkedAddresses(url: URL, options: EgressFetchOptions): Promise<{ address: string; family: number }[]> {
  const early = precheckEgress(options.policy, url);
  if (early && !early.allowed) throw new EgressDeniedError(early.message);
  const host = bare(url.hostname);
  let ips: string[];
  if (isIP(host)) ips = [host];
  else {
    try {
      ips = options.resolve ? await options.resolve(host) : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch (error) {
      // Reported to Python as the fetch error: the host simply does not resolve.
      const code = (error as { code?: unknown }).code;
      throw new Error(`Failed to resolve code interpreter egress host "${host}": ${typeof code === "string" ? code : (error as Error).message}`);
    }
  }
  const decision = evaluateEgress(options.policy, url, ips);
  if (!decision.allowed) throw new EgressDeniedError(decision.message);
  return ips.map((address) => ({ address, family: isIP(address) }));
}

function send(
  url: URL,
  method: string,
  headers: Map<string, string>,
  body: Uint8Array | null,
  addresses: { address: string; family: number }[],
  signal: AbortSignal | undefined,
): Promise<http.IncomingMessage> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    const first = addresses[0] as { address: string; family: number };
    if ((lookupOptions as { all?: boolean }).all) (callback as (e: null, a: typeof addresses) => void)(null, addresses);
    else callback(null, first.address, first.family);
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        protocol: url.protocol,
        hostname: bare(url.hostname),
        port: url.port === "" ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method,
        headers: Object.fromEntries(headers),
        lookup: pinned,
        agent: false, // no connection reuse across jobs (or across policy decisions)
        signal,
      },
      resolve,
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : error);
      else reject(new Error(`fetch to ${url.origin} failed: ${error.code ?? error.message}`));
    });
    req.end(body ?? undefined);
  });
}

async function readBody(response: http.IncomingMessage, url: URL, options: EgressFetchOptions): Promise<Uint8Array> {
  let stream: Readable = response;
  const encodings = String(response.headers["content-encoding"] ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "" && e !== "identity");
  for (const encoding of encodings.reverse()) {
    const decoder =
      encoding === "gzip" || encoding === "x-gzip"
        ? zlib.createGunzip()
        : encoding === "deflate"
          ? zlib.createInflate()
          : encoding === "br"
            ? zlib.createBrotliDecompress()
            : null;
    if (decoder === null) break; // unknown coding: hand the bytes over as they came, like fetch does
    stream = pipeline(stream, decoder, (error) => {
      // Errors also surface through the iteration below, which is where they are reported.
      void error;
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > options.maxResponseBytes) {
      response.destroy();
      throw new Error(`response from ${url.origin} is larger than the code interpreter limit of ${options.maxResponseBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function bare(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}
