/**
 * Child processes run plain Node (no TypeScript loader on Node 20), so tests that spawn them transpile the
 * modules under test — following relative imports from the entry files — into a temp dir inside the repo
 * (so `better-sqlite3` and friends still resolve from node_modules). Type checking is tsc's job, not this one's.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const repoRoot = resolve(import.meta.dirname, "../../..");

export interface TranspiledTree {
  /** Absolute path of the transpiled counterpart of a repo-relative `.ts` path (with a `.js` extension). */
  path(repoRelativeTs: string): string;
  dispose(): Promise<void>;
}

export async function transpileForChild(entries: string[]): Promise<TranspiledTree> {
  const outRoot = join(repoRoot, ".tmp", `child-${crypto.randomUUID()}`);
  await mkdir(outRoot, { recursive: true });
  await writeFile(join(outRoot, "package.json"), JSON.stringify({ type: "module" }));
  const pending = entries.map((e) => resolve(repoRoot, e));
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, "utf8");
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      if (imported.fileName.startsWith(".")) {
        pending.push(resolve(dirname(file), imported.fileName.replace(/\.js$/, ".ts")));
      }
    }
    const output = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    });
    const target = join(outRoot, relative(repoRoot, file)).replace(/\.ts$/, ".js");
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, output.outputText);
  }
  return {
    path: (repoRelativeTs) => join(outRoot, repoRelativeTs).replace(/\.ts$/, ".js"),
    dispose: () => rm(outRoot, { recursive: true, force: true }),
  };
}
