/**
 * The same smoke suite on Node: `npm start` (the compiled CLI, `vllm-responses serve`) with better-sqlite3, so
 * all four runtimes answer the same requests the same way.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootRuntime, type Booted } from "./boot.js";
import { compilePackage } from "./compile-package.js";
import { defineSmokeSuite } from "./smoke-suite.js";

let booted: Booted;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vr-node-"));
  // `npm start` runs dist/: a fresh compile of the CLI, so the test never runs a stale build.
  const pkg = await compilePackage("cli", ["adapters/node/cli.ts"], dir);
  booted = await bootRuntime("node", { cwd: pkg.dir, env: { VR_DB_PATH: `sqlite:///${join(dir, "smoke.db")}` } });
}, 120_000);

afterAll(async () => {
  await booted?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Node: npm start (vllm-responses serve)", () => {
  it("logs a ready line naming its URL and the sqlite store", () => {
    expect(booted.gateway.output()).toMatch(/"msg":"ready","url":"http:\/\/127\.0\.0\.1:\d+\/v1\/responses","store":"sqlite"/);
  });

  defineSmokeSuite(() => booted.target());
});
