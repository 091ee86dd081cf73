/**
 * Boots the gateway on a runtime exactly as a user does — `npm run start:deno`, `start:bun`, `start:workers`,
 * `npm start` — configured by `VR_*` environment variables, and waits for its ready line.
 *
 * Each runtime runs in its own process group (npm → sh → deno task → deno, or → wrangler → workerd), so stopping it
 * signals the whole group: that is what a Ctrl-C in a terminal does, and it leaves no orphaned workerd behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type RuntimeName = "node" | "deno" | "bun" | "workerd";

export interface RuntimeProcess {
  runtime: RuntimeName;
  /** e.g. http://127.0.0.1:41234 (no path) */
  url: string;
  output(): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves with the exit code of the npm process. */
  stop(graceMs?: number): Promise<number | null>;
}

const READY: Record<RuntimeName, RegExp> = {
  node: /"msg":"ready".*?"url":"(http:\/\/[^"]+)\/v1\/responses"/,
  deno: /"msg":"ready".*?"url":"(http:\/\/[^"]+)\/v1\/responses"/,
  bun: /"msg":"ready".*?"url":"(http:\/\/[^"]+)\/v1\/responses"/,
  workerd: /Ready on (http:\/\/[0-9.:]+)/,
};

function npmArgs(runtime: RuntimeName, upstream: string, extra: string[]): string[] {
  switch (runtime) {
    case "node":
      // The Node CLI takes flags; the others read VR_UPSTREAM / VR_GATEWAY_* from the environment.
      return ["start", "--", "--upstream", upstream, "--gateway-host", "127.0.0.1", "--gateway-port", "0", "--code-interpreter", "disabled", ...extra];
    case "deno":
      return ["run", "start:deno", ...(extra.length ? ["--", ...extra] : [])];
    case "bun":
      return ["run", "start:bun", ...(extra.length ? ["--", ...extra] : [])];
    case "workerd":
      return ["run", "start:workers", "--", ...extra];
    default: {
      const unknown: never = runtime;
      throw new Error(`unknown runtime ${String(unknown)}`);
    }
  }
}

export interface StartRuntimeOptions {
  upstream: string;
  /** VR_* settings (VR_DB_PATH …). VR_UPSTREAM and VR_GATEWAY_HOST/PORT are set from `upstream` and a free port. */
  env?: Record<string, string>;
  /** Extra arguments after `--` (wrangler: `--persist-to DIR`). */
  args?: string[];
  /** Where `npm run` runs; default the repository (Node: a compiled package, see compile-package.ts). */
  cwd?: string;
  timeoutMs?: number;
}

export async function startRuntime(runtime: RuntimeName, options: StartRuntimeOptions): Promise<RuntimeProcess> {
  const env: NodeJS.ProcessEnv = {
    ...withoutVrVariables(process.env),
    VR_UPSTREAM: options.upstream,
    VR_GATEWAY_HOST: "127.0.0.1",
    VR_GATEWAY_PORT: "0",
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    ...options.env,
  };
  const child: ChildProcess = spawn("npm", ["--silent", ...npmArgs(runtime, options.upstream, options.args ?? [])], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    signalGroup(child, "SIGTERM");
    const deadline = Date.now() + graceMs;
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
    const code = await exited;
    // npm may exit before the runtime under it (wrangler still removing its temp bundles): wait for the whole
    // group, then make sure nothing of it survives.
    while (groupAlive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    clearTimeout(timer);
    signalGroup(child, "SIGKILL");
    return code;
  };

  let ready = false;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(1000);
      reject(new Error(`${runtime} not ready within ${options.timeoutMs ?? 60_000} ms:\n${out}`));
    }, options.timeoutMs ?? 60_000);
    const check = (): void => {
      const m = READY[runtime].exec(out);
      if (m && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    void exited.then((code) => {
      if (ready) return;
      clearTimeout(timer);
      // Whatever npm left behind in its group (a workerd) goes too.
      signalGroup(child, "SIGKILL");
      reject(new Error(`${runtime} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return { runtime, url, output: () => out, stop };
}

/** The test process's own VR_* (e.g. VR_TEST_POSTGRES_URL) must not configure the gateway under test. */
function withoutVrVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("VR_")));
}

/**
 * Whether a live (non-zombie) process is left in the child's process group. Zombies are skipped: a workerd whose
 * parent exited stays `Z` until init reaps it, yet has nothing left to clean up. Linux /proc; elsewhere, signal 0.
 */
function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return pids.some((pid) => {
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp …"; comm may contain spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(fields[2]) === child.pid && fields[0] !== "Z";
    } catch {
      return false; // the process ended while we looked
    }
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}
