import { createServer, type Server, type Socket } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDriver, normalizePostgresUrl } from "../../adapters/node/postgres-driver.js";
import { PostgresStore } from "../../src/store/postgres-store.js";
import { StoreError } from "../../src/store/response-store.js";
import { createTestDatabase, freePort } from "../setup/services.js";
import { describeStoreConformance } from "./conformance.js";
import { makeRecord } from "./records.js";

let db: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await createTestDatabase("vr_pg_store");
});
afterAll(async () => {
  await db.drop();
});

describeStoreConformance("postgres", async () => {
  const store = new PostgresStore(createPostgresDriver(db.url, { maxConnections: 3 }));
  return { store, dispose: () => store.close() };
});

describe("PostgresStore", () => {
  it("creates the schema safely when 8 gateways start at once on an empty database", async () => {
    const fresh = await createTestDatabase("vr_pg_init");
    const stores = Array.from({ length: 8 }, () => new PostgresStore(createPostgresDriver(fresh.url, { maxConnections: 1 })));
    try {
      const results = await Promise.allSettled(stores.map((s) => s.init()));
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      const record = makeRecord();
      await stores[0]!.put(record);
      expect(await stores[7]!.get(record.id)).toStrictEqual(record);

      const raw = postgres(fresh.url, { max: 1, onnotice: () => {} });
      const [row] = await raw<{ type: string }[]>`
        SELECT jsonb_typeof(state_json) AS type FROM responses_state WHERE response_id = ${record.id}`;
      await raw.end();
      expect(row?.type).toBe("object");
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await fresh.drop();
    }
  });

  it("reads its own writes across two store instances (separate connections)", async () => {
    const a = new PostgresStore(createPostgresDriver(db.url, { maxConnections: 1 }));
    const b = new PostgresStore(createPostgresDriver(db.url, { maxConnections: 1 }));
    await Promise.all([a.init(), b.init()]);
    try {
      for (let i = 0; i < 20; i += 1) {
        const record = makeRecord();
        await a.put(record);
        expect(await b.get(record.id)).toStrictEqual(record);
        expect(await b.delete(record.id)).toBe(true);
        expect(await a.get(record.id)).toBeNull();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("reports a row of the wrong shape as StoreError corrupt naming the id", async () => {
    const store = new PostgresStore(createPostgresDriver(db.url, { maxConnections: 1 }));
    await store.init();
    const record = makeRecord();
    await store.put(record);
    const raw = postgres(db.url, { max: 1, onnotice: () => {} });
    await raw`UPDATE responses_state SET state_json = '{"hydrated_input": []}'::jsonb WHERE response_id = ${record.id}`;
    await raw.end();
    const error = await store.get(record.id).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ kind: "corrupt", responseId: record.id });
    expect((error as Error).message).toContain(record.id);
    await store.close();
  });

  it("refuses a responses_state table of another layout (the Python project's)", async () => {
    const fresh = await createTestDatabase("vr_pg_legacy");
    const raw = postgres(fresh.url, { max: 1, onnotice: () => {} });
    await raw.unsafe(`CREATE TABLE responses_state (response_id varchar PRIMARY KEY, previous_response_id varchar,
      model varchar NOT NULL, created_at timestamptz NOT NULL, expires_at timestamptz, store boolean NOT NULL,
      schema_version integer NOT NULL, state_json jsonb NOT NULL)`);
    await raw.end();
    const store = new PostgresStore(createPostgresDriver(fresh.url, { maxConnections: 1 }));
    try {
      const error = await store.init().catch((err: unknown) => err);
      expect(error).toMatchObject({ name: "StoreError", kind: "failed" });
      expect((error as Error).message).toContain("incompatible layout");
    } finally {
      await store.close();
      await fresh.drop();
    }
  });

  it("fails fast with StoreError unavailable when nothing listens on the port", async () => {
    const port = await freePort();
    const store = new PostgresStore(createPostgresDriver(`postgresql://postgres@127.0.0.1:${port}/postgres`));
    const started = Date.now();
    for (const attempt of [() => store.init(), () => store.get("resp_x"), () => store.put(makeRecord())]) {
      const error = await attempt().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ kind: "unavailable" });
    }
    expect(Date.now() - started).toBeLessThan(3000);
    await store.close();
  });

  it("gives up after the connect timeout when the server accepts but never answers", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const store = new PostgresStore(
      createPostgresDriver(`postgresql://postgres@127.0.0.1:${port}/postgres`, { connectTimeoutSeconds: 1 }),
    );
    const started = Date.now();
    const error = await store.get("resp_x").catch((err: unknown) => err);
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ name: "StoreError", kind: "unavailable" });
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(4000);
    await store.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("accepts the SQLAlchemy postgresql+asyncpg:// spelling", () => {
    expect(normalizePostgresUrl("postgresql+asyncpg://u:p@h:5/db")).toBe("postgresql://u:p@h:5/db");
    expect(normalizePostgresUrl("postgres://h/db")).toBe("postgres://h/db");
  });
});
