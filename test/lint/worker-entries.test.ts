/**
 * The partial builds tests use (test/helpers/build-dist.ts, test/runtimes/compile-package.ts) add the Node
 * worker-thread entries from test/helpers/worker-entries.ts: that list must name every entry the adapters start,
 * or a compiled gateway in a test would lose its worker (as happened when the trace export thread was added).
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NODE_WORKER_ENTRIES } from "../helpers/worker-entries.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith(".ts") ? [join(dir, e.name)] : []))));
  return nested.flat();
}

describe("Node worker-thread entries", () => {
  it("the list the partial test builds use names every workerScriptUrl entry in adapters/node", async () => {
    const started: string[] = [];
    for (const file of await tsFiles(join(ROOT, "adapters/node"))) {
      const source = await readFile(file, "utf8");
      for (const match of source.matchAll(/workerScriptUrl\(import\.meta\.url,\s*"([^"]+)"/g)) {
        started.push(relative(ROOT, join(dirname(file), `${match[1]}.ts`)));
      }
    }
    expect(started.length).toBeGreaterThanOrEqual(2);
    expect([...started].sort()).toEqual([...NODE_WORKER_ENTRIES].sort());
  });
});
