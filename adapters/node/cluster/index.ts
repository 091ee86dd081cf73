/** Multi-worker serving on Node's cluster module: supervisor (primary), worker IPC, cluster-wide metrics. */
export { runSupervisor, type SupervisorOptions } from "./supervisor.js";
export { createClusterMetricsRenderer, installWorkerIpc, type WorkerIpcOptions } from "./worker-ipc.js";
export { WORKER_INDEX_ENV, workerIndex } from "./protocol.js";
