/**
 * The slice of Bun's API this adapter uses, typed here because the project type-checks with Node's types
 * (tsconfig.json) and `bun-types` is not a dependency. Read from `globalThis` so nothing is declared globally for
 * the rest of the program.
 */
export interface BunServeOptions {
  hostname: string;
  port: number;
  /** Seconds a connection may be idle; 0 disables the limit (Bun's default of 10 s would cut quiet SSE streams). */
  idleTimeout: number;
  /** false: never Bun's HTML error page with source excerpts (Hono answers every error itself anyway). */
  development: boolean;
  fetch: (request: Request) => Response | Promise<Response>;
}

export interface BunServer {
  readonly hostname: string;
  readonly port: number;
  /** Without `true`, stops listening and resolves once in-flight requests (open streams included) are done. */
  stop(closeActiveConnections?: boolean): Promise<void>;
}

export interface BunApi {
  readonly version: string;
  readonly env: Record<string, string | undefined>;
  serve(options: BunServeOptions): BunServer;
}

export function bunApi(): BunApi {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (bun === undefined) throw new Error("adapters/bun runs on Bun only (use `npm run start:bun`).");
  return bun;
}
