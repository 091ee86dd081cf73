/**
 * The HTTP client that performs Python's requests under the egress policy (no Pyodide here: the same code runs
 * for the sandbox in pool.test / sandbox-isolation.test). A real local server, real sockets.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EgressDeniedError, egressFetch } from "../../adapters/node/code-interpreter/egress-fetch.js";
import type { SerializedRequest } from "../../adapters/node/code-interpreter/worker-protocol.js";
import { defaultEgressPolicy, parseEgressPolicy } from "../../src/tools/code-interpreter/egress-policy.js";

let server: http.Server;
let base: string;
let port: number;
const seen: { url: string; host: string | undefined; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", host: req.headers.host, authorization: req.headers.authorization });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      switch (req.url) {
        case "/hello":
          res.end("hello");
          break;
        case "/echo":
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ method: req.method, body, ua: req.headers["user-agent"], auth: req.headers.authorization ?? null }));
          break;
        case "/redirect-self":
          res.writeHead(302, { location: "/hello" }).end();
          break;
        case "/redirect-private":
          res.writeHead(302, { location: "http://10.255.255.1/secret" }).end();
          break;
        case "/redirect-file":
          res.writeHead(301, { location: "file:///etc/passwd" }).end();
          break;
        case "/redirect-alias":
          res.writeHead(307, { location: `http://alias.test:${port}/echo` }).end();
          break;
        case "/see-other":
          res.writeHead(303, { location: "/echo" }).end();
          break;
        case "/loop":
          res.writeHead(302, { location: "/loop" }).end();
          break;
        case "/gzip": {
          const gz = gzipSync("compressed text");
          res.writeHead(200, { "content-encoding": "gzip", "content-length": String(gz.length) }).end(gz);
          break;
        }
        case "/big":
          res.end(Buffer.alloc(200_000, 0x61));
          break;
        case "/no-content":
          res.writeHead(204).end();
          break;
        default:
          res.writeHead(404).end("nope");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const loopbackAllowed = parseEgressPolicy({
  mode: "allowlist",
  allowed_schemes: ["http"],
  block_ip_literals: false,
  block_private_networks: false,
  rules: [{ kind: "cidr", value: "127.0.0.0/8" }],
});
const get = (url: string, extra: Partial<SerializedRequest> = {}): SerializedRequest => ({ url, method: "GET", headers: [], body: null, redirect: "follow", ...extra });
const opts = { policy: loopbackAllowed, maxResponseBytes: 100_000 };
const text = (body: Uint8Array) => new TextDecoder().decode(body);

describe("egressFetch", () => {
  test("allowed request: status, headers, body, url", async () => {
    const r = await egressFetch(get(`${base}/hello`), opts);
    expect(r).toMatchObject({ status: 200, url: `${base}/hello`, redirected: false });
    expect(text(r.body)).toBe("hello");
    expect(r.headers.some(([k]) => k.toLowerCase() === "content-length")).toBe(true);
  });

  test("POST body, default user agent, 204 without body", async () => {
    const r = await egressFetch(get(`${base}/echo`, { method: "POST", body: new TextEncoder().encode("payload"), headers: [["content-type", "text/plain"]] }), opts);
    expect(JSON.parse(text(r.body))).toMatchObject({ method: "POST", body: "payload", ua: "vllm-responses-code-interpreter" });
    const empty = await egressFetch(get(`${base}/no-content`), opts);
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
  });

  test("the default policy denies loopback before connecting", async () => {
    const before = seen.length;
    await expect(egressFetch(get(`${base}/hello`), { ...opts, policy: defaultEgressPolicy() })).rejects.toThrow(
      new EgressDeniedError("Code interpreter egress denied: host=127.0.0.1 scheme=http reason=special_use_address_blocked ip=127.0.0.1"),
    );
    expect(seen.length).toBe(before);
  });

  test("redirects are followed hop by hop, each hop checked", async () => {
    const ok = await egressFetch(get(`${base}/redirect-self`), opts);
    expect(ok).toMatchObject({ status: 200, url: `${base}/hello`, redirected: true });
    await expect(egressFetch(get(`${base}/redirect-private`), opts)).rejects.toThrow(/egress denied: host=10.255.255.1 scheme=http reason=cidr_not_allowlisted/);
    await expect(egressFetch(get(`${base}/redirect-file`), opts)).rejects.toThrow(/egress denied: host= scheme=file reason=scheme_not_allowed/);
    await expect(egressFetch(get(`${base}/loop`), opts)).rejects.toThrow(/exceeded 20 redirects/);
  });

  test('redirect "manual" returns the 3xx itself; "error" refuses it', async () => {
    const manual = await egressFetch(get(`${base}/redirect-private`, { redirect: "manual" }), opts);
    expect(manual.status).toBe(302);
    await expect(egressFetch(get(`${base}/redirect-self`, { redirect: "error" }), opts)).rejects.toThrow(/redirect is "error"/);
  });

  test("303 turns POST into GET; cross-origin redirects drop Authorization", async () => {
    const seeOther = await egressFetch(get(`${base}/see-other`, { method: "POST", body: new TextEncoder().encode("x") }), opts);
    expect(JSON.parse(text(seeOther.body))).toMatchObject({ method: "GET", body: "" });
    const resolve = async (host: string) => (host === "alias.test" ? ["127.0.0.1"] : Promise.reject(new Error(`unexpected lookup ${host}`)));
    const r = await egressFetch(get(`${base}/redirect-alias`, { method: "POST", body: new TextEncoder().encode("keep"), headers: [["authorization", "Bearer secret"]] }), { ...opts, resolve });
    expect(JSON.parse(text(r.body))).toMatchObject({ method: "POST", body: "keep", auth: null });
  });

  test("connects to exactly the checked addresses (no second DNS lookup to rebind)", async () => {
    const answers = new Map([["rebind.test", ["127.0.0.1"]], ["evil.test", ["10.0.0.7"]]]);
    const resolve = async (host: string) => answers.get(host) ?? [];
    const r = await egressFetch(get(`http://rebind.test:${port}/hello`), { ...opts, resolve });
    expect(text(r.body)).toBe("hello");
    expect(seen.at(-1)?.host).toBe(`rebind.test:${port}`);
    await expect(egressFetch(get(`http://evil.test:${port}/hello`), { ...opts, resolve })).rejects.toThrow(/host=evil.test .*reason=cidr_not_allowlisted/);
  });

  test("unresolvable host is a fetch error naming the host", async () => {
    await expect(egressFetch(get("http://does-not-exist.invalid/"), opts)).rejects.toThrow(/Failed to resolve code interpreter egress host "does-not-exist.invalid"/);
  });

  test("gzip is decoded (and the stale content-length dropped); the size cap applies after decoding", async () => {
    const r = await egressFetch(get(`${base}/gzip`), opts);
    expect(text(r.body)).toBe("compressed text");
    expect(r.headers.find(([k]) => k.toLowerCase() === "content-length")).toBeUndefined();
    await expect(egressFetch(get(`${base}/big`), { ...opts, maxResponseBytes: 100_000 })).rejects.toThrow(/larger than the code interpreter limit of 100000 bytes/);
  });

  test("abort signal stops the request", async () => {
    const controller = new AbortController();
    controller.abort(new Error("job stopped"));
    await expect(egressFetch(get(`${base}/hello`), { ...opts, signal: controller.signal })).rejects.toThrow(/job stopped/);
  });
});
