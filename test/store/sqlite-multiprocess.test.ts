/**
 * Two real OS processes share one SQLite file, as gateway workers do: both create the schema at the same moment
 * on a file that does not exist yet, then write concurrently. No row may be lost and neither may fail.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openSqliteDriver } from "../../adapters/node/sqlite-driver.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { transpileForChild, type TranspiledTree } from "./helpers/transpile-for-child.js";

const PER_WRITER = 300;
let tree: TranspiledTree;
let dir: string;

beforeAll(async () => {
  tree = await transpileForChild(["src/store/sqlite-store.ts", "adapters/node/sqlite-driver.ts"]);
  dir = await mkdtemp(join(tmpdir(), "vr-sqlite-mp-"));
});
afterAll(async () => {
  await tree.dispose();
  await rm(dir, { recursive: true, force: true });
});

function runWriter(file: string, name: string, startAt: number): Promise<string> {
  const script = resolve(import.meta.dirname, "fixtures/sqlite-writer.mjs");
  const args = [script, tree.path("src/store/sqlite-store.ts"), tree.path("adapters/node/sqlite-driver.ts"), file,
    name, String(PER_WRITER), String(startAt)];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`writer ${name} exited with ${code}: ${stderr}`));
    });
  });
}

it("loses no row when two processes create the schema and write 2×300 records concurrently", async () => {
  const file = join(dir, "shared.db");
  // Both children import and connect first, then start on the same wall-clock instant.
  const startAt = Date.now() + 1500;
  const outputs = await Promise.all([runWriter(file, "a", startAt), runWriter(file, "b", startAt)]);
  expect(outputs.map((o) => JSON.parse(o))).toEqual([
    { name: "a", written: PER_WRITER },
    { name: "b", written: PER_WRITER },
  ]);

  const raw = new Database(file, { readonly: true });
  const ids = (
    raw.prepare("SELECT response_id FROM responses_state ORDER BY rowid").all() as { response_id: string }[]
  ).map((r) => r.response_id);
  raw.close();
  // Insertion order switches writer many times: the two processes really wrote at the same time.
  const switches = ids.filter((id, i) => i > 0 && id.split("_")[1] !== ids[i - 1]!.split("_")[1]).length;
  expect(switches, "times insertion order switched writer").toBeGreaterThan(10);
  expect(ids).toHaveLength(2 * PER_WRITER);
  for (const name of ["a", "b"]) {
    for (let i = 0; i < PER_WRITER; i += 1) expect(ids).toContain(`resp_${name}_${i}`);
  }

  const store = new SqliteStore(openSqliteDriver(file));
  await store.init();
  const last = await store.get(`resp_b_${PER_WRITER - 1}`);
  expect(last?.previous_response_id).toBe(`resp_b_${PER_WRITER - 2}`);
  await store.close();
}, 60_000);
