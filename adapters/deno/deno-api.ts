/**
 * The slice of the `Deno` namespace this adapter uses, typed here because the project type-checks with Node's
 * types (tsconfig.json) and `@types/deno` is not a dependency. Read from `globalThis` so nothing is declared
 * globally for the rest of the program.
 */
export interface DenoServeOptions {
  hostname: string;
  port: number;
  onListen?: (addr: { hostname: string; port: number }) => void;
  handler: (request: Request) => Response | Promise<Response>;
}

export interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  /** Stops accepting connections and resolves once in-flight requests (open SSE streams included) have finished. */
  shutdown(): Promise<void>;
}

export interface DenoApi {
  readonly version: { deno: string };
  serve(options: DenoServeOptions): DenoHttpServer;
  env: { toObject(): Record<string, string> };
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code?: number): never;
}

export function denoApi(): DenoApi {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (deno === undefined) throw new Error("adapters/deno runs on Deno only (use `npm run start:deno`).");
  return deno;
}
