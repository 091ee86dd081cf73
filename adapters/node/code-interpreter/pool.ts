/**
 * A pool of Pyodide worker threads behind the CodeExecutor interface: N interpreters started and warmed up
 * front, jobs queued FIFO to the first idle one, and any interpreter that crashes, ignores an interrupt or
 * gets dirty replaced by a fresh one while the rest keep serving.
 */
import { type Logger, silentLogger } from "../../../src/observability/logger.js";
import { defaultEgressPolicy, type EgressPolicy } from "../../../src/tools/code-interpreter/egress-policy.js";
import { type CodeExecutionOptions, type CodeExecutionResult, type CodeExecutor, executionError } from "../../../src/tools/code-interpreter/executor.js";
import { PyodideSlot, type SlotSettings } from "./pyodide-slot.js";
import { workerScriptUrl } from "../worker-script.js";

export interface PyodidePoolOptions {
  /** Interpreters (worker threads), each ~160 MB and ~3-4 s to start. Default 2. */
  workers?: number;
  /** Per-job time limit, and the ceiling for per-call `timeoutMs`. Default 30 000 (the original's). */
  timeoutMs?: number;
  /** After the interrupt, how long Python gets to stop before the worker is terminated. Default 1 000. */
  interruptGraceMs?: number;
  /** Cap per stream (stdout, stderr) in bytes and on the result repr in characters. Default 65 536. */
  maxOutputBytes?: number;
  /** Wasm heap cap per interpreter; beyond it Python gets MemoryError. Default 1 GiB. */
  maxMemoryBytes?: number;
  /**
   * A worker whose wasm heap grew beyond this during a job is replaced after it (wasm memory never shrinks, so
   * one big job would otherwise pin that much RAM forever). Default 256 MiB (a fresh worker uses ~30 MiB).
   */
  recycleAboveMemoryBytes?: number;
  /** Largest HTTP response body Python may fetch (decoded). Default 32 MiB. */
  maxResponseBytes?: number;
  /** Jobs waiting for a worker beyond this are refused at once (`status: "error"`). Default 100. */
  maxQueuedJobs?: number;
  /** A job that waited this long for a worker is refused (`status: "error"`). Default 60 000. */
  queueTimeoutMs?: number;
  /** ready() rejects if the workers are not all up by then; also the per-worker start deadline. Default 120 000. */
  startupTimeoutMs?: number;
  /** Outbound HTTP policy for Python. Default: public http/https only (DEFAULT_EGRESS_POLICY_DOCUMENT). */
  egressPolicy?: EgressPolicy;
  logger?: Logger;
}

export interface PyodidePoolStats {
  configuredWorkers: number;
  readyWorkers: number;
  busyWorkers: number;
  queuedJobs: number;
}

export interface PyodidePool extends CodeExecutor {
  stats(): PyodidePoolStats;
}

interface QueuedJob {
  code: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  enqueuedAt: number;
  resolve: (result: CodeExecutionResult) => void;
  cleanup: () => void;
}

export function createPyodidePool(options: PyodidePoolOptions = {}): PyodidePool {
  const workers = options.workers ?? 2;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxQueuedJobs = options.maxQueuedJobs ?? 100;
  const queueTimeoutMs = options.queueTimeoutMs ?? 60_000;
  const startupTimeoutMs = options.startupTimeoutMs ?? 120_000;
  const logger = options.logger ?? silentLogger;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (options.recycleAboveMemoryBytes !== undefined && options.recycleAboveMemoryBytes < 64 * 1024 * 1024) {
    // A fresh interpreter already uses ~30 MiB; a lower threshold would recycle every worker after every job.
    throw new RangeError(`recycleAboveMemoryBytes must be at least 64 MiB, got ${options.recycleAboveMemoryBytes}`);
  }

  const slots = new Set<PyodideSlot>();
  const queue: QueuedJob[] = [];
  let closed = false;
  let consecutiveStartFailures = 0;
  const maxStartFailures = 3;
  let respawnTimer: ReturnType<typeof setTimeout> | undefined;
  const scriptPromise = workerScriptUrl(import.meta.url, "./worker/pyodide-worker", "code-interpreter-worker");

  const settings = (script: URL): SlotSettings => ({
    script,
    interruptGraceMs: options.interruptGraceMs ?? 1_000,
    startupTimeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? 65_536,
    maxMemoryBytes: options.maxMemoryBytes ?? 1024 * 1024 * 1024,
    recycleAboveMemoryBytes: options.recycleAboveMemoryBytes ?? 256 * 1024 * 1024,
    maxResponseBytes: options.maxResponseBytes ?? 32 * 1024 * 1024,
    egressPolicy: options.egressPolicy ?? defaultEgressPolicy(),
    logger,
    onStopped,
  });

  let lastStartError: unknown;
  const readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const readyCount = (): number => [...slots].filter((s) => s.state === "idle" || s.state === "busy").length;

  function settleReady(): void {
    if (readyCount() >= workers) {
      for (const waiter of readyWaiters.splice(0)) waiter.resolve();
    } else if (consecutiveStartFailures >= maxStartFailures) {
      // The same failure three times in a row (e.g. a broken install) will not fix itself: say so now.
      const error = new Error(`code interpreter workers keep failing to start: ${describe(lastStartError)}`);
      for (const waiter of readyWaiters.splice(0)) waiter.reject(error);
    }
  }

  async function spawn(): Promise<void> {
    const script = await scriptPromise;
    if (closed) return;
    const slot = new PyodideSlot(settings(script));
    slots.add(slot);
    slot.started.then(
      () => {
        consecutiveStartFailures = 0;
        settleReady();
        dispatch();
      },
      (error: unknown) => {
        if (closed) return; // terminated by close() while loading: expected, not a failure
        lastStartError = error;
        logger.error("code interpreter worker failed to start", { slot: slot.id, error });
      },
    );
  }

  function onStopped(slot: PyodideSlot, reason: string): void {
    slots.delete(slot);
    if (closed) return;
    if (!slot.everReady) {
      consecutiveStartFailures++;
      lastStartError = reason;
    }
    logger.info("replacing code interpreter worker", { slot: slot.id, reason });
    settleReady();
    scheduleTopUp();
  }

  /** Crashes are replaced at once; repeated start-up failures back off (1 s, 2 s, … 30 s) instead of spinning. */
  function scheduleTopUp(): void {
    const delay = consecutiveStartFailures === 0 ? 0 : Math.min(30_000, 1_000 * 2 ** (consecutiveStartFailures - 1));
    clearTimeout(respawnTimer);
    respawnTimer = setTimeout(() => void topUp(), delay);
  }

  let toppingUp = false;
  async function topUp(): Promise<void> {
    if (toppingUp) return; // the running loop will see the new vacancy
    toppingUp = true;
    try {
      await fill();
    } finally {
      toppingUp = false;
    }
  }

  async function fill(): Promise<void> {
    while (!closed && slots.size < workers) {
      try {
        await spawn();
      } catch (error) {
        // Creating the thread itself failed (missing script, out of memory): retry later, never crash the host.
        lastStartError = error;
        consecutiveStartFailures++;
        logger.error("could not create code interpreter worker", { error });
        settleReady();
        scheduleTopUp();
        return;
      }
    }
  }

  const readyPromise = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`code interpreter pool not ready within ${startupTimeoutMs} ms (${readyCount()}/${workers} workers up${lastStartError ? `; last error: ${describe(lastStartError)}` : ""})`));
    }, startupTimeoutMs);
    readyWaiters.push({
      resolve: () => {
        clearTimeout(timer);
        logger.info("code interpreter pool ready", { workers });
        resolve();
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
  // Failures are logged per worker; this keeps a pool nobody awaits from raising an unhandled rejection.
  readyPromise.catch((error: unknown) => logger.error("code interpreter pool failed to start", { error }));
  void topUp();

  function dispatch(): void {
    while (queue.length > 0) {
      const slot = [...slots].find((s) => s.state === "idle");
      if (!slot) return;
      const job = queue.shift() as QueuedJob;
      job.cleanup();
      slot.run(job.code, job.timeoutMs, job.signal).then((result) => {
        job.resolve(result);
        dispatch();
      });
    }
  }

  function execute(code: string, call: CodeExecutionOptions = {}): Promise<CodeExecutionResult> {
    if (closed) return Promise.resolve(executionError("The code interpreter pool is closed"));
    if (call.signal?.aborted) return Promise.resolve(executionError("Execution aborted by the caller"));
    if (queue.length >= maxQueuedJobs) {
      logger.warn("code interpreter queue full", { queued: queue.length });
      return Promise.resolve(executionError(`Code interpreter overloaded: ${queue.length} jobs already waiting`));
    }
    const jobTimeout = Math.min(call.timeoutMs ?? timeoutMs, timeoutMs);
    return new Promise((resolve) => {
      const job: QueuedJob = {
        code,
        timeoutMs: jobTimeout > 0 ? jobTimeout : timeoutMs,
        signal: call.signal,
        enqueuedAt: Date.now(),
        resolve,
        cleanup: () => {
          clearTimeout(queueTimer);
          call.signal?.removeEventListener("abort", onAbort);
        },
      };
      const leaveQueue = (result: CodeExecutionResult): void => {
        const index = queue.indexOf(job);
        if (index < 0) return;
        queue.splice(index, 1);
        job.cleanup();
        resolve(result);
      };
      const onAbort = (): void => leaveQueue(executionError("Execution aborted by the caller", Date.now() - job.enqueuedAt));
      const queueTimer = setTimeout(
        () => leaveQueue(executionError(`Code interpreter busy: no worker became free within ${queueTimeoutMs} ms`, Date.now() - job.enqueuedAt)),
        queueTimeoutMs,
      );
      call.signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(job);
      dispatch();
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    clearTimeout(respawnTimer);
    for (const job of queue.splice(0)) {
      job.cleanup();
      job.resolve(executionError("The code interpreter pool was closed before the job started"));
    }
    for (const waiter of readyWaiters.splice(0)) waiter.reject(new Error("code interpreter pool closed before it was ready"));
    // The script lookup may still be pending; once it settles no new slot can be created (closed is set).
    await scriptPromise.catch((error: unknown) => logger.debug("code interpreter worker script was unavailable", { error }));
    await Promise.all([...slots].map((slot) => slot.terminate()));
  }

  return {
    execute,
    ready: () => readyPromise,
    close,
    stats: () => {
      return {
        configuredWorkers: workers,
        readyWorkers: readyCount(),
        busyWorkers: [...slots].filter((s) => s.state === "busy").length,
        queuedJobs: queue.length,
      };
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
