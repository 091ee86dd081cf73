/**
 * A pass-through body wrapper that reports, exactly once, when a response stream is over: drained, failed, or
 * cancelled by the client (runtimes cancel the body when the connection drops; `@hono/node-server` calls
 * `reader.cancel()`, `app.request()` callers cancel their reader).
 *
 * Pull-based with a zero high-water mark: a chunk is read from the source only when the consumer asks for one,
 * so nothing is buffered here and back-pressure reaches the producer unchanged. Chunks are forwarded as they
 * are; the only per-chunk cost is the read itself.
 */
export type StreamEnd =
  | { kind: "done" }
  | { kind: "cancelled"; reason: unknown }
  | { kind: "error"; error: unknown };

export function observeStreamEnd<T>(source: ReadableStream<T>, onEnd: (end: StreamEnd) => void): ReadableStream<T> {
  const reader = source.getReader();
  let ended = false;
  const finish = (end: StreamEnd): void => {
    if (ended) return;
    ended = true;
    onEnd(end);
  };
  return new ReadableStream<T>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<T>;
        try {
          result = await reader.read();
        } catch (error) {
          finish({ kind: "error", error });
          // Propagate: the consumer (the HTTP server) must see the failure and abort the connection.
          controller.error(error);
          return;
        }
        if (result.done) {
          finish({ kind: "done" });
          controller.close();
        } else {
          controller.enqueue(result.value);
        }
      },
      cancel(reason) {
        finish({ kind: "cancelled", reason });
        // Cancelling the source is what aborts the upstream request behind a disconnected client.
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
