import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDriver } from "../../adapters/node/postgres-driver.js";
import { createRedisDriver } from "../../adapters/node/redis-driver.js";
import { openSqliteDriver } from "../../adapters/node/sqlite-driver.js";
import type { Logger } from "../../src/observability/logger.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { PostgresStore } from "../../src/store/postgres-store.js";
import {
  REDIS_KEY_PREFIX,
  RedisCacheStore,
  type CacheOperation,
  type RedisLike,
} from "../../src/store/redis-cache-store.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { createTestDatabase, ENV, requireEnv, startRedis, type RedisService } from "../setup/services.js";
import { describeStoreConformance, type StoreHandle } from "./conformance.js";
import { makeRecord } from "./records.js";

const redisHost = (): string => requireEnv(ENV.redisHost);
const redisPort = (): number => Number(requireEnv(ENV.redisPort));

let db: { url: string; drop(): Promise<void> };
let dir: string;
/** A plain client on the cache's DB (1) to look at what the store wrote. */
let raw: Redis;

beforeAll(async () => {
  db = await createTestDatabase("vr_pg_redis");
  dir = await mkdtemp(join(tmpdir(), "vr-sqlite-redis-"));
  raw = new Redis({ host: redisHost(), port: redisPort(), db: 1, lazyConnect: true });
  await raw.connect();
});
afterAll(async () => {
  await raw.quit();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Wraps `inner` with the real Redis; disposing fails the test if any cache call failed along the way. */
function cached(inner: PostgresStore | SqliteStore): StoreHandle {
  const errors: CacheOperation[] = [];
  const store = new RedisCacheStore(inner, createRedisDriver(redisHost(), redisPort()), {
    onCacheError: (op) => errors.push(op),
  });
  return {
    store,
    dispose: async () => {
      await store.close();
      expect(errors, "no Redis call may fail while Redis is up").toEqual([]);
    },
  };
}

describeStoreConformance("postgres + redis cache", async () =>
  cached(new PostgresStore(createPostgresDriver(db.url, { maxConnections: 2 }))),
);
describeStoreConformance("sqlite + redis cache", async () =>
  cached(new SqliteStore(openSqliteDriver(join(dir, `${crypto.randomUUID()}.db`)))),
);

describe("RedisCacheStore with a real Redis", () => {
  async function open(ttlSeconds = 120) {
    const inner = new SqliteStore(openSqliteDriver(join(dir, `${crypto.randomUUID()}.db`)));
    const errors: CacheOperation[] = [];
    const store = new RedisCacheStore(inner, createRedisDriver(redisHost(), redisPort()), {
      ttlSeconds,
      onCacheError: (op) => errors.push(op),
    });
    await store.init();
    return { inner, store, errors };
  }

  it("writes through under the documented key with the configured TTL, and serves hits from Redis", async () => {
    const { inner, store, errors } = await open(120);
    const record = makeRecord();
    await store.put(record);
    const key = `vllm_responses:responses_state:v1:${record.id}`;
    expect(REDIS_KEY_PREFIX + record.id).toBe(key);
    expect(JSON.parse((await raw.get(key))!)).toStrictEqual(record);
    const ttl = await raw.ttl(key);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);

    // Gone from the database but still cached: a hit must come from Redis.
    expect(await inner.delete(record.id)).toBe(true);
    expect(await store.get(record.id)).toStrictEqual(record);
    expect(errors).toEqual([]);
    await store.close();
  });

  it("never caches a record beyond its expires_at", async () => {
    const { store } = await open(3600);
    const record = makeRecord({ expires_at: Math.floor(Date.now() / 1000) + 30 });
    await store.put(record);
    const ttl = await raw.ttl(REDIS_KEY_PREFIX + record.id);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    await store.close();
  });

  it("reads through: a database hit fills the cache", async () => {
    const { inner, store } = await open();
    const record = makeRecord();
    await inner.put(record);
    expect(await raw.exists(REDIS_KEY_PREFIX + record.id)).toBe(0);
    expect(await store.get(record.id)).toStrictEqual(record);
    expect(await raw.exists(REDIS_KEY_PREFIX + record.id)).toBe(1);
    await store.close();
  });

  it("deletes from both the database and Redis", async () => {
    const { inner, store } = await open();
    const record = makeRecord();
    await store.put(record);
    expect(await store.delete(record.id)).toBe(true);
    expect(await raw.exists(REDIS_KEY_PREFIX + record.id)).toBe(0);
    expect(await inner.get(record.id)).toBeNull();
    expect(await store.get(record.id)).toBeNull();
    await store.close();
  });

  it("drops an unreadable cache entry, counts it, and answers from the database", async () => {
    const { store, errors } = await open();
    const record = makeRecord();
    await store.put(record);
    await raw.set(REDIS_KEY_PREFIX + record.id, "{not json", "EX", 60);
    expect(await store.get(record.id)).toStrictEqual(record);
    expect(errors).toEqual(["get"]);
    expect(JSON.parse((await raw.get(REDIS_KEY_PREFIX + record.id))!)).toStrictEqual(record);
    await store.close();
  });
});

describe("RedisCacheStore when Redis goes down mid-run", () => {
  let redis: RedisService;
  beforeAll(async () => {
    // A private server: stopping the shared one would disturb suites running in parallel.
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });

  it("keeps serving from the database, counts and logs the outage once, and uses the cache again after", async () => {
    const inner = new SqliteStore(openSqliteDriver(join(dir, `${crypto.randomUUID()}.db`)));
    const errors: CacheOperation[] = [];
    const logs: { level: string; message: string }[] = [];
    const logger: Logger = {
      debug: (message) => logs.push({ level: "debug", message }),
      info: (message) => logs.push({ level: "info", message }),
      warn: (message) => logs.push({ level: "warn", message }),
      error: (message) => logs.push({ level: "error", message }),
    };
    const store = new RedisCacheStore(inner, createRedisDriver(redis.host, redis.port), {
      logger,
      onCacheError: (op) => errors.push(op),
    });
    await store.init();
    const before = makeRecord();
    await store.put(before);
    expect(errors).toEqual([]);

    await redis.stop();

    const during = makeRecord();
    const started = Date.now();
    await store.put(during);
    expect(await store.get(during.id)).toStrictEqual(during);
    expect(await store.get(before.id)).toStrictEqual(before);
    expect(await store.delete(before.id)).toBe(true);
    expect(await store.get(before.id)).toBeNull();
    expect(Date.now() - started, "an outage must not stall requests").toBeLessThan(2000);
    expect(new Set(errors)).toEqual(new Set(["set", "get", "delete"]));
    expect(logs.filter((l) => l.level === "warn")).toHaveLength(1);

    await redis.start();
    // ioredis reconnects in the background (retry every ≤ 2 s); wait until a write reaches Redis again.
    const probe = makeRecord();
    await store.put(probe);
    const deadline = Date.now() + 10_000;
    const check = new Redis({ host: redis.host, port: redis.port, db: 1 });
    while ((await check.exists(REDIS_KEY_PREFIX + probe.id)) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await store.get(probe.id); // a read-through fills the key once Redis answers
    }
    const errorsAfterRecovery = errors.length;

    const after = makeRecord();
    await store.put(after);
    expect(await check.exists(REDIS_KEY_PREFIX + after.id)).toBe(1);
    // Only Redis has it now, so this hit proves the cache is in use again.
    expect(await inner.delete(after.id)).toBe(true);
    expect(await store.get(after.id)).toStrictEqual(after);
    expect(errors).toHaveLength(errorsAfterRecovery);
    expect(logs.some((l) => l.level === "info" && l.message.includes("reachable again"))).toBe(true);
    await check.quit();
    await store.close();
  }, 30_000);
});

describe("RedisCacheStore when Redis is down at startup", () => {
  it("starts on the database alone and picks Redis up once it appears", async () => {
    const redis = await startRedis();
    await redis.stop();
    const errors: CacheOperation[] = [];
    const inner = new SqliteStore(openSqliteDriver(join(dir, `${crypto.randomUUID()}.db`)));
    const store = new RedisCacheStore(inner, createRedisDriver(redis.host, redis.port), {
      onCacheError: (op) => errors.push(op),
    });
    try {
      const started = Date.now();
      await store.init();
      expect(Date.now() - started, "init must not wait for Redis").toBeLessThan(2500);
      expect(errors).toEqual(["connect"]);
      const early = makeRecord();
      await store.put(early);
      expect(await store.get(early.id)).toStrictEqual(early);

      await redis.start();
      const check = new Redis({ host: redis.host, port: redis.port, db: 1 });
      const probe = makeRecord();
      await store.put(probe);
      const deadline = Date.now() + 10_000;
      while ((await check.exists(REDIS_KEY_PREFIX + probe.id)) === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await store.get(probe.id);
      }
      expect(await check.exists(REDIS_KEY_PREFIX + probe.id)).toBe(1);
      await check.quit();
    } finally {
      await store.close();
      await redis.dispose();
    }
  }, 30_000);
});

describe("RedisCacheStore invalidation when Redis misses a DEL", () => {
  /** An in-memory Redis whose calls can be made to fail, to drive the exact interleavings. */
  function fakeRedis() {
    const data = new Map<string, string>();
    const state = { down: false };
    const fail = (): never => {
      throw new Error("connection refused");
    };
    const redis: RedisLike = {
      get: async (key) => (state.down ? fail() : (data.get(key) ?? null)),
      set: async (key, value) => (state.down ? fail() : data.set(key, value)),
      del: async (key) => (state.down ? fail() : Number(data.delete(key))),
    };
    return { redis, data, state };
  }

  it("does not resurrect a response deleted while Redis was unreachable", async () => {
    const { redis, data, state } = fakeRedis();
    const store = new RedisCacheStore(new MemoryStore(), redis);
    await store.init();
    const record = makeRecord();
    await store.put(record);

    state.down = true;
    expect(await store.delete(record.id)).toBe(true);
    state.down = false;
    // Redis came back still holding the old copy (a partition, not a restart).
    expect(data.has(REDIS_KEY_PREFIX + record.id)).toBe(true);
    expect(await store.get(record.id)).toBeNull();
    expect(data.has(REDIS_KEY_PREFIX + record.id)).toBe(false);
  });

  it("does not refill the cache from a read that raced a delete", async () => {
    const { redis, data } = fakeRedis();
    let releaseGet: () => void = () => {};
    const inner = new MemoryStore();
    let slowOnce = true;
    const slowInner = Object.assign(Object.create(inner) as MemoryStore, {
      get: async (id: string) => {
        const result = await inner.get(id);
        if (slowOnce) {
          slowOnce = false;
          await new Promise<void>((resolve) => (releaseGet = resolve));
        }
        return result;
      },
    });
    const store = new RedisCacheStore(slowInner, redis);
    const record = makeRecord();
    await inner.put(record);
    const reading = store.get(record.id);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await store.delete(record.id)).toBe(true);
    releaseGet();
    expect(await reading).toStrictEqual(record);
    expect(data.has(REDIS_KEY_PREFIX + record.id)).toBe(false);
    expect(await store.get(record.id)).toBeNull();
  });

  it("never fails a request because the onCacheError hook throws", async () => {
    const { redis, state } = fakeRedis();
    const store = new RedisCacheStore(new MemoryStore(), redis, {
      onCacheError: () => {
        throw new Error("metrics exploded");
      },
    });
    state.down = true;
    const record = makeRecord();
    await store.put(record);
    expect(await store.get(record.id)).toStrictEqual(record);
  });
});
