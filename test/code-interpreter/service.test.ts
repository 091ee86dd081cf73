/**
 * The loopback service end to end through the fetch-based executor (what gateway workers use), plus the
 * executor's behaviour against broken or missing services. One real interpreter behind the service.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CodeInterpreterServiceHandle, runCodeInterpreterService } from "../../adapters/node/code-interpreter/service.js";
import { createHttpCodeExecutor } from "../../src/tools/code-interpreter/http-executor.js";
import { freePort } from "../setup/services.js";

const token = "test-token";
let service: CodeInterpreterServiceHandle;
let healthWhileStarting: { status: number; body: unknown } | undefined;

beforeAll(async () => {
  const port = await freePort();
  const starting = runCodeInterpreterService({ port, workers: 1, timeoutMs: 5_000, maxQueuedJobs: 1, queueTimeoutMs: 1_000, authToken: token });
  // The service listens before the interpreter is loaded, so a prober sees "starting" rather than a refusal.
  const deadline = Date.now() + 5_000;
  while (!healthWhileStarting && Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      healthWhileStarting = { status: res.status, body: await res.json() };
    } catch (error) {
      void error; // not listening yet; poll again
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  service = await starting;
});
afterAll(() => service?.close());

describe("code interpreter service", () => {
  test("health: 503 starting while loading, 200 ok once the worker is up", async () => {
    expect(healthWhileStarting).toEqual({ status: 503, body: { status: "starting", ready_workers: 0, configured_workers: 1, busy_workers: 0, queued_jobs: 0 } });
    const res = await fetch(`${service.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", ready_workers: 1, configured_workers: 1 });
  });

  test("the HTTP executor runs code end to end", async () => {
    const executor = createHttpCodeExecutor({ url: service.url, authToken: token });
    await executor.ready();
    expect(await executor.execute("print('hi')\n6*7")).toEqual({ status: "success", stdout: "hi\n", stderr: "", result: "42", execution_time_ms: expect.any(Number) });
    const raised = await executor.execute("raise ValueError('bad')");
    expect(raised).toMatchObject({ status: "exception", result: null });
    expect(raised.stderr).toContain("ValueError: bad");
    const timedOut = await executor.execute("while True: pass", { timeoutMs: 500 });
    expect(timedOut).toMatchObject({ status: "timeout", error: "Execution timed out after 500 ms" });
    await executor.close();
  });

  test("bad requests get 4xx with an error message", async () => {
    const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
      fetch(`${service.url}/python`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    const cases: [Promise<Response>, number, RegExp][] = [
      [post("{}"), 400, /"code" must be a string/],
      [post('{"code": 5}'), 400, /"code" must be a string/],
      [post("not json"), 400, /not valid JSON/],
      [post('{"code": "1", "timeout_ms": -1}'), 400, /timeout_ms/],
      [post('{"code": "1"}', {}), 401, /bearer token/],
      [post('{"code": "1"}', { authorization: "Bearer wrong-token" }), 401, /bearer token/],
      [fetch(`${service.url}/python`), 405, /use POST/],
      [fetch(`${service.url}/nope`), 404, /no route/],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
  });

  test("a client that gives up frees the worker at once", async () => {
    const executor = createHttpCodeExecutor({ url: service.url, authToken: token });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user cancelled")), 300);
    const r = await executor.execute("while True: pass", { signal: controller.signal, timeoutMs: 5_000 });
    expect(r).toMatchObject({ status: "error", error: "Execution aborted: user cancelled" });
    const started = Date.now();
    expect(await executor.execute("print(1)")).toMatchObject({ status: "success" });
    expect(Date.now() - started).toBeLessThan(1_500); // not the 5 s the abandoned job was allowed
  });

  test("overload: a full queue refuses at once, a long wait is refused after queueTimeoutMs", async () => {
    const executor = createHttpCodeExecutor({ url: service.url, authToken: token });
    // The scenario needs the one worker idle and ready: the previous test's interrupted worker may still be being
    // replaced (slow under a loaded machine), and "busy" would then queue instead of run.
    expect(await executor.execute("print(1)")).toMatchObject({ status: "success" });
    const busy = executor.execute("import time\ntime.sleep(2)\n'slow'");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waiting = executor.execute("'queued'");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await executor.execute("'refused'")).toMatchObject({ status: "error", error: expect.stringMatching(/overloaded: 1 jobs already waiting/) });
    expect(await waiting).toMatchObject({ status: "error", error: "Code interpreter busy: no worker became free within 1000 ms" });
    expect(await busy).toMatchObject({ status: "success", result: "'slow'" });
  });
});

describe("HTTP executor against missing or broken services", () => {
  test("an unreachable service is a status error, never a throw; ready() gives up at its deadline", async () => {
    const url = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const r = await createHttpCodeExecutor({ url: `${url}/` }).execute("print(1)");
    expect(r).toMatchObject({ status: "error", stdout: "", result: null });
    expect(r.error).toBe(`Code interpreter service unreachable at ${url}: fetch failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${url.split(":")[2]})`);
    await expect(createHttpCodeExecutor({ url, readyTimeoutMs: 300, readyPollIntervalMs: 50 }).ready()).rejects.toThrow(
      /not ready within 300 ms \(last: .*ECONNREFUSED/,
    );
  });

  test("non-JSON, malformed and non-200 answers, and a silent service, become status error / timeout", async () => {
    const fake = http.createServer((req, res) => {
      if (req.url === "/text/python") res.end("hello");
      else if (req.url === "/shape/python") res.end(JSON.stringify({ status: "weird", stdout: 1 }));
      else if (req.url === "/fail/python") res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "boom" }));
      // /silent/python never answers
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    const root = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    try {
      expect((await createHttpCodeExecutor({ url: `${root}/text` }).execute("1")).error).toMatch(/sent invalid JSON/);
      expect((await createHttpCodeExecutor({ url: `${root}/shape` }).execute("1")).error).toMatch(/sent a malformed result/);
      expect((await createHttpCodeExecutor({ url: `${root}/fail` }).execute("1")).error).toMatch(/answered HTTP 500: boom/);
      const silent = await createHttpCodeExecutor({ url: `${root}/silent`, timeoutMs: 200, deadlineMarginMs: 100 }).execute("1");
      expect(silent).toMatchObject({ status: "timeout", error: "No answer from the code interpreter service within 300 ms" });
    } finally {
      fake.closeAllConnections();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });
});
