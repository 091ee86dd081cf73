/**
 * Messages between the pool (main thread) and a Pyodide worker thread. Type-only: nothing here runs.
 *
 * The worker has no network of its own: Python's fetch becomes a `fetch` message, and the pool performs the
 * request under the egress policy (egress-fetch.ts), outside the sandbox's JavaScript realm.
 */

export interface WorkerInit {
  /** Int32 [0]: the pool writes 2 (SIGINT) to interrupt Python; Pyodide polls it between bytecodes. */
  interruptBuffer: SharedArrayBuffer;
  stdout: SharedArrayBuffer;
  stderr: SharedArrayBuffer;
  /** Cap on the wasm heap; allocation beyond it is a Python MemoryError, not host memory exhaustion. */
  maxMemoryBytes: number;
  /** Cap on repr() of the last expression, in characters. */
  maxResultChars: number;
  /** After a job that grew the wasm heap beyond this, the worker asks to be replaced (memory never shrinks). */
  recycleAboveMemoryBytes: number;
}

export interface SerializedRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: "follow" | "manual" | "error";
}

export interface SerializedResponse {
  url: string;
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
  redirected: boolean;
}

export type ToWorker =
  | { type: "run"; jobId: number; code: string }
  /** Cancels pending awaits of the job (asyncio task); the interrupt buffer handles running bytecode. */
  | { type: "cancel"; jobId: number }
  | { type: "fetch-result"; requestId: number; ok: true; response: SerializedResponse }
  | { type: "fetch-result"; requestId: number; ok: false; message: string };

export type FromWorker =
  | { type: "ready"; loadMs: number }
  | { type: "startup-error"; message: string }
  /** A failure outside Python for the pool's log; usually the worker exits right after (interpreter unusable). */
  | { type: "fatal"; message: string }
  | {
      type: "done";
      jobId: number;
      status: "success" | "exception";
      result: string | null;
      resultTruncated: boolean;
      /** Set when this worker must not serve another job (state it could not reset); the pool replaces it. */
      recycle?: string;
    }
  | { type: "fetch"; requestId: number; jobId: number; request: SerializedRequest }
  | { type: "fetch-abort"; requestId: number };
