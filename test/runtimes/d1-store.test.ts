/**
 * The Workers store on a real D1 (Miniflare's, the same local D1 `wrangler dev` uses, backed by workerd): the
 * shared ResponseStore contract, plus what is particular to D1Store.
 */
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { D1Store } from "../../adapters/workers/d1-store.js";
import type { D1Database } from "../../adapters/workers/workers-types.js";
import { StoreError } from "../../src/store/response-store.js";
import { describeStoreConformance } from "../store/conformance.js";
import { makeRecord } from "../store/records.js";

let mf: Miniflare;
let databases = 0;

beforeAll(async () => {
  // One D1 binding per conformance test would need a restart; instead each test gets its own database name.
  mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
    d1Databases: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`DB${i}`, `db-${i}`])),
  });
  await mf.ready;
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

async function freshDatabase(): Promise<D1Database> {
  const name = `DB${databases++}`;
  return (await mf.getD1Database(name)) as unknown as D1Database;
}

describeStoreConformance("d1 (Miniflare)", async () => {
  const store = new D1Store(await freshDatabase());
  return { store, dispose: () => store.close() };
});

describe("D1Store", () => {
  it("creates its schema on first use and is safe to initialise again (many isolates start at once)", async () => {
    const db = await freshDatabase();
    const stores = [new D1Store(db), new D1Store(db), new D1Store(db)];
    await Promise.all(stores.map((s) => s.init()));
    const record = makeRecord();
    await stores[0]!.put(record);
    expect(await stores[2]!.get(record.id)).toStrictEqual(record);
    const tables = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'responses_state'").all();
    expect(tables.results).toHaveLength(1);
  });

  it("refuses a responses_state table with another layout", async () => {
    const db = await freshDatabase();
    await db.prepare("CREATE TABLE responses_state (id TEXT PRIMARY KEY, payload BLOB)").run();
    await expect(new D1Store(db).init()).rejects.toThrow(/incompatible layout/);
  });

  it("reports a failed query as a StoreError naming the response", async () => {
    const db = await freshDatabase();
    const store = new D1Store(db); // no init: the table does not exist
    const error = await store.get("resp_missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).kind).toBe("failed");
    expect((error as StoreError).message).toMatch(/D1 get failed for resp_missing/);
  });
});
