import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPostgresDriver } from "../../adapters/node/postgres-driver.js";
import { createRedisDriver } from "../../adapters/node/redis-driver.js";
import { openSqliteDriver } from "../../adapters/node/sqlite-driver.js";
import { silentLogger, type Logger } from "../../src/observability/logger.js";
import { openStore, parseDbUrl, startRetentionPurge, type StoreDrivers } from "../../src/store/open-store.js";
import type { ResponseStore } from "../../src/store/response-store.js";
import { createTestDatabase, ENV, requireEnv } from "../setup/services.js";
import { makeRecord } from "./records.js";

const nodeDrivers: StoreDrivers = {
  openSqlite: (path) => openSqliteDriver(path),
  openPostgres: (url) => createPostgresDriver(url, { maxConnections: 2 }),
  openRedis: (host, port) => createRedisDriver(host, port),
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vr-open-store-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("parseDbUrl (VR_DB_PATH)", () => {
  it.each([
    ["sqlite:///vllm_responses.db", { backend: "sqlite", path: "vllm_responses.db" }],
    ["sqlite:///data/dir/x.db", { backend: "sqlite", path: "data/dir/x.db" }],
    ["sqlite:////var/lib/vr/x.db", { backend: "sqlite", path: "/var/lib/vr/x.db" }],
    ["sqlite+aiosqlite:///vllm_responses.db", { backend: "sqlite", path: "vllm_responses.db" }],
    ["sqlite+aiosqlite:////abs/x.db", { backend: "sqlite", path: "/abs/x.db" }],
    ["sqlite:///:memory:", { backend: "sqlite", path: ":memory:" }],
    ["sqlite://", { backend: "sqlite", path: ":memory:" }],
    ["  sqlite:///padded.db\n", { backend: "sqlite", path: "padded.db" }],
    ["postgresql://u:p@db:5432/vr", { backend: "postgres", url: "postgresql://u:p@db:5432/vr" }],
    ["postgresql+asyncpg://u:p@db:5432/vr", { backend: "postgres", url: "postgresql://u:p@db:5432/vr" }],
    ["postgres://db/vr?sslmode=require", { backend: "postgres", url: "postgresql://db/vr?sslmode=require" }],
    ["memory://", { backend: "memory" }],
  ])("%s", (input, expected) => {
    expect(parseDbUrl(input)).toEqual(expected);
  });

  it.each([
    ["", /VR_DB_PATH: unsupported database URL/],
    ["vllm_responses.db", /VR_DB_PATH: unsupported database URL/],
    ["mysql://root:hunter2@db/vr", /VR_DB_PATH: unsupported database URL "mysql:\/\/root:\*\*\*@db\/vr"/],
    ["postgresql+psycopg://db/vr", /VR_DB_PATH: unsupported/],
    ["postgresql://", /VR_DB_PATH: unsupported/],
    ["sqlite:///", /VR_DB_PATH: SQLite URL .* has no file path/],
    ["sqlite://relative.db", /VR_DB_PATH: SQLite URL .* has no file path/],
    ["sqlite:///x.db?mode=ro", /VR_DB_PATH: .*query parameters/],
    ["memory:", /VR_DB_PATH: unsupported/],
  ])("rejects %j", (input, message) => {
    expect(() => parseDbUrl(input)).toThrow(message);
  });

  it("never echoes a password in the error", () => {
    expect(() => parseDbUrl("mongodb://admin:s3cret@h/db")).toThrow(expect.objectContaining({
      message: expect.not.stringContaining("s3cret"),
    }));
  });
});

describe("openStore", () => {
  it("opens an initialised SQLite store from a four-slash absolute URL", async () => {
    const file = join(dir, "open.db");
    const store = await openStore(`sqlite:///${file}`, nodeDrivers);
    expect(store.kind).toBe("sqlite");
    const record = makeRecord();
    await store.put(record);
    await store.close();
    const again = await openStore(`sqlite+aiosqlite:///${file}`, nodeDrivers);
    expect(await again.get(record.id)).toStrictEqual(record);
    await again.close();
  });

  it("opens PostgreSQL from a postgresql+asyncpg:// URL, with the Redis cache when enabled", async () => {
    const db = await createTestDatabase("vr_open_store");
    const asyncpgUrl = db.url.replace(/^postgresql:/, "postgresql+asyncpg:");
    const onCacheError = vi.fn();
    const store = await openStore(asyncpgUrl, nodeDrivers, {
      cacheEnabled: true,
      cacheTtlSeconds: 60,
      redisHost: requireEnv(ENV.redisHost),
      redisPort: Number(requireEnv(ENV.redisPort)),
      onCacheError,
    });
    try {
      expect(store.kind).toBe("postgres+redis");
      const record = makeRecord();
      await store.put(record);
      expect(await store.get(record.id)).toStrictEqual(record);
      expect(onCacheError).not.toHaveBeenCalled();
    } finally {
      await store.close();
      await db.drop();
    }
  });

  it("ignores the cache for memory:// (with a warning) and needs no driver for it", async () => {
    const warn = vi.fn();
    const logger: Logger = { ...silentLogger, warn };
    const store = await openStore("memory://", {}, { cacheEnabled: true, logger });
    expect(store.kind).toBe("memory");
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("VR_RESPONSE_STORE_CACHE ignored"));
    await store.close();
  });

  it("names the missing driver and opens nothing when the runtime lacks it", async () => {
    const openPostgres = vi.fn(nodeDrivers.openPostgres!);
    await expect(openStore("sqlite:///x.db", { openPostgres })).rejects.toThrow(/VR_DB_PATH: .*no SQLite driver/);
    await expect(openStore("postgresql://h/db", {})).rejects.toThrow(/VR_DB_PATH: .*no PostgreSQL driver/);
    await expect(openStore("postgresql://h/db", { openPostgres }, { cacheEnabled: true })).rejects.toThrow(
      /VR_RESPONSE_STORE_CACHE: .*no Redis driver/,
    );
    expect(openPostgres).not.toHaveBeenCalled();
  });

  it("surfaces an unreachable database as StoreError unavailable", async () => {
    const error = await openStore("postgresql://postgres@127.0.0.1:1/postgres", nodeDrivers).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "StoreError", kind: "unavailable" });
  });

  it("stamps expires_at from responseTtlSeconds, keeping an earlier one", async () => {
    const store = await openStore("memory://", {}, { responseTtlSeconds: 600 });
    const created_at = Math.floor(Date.now() / 1000);
    const plain = makeRecord({ created_at });
    const early = makeRecord({ created_at, expires_at: created_at + 10 });
    await store.put(plain);
    await store.put(early);
    expect((await store.get(plain.id))?.expires_at).toBe(created_at + 600);
    expect((await store.get(early.id))?.expires_at).toBe(created_at + 10);
    await store.close();
    await expect(openStore("memory://", {}, { responseTtlSeconds: 0 })).rejects.toThrow(/retention/);
  });
});

describe("startRetentionPurge", () => {
  it("purges expired rows in the background and stops cleanly", async () => {
    const store = await openStore(`sqlite:///${join(dir, "purge.db")}`, nodeDrivers);
    const now = Math.floor(Date.now() / 1000);
    const expired = makeRecord({ expires_at: now - 10 });
    const live = makeRecord({ expires_at: now + 3600 });
    await store.put(expired);
    await store.put(live);
    const info = vi.fn();
    const stop = startRetentionPurge(store, 20, { ...silentLogger, info });
    await vi.waitFor(() => expect(info).toHaveBeenCalledWith("purged expired responses", expect.objectContaining({ removed: 1 })));
    await stop();
    const calls = info.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(info.mock.calls.length).toBe(calls);
    expect(await store.delete(expired.id)).toBe(false);
    expect(await store.get(live.id)).toStrictEqual(live);
    await store.close();
  });

  it("logs a failed purge and keeps going", async () => {
    let attempts = 0;
    const failing = {
      kind: "failing",
      purgeExpired: async () => {
        attempts += 1;
        throw new Error("disk on fire");
      },
    } as unknown as ResponseStore;
    const warn = vi.fn();
    const stop = startRetentionPurge(failing, 10, { ...silentLogger, warn });
    await vi.waitFor(() => expect(attempts).toBeGreaterThanOrEqual(2));
    await stop();
    expect(warn).toHaveBeenCalledWith("purging expired responses failed", expect.objectContaining({ store: "failing" }));
  });
});
