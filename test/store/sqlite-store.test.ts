import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteDriver } from "../../adapters/node/sqlite-driver.js";
import { StoreError } from "../../src/store/response-store.js";
import { isSqliteBusyError, type SqliteDriver } from "../../src/store/sqlite-driver.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { describeStoreConformance } from "./conformance.js";
import { makeRecord } from "./records.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vr-sqlite-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const freshFile = (): string => join(dir, `${crypto.randomUUID()}.db`);

describeStoreConformance("sqlite (temp file)", async () => {
  const store = new SqliteStore(openSqliteDriver(freshFile()));
  return { store, dispose: () => store.close() };
});

describe("SqliteStore", () => {
  it("keeps records across closing and reopening the file", async () => {
    const file = freshFile();
    const record = makeRecord();
    const first = new SqliteStore(openSqliteDriver(file));
    await first.init();
    await first.put(record);
    await first.close();

    const second = new SqliteStore(openSqliteDriver(file));
    await second.init();
    expect(await second.get(record.id)).toStrictEqual(record);
    await second.close();
  });

  it("configures WAL, synchronous=NORMAL and busy_timeout=5000 on its connection", async () => {
    const driver = openSqliteDriver(freshFile());
    const store = new SqliteStore(driver);
    await store.init();
    expect(driver.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(driver.prepare("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
    expect(driver.prepare("PRAGMA busy_timeout").get()).toEqual({ timeout: 5000 });
    const indexes = driver.prepare("PRAGMA index_list(responses_state)").all() as { name: string }[];
    expect(indexes.map((i) => i.name)).toEqual(
      expect.arrayContaining(["ix_responses_state_created_at", "ix_responses_state_expires_at"]),
    );
    await store.close();
  });

  it("reports an unparsable row as StoreError corrupt naming the id", async () => {
    const file = freshFile();
    const store = new SqliteStore(openSqliteDriver(file));
    await store.init();
    const broken = makeRecord();
    const wrongShape = makeRecord();
    await store.put(broken);
    await store.put(wrongShape);
    const raw = new Database(file);
    raw.prepare("UPDATE responses_state SET state_json = ? WHERE response_id = ?").run('{"truncated": ', broken.id);
    raw.prepare("UPDATE responses_state SET state_json = ? WHERE response_id = ?").run('{"hydrated_input": []}', wrongShape.id);
    raw.close();

    for (const id of [broken.id, wrongShape.id]) {
      const error = await store.get(id).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ kind: "corrupt", responseId: id });
      expect((error as Error).message).toContain(id);
    }
    await store.close();
  });

  it("refuses to start on a responses_state table of another layout (the Python project's)", async () => {
    const file = freshFile();
    const raw = new Database(file);
    raw.exec(`CREATE TABLE responses_state (response_id VARCHAR PRIMARY KEY, previous_response_id VARCHAR,
      model VARCHAR NOT NULL, created_at DATETIME NOT NULL, expires_at DATETIME, store BOOLEAN NOT NULL,
      schema_version INTEGER NOT NULL, state_json JSON NOT NULL)`);
    raw.close();
    const store = new SqliteStore(openSqliteDriver(file));
    const error = await store.init().catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "StoreError", kind: "failed" });
    expect((error as Error).message).toMatch(/incompatible layout.*VR_DB_PATH/s);
    await store.close();
  });

  it("retries SQLITE_BUSY that escapes the busy handler and then succeeds", async () => {
    const real = openSqliteDriver(freshFile());
    let busyLeft = 0;
    const flaky: SqliteDriver = {
      exec: (sql) => real.exec(sql),
      close: () => real.close(),
      prepare: (sql) => {
        const statement = real.prepare(sql);
        return {
          ...statement,
          run: (...params) => {
            if (busyLeft > 0) {
              busyLeft -= 1;
              // node:sqlite's shape: numeric extended code 517 = SQLITE_BUSY_SNAPSHOT.
              throw Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode: 517 });
            }
            return statement.run(...params);
          },
        };
      },
    };
    const store = new SqliteStore(flaky);
    await store.init();
    const record = makeRecord();
    busyLeft = 2;
    await store.put(record);
    expect(busyLeft).toBe(0);
    expect(await store.get(record.id)).toStrictEqual(record);

    busyLeft = 100;
    const error = await store.put(makeRecord()).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "StoreError", kind: "unavailable" });
    await store.close();
  });

  it("recognises busy errors of better-sqlite3, bun:sqlite and node:sqlite", () => {
    expect(isSqliteBusyError(Object.assign(new Error("x"), { code: "SQLITE_BUSY" }))).toBe(true);
    expect(isSqliteBusyError(Object.assign(new Error("x"), { code: "SQLITE_LOCKED_SHAREDCACHE" }))).toBe(true);
    expect(isSqliteBusyError(Object.assign(new Error("x"), { errno: 5 }))).toBe(true);
    expect(isSqliteBusyError(Object.assign(new Error("x"), { errcode: 261 }))).toBe(true); // BUSY_RECOVERY
    expect(isSqliteBusyError(Object.assign(new Error("x"), { code: "SQLITE_CONSTRAINT_PRIMARYKEY" }))).toBe(false);
    expect(isSqliteBusyError(Object.assign(new Error("x"), { code: "ENOENT", errno: -2 }))).toBe(false);
  });
});
