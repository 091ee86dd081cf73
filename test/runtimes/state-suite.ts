/**
 * "State included": a runtime's store must survive the process that wrote it. Each check creates a response on one
 * boot of the runtime and continues it (`previous_response_id`) on a fresh boot — which an in-memory store, or a
 * store private to one process or isolate, cannot do.
 */
import { Redis } from "ioredis";
import postgres from "postgres";
import { expect } from "vitest";
import type { MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { startRuntime, type RuntimeName, type StartRuntimeOptions } from "./runtime-process.js";
import { createResponse } from "./smoke-suite.js";
import { REDIS_KEY_PREFIX } from "../../src/store/redis-cache-store.js";
import { createTestDatabase, ENV, requireEnv } from "../setup/services.js";

export interface RestartCheck {
  runtime: RuntimeName;
  mock: MockUpstream;
  env?: Record<string, string>;
  args?: string[];
  /** The store kind the ready line names (`sqlite`, `postgres`); workerd prints no such line. */
  storeKind?: string;
}

/** Creates a response, restarts the runtime on the same storage, continues the conversation there. */
export async function expectStateSurvivesRestart(check: RestartCheck): Promise<{ continuationId: string }> {
  const options: StartRuntimeOptions = { upstream: check.mock.url, env: check.env ?? {}, args: check.args ?? [] };
  const first = await startRuntime(check.runtime, options);
  let firstId: string;
  try {
    if (check.storeKind) expect(first.output()).toContain(`"store":"${check.storeKind}"`);
    const res = await createResponse(first.url, { input: "remember the word tangerine" });
    expect(res.status).toBe(200);
    firstId = ((await res.json()) as { id: string }).id;
  } finally {
    await first.stop();
  }

  const second = await startRuntime(check.runtime, options);
  try {
    const stored = await fetch(`${second.url}/v1/responses/${firstId}`);
    expect(stored.status).toBe(200);
    const items = (await (await fetch(`${second.url}/v1/responses/${firstId}/input_items`)).json()) as { data: Array<{ content: unknown }> };
    expect(JSON.stringify(items.data)).toContain("remember the word tangerine");

    const res = await createResponse(second.url, { previous_response_id: firstId, input: "which word?" });
    expect(res.status).toBe(200);
    const continuation = (await res.json()) as { id: string; previous_response_id: string };
    expect(continuation.previous_response_id).toBe(firstId);
    // The continuation reached the model with the first turn replayed from the store.
    const sent = check.mock.stats.requests.at(-1)!;
    expect(sent.messages?.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(sent.messages?.[0]?.content)).toContain("tangerine");

    const deleted = await fetch(`${second.url}/v1/responses/${firstId}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ id: firstId, object: "response.deleted", deleted: true });
    expect((await fetch(`${second.url}/v1/responses/${firstId}`)).status).toBe(404);
    return { continuationId: continuation.id };
  } finally {
    await second.stop();
  }
}

/**
 * The same on a fresh PostgreSQL database with the Redis response cache in front (VR_RESPONSE_STORE_CACHE), then a
 * look at the table and the cache themselves to be sure that is where the rows went.
 */
export async function expectPostgresStateSurvivesRestart(runtime: RuntimeName, mock: MockUpstream): Promise<void> {
  const db = await createTestDatabase(`vr_${runtime}`);
  const redis = new Redis({ host: requireEnv(ENV.redisHost), port: Number(requireEnv(ENV.redisPort)), db: 1, lazyConnect: true });
  try {
    const { continuationId } = await expectStateSurvivesRestart({
      runtime,
      mock,
      env: { VR_DB_PATH: db.url, VR_RESPONSE_STORE_CACHE: "true", VR_REDIS_HOST: requireEnv(ENV.redisHost), VR_REDIS_PORT: requireEnv(ENV.redisPort) },
      storeKind: "postgres+redis",
    });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      // The continuation is left; the first response was deleted through the API.
      const rows = await sql<{ response_id: string }[]>`SELECT response_id FROM responses_state`;
      expect(rows.map((r) => r.response_id)).toEqual([continuationId]);
    } finally {
      await sql.end();
    }
    await redis.connect();
    expect(await redis.exists(`${REDIS_KEY_PREFIX}${continuationId}`)).toBe(1);
  } finally {
    redis.disconnect();
    await db.drop();
  }
}
