/**
 * Python run once per worker after Pyodide loads, before any user code: closes the Python-side doors into the
 * host JavaScript realm, installs an audit hook, records the clean state, and defines the per-job entry points
 * the worker calls (`start_job`, `cancel_job`, `after_job`).
 *
 * The JavaScript side (lockdown.ts) is the second wall: even code that gets past these checks finds no
 * `require`, `eval`, `Function`, `process.binding` or host file system mounts.
 */

/**
 * The audit hook lives in its own code object: CPython audit hooks cannot be removed, and this one only uses
 * constants, attribute syntax and its own defaults (whose replacement it forbids), so rebinding builtins or
 * module globals cannot switch it off. Anything unexpected inside it raises, which fails closed.
 */
export const auditHookSource = String.raw`
def make_hook(FunctionType=type(lambda: None)):
    def hook(event, args, _FunctionType=FunctionType):
        if event.startswith("ctypes."):
            raise PermissionError("ctypes is disabled in the code interpreter sandbox")
        if event == "import":
            root = args[0].partition(".")[0]
            if root in ("js", "pyodide_js", "ctypes", "_ctypes"):
                raise ImportError("import of '" + args[0] + "' is disabled in the code interpreter sandbox")
            return
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
            raise PermissionError(
                "raw sockets are disabled in the code interpreter sandbox; "
                "for HTTP use: from pyodide.http import pyfetch; r = await pyfetch(url)"
            )
        if event in ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                     "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn"):
            raise PermissionError("starting or signalling processes is disabled in the code interpreter sandbox")
        if event == "object.__setattr__" and args[1] in ("__code__", "__defaults__", "__kwdefaults__"):
            target = args[0]
            if type(target) is _FunctionType and target.__code__.co_filename == "<sandbox-audit>":
                raise PermissionError("the code interpreter sandbox audit hook cannot be modified")
    return hook
`;

export const preludeSource = String.raw`
import ast, asyncio, builtins, io, json, linecache, logging, os, stat, sys, traceback, warnings, weakref
import pyodide.code, pyodide.ffi, pyodide.ffi.wrappers, pyodide.http, pyodide.webloop
import _pyodide._importhook as _importhook
from _pyodide._base import CodeRunner

FILENAME = "<code>"
BLOCKED_ROOTS = frozenset({"js", "pyodide_js", "ctypes", "_ctypes"})

# --- 1. Doors into JavaScript. pyodide.http, pyodide.ffi.wrappers and pyodide.webloop were imported above, so
# they already hold the few (whitelisted) JS functions they need; nothing else may import js / pyodide_js.
for _name in ("js", "pyodide_js"):
    _importhook.jsfinder.jsproxies.pop(_name, None)
for _name in list(sys.modules):
    if _name.partition(".")[0] in BLOCKED_ROOTS:
        del sys.modules[_name]


class SandboxImportBlocker:
    """First on sys.meta_path: a clear ImportError instead of the JS proxy modules or ctypes."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname.partition(".")[0] in BLOCKED_ROOTS:
            raise ImportError(f"import of {fullname!r} is disabled in the code interpreter sandbox", name=fullname)
        return None


sys.meta_path.insert(0, SandboxImportBlocker)


def _run_js_disabled(code, /):
    raise PermissionError("pyodide.code.run_js is disabled in the code interpreter sandbox")


pyodide.code.run_js = _run_js_disabled


def _asyncio_run_unavailable(main, *, debug=None, loop_factory=None):
    if asyncio.iscoroutine(main):
        main.close()  # avoid a "coroutine was never awaited" warning on top of the real error
    raise RuntimeError(
        "asyncio.run() cannot block in this sandbox (Pyodide without stack switching); "
        "the code already runs inside an event loop: use top-level 'await main()' instead"
    )


def _run_until_complete_unavailable(self, future):
    return _asyncio_run_unavailable(future)


def _interruptible_sleep(seconds):
    seconds = float(seconds)
    if not seconds >= 0:  # also rejects NaN, which would otherwise wait forever
        raise ValueError("sleep length must be a non-negative number")
    SLEEP_IMPL(seconds)


import time

time.sleep = _interruptible_sleep
asyncio.run = _asyncio_run_unavailable
pyodide.webloop.WebLoop.run_until_complete = _run_until_complete_unavailable

_audit_namespace = {}
exec(compile(AUDIT_HOOK_SOURCE, "<sandbox-audit>", "exec"), _audit_namespace)
sys.addaudithook(_audit_namespace["make_hook"]())
del _audit_namespace

# --- 2. Per-job hygiene: user code runs with fresh globals; everything else it can change is put back.
_pending_handles = weakref.WeakSet()
_orig_call_later = pyodide.webloop.WebLoop.call_later


def _tracked_call_later(self, delay, callback, *args, context=None):
    handle = _orig_call_later(self, delay, callback, *args, context=context)
    _pending_handles.add(handle)
    return handle


pyodide.webloop.WebLoop.call_later = _tracked_call_later

for _stream in (sys.stdout, sys.stderr):
    # Lone surrogates in a str must not turn a print() into an exception.
    _stream.reconfigure(errors="backslashreplace")

HOME = os.environ.get("HOME", "/home/pyodide")
_std = (sys.stdin, sys.stdout, sys.stderr)
_hooks = (sys.displayhook, sys.excepthook, sys.breakpointhook, sys.unraisablehook)
_path = list(sys.path)
_meta_path = list(sys.meta_path)
_path_hooks = list(sys.path_hooks)
_environ = dict(os.environ)
_recursion_limit = sys.getrecursionlimit()
_warning_filters = list(warnings.filters)
_root_handlers = list(logging.root.handlers)
_root_level = logging.root.level
_builtins = dict(builtins.__dict__)
_MISSING = object()
_fs_skip = ("/dev", "/proc")


def _fs_snapshot():
    entries = {}
    stack = ["/"]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as it:
            for entry in it:
                if entry.path in _fs_skip:
                    continue
                st = entry.stat(follow_symlinks=False)
                entries[entry.path] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return entries


def _remove(path):
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        for child in os.listdir(path):
            _remove(os.path.join(path, child))
        os.rmdir(path)
    else:
        os.unlink(path)


def _restore_fs():
    """New files go; a changed baseline file (the stdlib zip, a directory) means this worker must be replaced."""
    os.chdir(HOME)
    now = _fs_snapshot()
    for path in sorted((p for p in now if p not in _fs_baseline), key=len, reverse=True):
        if os.path.lexists(path):
            _remove(path)
    for path, (kind, size, mtime) in _fs_baseline.items():
        current = now.get(path)
        if current is None or current[0] != kind or (kind != stat.S_IFDIR and current != (kind, size, mtime)):
            return f"sandbox file {path} was modified"
    return None


def _flush():
    for stream in (sys.stdout, sys.stderr, _std[1], _std[2]):
        try:
            stream.flush()
        except BaseException:
            pass  # user code may have replaced or closed the stream; its buffered text is lost either way


def _hidden_frame(filename):
    # The sandbox's own machinery (prelude, audit hook, the worker's JavaScript) is noise to the model and
    # would reveal host paths.
    return filename.startswith(("<sandbox-", "file:", "node:")) or filename.endswith((".js", ".mjs"))


def _strip_frames(te, seen):
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if not _hidden_frame(f.filename)])
    _strip_frames(te.__cause__, seen)
    _strip_frames(te.__context__, seen)
    for sub in te.exceptions or ():
        _strip_frames(sub, seen)


def _write_traceback(error):
    tb = error.__traceback__
    # Drop the runner's own frames: the model should see its code, not Pyodide's.
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    try:
        te = traceback.TracebackException(type(error), error, tb)
        _strip_frames(te, set())
        text = "".join(te.format())
    except BaseException as format_error:
        # A hostile __str__/__repr__ on the exception must not break the runner.
        text = f"{type(error).__name__}: <unprintable exception: {type(format_error).__name__}>\n"
    _std[2].write(text)


async def _run(code, max_result_chars):
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    status, result, truncated = "success", None, False
    try:
        linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
        runner = CodeRunner(
            code, filename=FILENAME, return_mode="last_expr", quiet_trailing_semicolon=True,
            flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        ).compile()
        value = await runner.run_async(namespace)
        if value is not None:
            text = repr(value)
            if len(text) > max_result_chars:
                text, truncated = text[:max_result_chars], True
            result = text
    except BaseException as error:  # includes KeyboardInterrupt (time limit) and SystemExit (exit())
        status = "exception"
        _write_traceback(error)
    finally:
        namespace.clear()  # break cycles through user functions' __globals__ now, not at the next gc
        _flush()
    return json.dumps([status, result, truncated])


_current = [None]


def start_job(code, max_result_chars):
    task = asyncio.ensure_future(_run(code, max_result_chars))
    _current[0] = task
    return task


def cancel_job():
    task = _current[0]
    if task is not None and not task.done():
        task.cancel("time limit reached")


def after_job():
    _current[0] = None
    for handle in list(_pending_handles):
        handle.cancel()
    for task in asyncio.all_tasks(asyncio.get_event_loop()):
        task.cancel()
    sys.stdin, sys.stdout, sys.stderr = _std
    sys.displayhook, sys.excepthook, sys.breakpointhook, sys.unraisablehook = _hooks
    sys.path[:] = _path
    sys.meta_path[:] = _meta_path
    sys.path_hooks[:] = _path_hooks
    sys.path_importer_cache.clear()
    sys.setrecursionlimit(_recursion_limit)
    os.environ.clear()
    os.environ.update(_environ)
    warnings.filters[:] = _warning_filters
    logging.root.handlers[:] = _root_handlers
    logging.root.setLevel(_root_level)
    live = builtins.__dict__
    for key in [k for k in live if k not in _builtins]:
        del live[key]
    for key, value in _builtins.items():
        if live.get(key, _MISSING) is not value:
            live[key] = value
    for name in [n for n in sys.modules if n not in _modules]:
        del sys.modules[name]
    for name, module in _modules.items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
    linecache.cache.pop(FILENAME, None)
    return _restore_fs()


# Last: everything imported so far (including what the functions above need) is the clean baseline.
_write_traceback(ValueError("warm-up"))
os.makedirs(HOME, exist_ok=True)
os.chdir(HOME)
_modules = dict(sys.modules)
_fs_baseline = _fs_snapshot()
`;
