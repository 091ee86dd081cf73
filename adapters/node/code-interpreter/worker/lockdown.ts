/**
 * The JavaScript wall around a loaded Pyodide (defence in depth behind python-prelude.ts). Run after Pyodide
 * and the prelude are ready and before the first job: from then on nothing in this worker can load modules,
 * compile code from strings, touch native bindings, or mount the host file system — so even Python that finds
 * a path into JavaScript (e.g. Emscripten's `system()` / `emscripten_run_script` through ctypes, or sockets
 * that `require("ws")`) reaches dead ends. The worker's own code captured everything it needs beforehand.
 */
import Module from "node:module";
import type { PyodideAPI } from "pyodide";

function disabled(what: string): () => never {
  return () => {
    throw new Error(`${what} is disabled in the code interpreter sandbox`);
  };
}

function replace(target: object, key: string, value: unknown, configurable = false): void {
  Object.defineProperty(target, key, { value, writable: false, configurable, enumerable: false });
}

export function lockDown(pyodide: PyodideAPI): void {
  // CommonJS loading: Emscripten's glue calls require("node:child_process") for system() and require("ws")
  // for sockets; the ESM loader's dynamic import() needs code generation, blocked below.
  const cjs = Module as unknown as { _load: unknown; prototype: { require: unknown }; _resolveFilename: unknown };
  cjs._load = disabled("require()");
  cjs._resolveFilename = disabled("require()");
  cjs.prototype.require = disabled("require()");

  // Code generation from strings: eval (incl. Emscripten's direct eval in emscripten_run_script) and every
  // Function-family constructor reachable as `someFunction.constructor`.
  replace(globalThis, "eval", disabled("eval"));
  const samples = [function () {}, async function () {}, function* () {}, async function* () {}];
  for (const sample of samples) replace(Object.getPrototypeOf(sample), "constructor", disabled("the Function constructor"));
  // V8 call sites expose receivers and functions of sloppy frames to a user-set prepareStackTrace.
  replace(Error, "prepareStackTrace", undefined);

  // Native escape hatches on process. The worker was started with an empty environment; make sure.
  const proc = process as unknown as Record<string, unknown>;
  for (const key of [
    "binding",
    "_linkedBinding",
    "dlopen",
    "getBuiltinModule",
    "kill",
    "_kill",
    "abort",
    "chdir",
    "umask",
    "setuid",
    "setgid",
    "seteuid",
    "setegid",
    "setgroups",
    "initgroups",
    "_debugProcess",
    "_debugEnd",
    "_startProfilerIdleNotifier",
    "loadEnvFile",
    "openStdin",
    "execve",
  ]) {
    if (key in proc) replace(proc, key, disabled(`process.${key}`));
  }
  replace(proc, "env", Object.freeze(Object.create(null)));
  replace(proc, "mainModule", undefined);

  // Host file system and network doors in Pyodide's own API (NODEFS mounts, NodeSockFS, package loading).
  const api = pyodide as unknown as Record<string, unknown>;
  for (const key of ["mountNodeFS", "mountNativeFS", "useNodeSockFS", "loadPackage", "loadPackagesFromImports", "registerJsModule"]) {
    // Configurable: Pyodide's fatal-error handler redefines every API member, and Python cannot reach this object.
    if (key in api) replace(api, key, disabled(`pyodide.${key}`), true);
  }
  const internal = (pyodide as unknown as { _api?: Record<string, unknown> })._api;
  if (internal && "initializeNodeSockFS" in internal) internal.initializeNodeSockFS = disabled("NodeSockFS");
  const fs = pyodide.FS as unknown as { mount: unknown; filesystems: Record<string, unknown> };
  fs.mount = disabled("mounting file systems");
  for (const name of ["NODEFS", "NODESOCKFS", "NATIVEFS_ASYNC", "IDBFS", "WORKERFS", "PROXYFS"]) delete fs.filesystems[name];
}
