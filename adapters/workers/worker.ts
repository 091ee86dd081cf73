/**
 * The gateway as a Cloudflare Worker (`npm run start:workers` runs it on workerd through `wrangler dev`;
 * `wrangler deploy` ships the same file). Configuration comes from the Worker's bindings: `VR_*` vars/secrets
 * (VR_UPSTREAM is required) and the D1 database bound as `RESPONSES_DB`, where conversations live.
 *
 * One gateway per isolate, built on its first request (bindings only exist inside handlers). Nothing durable is
 * kept in the isolate: responses go to D1; `/metrics` counts what this isolate served (see docs/runtimes.md).
 * Traces are exported over OTLP/HTTP with fetch and flushed through `ctx.waitUntil` once a response body (an
 * SSE stream included) has ended, since an isolate may be frozen as soon as its last request is done.
 */
import type { Gateway } from "../../src/index.js";
import { ConfigError, envString, type EnvRecord } from "../../src/config/env-values.js";
import { createConsoleLogger, type Logger } from "../../src/observability/logger.js";
import { observeStreamEnd } from "../../src/observability/observe-stream-end.js";
import { createPortableGateway } from "../shared/portable-gateway.js";
import { D1Store } from "./d1-store.js";
import type { D1Database, ExecutionContext, ScheduledController } from "./workers-types.js";

/** The D1 binding's name in wrangler.toml. */
const D1_BINDING = "RESPONSES_DB";

export interface WorkerEnv {
  RESPONSES_DB?: D1Database;
  [binding: string]: unknown;
}

const logger: Logger = createConsoleLogger("info", { runtime: "workerd" });
let gateway: Promise<Gateway> | null = null;

/** The `VR_*` settings among the bindings. `[vars]` may hold numbers or booleans; they mean what their text says. */
function envRecord(env: WorkerEnv): EnvRecord {
  const record: EnvRecord = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") record[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") record[name] = String(value);
  }
  return record;
}

async function buildGateway(env: WorkerEnv): Promise<Gateway> {
  const vars = envRecord(env);
  const d1 = env[D1_BINDING];
  let store: D1Store | undefined;
  if (d1 !== undefined) {
    if (envString(vars, "VR_DB_PATH") !== undefined) logger.warn(`VR_DB_PATH is ignored on Workers: responses are stored in the D1 binding ${D1_BINDING}`);
    store = new D1Store(d1, { logger });
    await store.init();
  } else if (envString(vars, "VR_DB_PATH") !== "memory://") {
    throw new ConfigError(
      `No D1 database bound as ${D1_BINDING}: a Worker has no durable local state, so declare one in wrangler.toml ` +
        "([[d1_databases]] binding = \"RESPONSES_DB\"). VR_DB_PATH=memory:// opts into per-isolate, non-durable state for demos.",
    );
  } else {
    logger.warn("VR_DB_PATH=memory://: conversations live in this isolate's memory only and vanish when it is evicted");
  }
  return createPortableGateway(vars, {
    runtime: "workerd",
    ...(store ? { store } : {}),
    // Workers have no DNS API; their fetch leaves from Cloudflare's edge, not the operator's network.
    resolveHost: null,
    // Expired responses are purged by the Cron Trigger (`scheduled` below), not a timer in an isolate.
    purgeTimer: false,
    logger,
  });
}

function gatewayFor(env: WorkerEnv): Promise<Gateway> {
  if (gateway === null) {
    const building = buildGateway(env);
    gateway = building;
    // A failed start (a transient D1 error, a missing variable) is retried by the next request, not cached.
    building.catch(() => {
      if (gateway === building) gateway = null;
    });
  }
  return gateway;
}

function startupFailure(err: unknown): Response {
  const config = err instanceof ConfigError;
  logger.error("gateway failed to start", { error: err as Error });
  // The message names a variable or binding, never a value.
  const message = config ? `Gateway misconfigured: ${(err as Error).message}` : "The gateway failed to start; see the Worker's logs.";
  return Response.json({ error: { message, type: "api_error", param: null, code: config ? "gateway_misconfigured" : "gateway_unavailable" } }, { status: 500 });
}

/** Keeps the isolate alive until the body has been sent, then exports the spans of this request. */
function flushTracesAfter(response: Response, gw: Gateway, ctx: ExecutionContext): Response {
  const flush = (): Promise<void> =>
    gw.tracing.forceFlush().catch((err: unknown) => {
      logger.warn("trace export failed", { error: err as Error });
    });
  if (response.body === null) {
    ctx.waitUntil(flush());
    return response;
  }
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const body = observeStreamEnd(response.body, () => ended());
  ctx.waitUntil(done.then(flush));
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let gw: Gateway;
    try {
      gw = await gatewayFor(env);
    } catch (err) {
      return startupFailure(err);
    }
    const response = await gw.fetch(request);
    return gw.tracing.enabled ? flushTracesAfter(response, gw, ctx) : response;
  },

  /** Cron Trigger (wrangler.toml `[triggers]`): removes responses past `VR_RESPONSE_TTL_SECONDS`. */
  async scheduled(_controller: ScheduledController, env: WorkerEnv, ctx: ExecutionContext): Promise<void> {
    const gw = await gatewayFor(env);
    ctx.waitUntil(
      gw.store.purgeExpired(Date.now() / 1000).then((removed) => {
        if (removed > 0) logger.info("expired responses purged", { removed });
      }),
    );
  },
};
