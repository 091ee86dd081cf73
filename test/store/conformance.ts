/**
 * The one behavioural contract every ResponseStore must meet; each backend's test file runs it with a factory.
 * The factory returns a fresh store per test over storage that is private to the suite.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError, type ResponseStore } from "../../src/store/response-store.js";
import { makeChain, makeRecord, newId } from "./records.js";

export interface StoreHandle {
  store: ResponseStore;
  /** Closes the store and removes what the factory created. */
  dispose(): Promise<void>;
}

export function describeStoreConformance(name: string, open: () => Promise<StoreHandle>): void {
  describe(`ResponseStore conformance: ${name}`, () => {
    let handle: StoreHandle;
    let store: ResponseStore;

    beforeEach(async () => {
      handle = await open();
      store = handle.store;
      await store.init();
    });
    afterEach(async () => {
      await handle.dispose();
    });

    it("round-trips a record exactly, unicode and emoji included", async () => {
      const record = makeRecord();
      await store.put(record);
      const loaded = await store.get(record.id);
      expect(loaded).toStrictEqual(record);
    });

    it("round-trips strings jsonb cannot hold natively: U+0000 and unpaired surrogates", async () => {
      const awkward = "nul:\u0000 lone-high:\ud83d lone-low:\udc00 pair:\ud83d\ude80 escaped:\\u0000";
      const record = makeRecord({ tool_choice: { note: awkward } });
      (record.history as unknown[]).push({ type: "message", role: "user", content: awkward });
      await store.put(record);
      expect(await store.get(record.id)).toStrictEqual(record);
    });

    it("returns copies: mutating the written or the read object does not change what is stored", async () => {
      const record = makeRecord();
      const expected = structuredClone(record);
      await store.put(record);
      (record.history as unknown[]).push("mutated after put");
      const first = await store.get(record.id);
      (first!.response as Record<string, unknown>).status = "mutated after get";
      expect(await store.get(record.id)).toStrictEqual(expected);
    });

    it("returns null for an unknown id", async () => {
      expect(await store.get(newId())).toBeNull();
    });

    it("rejects a duplicate id with StoreError kind duplicate and keeps the first record", async () => {
      const record = makeRecord();
      await store.put(record);
      const error = await store.put({ ...record, model: "other" }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ kind: "duplicate", responseId: record.id });
      expect((await store.get(record.id))?.model).toBe(record.model);
    });

    it("lets exactly one of many concurrent puts of the same id win", async () => {
      const id = newId();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.put(makeRecord({ id, model: `m${i}` }))),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results.filter((r) => r.status === "rejected")) {
        expect((r as PromiseRejectedResult).reason).toMatchObject({ kind: "duplicate" });
      }
    });

    it("deletes: true, then absent, then false", async () => {
      const record = makeRecord();
      await store.put(record);
      expect(await store.delete(record.id)).toBe(true);
      expect(await store.get(record.id)).toBeNull();
      expect(await store.delete(record.id)).toBe(false);
      expect(await store.delete(newId())).toBe(false);
    });

    // Only this test writes records with an expiry, so purge counts are exact.
    it("hides expired records from get at once and removes them with purgeExpired", async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = makeRecord({ expires_at: now - 5 });
      const live = makeRecord({ expires_at: now + 3600 });
      const forever = makeRecord({ expires_at: null });
      for (const r of [expired, live, forever]) await store.put(r);

      expect(await store.get(expired.id)).toBeNull();
      expect(await store.get(live.id)).toStrictEqual(live);
      expect(await store.delete(expired.id)).toBe(false);

      const stillExpired = makeRecord({ expires_at: now - 1 });
      await store.put(stillExpired);
      expect(await store.purgeExpired(now)).toBe(1);
      expect(await store.purgeExpired(now)).toBe(0);
      expect(await store.get(live.id)).toStrictEqual(live);

      // Purging "in the future" removes the live row too. (Its get is not checked afterwards: in real time it is
      // still valid, and a cache may rightly keep serving it until its expires_at.)
      expect(await store.purgeExpired(now + 7200)).toBe(1);
      expect(await store.purgeExpired(now + 7200)).toBe(0);
      expect(await store.get(forever.id)).toStrictEqual(forever);
    });

    it("stores and walks a 50-record conversation chain", async () => {
      const chain = makeChain(50);
      for (const record of chain) await store.put(record);
      const walked: string[] = [];
      let cursor: string | null = chain.at(-1)!.id;
      while (cursor !== null) {
        const record = await store.get(cursor);
        expect(record).not.toBeNull();
        walked.push(record!.id);
        cursor = record!.previous_response_id;
      }
      expect(walked).toEqual(chain.map((r) => r.id).reverse());
      const newest = await store.get(chain.at(-1)!.id);
      expect(newest).toStrictEqual(chain.at(-1));
      expect(newest!.history).toHaveLength(100);
    });

    it("rejects records whose timestamps are not whole seconds", async () => {
      const error = await store.put(makeRecord({ created_at: 1.5 })).catch((err: unknown) => err);
      expect(error).toMatchObject({ name: "StoreError", kind: "failed" });
    });
  });
}
