/**
 * The shared code interpreter service (`vllm-responses code-interpreter serve`): one Pyodide pool behind a
 * small loopback HTTP API, so several gateway workers (or gateways on runtimes without worker threads) share
 * the interpreters. Clients use src/tools/code-interpreter/http-executor.ts.
 *
 *   POST /python  {code, timeout_ms?}  → 200 CodeExecutionResult | 400/413/415 {error}
 *   GET  /health                       → 200 {status:"ok", …} | 503 {status:"starting", …}
 *
 * There is no authentication unless `authToken` is set, and no CORS (a browser page must not be able to run
 * code here), so keep it on loopback.
 */
import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, silentLogger } from "../../../src/observability/logger.js";
import { defaultEgressPolicy, type EgressPolicy } from "../../../src/tools/code-interpreter/egress-policy.js";
import { loadEgressPolicyFile } from "./load-egress-policy.js";
import { createPyodidePool, type PyodidePool, type PyodidePoolOptions } from "./pool.js";

export interface CodeInterpreterServiceOptions extends Omit<PyodidePoolOptions, "egressPolicy" | "logger"> {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 5970 (the original's); 0 picks a free port (see the handle's url). */
  port?: number;
  /** Policy file; without one (and without `egressPolicy`) the default policy applies. */
  egressPolicyPath?: string;
  egressPolicy?: EgressPolicy;
  /** When set, POST /python must send `Authorization: Bearer <token>` (GET /health stays open for probes). */
  authToken?: string;
  /** Largest accepted request body. Default 1 MiB. */
  maxRequestBytes?: number;
  logger?: Logger;
}

export interface CodeInterpreterServiceHandle {
  /** e.g. `http://127.0.0.1:5970` */
  url: string;
  pool: PyodidePool;
  close(): Promise<void>;
}

/**
 * Listens first (so /health answers "starting" during the ~4 s load), then resolves once every worker is up.
 * Rejects — after cleaning up — if the policy is invalid, the port is taken, or the pool cannot start.
 */
export async function runCodeInterpreterService(options: CodeInterpreterServiceOptions = {}): Promise<CodeInterpreterServiceHandle> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? "127.0.0.1";
  const egressPolicy = options.egressPolicy ?? (options.egressPolicyPath ? await loadEgressPolicyFile(options.egressPolicyPath) : defaultEgressPolicy());
  logger.info("code interpreter egress policy", { source: options.egressPolicyPath ?? (options.egressPolicy ? "embedder" : "default"), policy: egressPolicy.document });
  // The original's `--workers 0` meant "one interpreter, no pool"; here that is a pool of one.
  const workers = options.workers === 0 ? 1 : options.workers;
  const pool = createPyodidePool({ ...options, workers, egressPolicy, logger });
  const maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // handle() answers every expected failure itself; reaching here is a bug, so log it and answer 500.
      logger.error("code interpreter service request failed", { error });
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000; // outlive typical client pools so a reused socket is not closed mid-request

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "use GET" });
      const stats = pool.stats();
      const ok = stats.readyWorkers > 0;
      send(res, ok ? 200 : 503, {
        status: ok ? "ok" : "starting",
        ready_workers: stats.readyWorkers,
        configured_workers: stats.configuredWorkers,
        busy_workers: stats.busyWorkers,
        queued_jobs: stats.queuedJobs,
      });
      return;
    }
    if (path !== "/python") return send(res, 404, { error: `no route ${req.method} ${path}` });
    if (req.method !== "POST") return send(res, 405, { error: "use POST" });
    if (options.authToken !== undefined && !tokenMatches(req.headers.authorization, options.authToken)) {
      return send(res, 401, { error: "missing or wrong bearer token" });
    }

    const raw = await readBody(req, maxRequestBytes);
    if (raw === null) return send(res, 413, { error: `request body larger than ${maxRequestBytes} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (error) {
      // The client's mistake, answered as such.
      return send(res, 400, { error: `request body is not valid JSON: ${(error as Error).message}` });
    }
    if (typeof body !== "object" || body === null || typeof (body as { code?: unknown }).code !== "string") {
      return send(res, 400, { error: '"code" must be a string' });
    }
    const { code, timeout_ms: timeoutMs } = body as { code: string; timeout_ms?: unknown };
    if (timeoutMs !== undefined && timeoutMs !== null && (typeof timeoutMs !== "number" || !(timeoutMs > 0))) {
      return send(res, 400, { error: '"timeout_ms" must be a positive number of milliseconds' });
    }
    // A client that gives up (its own deadline, gateway request cancelled) frees the worker at once.
    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) gone.abort(new Error("client disconnected"));
    });
    const result = await pool.execute(code, { signal: gone.signal, ...(typeof timeoutMs === "number" ? { timeoutMs } : {}) });
    if (!gone.signal.aborted) send(res, 200, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5970, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await pool.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  if (!["127.0.0.1", "::1", "localhost"].includes(host)) {
    logger.warn("code interpreter service listens beyond loopback: anyone who can reach it can run code", { url, auth: options.authToken !== undefined });
  }

  const close = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await pool.close();
  };

  try {
    await pool.ready();
  } catch (error) {
    await close();
    throw error;
  }
  logger.info("code interpreter service ready", { url, workers: pool.stats().configuredWorkers });
  return { url, pool, close };
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? "");
  // Constant-time comparison: the token is a secret.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** The body as text, or null when it exceeds the limit (the rest is not read). */
async function readBody(req: http.IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
