/**
 * One Pyodide worker thread and the job running on it: start-up deadline, per-job time limit (interrupt
 * buffer, then terminate() after a grace period), crash detection, and the egress fetches the job asks for.
 * The pool (pool.ts) owns queueing and replacement; a slot never restarts itself.
 */
import { Worker } from "node:worker_threads";
import { createInterface } from "node:readline";
import type { Logger } from "../../../src/observability/logger.js";
import type { CodeExecutionResult } from "../../../src/tools/code-interpreter/executor.js";
import type { EgressPolicy } from "../../../src/tools/code-interpreter/egress-policy.js";
import { EgressDeniedError, egressFetch } from "./egress-fetch.js";
import { createOutputBuffer, readOutput } from "./shared-output.js";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-protocol.js";

export interface SlotSettings {
  script: URL;
  interruptGraceMs: number;
  startupTimeoutMs: number;
  maxOutputBytes: number;
  maxMemoryBytes: number;
  recycleAboveMemoryBytes: number;
  maxResponseBytes: number;
  egressPolicy: EgressPolicy;
  logger: Logger;
  /** Called once when the slot can no longer run jobs (crash, hard kill, recycle, failed start). */
  onStopped: (slot: PyodideSlot, reason: string) => void;
}

interface RunningJob {
  id: number;
  startedAt: number;
  timeoutMs: number;
  stop?: "timeout" | "aborted";
  timer: ReturnType<typeof setTimeout>;
  graceTimer?: ReturnType<typeof setTimeout>;
  fetches: Map<number, AbortController>;
  detach: () => void;
  resolve: (result: CodeExecutionResult) => void;
}

const SIGINT = 2;
let nextSlotId = 1;
let nextJobId = 1;

export class PyodideSlot {
  readonly id = nextSlotId++;
  state: "starting" | "idle" | "busy" | "stopped" = "starting";
  /** False for a slot that stopped before its interpreter was ever ready (the pool backs off on those). */
  everReady = false;
  /** Resolves when the interpreter is loaded and warmed up; rejects if it never gets there. */
  readonly started: Promise<void>;
  private readonly worker: Worker;
  private readonly interrupt: Int32Array;
  private readonly stdout: SharedArrayBuffer;
  private readonly stderr: SharedArrayBuffer;
  private job: RunningJob | undefined;

  constructor(private readonly settings: SlotSettings) {
    const init: WorkerInit = {
      interruptBuffer: new SharedArrayBuffer(4),
      stdout: createOutputBuffer(settings.maxOutputBytes),
      stderr: createOutputBuffer(settings.maxOutputBytes),
      maxMemoryBytes: settings.maxMemoryBytes,
      maxResultChars: settings.maxOutputBytes,
      recycleAboveMemoryBytes: settings.recycleAboveMemoryBytes,
    };
    this.interrupt = new Int32Array(init.interruptBuffer);
    this.stdout = init.stdout;
    this.stderr = init.stderr;
    this.worker = new Worker(settings.script, {
      workerData: init,
      env: {}, // no secrets from the host environment inside the sandbox
      stdin: false,
      stdout: true,
      stderr: true,
      // Pyodide's own JS heap needs little; Python memory is wasm memory, capped by maxMemoryBytes.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    this.forwardConsole();

    this.started = new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => {
        reject(new Error(`Pyodide worker did not start within ${settings.startupTimeoutMs} ms`));
        this.stop(`start-up deadline (${settings.startupTimeoutMs} ms) passed`);
      }, settings.startupTimeoutMs);
      this.worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") {
          clearTimeout(deadline);
          if (this.state !== "starting") return;
          this.state = "idle";
          this.everReady = true;
          settings.logger.debug("code interpreter worker ready", { slot: this.id, load_ms: message.loadMs });
          resolve();
        } else if (message.type === "startup-error") {
          clearTimeout(deadline);
          reject(new Error(`Pyodide worker failed to start: ${message.message}`));
          this.stop(`start-up failed: ${message.message.split("\n")[0]}`);
        } else {
          this.onMessage(message);
        }
      });
      this.worker.on("error", (error) => {
        clearTimeout(deadline);
        settings.logger.error("code interpreter worker error", { slot: this.id, error });
        reject(error);
        this.crashed(`worker error: ${error.message}`);
      });
      this.worker.on("exit", (code) => {
        clearTimeout(deadline);
        reject(new Error(`Pyodide worker exited during start-up (code ${code})`));
        this.crashed(`worker exited with code ${code}`);
      });
    });
  }

  /** Runs one job. Never rejects: timeouts, aborts and crashes are results. */
  run(code: string, timeoutMs: number, signal?: AbortSignal): Promise<CodeExecutionResult> {
    if (this.state !== "idle") throw new Error(`slot ${this.id} is ${this.state}, not idle`);
    this.state = "busy";
    return new Promise((resolve) => {
      const id = nextJobId++;
      const onAbort = (): void => this.interruptJob("aborted");
      signal?.addEventListener("abort", onAbort, { once: true });
      this.job = {
        id,
        startedAt: performance.now(),
        timeoutMs,
        timer: setTimeout(() => this.interruptJob("timeout"), timeoutMs),
        fetches: new Map(),
        detach: () => signal?.removeEventListener("abort", onAbort),
        resolve,
      };
      this.send({ type: "run", jobId: id, code });
      if (signal?.aborted) onAbort();
    });
  }

  /** Ends the worker; a running job resolves with `status: "error"` (or timeout if it was already timing out). */
  stop(reason: string): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.finishKilled(reason);
    void this.worker.terminate();
    this.settings.onStopped(this, reason);
  }

  /** Resolves when the thread has exited (for close()). */
  async terminate(): Promise<void> {
    this.stop("pool closed");
    await this.worker.terminate();
  }

  private send(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer as never);
  }

  private interruptJob(why: "timeout" | "aborted"): void {
    const job = this.job;
    if (!job || job.stop) return;
    job.stop = why;
    clearTimeout(job.timer);
    // Running bytecode sees the interrupt within a few instructions; pending awaits see the cancel message.
    Atomics.store(this.interrupt, 0, SIGINT);
    Atomics.notify(this.interrupt, 0); // wakes a time.sleep() waiting on this buffer
    this.send({ type: "cancel", jobId: job.id });
    for (const controller of job.fetches.values()) controller.abort(new Error("code interpreter job stopped"));
    job.graceTimer = setTimeout(() => {
      // Python ignored KeyboardInterrupt (caught it, or is stuck in C): only terminate() stops it.
      this.settings.logger.warn("code interpreter job ignored the interrupt; terminating worker", { slot: this.id, grace_ms: this.settings.interruptGraceMs });
      this.stop(`job ignored the interrupt for ${this.settings.interruptGraceMs} ms`);
    }, this.settings.interruptGraceMs);
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case "done": {
        const job = this.job;
        if (!job || job.id !== message.jobId) return;
        const result = this.collect(job, message.status, message.result, message.resultTruncated);
        this.endJob(job, result);
        if (message.recycle) {
          this.settings.logger.info("code interpreter worker recycled", { slot: this.id, reason: message.recycle });
          this.stop(`recycled: ${message.recycle}`);
        } else if (this.state === "busy") {
          this.state = "idle";
        }
        break;
      }
      case "fetch":
        void this.fetchFor(message.jobId, message.requestId, message.request);
        break;
      case "fetch-abort":
        this.job?.fetches.get(message.requestId)?.abort(new Error("aborted by Python"));
        break;
      case "fatal":
        this.settings.logger.error("code interpreter worker hit a fatal error", { slot: this.id, error: message.message });
        break;
      case "ready":
      case "startup-error":
        break; // handled in the constructor
      default: {
        const unknown: never = message;
        this.settings.logger.error("unknown message from code interpreter worker", { slot: this.id, message: unknown });
      }
    }
  }

  private async fetchFor(jobId: number, requestId: number, request: Parameters<typeof egressFetch>[0]): Promise<void> {
    const job = this.job;
    if (!job || job.id !== jobId || job.stop) {
      this.send({ type: "fetch-result", requestId, ok: false, message: "code interpreter job is no longer running" });
      return;
    }
    const controller = new AbortController();
    job.fetches.set(requestId, controller);
    try {
      const response = await egressFetch(request, {
        policy: this.settings.egressPolicy,
        signal: controller.signal,
        maxResponseBytes: this.settings.maxResponseBytes,
      });
      if (this.state !== "stopped") this.send({ type: "fetch-result", requestId, ok: true, response }, [response.body.buffer]);
    } catch (error) {
      // Every failure goes back to Python as the fetch's exception; denials are also an operator signal.
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof EgressDeniedError) this.settings.logger.warn("code interpreter egress denied", { slot: this.id, detail: message });
      if (this.state !== "stopped") this.send({ type: "fetch-result", requestId, ok: false, message });
    } finally {
      job.fetches.delete(requestId);
    }
  }

  private collect(job: RunningJob, status: "success" | "exception", value: string | null, valueTruncated: boolean): CodeExecutionResult {
    const out = readOutput(this.stdout);
    const err = readOutput(this.stderr);
    const result: CodeExecutionResult = {
      status,
      stdout: out.text,
      stderr: err.text,
      result: value,
      execution_time_ms: Math.round(performance.now() - job.startedAt),
    };
    if (job.stop === "timeout") {
      result.status = "timeout";
      result.result = null;
      result.error = `Execution timed out after ${job.timeoutMs} ms`;
    } else if (job.stop === "aborted") {
      result.status = "error";
      result.result = null;
      result.error = "Execution aborted by the caller";
    }
    if (out.truncated || err.truncated || valueTruncated) result.truncated = true;
    return result;
  }

  private endJob(job: RunningJob, result: CodeExecutionResult): void {
    clearTimeout(job.timer);
    clearTimeout(job.graceTimer);
    job.detach();
    for (const controller of job.fetches.values()) controller.abort(new Error("code interpreter job ended"));
    this.job = undefined;
    job.resolve(result);
  }

  /** The worker is gone with a job on it: report what it printed and why it ended. */
  private finishKilled(reason: string): void {
    const job = this.job;
    if (!job) return;
    const result = this.collect(job, "exception", null, false);
    if (job.stop === "timeout") {
      result.error = reason.startsWith("job ignored the interrupt")
        ? `Execution timed out after ${job.timeoutMs} ms; the code ignored the interrupt, so its sandbox was restarted`
        : `Execution timed out after ${job.timeoutMs} ms; the sandbox then stopped (${reason}) and was restarted`;
    } else if (job.stop !== "aborted") {
      result.status = "error";
      result.error = reason === "pool closed" ? "The code interpreter was shut down during execution" : `The Python sandbox stopped (${reason}) and was replaced`;
    }
    this.endJob(job, result);
  }

  private crashed(reason: string): void {
    if (this.state === "stopped") return;
    this.settings.logger.error("code interpreter worker stopped unexpectedly", { slot: this.id, reason });
    this.stop(reason);
  }

  /** Worker console output (Pyodide warnings, fatal errors) goes to the logger, not to our stdout. */
  private forwardConsole(): void {
    const { logger } = this.settings;
    const worker = this.worker;
    if (worker.stdout) createInterface({ input: worker.stdout }).on("line", (line) => logger.debug("code interpreter worker stdout", { slot: this.id, line }));
    if (worker.stderr) createInterface({ input: worker.stderr }).on("line", (line) => logger.warn("code interpreter worker stderr", { slot: this.id, line }));
  }
}
