/**
 * A pass-through body that fails when its source stays silent for longer than `idleMs` between chunks. Used for
 * passthrough responses, whose bytes are the upstream's own (no in-band error can be added to them): failing the
 * stream makes the server drop the connection, so the client sees a broken response instead of waiting forever,
 * and the upstream request is cancelled. Pull-based (high-water mark 0): nothing is read ahead.
 */
import { upstreamTimeout } from "../core/errors.js";

export function withIdleTimeout(source: ReadableStream<Uint8Array>, idleMs: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<"stalled">((resolve) => {
          timer = setTimeout(() => resolve("stalled"), idleMs);
        });
        let result: ReadableStreamReadResult<Uint8Array> | "stalled";
        try {
          result = await Promise.race([reader.read(), stalled]);
        } catch (err) {
          controller.error(err);
          return;
        } finally {
          clearTimeout(timer);
        }
        if (result === "stalled") {
          const err = upstreamTimeout(`the upstream sent nothing for ${idleMs / 1000} s mid-response`);
          controller.error(err);
          await reader.cancel(err);
          return;
        }
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
