/**
 * The Node code interpreter: a Pyodide worker-thread pool (in-process CodeExecutor), the loopback service that
 * shares one pool between gateway workers, and the egress policy loader. Runtime-agnostic pieces (the
 * executor interface, the HTTP client, the policy evaluator) live in src/tools/code-interpreter/.
 */
export { createPyodidePool, type PyodidePool, type PyodidePoolOptions, type PyodidePoolStats } from "./pool.js";
export { runCodeInterpreterService, type CodeInterpreterServiceHandle, type CodeInterpreterServiceOptions } from "./service.js";
export { loadEgressPolicyFile } from "./load-egress-policy.js";
export { EgressDeniedError, egressFetch } from "./egress-fetch.js";
