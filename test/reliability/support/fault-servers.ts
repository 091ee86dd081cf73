/**
 * Small misbehaving upstreams for the reliability tests, where the scripted mock (adapters/node/mock-upstream)
 * has no such behaviour: a server that accepts and never answers, one that resets every connection, one whose
 * answers are scripted per request, and a port whose TCP handshake never completes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";

export interface FaultServer {
  url: string;
  port: number;
  /** Requests that reached the handler, in order (method + path). */
  hits: string[];
  /** Requests whose connection closed before the server finished its answer (the gateway went away). */
  clientGone: number;
  close(): Promise<void>;
}

export type FaultHandler = (req: IncomingMessage, res: ServerResponse, hit: number) => void | Promise<void>;

/** An HTTP server whose every request is answered (or not) by `handler`; `hit` counts from 0. */
export async function startFaultServer(handler: FaultHandler, port = 0): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  const state = { hits: [] as string[], clientGone: 0 };
  const server: Server = createHttpServer((req, res) => {
    const hit = state.hits.length;
    state.hits.push(`${req.method} ${req.url}`);
    res.on("close", () => {
      if (!res.writableFinished) state.clientGone++;
    });
    // The request body is drained so a handler that never answers still lets the client finish sending.
    req.resume();
    Promise.resolve(handler(req, res, hit)).catch((err: unknown) => {
      console.error("fault server handler failed", err);
      res.destroy();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/v1`,
    port: actual,
    get hits() {
      return state.hits;
    },
    get clientGone() {
      return state.clientGone;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on loopback that nobody listens on (connection refused), for now. */
export async function unusedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface BlackholePort {
  port: number;
  close(): Promise<void>;
}

/**
 * A port whose TCP handshake never completes: a listening socket with a backlog of 0 that never accepts, with its
 * accept queue filled first, so the kernel drops further SYNs. Node cannot listen without accepting, so the
 * socket is held by a tiny python3 process (python3 is part of this machine's toolchain).
 */
export async function startBlackholePort(): Promise<BlackholePort> {
  const script = [
    "import socket, sys, time",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "port = s.getsockname()[1]; fill = []",
    "for _ in range(4):",
    "    c = socket.socket(); c.setblocking(False)",
    "    try: c.connect(('127.0.0.1', port))",
    "    except BlockingIOError: pass",
    "    fill.append(c)",
    "time.sleep(0.2); print(port, flush=True)",
    "sys.stdin.read()",
  ].join("\n");
  const child: ChildProcess = spawn("python3", ["-c", script], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`blackhole helper exited with ${code}`)));
    child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners("exit");
        child.once("exit", () => resolve());
        child.stdin!.end();
      }),
  };
}

/** One vLLM-shaped SSE chunk carrying `content`. */
export function chunkFrame(content: string, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
}

/** A complete, healthy vLLM stream answering `text`. */
export function healthyStream(res: ServerResponse, text = "ok"): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(chunkFrame(text));
  res.end(`${chunkFrame("", "stop")}data: [DONE]\n\n`);
}
