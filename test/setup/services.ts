/**
 * Throwaway real services for the test suite: a PostgreSQL 15 cluster and Redis servers, each on a free port in
 * a fresh temp dir, torn down afterwards. Missing binaries are a hard failure, never a skip: the store tests
 * exist to prove behaviour against the real servers.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { accessSync, constants as fsConstants, existsSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";

const run = promisify(execFile);

/** Env names global-setup.ts exports to test files. */
export const ENV = {
  postgresUrl: "VR_TEST_POSTGRES_URL",
  redisHost: "VR_TEST_REDIS_HOST",
  redisPort: "VR_TEST_REDIS_PORT",
} as const;

const PG_BIN = process.env.VR_TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** A port that was free a moment ago (the OS picks it; the caller binds it right away). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Reads a variable global-setup must have exported; its absence means the setup did not run, which is a failure. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: test/setup/global-setup.ts must start the test services (run via vitest)`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

export interface PostgresService {
  /** Superuser URL of the `postgres` database, trust auth on 127.0.0.1. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresService> {
  for (const tool of ["initdb", "pg_ctl"]) {
    if (!existsSync(join(PG_BIN, tool))) {
      throw new Error(
        `PostgreSQL binaries not found: ${join(PG_BIN, tool)} is missing. Install the Debian package ` +
          "postgresql-15 (or set VR_TEST_PG_BIN). The store tests need a real PostgreSQL and are never skipped.",
      );
    }
  }
  const dir = await mkdtemp(join(tmpdir(), "vr-test-pg-"));
  const asPostgres = await postgresUserCommand(dir);
  const data = join(dir, "data");
  const port = await freePort();
  await asPostgres(join(PG_BIN, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
    "--locale=C", "--no-sync", "--no-instructions"]);
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=300",
    // Durability is irrelevant for a throwaway cluster; skipping fsync keeps startup and writes fast.
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
  ].join(" ");
  const log = join(dir, "postgres.log");
  await asPostgres(join(PG_BIN, "pg_ctl"), ["-D", data, "-l", log, "-o", serverOptions, "-w", "-t", "30", "start"]);
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const pgCtlStop = [join(PG_BIN, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"];
  const reaper = spawnReaper(
    `${process.getuid?.() === 0 ? "runuser -u postgres -- " : ""}${pgCtlStop.map(shellQuote).join(" ")}; ` +
      `rm -rf ${shellQuote(dir)}`,
  );
  return {
    url,
    port,
    stop: async () => {
      reaper.cancel();
      try {
        await asPostgres(pgCtlStop[0]!, pgCtlStop.slice(1));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * initdb refuses to run as root, so as root everything runs as the `postgres` OS user (the temp dir is handed to
 * it); as any other user the binaries run directly.
 */
async function postgresUserCommand(dir: string): Promise<(file: string, args: string[]) => Promise<void>> {
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    await chown(dir, uid, gid);
  }
  return async (file, args) => {
    const [cmd, argv] = root ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
    try {
      await run(cmd, argv, { cwd: dir });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      // Rethrown with the tool's own output: "initdb failed" alone does not say why.
      throw new Error(`${file} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`, {
        cause: err,
      });
    }
  };
}

/** A fresh empty database on the shared test server, so suites that count rows or create schemas are isolated. */
export async function createTestDatabase(prefix = "vr_test"): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = requireEnv(ENV.postgresUrl);
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

export interface RedisService {
  host: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a graceful shutdown) and waits until the port is closed. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted) and waits until it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its temp dir. */
  dispose(): Promise<void>;
}

export async function startRedis(): Promise<RedisService> {
  const binary = await which("redis-server");
  if (binary === null) {
    throw new Error(
      "redis-server not found on PATH. Install it with `apt-get install -y redis-server`. The store tests need a " +
        "real Redis and are never skipped.",
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "vr-test-redis-"));
  const port = await freePort();
  const conf = join(dir, "redis.conf");
  await writeFile(
    conf,
    [`port ${port}`, "bind 127.0.0.1", `dir ${dir}`, 'save ""', "appendonly no", "daemonize no",
      `pidfile ${join(dir, "redis.pid")}`, `logfile ${join(dir, "redis.log")}`].join("\n") + "\n",
  );
  let child: ChildProcess | null = null;
  const reaper = spawnReaper(
    `kill -9 "$(cat ${shellQuote(join(dir, "redis.pid"))} 2>/dev/null)" 2>/dev/null; rm -rf ${shellQuote(dir)}`,
  );

  const start = async (): Promise<void> => {
    if (child !== null) throw new Error("redis test server already running");
    const proc = spawn(binary, [conf], { stdio: "ignore" });
    child = proc;
    proc.once("exit", () => {
      if (child === proc) child = null;
    });
    await waitFor(() => redisPing(port), 5000, `redis-server on port ${port} did not answer PING (log: ${dir})`);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGKILL");
    await exited;
    await waitFor(async () => !(await redisPing(port)), 5000, `redis-server on port ${port} did not stop`);
  };

  await start();
  return {
    host: "127.0.0.1",
    port,
    start,
    stop,
    dispose: async () => {
      reaper.cancel();
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True when something on `port` answers a Redis PING; false on refusal or timeout. */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (chunk) => done(chunk.toString().startsWith("+PONG")));
  });
}

/**
 * pg_ctl daemonises PostgreSQL and a child redis-server outlives a SIGKILLed parent, so a test run killed hard
 * (timeout, Ctrl-C twice) would leak servers onto a shared machine. A detached shell watches this process and
 * runs `cleanup` once it is gone; normal teardown cancels it.
 */
function spawnReaper(cleanup: string): { cancel(): void } {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${cleanup}`;
  const reaper = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  reaper.unref();
  return {
    cancel: () => {
      if (reaper.exitCode === null && reaper.pid !== undefined) reaper.kill("SIGKILL");
    },
  };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, failure: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(failure);
}

async function which(name: string): Promise<string | null> {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"]);
  for (const dir of dirs.filter((d) => d !== "")) {
    const candidate = join(dir, name);
    if (existsSync(candidate) && isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch (err) {
    // Present but not executable: keep looking further down PATH (the final error names what is missing).
    if ((err as { code?: string }).code !== "EACCES") throw err;
    return false;
  }
}
