/**
 * The idle timeout between upstream chunks, shared by the Responses engine and the passthrough routes. One coarse
 * interval per stream instead of a timer and a promise per chunk: only time spent *waiting on the upstream* counts,
 * not time the gateway is held back by a slow client (back-pressure).
 */
import type { Logger } from "../observability/logger.js";

export class IdleWatchdog {
  private waitingSince = 0;
  private fired = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly idleMs: number,
    /** The error a read reports once the upstream stayed silent too long. */
    private readonly timeoutError: () => Error,
    logger: Logger | null,
  ) {
    this.timer = setInterval(() => {
      if (this.fired || this.waitingSince === 0 || performance.now() - this.waitingSince < idleMs) return;
      this.fired = true;
      // Cancelling resolves the pending read; read() then reports the timeout.
      reader.cancel("upstream idle timeout").catch((err: unknown) => logger?.debug("cancel after idle timeout", { error: err as Error }));
    }, Math.max(10, Math.min(1000, idleMs / 4)));
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    this.waitingSince = performance.now();
    try {
      const result = await this.reader.read();
      if (this.fired) throw this.timeoutError();
      return result;
    } finally {
      this.waitingSince = 0;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
