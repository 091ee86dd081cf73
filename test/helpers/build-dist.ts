/**
 * Compiles the given entry files (and what they import) into `dist/`, exactly where `npm run build` puts them,
 * for tests that run compiled code in child processes (cluster workers cannot load TypeScript).
 *
 * Only the entries' import graph (and the Node worker-thread entries, see worker-entries.ts) is compiled, so a half-written file elsewhere in the tree does not break these
 * tests; the output is identical to the full build's for those files.
 */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { withWorkerEntries } from "./worker-entries.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export async function buildDist(name: string, entries: string[]): Promise<void> {
  const dir = join(repoRoot, ".tmp");
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, `tsconfig.${name}.json`);
  const config = {
    extends: "../tsconfig.build.json",
    compilerOptions: { rootDir: "..", outDir: "../dist" },
    files: withWorkerEntries(entries).map((entry) => `../${entry}`),
    include: [],
  };
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", configPath], { cwd: repoRoot });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed for ${entries.join(", ")}:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}
