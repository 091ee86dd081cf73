/**
 * SIGINT/SIGTERM handling shared by the Deno and Bun entry points: stop accepting, let open requests and streams
 * finish within the grace period, close the gateway, exit. Each runtime passes its own server shutdown and exit.
 */
import type { Logger } from "../../src/observability/logger.js";

/** One Ctrl-C arrives more than once: the terminal signals the whole process group and npm / `deno task` forward it too. */
const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

export interface GracefulStopOptions {
  logger: Logger;
  graceMs: number;
  /** Resolves when the server stopped and its open requests finished. */
  shutdownServer: () => Promise<void>;
  closeGateway: () => Promise<void>;
  exit: (code: number) => void;
}

export function createGracefulStop(opts: GracefulStopOptions): (signal: string) => void {
  let stoppingSince: number | null = null;
  return (signal) => {
    if (stoppingSince !== null) {
      // Only a signal sent after that burst means "stop waiting".
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_WINDOW_MS) return;
      opts.logger.warn("second signal: exiting now", { signal });
      opts.exit(1);
      return;
    }
    stoppingSince = Date.now();
    opts.logger.info("draining", { signal, grace_s: opts.graceMs / 1000 });
    const drained = opts.shutdownServer().then(() => false);
    const forced = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), opts.graceMs));
    Promise.race([drained, forced])
      .then(async (wasForced) => {
        opts.logger.info("drained", { forced: wasForced });
        await opts.closeGateway();
        opts.exit(0);
      })
      .catch((err: unknown) => {
        opts.logger.error("shutdown failed", { error: err as Error });
        opts.exit(1);
      });
  };
}
