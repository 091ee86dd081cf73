/**
 * The Node adapter's worker-thread entry files. No import reaches them (a `Worker` loads them by URL), so a build
 * that compiles only an entry's import graph must add them, or a compiled gateway would fail to start its trace
 * export thread or its Pyodide sandbox. `npm run build` compiles the whole tree and needs no list.
 */
export const NODE_WORKER_ENTRIES = ["adapters/node/trace-export/export-worker.ts", "adapters/node/code-interpreter/worker/pyodide-worker.ts"];

/** `entries` plus the worker entries when any of them belongs to the Node adapter. */
export function withWorkerEntries(entries: string[]): string[] {
  return entries.some((entry) => entry.startsWith("adapters/node/")) ? [...new Set([...entries, ...NODE_WORKER_ENTRIES])] : entries;
}
