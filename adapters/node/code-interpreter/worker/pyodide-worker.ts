/**
 * Worker-thread entry: one Pyodide interpreter that runs one job at a time for the pool (pool.ts).
 *
 * Loads Pyodide offline from the npm package's own files, wires stdout/stderr into shared buffers and the
 * interrupt buffer, runs the Python prelude (fresh globals per job, import blocks, audit hook), locks the
 * JavaScript realm down, then serves `run` messages. Python's only way out is `fetch`, which is forwarded to
 * the pool as a message and checked there against the egress policy.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadPyodide, type PyodideAPI } from "pyodide";
import { OutputWriter } from "../shared-output.js";
import type { FromWorker, SerializedRequest, SerializedResponse, ToWorker, WorkerInit } from "../worker-protocol.js";
import { lockDown } from "./lockdown.js";
import { auditHookSource, preludeSource } from "./python-prelude.js";

interface PyCallable {
  (...args: unknown[]): unknown;
  destroy(): void;
}

const port = parentPort;
if (!port) throw new Error("pyodide-worker.js must run in a worker thread");
const init = workerData as WorkerInit;
const post = (message: FromWorker, transfer: Transferable[] = []): void => port.postMessage(message, transfer as never);

capWasmMemory(init.maxMemoryBytes);

const stdout = new OutputWriter(init.stdout);
const stderr = new OutputWriter(init.stderr);
const interrupt = new Int32Array(init.interruptBuffer);

// Captured before lockdown; the sandbox's fetch below only ever talks to the pool.
const RealRequest = Request;
const RealResponse = Response;
const pendingFetches = new Map<number, { resolve: (r: SerializedResponse) => void; reject: (e: Error) => void }>();
let nextRequestId = 1;
let currentJob = 0;

/**
 * The `fetch` Python sees (pyodide.http.pyfetch calls it with a Request). Runs the request in the pool under
 * the egress policy; a denial arrives as an Error whose message Python shows verbatim.
 */
async function sandboxFetch(input: unknown, options?: unknown): Promise<Response> {
  const request = new RealRequest(input as RequestInfo, options as RequestInit | undefined);
  const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  request.signal.throwIfAborted();
  const requestId = nextRequestId++;
  const serialized: SerializedRequest = {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    body,
    redirect: request.redirect,
  };
  const reply = await new Promise<SerializedResponse>((resolve, reject) => {
    pendingFetches.set(requestId, { resolve, reject });
    request.signal.addEventListener(
      "abort",
      () => {
        pendingFetches.delete(requestId);
        post({ type: "fetch-abort", requestId });
        reject(request.signal.reason instanceof Error ? request.signal.reason : new Error("fetch aborted"));
      },
      { once: true },
    );
    post({ type: "fetch", requestId, jobId: currentJob, request: serialized }, body ? [body.buffer] : []);
  });
  const nullBody = reply.status === 204 || reply.status === 205 || reply.status === 304;
  const response = new RealResponse(nullBody ? null : (reply.body as Uint8Array<ArrayBuffer>), { status: reply.status, statusText: reply.statusText, headers: reply.headers });
  // Response's constructor cannot set these; pyfetch reads .url.
  Object.defineProperty(response, "url", { value: reply.url });
  Object.defineProperty(response, "redirected", { value: reply.redirected });
  return response;
}

/** setTimeout that hands Python a number, not Node's Timeout object (whose internals lead elsewhere). */
function sandboxSetTimeout(callback: () => void, ms?: number): number {
  return Number(setTimeout(callback, ms));
}
function sandboxClearTimeout(id?: number): void {
  clearTimeout(id);
}

/**
 * The whole JavaScript world `import js` exposes, and the names pyodide.http / webloop / ffi.wrappers bind
 * at import time. Everything else in this realm stays out of Python's reach.
 */
function jsGlobals(): object {
  const globals = Object.create(null) as Record<string, unknown>;
  Object.assign(globals, {
    fetch: sandboxFetch,
    Request: RealRequest,
    Response: RealResponse,
    Headers,
    AbortController,
    AbortSignal,
    Object,
    setTimeout: sandboxSetTimeout,
    clearTimeout: sandboxClearTimeout,
    setInterval: disabledTimer,
    clearInterval: disabledTimer,
  });
  return Object.freeze(globals);
}

function disabledTimer(): never {
  throw new Error("setInterval is not available in the code interpreter sandbox");
}

/**
 * Wasm memory only grows through Memory.prototype.grow (Emscripten's growMemory catches the error), so a cap
 * here turns a runaway allocation into a Python MemoryError instead of gigabytes of host RAM.
 */
let largestMemoryBytes = 0;
function capWasmMemory(maxBytes: number): void {
  const grow = WebAssembly.Memory.prototype.grow;
  WebAssembly.Memory.prototype.grow = function (this: WebAssembly.Memory, delta: number): number {
    if (this.buffer.byteLength + delta * 65_536 > maxBytes) {
      throw new RangeError(`code interpreter memory limit (${maxBytes} bytes) reached`);
    }
    const previousPages = grow.call(this, delta);
    largestMemoryBytes = Math.max(largestMemoryBytes, this.buffer.byteLength);
    return previousPages;
  };
}

async function start(): Promise<{ startJob: PyCallable; cancelJob: PyCallable; afterJob: PyCallable }> {
  const began = performance.now();
  const pyodide: PyodideAPI = await loadPyodide({
    jsglobals: jsGlobals(),
    env: { HOME: "/home/pyodide" },
    args: [],
  });
  pyodide.setStdin({ stdin: () => null });
  pyodide.setStdout({ write: (chunk: Uint8Array) => (stdout.write(chunk), chunk.length) });
  pyodide.setStderr({ write: (chunk: Uint8Array) => (stderr.write(chunk), chunk.length) });
  pyodide.setInterruptBuffer(interrupt);

  /**
   * time.sleep for Python: Pyodide's own blocks the thread in a way the interrupt buffer cannot end. Waiting on
   * the interrupt buffer itself wakes up the moment the pool writes SIGINT (and notifies), and checkInterrupt()
   * then raises KeyboardInterrupt in Python like any interrupted bytecode.
   */
  const sleep = (seconds: number): void => {
    Atomics.wait(interrupt, 0, 0, seconds * 1000);
    pyodide.checkInterrupt();
  };
  const namespace = pyodide.toPy({ AUDIT_HOOK_SOURCE: auditHookSource, SLEEP_IMPL: sleep }) as { get(key: string): PyCallable };
  pyodide.runPython(preludeSource, { globals: namespace as never, filename: "<sandbox-prelude>" } as never);
  const entry = {
    startJob: namespace.get("start_job"),
    cancelJob: namespace.get("cancel_job"),
    afterJob: namespace.get("after_job"),
  };
  lockDown(pyodide);
  // Warm-up: the first run pays for compiling the runner's paths; do it before reporting ready.
  await runJob(entry, 0, "None");
  post({ type: "ready", loadMs: Math.round(performance.now() - began) });
  return entry;
}

async function runJob(entry: { startJob: PyCallable; afterJob: PyCallable }, jobId: number, code: string): Promise<void> {
  currentJob = jobId;
  Atomics.store(interrupt, 0, 0);
  stdout.reset();
  stderr.reset();
  let outcome: [status: "success" | "exception", result: string | null, truncated: boolean];
  const task = entry.startJob(code, init.maxResultChars) as PromiseLike<string> & { destroy(): void };
  try {
    outcome = JSON.parse(await task) as typeof outcome;
  } finally {
    task.destroy();
  }
  let recycle: string | undefined;
  try {
    recycle = (entry.afterJob() as string | undefined | null) ?? undefined;
  } catch (error) {
    // Could not put the interpreter back in a clean state: it must not serve anyone else.
    recycle = `state reset failed: ${(error as Error).message.split("\n").slice(-2).join(" ")}`;
  }
  // Wasm memory never shrinks: a worker that once needed a lot would keep holding it for every later job.
  if (!recycle && largestMemoryBytes > init.recycleAboveMemoryBytes) {
    recycle = `wasm memory grew to ${Math.round(largestMemoryBytes / 1048576)} MiB`;
  }
  for (const [, pending] of pendingFetches) pending.reject(new Error("job finished"));
  pendingFetches.clear();
  currentJob = 0;
  // A stray interrupt that landed after the job finished must not hit the next one.
  Atomics.store(interrupt, 0, 0);
  if (jobId !== 0) post({ type: "done", jobId, status: outcome[0], result: outcome[1], resultTruncated: outcome[2], ...(recycle ? { recycle } : {}) });
  else if (recycle) throw new Error(`warm-up left the sandbox dirty: ${recycle}`);
}

// No unhandledRejection handler on purpose: Pyodide's fatal errors and Emscripten's exit() (os._exit) surface
// as rejections, and Node's default — the thread dies — is exactly what lets the pool fail the job at once and
// replace the interpreter, instead of waiting for the time limit on an interpreter that will never answer.
start().then(
  (entry) => {
    port.on("message", (message: ToWorker) => {
      switch (message.type) {
        case "run":
          // The pool sends one job at a time, so jobs never overlap here.
          runJob(entry, message.jobId, message.code).catch((error: unknown) => {
            // A failure outside Python (Pyodide fatal error) leaves the interpreter unusable: exit so the pool
            // reports the job as crashed and starts a replacement.
            post({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
            process.exit(70);
          });
          break;
        case "cancel":
          if (message.jobId !== currentJob) break;
          // This handler only runs while Python is suspended in an await, where the interrupt cannot land; it
          // would instead hit cancel_job itself. Clear it and cancel the awaiting task instead.
          Atomics.store(interrupt, 0, 0);
          try {
            entry.cancelJob();
          } catch (error) {
            // The pool's grace timer terminates this worker if the job does not end; report why.
            post({ type: "fatal", message: `cancelling the job failed: ${error instanceof Error ? error.message : String(error)}` });
          }
          break;
        case "fetch-result": {
          const pending = pendingFetches.get(message.requestId);
          pendingFetches.delete(message.requestId);
          if (!pending) break; // aborted by Python meanwhile
          if (message.ok) pending.resolve(message.response);
          else pending.reject(new Error(message.message));
          break;
        }
        default: {
          const unknown: never = message;
          throw new Error(`unknown message ${JSON.stringify(unknown)}`);
        }
      }
    });
  },
  (error: unknown) => {
    post({ type: "startup-error", message: error instanceof Error ? error.stack ?? error.message : String(error) });
  },
);
