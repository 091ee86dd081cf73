/**
 * Builds the package as it is published — package.json, bin/ and the compiled dist/ — into a temp directory, with
 * the repository's node_modules linked in as its dependencies. Tests that run compiled code use it instead of the
 * repository's dist/, so they never see a stale build and never race another test that is rewriting dist/.
 *
 * Only the given entries' import graph (plus the Node worker-thread entries, see test/helpers/worker-entries.ts) is compiled (with tsconfig.build.json's options), so the output for those
 * files is what `npm run build` produces (JavaScript and declarations; type errors are left to the type-check).
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { withWorkerEntries } from "../helpers/worker-entries.js";
import { REPO_ROOT } from "./runtime-process.js";

export interface CompiledPackage {
  /** The package root: package.json, bin/, dist/, node_modules → the repository's. */
  dir: string;
}

export async function compilePackage(name: string, entries: string[], parent?: string): Promise<CompiledPackage> {
  const dir = parent ? join(parent, name) : await mkdtemp(join(tmpdir(), `vr-pkg-${name}-`));
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, "tsconfig.compile.json");
  await writeFile(
    configPath,
    JSON.stringify({
      extends: join(REPO_ROOT, "tsconfig.build.json"),
      // noCheck: emit only — type errors are `npm run typecheck`'s job, and checking here would double the time.
      compilerOptions: { rootDir: REPO_ROOT, outDir: join(dir, "dist"), typeRoots: [join(REPO_ROOT, "node_modules/@types")], sourceMap: false, noCheck: true },
      files: withWorkerEntries(entries).map((entry) => join(REPO_ROOT, entry)),
      include: [],
    }),
  );
  try {
    await promisify(execFile)(process.execPath, [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", configPath], { cwd: REPO_ROOT });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed for ${entries.join(", ")}:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
  await cp(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  await cp(join(REPO_ROOT, "bin"), join(dir, "bin"), { recursive: true });
  await symlink(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return { dir };
}
