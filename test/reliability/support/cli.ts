/**
 * The real `vllm-responses` CLI as a child process, built from the current sources.
 *
 * The other process tests run `bin/vllm-responses.js`, i.e. whatever `npm run build` last put in `dist/`. These
 * tests must exercise the sources under test, and must not rewrite `dist/` while other test files spawn it, so
 * they transpile the CLI's import graph (TypeScript's own `transpileModule`, no type check: `npm run typecheck`
 * does that) into a private directory in about a second.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Transpiles `entry` and every file it imports (relative specifiers) to `<repo>/.tmp/<name>-<pid>/` (per test
 * process, so parallel runs never rewrite each other's files); returns the entry's .js and a cleanup.
 */
export function transpileGraph(name: string, entry: string): { cli: string; remove: () => void } {
  const outRoot = join(repoRoot, ".tmp", `${name}-${process.pid}`);
  rmSync(outRoot, { recursive: true, force: true });
  const queue = [resolve(repoRoot, entry)];
  const done = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, "utf8");
    const out = ts.transpileModule(source, { fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false } });
    const target = join(outRoot, relative(repoRoot, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      if (!imported.fileName.startsWith(".")) continue;
      const ts_ = resolve(dirname(file), imported.fileName.replace(/\.js$/, ".ts"));
      if (existsSync(ts_)) queue.push(ts_);
    }
  }
  return { cli: join(outRoot, entry.replace(/\.ts$/, ".js")), remove: () => rmSync(outRoot, { recursive: true, force: true }) };
}

export interface CliProcess {
  pid: number;
  url: string;
  output(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startCli(cli: string, args: string[], opts: { env?: Record<string, string>; readyPattern: RegExp; timeoutMs?: number }): Promise<CliProcess> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve_, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI not ready in time: ${args.join(" ")}\n${out}`)), opts.timeoutMs ?? 30_000);
    const check = (): void => {
      const m = opts.readyPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve_(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code} before ready:\n${out}`));
    });
  });
  return {
    pid: child.pid!,
    url,
    output: () => out,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
