/**
 * Graceful stop for a Node HTTP server: used by the single-process server on SIGTERM and by cluster workers on
 * the supervisor's drain message.
 *
 * Stops accepting at once, lets in-flight requests and open SSE streams run to their natural end, and closes
 * keep-alive connections as soon as they are idle (a client holding an idle keep-alive socket must not delay
 * shutdown). When the grace period is over the remaining connections are destroyed — for a stream that
 * cancels the response body, which in turn aborts the upstream vLLM request.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface DrainOptions {
  /** How long open requests and streams may take to finish before their connections are destroyed. */
  graceMs: number;
  /**
   * Extra work the server must wait for after the last connection closed (e.g. a store write that completes
   * after the response). Polled until it returns true or the grace period ends.
   */
  isIdle?: () => boolean;
  /** How often idle keep-alive sockets are reaped and `isIdle` is polled. Default 50 ms. */
  pollMs?: number;
  /**
   * Connections that never sent a request (from `trackUnusedConnections`). `closeIdleConnections()` leaves them
   * open — Node counts only connections that finished a request as idle — so a browser's pre-connect or an HTTP
   * client's spare socket would otherwise hold every shutdown for the whole grace period. They are closed at once.
   */
  unusedConnections?: ReadonlySet<Socket>;
}

/**
 * Starts remembering which of `server`'s connections have not sent a request yet; call right after creating the
 * server and pass the set to `drainServer`.
 */
export function trackUnusedConnections(server: Server): ReadonlySet<Socket> {
  const unused = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    unused.add(socket);
    socket.once("close", () => unused.delete(socket));
  });
  server.on("request", (req) => unused.delete(req.socket));
  return unused;
}

export interface DrainResult {
  /** True when the grace period ran out and connections were destroyed. */
  forced: boolean;
  durationMs: number;
}

export function drainServer(server: Server, options: DrainOptions): Promise<DrainResult> {
  const started = Date.now();
  const pollMs = options.pollMs ?? 50;
  const isIdle = options.isIdle ?? (() => true);

  return new Promise<DrainResult>((resolve, reject) => {
    let closed = !server.listening;
    let settled = false;

    const finish = (forced: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(deadline);
      resolve({ forced, durationMs: Date.now() - started });
    };

    const closeUnused = (): void => {
      // A request that was still being sent when the drain began is dropped unanswered: nobody saw it, so the
      // client can safely retry it elsewhere.
      for (const socket of options.unusedConnections ?? []) socket.destroy();
    };
    const poll = setInterval(() => {
      // A keep-alive connection whose last response just finished is idle now; close it so `close` can fire.
      server.closeIdleConnections();
      closeUnused();
      if (closed && isIdle()) finish(false);
    }, pollMs);

    const deadline = setTimeout(() => {
      server.closeAllConnections();
      finish(true);
    }, options.graceMs);

    closeUnused();
    if (!closed) {
      // close() stops listening and (Node >= 19) closes the currently idle connections; its callback fires once
      // every connection is gone.
      server.close((error) => {
        if (error) {
          settled = true;
          clearInterval(poll);
          clearTimeout(deadline);
          reject(error);
          return;
        }
        closed = true;
        if (isIdle()) finish(false);
      });
    } else if (isIdle()) {
      finish(false);
    }
  });
}
