/**
 * Where a worker-thread entry lives (the Pyodide sandbox, the trace export thread). Built code (dist/, the CLI,
 * the bench) uses the compiled `.js` file. Running from TypeScript sources (vitest), worker threads cannot load
 * `.ts` on Node 20, so the worker's module graph (its relative imports; packages resolve from node_modules as
 * usual) is transpiled once with the `typescript` dev dependency into node_modules/.cache (content-addressed, so
 * edits are picked up and parallel test files share it).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * `callerUrl`: the caller's `import.meta.url`; `entryRelative`: the entry relative to it, without extension
 * (`./worker/pyodide-worker`); `cacheName`: the cache directory of this worker's transpiled graph.
 */
export async function workerScriptUrl(callerUrl: string, entryRelative: string, cacheName: string): Promise<URL> {
  if (!callerUrl.endsWith(".ts")) return new URL(`${entryRelative}.js`, callerUrl);
  return transpileWorkerGraph(fileURLToPath(new URL(`${entryRelative}.ts`, callerUrl)), cacheName);
}

async function transpileWorkerGraph(entry: string, cacheName: string): Promise<URL> {
  const root = packageRoot(path.dirname(entry));
  const files = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    const source = await readFile(file, "utf8");
    files.set(file, source);
    // Workers' files only use `… from "./x.js"` relative imports (no side-effect or dynamic relative imports).
    for (const match of source.matchAll(/\bfrom\s+["'](\.{1,2}\/[^"']+)\.js["']/g)) {
      pending.push(path.resolve(path.dirname(file), `${match[1]}.ts`));
    }
  }
  // Dev-only dependency, loaded only on this path.
  const ts = (await import("typescript")).default;
  const hash = createHash("sha256").update(ts.version);
  for (const [file, source] of [...files].sort(([a], [b]) => a.localeCompare(b))) hash.update(file).update("\0").update(source);
  const outDir = path.join(root, "node_modules", ".cache", "vllm-responses", cacheName, hash.digest("hex").slice(0, 16));
  const outEntry = path.join(outDir, path.relative(root, entry).replace(/\.ts$/, ".js"));
  if (existsSync(outEntry)) return pathToFileURL(outEntry);

  // Written to a private directory first and renamed into place: parallel test files may race here.
  const staging = `${outDir}.${process.pid}.${Date.now()}`;
  await writeFile(path.join(await mkdirp(staging), "package.json"), '{"type":"module"}\n');
  for (const [file, source] of files) {
    const output = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    }).outputText;
    const target = path.join(staging, path.relative(root, file).replace(/\.ts$/, ".js"));
    await mkdirp(path.dirname(target));
    await writeFile(target, output);
  }
  try {
    await rename(staging, outDir);
  } catch (error) {
    // Another process won the race and its identical output is in place; ours is redundant.
    if (!existsSync(outEntry)) throw error;
    await rm(staging, { recursive: true, force: true });
  }
  return pathToFileURL(outEntry);
}

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
