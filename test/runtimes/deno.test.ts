/**
 * `npm run start:deno` for real (Deno from the `deno` npm package, `Deno.serve`, `node:sqlite`), against the mock
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
  dir = await mkdtemp(join(tmpdir(), "vr-deno-"));
  booted = await bootRuntime("deno", { env: { VR_DB_PATH: `sqlite:///${join(dir, "smoke.db")}` } });
}, 60_000);

afterAll(async () => {
  await booted?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Deno: npm run start:deno", () => {
  it("logs a ready line naming its URL and the sqlite store", () => {
    expect(booted.gateway.output()).toMatch(/"msg":"ready","runtime":"deno","url":"http:\/\/127\.0\.0\.1:\d+\/v1\/responses","store":"sqlite"/);
  });

  defineSmokeSuite(() => booted.target());

  it("keeps conversations in node:sqlite across a restart", async () => {
    await expectStateSurvivesRestart({ runtime: "deno", mock: booted.mock, env: { VR_DB_PATH: `sqlite:///${join(dir, "restart.db")}` }, storeKind: "sqlite" });
  }, 60_000);

  it("keeps conversations in PostgreSQL behind the Redis cache (postgres and ioredis on Deno's node:net)", async () => {
    await expectPostgresStateSurvivesRestart("deno", booted.mock);
  }, 60_000);

  it("requires one of the keys in VR_API_KEYS_FILE", async () => {
    await expectApiKeysFileEnforced("deno", booted.mock, dir);
  }, 60_000);
});
