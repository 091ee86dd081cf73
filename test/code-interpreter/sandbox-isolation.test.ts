/**
 * What Python inside the sandbox can reach: no host file system, no host environment, no way into the
 * worker's JavaScript (and through it Node), and HTTP only as the egress policy allows. One real interpreter,
 * with a policy that allows loopback through a cidr rule so allowed egress can be shown against a local server.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPyodidePool, type PyodidePool } from "../../adapters/node/code-interpreter/pool.js";
import { parseEgressPolicy } from "../../src/tools/code-interpreter/egress-policy.js";

let pool: PyodidePool;
let server: http.Server;
let base: string;
const hostSecret = `host-secret-${randomUUID()}`;

beforeAll(async () => {
  process.env.VR_SANDBOX_TEST_SECRET = hostSecret;
  server = http.createServer((req, res) => {
    if (req.url === "/hello") res.end("hello from host");
    else if (req.url === "/json" && req.method === "POST") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ got: JSON.parse(Buffer.concat(chunks).toString()), type: req.headers["content-type"] }));
      });
    } else if (req.url === "/to-hello") res.writeHead(302, { location: "/hello" }).end();
    else if (req.url === "/to-private") res.writeHead(302, { location: "http://10.255.255.1/admin" }).end();
    else if (req.url === "/hang") return; // never answers
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  pool = createPyodidePool({
    workers: 1,
    timeoutMs: 5_000,
    egressPolicy: parseEgressPolicy({
      mode: "allowlist",
      allowed_schemes: ["http"],
      block_ip_literals: false,
      block_private_networks: false,
      rules: [{ kind: "cidr", value: "127.0.0.1/32" }],
    }),
  });
  await pool.ready();
});
afterAll(async () => {
  delete process.env.VR_SANDBOX_TEST_SECRET;
  await pool?.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("host isolation", () => {
  test("no host file system: /etc/passwd does not exist, only Pyodide's in-memory tree", async () => {
    const r = await pool.execute("open('/etc/passwd').read()");
    expect(r.status).toBe("exception");
    expect(r.stderr).toContain("FileNotFoundError");
    const listing = await pool.execute("import os\nsorted(os.listdir('/'))");
    expect(listing.result).toBe("['dev', 'home', 'lib', 'proc', 'tmp']");
    expect((await pool.execute("import os\nos.path.exists('/work') or os.path.exists('/root') or os.path.exists('/usr/bin')")).result).toBe("False");
  });

  test("no host environment variables", async () => {
    const r = await pool.execute("import os\nrepr(dict(os.environ))");
    expect(r.status).toBe("success");
    expect(r.result).not.toContain(hostSecret);
    expect(r.result).not.toContain("VR_SANDBOX_TEST_SECRET");
  });
});

describe("no way into JavaScript", () => {
  const marker = `/tmp/vr-sandbox-escape-${randomUUID()}`;
  const attempts: [name: string, code: string, expected: RegExp][] = [
    ["import js", "import js\njs.process.exit(1)", /ImportError: import of 'js' is disabled in the code interpreter sandbox/],
    ["from js import …", "from js import eval\neval('1')", /ImportError: import of 'js' is disabled/],
    ["import pyodide_js", "import pyodide_js\npyodide_js.mountNodeFS('/host', '/')", /ImportError: import of 'pyodide_js' is disabled/],
    ["run_js", `from pyodide.code import run_js\nrun_js("require('fs').writeFileSync('${marker}', 'x')")`, /PermissionError: pyodide.code.run_js is disabled/],
    ["importlib", "import importlib\nimportlib.import_module('js')", /ImportError: import of 'js' is disabled/],
    ["meta_path removal", "import sys\nsys.meta_path.pop(0)\nimport js", /ImportError: import of 'js' is disabled/],
    ["re-registering js", "import _pyodide._importhook as h\nprint(sorted(h.jsfinder.jsproxies))\nimport js", /ImportError: import of 'js' is disabled/],
    ["ctypes", "import ctypes\nctypes.CDLL(None).emscripten_run_script(b'1')", /ImportError: import of 'ctypes' is disabled/],
    ["_ctypes", "import _ctypes", /ImportError: import of '_ctypes' is disabled/],
    // Python code can still find the few whitelisted JS functions pyodide.http holds; they lead nowhere.
    ["Function via a JS proxy", "import pyodide.http._pyfetch as f\nf._jsfetch.constructor('return process')()", /JsException: Error: the Function constructor is disabled/],
    ["AsyncFunction via prototype", "import pyodide.http._pyfetch as f\nf.Object.getPrototypeOf(f._jsfetch).constructor('return globalThis')", /the Function constructor is disabled/],
    ["Function via Object", "import pyodide.http._pyfetch as f\nf.Object.constructor(f'require(\"fs\").writeFileSync(\"{chr(47)}tmp\", \"\")')()", /the Function constructor is disabled/],
    ["audit hook tampering", "import gc\nhook = [o for o in gc.get_objects() if getattr(o, '__name__', '') == 'hook'][0]\nhook.__code__ = (lambda e, a: None).__code__", /PermissionError: the code interpreter sandbox audit hook cannot be modified/],
    ["os.system", `import os\nos.system('touch ${marker}')`, /PermissionError: starting or signalling processes is disabled/],
    ["subprocess", "import subprocess\nsubprocess.run(['id'])", /OSError: .*does not support processes/],
    ["raw socket", "import socket\nsocket.create_connection(('127.0.0.1', 22))", /PermissionError: raw sockets are disabled/],
  ];

  test.each(attempts)("%s fails", async (_name, code, expected) => {
    const r = await pool.execute(code);
    expect(r.status, JSON.stringify(r)).toBe("exception");
    expect(r.stderr).toMatch(expected);
  });

  test("the escape attempts neither touched the host nor crashed the interpreter", async () => {
    expect(existsSync(marker)).toBe(false);
    expect(pool.stats().readyWorkers).toBe(1);
    expect(await pool.execute("print('alive')")).toMatchObject({ status: "success", stdout: "alive\n" });
  });
});

describe("egress allowed by policy (cidr 127.0.0.1/32, private networks not blocked)", () => {
  test("GET with pyfetch", async () => {
    const r = await pool.execute(`from pyodide.http import pyfetch\nr = await pyfetch("${base}/hello")\n(r.status, await r.text())`);
    expect(r).toMatchObject({ status: "success", result: "(200, 'hello from host')" });
  });

  test("POST JSON and redirects", async () => {
    const post = await pool.execute(
      `import json\nfrom pyodide.http import pyfetch\nr = await pyfetch("${base}/json", method="POST", body=json.dumps({"n": 1}), headers={"content-type": "application/json"})\nawait r.json()`,
    );
    expect(post).toMatchObject({ status: "success", result: "{'got': {'n': 1}, 'type': 'application/json'}" });
    const redirected = await pool.execute(`from pyodide.http import pyfetch\nr = await pyfetch("${base}/to-hello")\n(r.url, r.redirected, await r.text())`);
    expect(redirected.result).toBe(`('${base}/hello', True, 'hello from host')`);
  });

  test("denied: outside the allowlist, a redirect out of it, a scheme not allowed", async () => {
    const outside = await pool.execute('from pyodide.http import pyfetch\nawait pyfetch("http://10.255.255.1/")');
    expect(outside.stderr).toContain("Code interpreter egress denied: host=10.255.255.1 scheme=http reason=cidr_not_allowlisted");
    const hop = await pool.execute(`from pyodide.http import pyfetch\nawait pyfetch("${base}/to-private")`);
    expect(hop.stderr).toContain("Code interpreter egress denied: host=10.255.255.1 scheme=http reason=cidr_not_allowlisted");
    const scheme = await pool.execute(`from pyodide.http import pyfetch\nawait pyfetch("${base.replace("http", "https")}/hello")`);
    expect(scheme.stderr).toContain("Code interpreter egress denied: host=127.0.0.1 scheme=https reason=scheme_not_allowed");
  });

  test("a request that never answers ends at the time limit without restarting the interpreter", async () => {
    const r = await pool.execute(`from pyodide.http import pyfetch\nawait pyfetch("${base}/hang")`, { timeoutMs: 800 });
    expect(r).toMatchObject({ status: "timeout", error: "Execution timed out after 800 ms" });
    expect(r.execution_time_ms).toBeLessThan(1_700);
    expect(pool.stats().readyWorkers).toBe(1);
    expect(await pool.execute("1")).toMatchObject({ status: "success", result: "1" });
  });
});
