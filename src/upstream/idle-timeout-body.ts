/**
 * A pass-through body that fails when its source stays silent for longer than `idleMs` between chunks. Used for
 * passthrough responses, whose bytes are the upstream's own (no in-band error can be added to them): failing the
 * stream makes the server drop the connection, so the client sees a broken response instead of waiting forever,
 * and the upstream request is cancelled. Pull-based (high-water mark 0): nothing is read ahead.
 */
import { upstreamTimeout } from "../core/errors.js";
import { IdleWatchdog } from "./idle-watchdog.js";

export function withIdleTimeout(source: ReadableStream<Uint8Array>, idleMs: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const watchdog = new IdleWatchdog(reader, idleMs, () => upstreamTimeout(`the upstream sent nothing for ${idleMs / 1000} s mid-response`), null);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await watchdog.read();
        } catch (err) {
          // A silent upstream (or a broken one): fail the body so the server drops the connection.
          watchdog.stop();
          controller.error(err);
          return;
        }
        if (result.done) {
          watchdog.stop();
          controller.close();
        } else controller.enqueue(result.value);
      },
      cancel(reason) {
        watchdog.stop();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
