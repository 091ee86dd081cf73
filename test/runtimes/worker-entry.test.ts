/**
 * The Worker entry (adapters/workers/worker.ts) driven directly, with a real D1 from Miniflare and a fake
 * ExecutionContext that records `waitUntil`: what is hard to observe through wrangler dev — a missing binding,
 * traces flushed through waitUntil when the body ends, the Cron Trigger purge.
 */
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { D1Store } from "../../adapters/workers/d1-store.js";
import type { D1Database, ExecutionContext, ScheduledController } from "../../adapters/workers/workers-types.js";
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from "../helpers/otlp-http-receiver.js";
import { readSse } from "../helpers/sse.js";
import { makeRecord } from "../store/records.js";

type WorkerModule = typeof import("../../adapters/workers/worker.js");

let mf: Miniflare;
let d1: D1Database;
let mock: MockUpstream;
let traces: OtlpHttpReceiver;
let worker: WorkerModule["default"];

function context(): ExecutionContext & { pending: Promise<unknown>[] } {
  const pending: Promise<unknown>[] = [];
  return { pending, waitUntil: (p) => void pending.push(p), passThroughOnException: () => {} };
}

const post = (body: Record<string, unknown>): Request =>
  new Request("http://worker/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", ...body }) });

beforeAll(async () => {
  mf = new Miniflare({ modules: true, script: "export default { fetch() { return new Response(null, { status: 404 }); } }", d1Databases: ["RESPONSES_DB"] });
  d1 = (await mf.getD1Database("RESPONSES_DB")) as unknown as D1Database;
  mock = await startMockUpstream();
  traces = await startOtlpHttpReceiver();
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  await mock?.close();
  await traces?.close();
});

beforeEach(async () => {
  // The gateway is built once per isolate (module instance): a fresh module is a fresh isolate.
  vi.resetModules();
  worker = ((await import("../../adapters/workers/worker.js")) as WorkerModule).default;
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "log").mockImplementation(() => {});
});

describe("the Worker entry", () => {
  it("refuses to serve without the D1 binding (no silent in-isolate state), then recovers once it is bound", async () => {
    const missing = await worker.fetch(post({ input: "hi" }), { VR_UPSTREAM: mock.url }, context());
    expect(missing.status).toBe(500);
    const body = (await missing.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("gateway_misconfigured");
    expect(body.error.message).toContain("RESPONSES_DB");
    // A failed start is not cached: the next request (now with the binding) builds the gateway.
    const ok = await worker.fetch(post({ input: "hi" }), { VR_UPSTREAM: mock.url, RESPONSES_DB: d1 }, context());
    expect(ok.status).toBe(200);
  });

  it("fails closed on VR_API_KEYS_FILE, which a Worker cannot read (keys go in VR_API_KEYS)", async () => {
    const res = await worker.fetch(post({ input: "hi" }), { VR_UPSTREAM: mock.url, RESPONSES_DB: d1, VR_API_KEYS_FILE: "/etc/keys" }, context());
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("gateway_misconfigured");
    expect(body.error.message).toContain("VR_API_KEYS");
    const keyed = await worker.fetch(post({ input: "hi" }), { VR_UPSTREAM: mock.url, RESPONSES_DB: d1, VR_API_KEYS: "sk-one" }, context());
    expect(keyed.status).toBe(401);
  });

  it("stores responses in D1, readable by any other isolate", async () => {
    const created = (await (await worker.fetch(post({ input: "durable" }), { VR_UPSTREAM: mock.url, RESPONSES_DB: d1 }, context())).json()) as { id: string };
    const fromD1 = await new D1Store(d1).get(created.id);
    expect(fromD1?.id).toBe(created.id);
    vi.resetModules();
    const otherIsolate = ((await import("../../adapters/workers/worker.js")) as WorkerModule).default;
    const res = await otherIsolate.fetch(new Request(`http://worker/v1/responses/${created.id}`), { VR_UPSTREAM: mock.url, RESPONSES_DB: d1 }, context());
    expect(res.status).toBe(200);
  });

  it("flushes a streamed response's spans through waitUntil once the body has ended", async () => {
    traces.clear();
    const env = {
      VR_UPSTREAM: mock.url,
      RESPONSES_DB: d1,
      VR_TRACING_ENABLED: true, // [vars] may be typed: a boolean means what its text says
      VR_OPENTELEMETRY_PROTOCOL: "http/json",
      VR_OPENTELEMETRY_HOST: traces.host,
      VR_OPENTELEMETRY_PORT: traces.port,
    };
    const ctx = context();
    const res = await worker.fetch(post({ input: "traced", stream: true }), env, ctx);
    expect(ctx.pending).toHaveLength(1);
    expect((await readSse(res)).done).toBe(true);
    await Promise.all(ctx.pending);
    // No waiting for the batch timer: the flush in waitUntil already delivered them.
    const names = traces.spans.map((s) => s.name);
    expect(names).toContain("POST /v1/responses");
    expect(traces.spans.every((s) => s.transport === "http/json")).toBe(true);
  });

  it("purges expired responses from the Cron Trigger", async () => {
    const store = new D1Store(d1);
    await store.init();
    const expired = makeRecord({ created_at: 1_000, expires_at: 1_001 });
    const live = makeRecord();
    await store.put(expired);
    await store.put(live);
    const ctx = context();
    await worker.scheduled({ scheduledTime: Date.now(), cron: "17 * * * *" } as ScheduledController, { VR_UPSTREAM: mock.url, RESPONSES_DB: d1 }, ctx);
    await Promise.all(ctx.pending);
    const ids = (await d1.prepare("SELECT response_id FROM responses_state WHERE response_id IN (?, ?)").bind(expired.id, live.id).all<{ response_id: string }>()).results;
    expect(ids.map((r) => r.response_id)).toEqual([live.id]);
  });
});
