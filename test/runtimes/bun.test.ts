/**
 * `npm run start:bun` for real (Bun from the `bun` npm package, `Bun.serve`, `bun:sqlite`), against the mock
 * upstream: the shared smoke suite, then state across restarts on SQLite and on PostgreSQL with the Redis cache.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectApiKeysFileEnforced } from "./api-keys-check.js";
import { bootRuntime, type Booted } from "./boot.js";
import { defineSmokeSuite } from "./smoke-suite.js";
import { expectPostgresStateSurvivesRestart, expectStateSurvivesRestart } from "./state-suite.js";

let booted: Booted;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vr-bun-"));
  booted = await bootRuntime("bun", { env: { VR_DB_PATH: `sqlite:///${join(dir, "smoke.db")}` } });
}, 60_000);

afterAll(async () => {
  await booted?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Bun: npm run start:bun", () => {
  it("logs a ready line naming its URL and the sqlite store", () => {
    expect(booted.gateway.output()).toMatch(/"msg":"ready","runtime":"bun","url":"http:\/\/127\.0\.0\.1:\d+\/v1\/responses","store":"sqlite"/);
  });

  defineSmokeSuite(() => booted.target());

  it("keeps conversations in bun:sqlite across a restart", async () => {
    await expectStateSurvivesRestart({ runtime: "bun", mock: booted.mock, env: { VR_DB_PATH: `sqlite:///${join(dir, "restart.db")}` }, storeKind: "sqlite" });
  }, 60_000);

  it("keeps conversations in PostgreSQL behind the Redis cache (postgres and ioredis on Bun)", async () => {
    await expectPostgresStateSurvivesRestart("bun", booted.mock);
  }, 60_000);

  it("requires one of the keys in VR_API_KEYS_FILE", async () => {
    await expectApiKeysFileEnforced("bun", booted.mock, dir);
  }, 60_000);
});
