/**
 * The Pyodide pool with real interpreters: execution semantics, isolation between calls, limits, timeouts
 * (soft interrupt and hard kill), crashes and recovery. One 2-worker pool for the whole file (each interpreter
 * is ~3 s and ~160 MB); tests run in order and leave it healthy.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPyodidePool, type PyodidePool } from "../../adapters/node/code-interpreter/pool.js";

let pool: PyodidePool;

beforeAll(async () => {
  pool = createPyodidePool({ workers: 2, timeoutMs: 2_000, interruptGraceMs: 1_000, maxOutputBytes: 4_096, maxMemoryBytes: 512 * 1024 * 1024, recycleAboveMemoryBytes: 128 * 1024 * 1024 });
  await pool.ready();
});
afterAll(() => pool?.close());

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("execution", () => {
  test("print goes to stdout; the last expression's repr is the result", async () => {
    expect(await pool.execute("print('hello')\nprint('world')")).toMatchObject({ status: "success", stdout: "hello\nworld\n", stderr: "", result: null });
    expect(await pool.execute("2+2")).toMatchObject({ status: "success", result: "4" });
    expect(await pool.execute("x = [1, 'a']\nx")).toMatchObject({ result: "[1, 'a']" });
    expect(await pool.execute("'text'")).toMatchObject({ result: "'text'" });
    expect(await pool.execute("None")).toMatchObject({ result: null });
    expect(await pool.execute("1 + 1;")).toMatchObject({ result: null }); // trailing semicolon: quiet, like IPython
    const r = await pool.execute("import sys\nprint('oops', file=sys.stderr)");
    expect(r).toMatchObject({ status: "success", stderr: "oops\n" });
    expect(r.execution_time_ms).toBeGreaterThanOrEqual(0);
  });

  test("top-level await works; asyncio.run explains the alternative", async () => {
    expect(await pool.execute("import asyncio\nawait asyncio.sleep(0.01)\n'done'")).toMatchObject({ status: "success", result: "'done'" });
    const r = await pool.execute("import asyncio\nasync def main(): return 1\nasyncio.run(main())");
    expect(r.status).toBe("exception");
    expect(r.stderr).toContain("use top-level 'await main()' instead");
  });

  test("a Python exception: status exception, the user's traceback in stderr, output before it kept", async () => {
    const r = await pool.execute("print('before')\ndef f():\n    return 1 / 0\nf()");
    expect(r).toMatchObject({ status: "exception", stdout: "before\n", result: null });
    expect(r.stderr).toMatch(/^Traceback \(most recent call last\):\n {2}File "<code>", line 4, in <module>\n/);
    expect(r.stderr).toContain('File "<code>", line 3, in f');
    expect(r.stderr).toMatch(/ZeroDivisionError: division by zero\n$/);
    expect(r.stderr).not.toMatch(/_pyodide|sandbox-|\.js"/);
  });

  test("syntax errors and SystemExit are exceptions too", async () => {
    const syntax = await pool.execute("def broken(:\n  pass");
    expect(syntax.status).toBe("exception");
    expect(syntax.stderr).toContain("SyntaxError");
    expect(syntax.stderr).toContain('File "<code>", line 1');
    expect(await pool.execute("import sys\nsys.exit(3)")).toMatchObject({ status: "exception", stderr: expect.stringContaining("SystemExit: 3") });
  });

  test("input() sees end of file instead of blocking", async () => {
    expect(await pool.execute("input('name? ')")).toMatchObject({ status: "exception", stderr: expect.stringContaining("EOFError") });
  });
});

describe("isolation between calls", () => {
  test("fresh globals every call", async () => {
    expect(await pool.execute("x = 1\ndef helper(): return 2")).toMatchObject({ status: "success" });
    // Both workers must be clean, so ask more than once.
    for (let i = 0; i < 3; i++) {
      const r = await pool.execute("x");
      expect(r.status).toBe("exception");
      expect(r.stderr).toContain("NameError: name 'x' is not defined");
    }
    expect((await pool.execute("helper()")).stderr).toContain("NameError");
  });

  test("builtins, modules, sys state, environment, cwd and files are put back", async () => {
    const dirty = [
      "import builtins, os, sys, decimal",
      "builtins.print = None",
      "builtins.extra = 42",
      "sys.path.insert(0, '/tmp')",
      "sys.modules['json'] = None",
      "os.environ['SECRET'] = 'x'",
      "os.chdir('/tmp')",
      "open('/tmp/leak.txt', 'w').write('secret')",
      "os.makedirs('/home/pyodide/a/b')",
      "open('/lib/python3.14/site-packages/requests.py', 'w').write('poison')",
    ].join("\n");
    // Run on every worker: each one must come back clean.
    await Promise.all([pool.execute(dirty), pool.execute(dirty)]);
    const check = [
      "import os, sys, json",
      "print(json.dumps({'extra': hasattr(__builtins__, 'extra') if isinstance(__builtins__, type(os)) else 'extra' in __builtins__,",
      " 'decimal': 'decimal' in sys.modules, 'path0': sys.path[0], 'secret': os.environ.get('SECRET'), 'cwd': os.getcwd(),",
      " 'tmp': os.listdir('/tmp'), 'home': os.listdir('/home/pyodide'), 'site': os.listdir('/lib/python3.14/site-packages')}))",
    ].join("\n");
    for (const r of await Promise.all([pool.execute(check), pool.execute(check)])) {
      expect(r.status, r.stderr).toBe("success");
      expect(JSON.parse(r.stdout)).toEqual({ extra: false, decimal: false, path0: "", secret: null, cwd: "/home/pyodide", tmp: [], home: [], site: [] });
    }
  });

  test("background tasks do not survive their call", async () => {
    const spawn = "import asyncio\nasync def bg():\n    while True:\n        print('bg')\n        await asyncio.sleep(0.01)\nasyncio.ensure_future(bg())\nawait asyncio.sleep(0.05)";
    expect((await pool.execute(spawn)).stdout).toContain("bg");
    const after = await Promise.all([pool.execute("import asyncio\nawait asyncio.sleep(0.1)"), pool.execute("import asyncio\nawait asyncio.sleep(0.1)")]);
    for (const r of after) expect(r.stdout).toBe("");
  });
});

describe("limits", () => {
  test("two workers run two jobs in parallel", async () => {
    const started = Date.now();
    const results = await Promise.all([pool.execute("import time\ntime.sleep(0.8)\n'a'"), pool.execute("import time\ntime.sleep(0.8)\n'b'")]);
    expect(results.map((r) => r.result)).toEqual(["'a'", "'b'"]);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  test("stdout is capped at maxOutputBytes without splitting a character, and marked truncated", async () => {
    const ascii = await pool.execute("print('x' * 10000)");
    expect(ascii).toMatchObject({ status: "success", truncated: true });
    expect(ascii.stdout.length).toBe(4_096);
    const multibyte = await pool.execute("print('é' * 3000)\nprint('after')"); // 6000 bytes of 2-byte characters
    expect(multibyte.truncated).toBe(true);
    expect(multibyte.stdout).toBe("é".repeat(2_048));
    const repr = await pool.execute("'y' * 10000");
    expect(repr).toMatchObject({ truncated: true });
    expect(repr.result?.length).toBe(4_096);
    expect((await pool.execute("print('small')")).truncated).toBeUndefined();
  });

  test("memory beyond maxMemoryBytes is a MemoryError, and the worker keeps working", async () => {
    const r = await pool.execute("b = bytearray(700 * 1024 * 1024)");
    expect(r).toMatchObject({ status: "exception", stderr: expect.stringContaining("MemoryError") });
    expect(await pool.execute("len(bytearray(10 * 1024 * 1024))")).toMatchObject({ status: "success", result: "10485760" });
  });

  test("a job that grew the heap past recycleAboveMemoryBytes gets its worker replaced afterwards", async () => {
    expect(await pool.execute("len(bytearray(150 * 1024 * 1024))")).toMatchObject({ status: "success", result: "157286400" });
    expect(pool.stats().readyWorkers).toBe(1); // retired right after answering
    expect(await pool.execute("'still serving'")).toMatchObject({ status: "success" });
    await waitFor(() => pool.stats().readyWorkers === 2);
  });
});

describe("time limits and failures", () => {
  test("a busy loop is interrupted at the time limit; the same worker then serves the next call", async () => {
    const r = await pool.execute("print('looping', flush=True)\nwhile True:\n    pass", { timeoutMs: 1_000 });
    expect(r).toMatchObject({ status: "timeout", stdout: "looping\n", error: "Execution timed out after 1000 ms", result: null });
    expect(r.stderr).toContain("KeyboardInterrupt");
    expect(r.execution_time_ms).toBeGreaterThanOrEqual(1_000);
    expect(r.execution_time_ms).toBeLessThan(1_900);
    expect(pool.stats().readyWorkers).toBe(2); // no restart was needed
    expect(await pool.execute("print(1)")).toMatchObject({ status: "success", stdout: "1\n" });
  });

  test("a per-call limit above the pool's is capped to the pool's", async () => {
    const r = await pool.execute("while True: pass", { timeoutMs: 60_000 });
    expect(r).toMatchObject({ status: "timeout", error: "Execution timed out after 2000 ms" });
  });

  test("time.sleep and pending awaits end at the limit without a restart", async () => {
    const sleep = await pool.execute("import time\ntime.sleep(30)", { timeoutMs: 500 });
    expect(sleep).toMatchObject({ status: "timeout", error: "Execution timed out after 500 ms" });
    expect(sleep.execution_time_ms).toBeLessThan(1_400);
    const awaiting = await pool.execute("import asyncio\nawait asyncio.sleep(30)", { timeoutMs: 500 });
    expect(awaiting).toMatchObject({ status: "timeout", error: "Execution timed out after 500 ms" });
    expect(pool.stats().readyWorkers).toBe(2);
  });

  test("code that swallows the interrupt is killed after the grace period; the pool replaces the worker", async () => {
    const code = "print('stubborn', flush=True)\nwhile True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass";
    const started = Date.now();
    const r = await pool.execute(code, { timeoutMs: 1_000 });
    expect(r.status).toBe("timeout");
    expect(r.error).toMatch(/timed out after 1000 ms; the code ignored the interrupt, so its sandbox was restarted/);
    expect(r.stdout).toBe("stubborn\n"); // output printed before the kill survives it
    expect(Date.now() - started).toBeLessThan(3_000);
    // The other worker answers at once, the replacement comes up shortly after.
    expect(await pool.execute("print(1)")).toMatchObject({ status: "success", stdout: "1\n" });
    await waitFor(() => pool.stats().readyWorkers === 2);
    const both = await Promise.all([pool.execute("'ok'"), pool.execute("'ok'")]);
    expect(both.map((x) => x.status)).toEqual(["success", "success"]);
  });

  test("a crashed worker fails its job with status error and is replaced", async () => {
    const r = await pool.execute("import os\nos._exit(1)");
    expect(r.status).toBe("error");
    expect(r.error).toMatch(/The Python sandbox stopped \(.*exit\(1\).*\) and was replaced/);
    expect(await pool.execute("print(2)")).toMatchObject({ status: "success", stdout: "2\n" });
    await waitFor(() => pool.stats().readyWorkers === 2);
  });

  test("aborting a running job interrupts it; aborting before start never runs it", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await pool.execute("while True: pass", { signal: controller.signal });
    expect(r).toMatchObject({ status: "error", error: "Execution aborted by the caller" });
    expect(r.execution_time_ms).toBeLessThan(1_000);
    const early = new AbortController();
    early.abort();
    expect(await pool.execute("print('never')", { signal: early.signal })).toMatchObject({ status: "error", stdout: "" });
  });
});

describe("egress under the default policy", () => {
  test("pyfetch to a loopback server is denied with the original's message; the server sees nothing", async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.end("secret");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await pool.execute(`from pyodide.http import pyfetch\nr = await pyfetch("http://127.0.0.1:${port}/")\nawait r.text()`);
      expect(r.status).toBe("exception");
      expect(r.stderr).toContain("Code interpreter egress denied: host=127.0.0.1 scheme=http reason=special_use_address_blocked ip=127.0.0.1");
      const metadata = await pool.execute('from pyodide.http import pyfetch\nawait pyfetch("http://169.254.169.254/latest/meta-data/")');
      expect(metadata.stderr).toContain("host=169.254.169.254 scheme=http reason=special_use_address_blocked");
      expect(hits).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("raw sockets and urllib are refused with a pointer to pyfetch", async () => {
    const r = await pool.execute("import urllib.request\nurllib.request.urlopen('http://example.com')");
    expect(r.status).toBe("exception");
    expect(r.stderr).toMatch(/raw sockets are disabled in the code interpreter sandbox; for HTTP use: from pyodide.http import pyfetch/);
  });
});
