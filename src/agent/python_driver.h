#pragma once
// The program the python tool's interpreter runs (python3 -c): it keeps one
// namespace for the whole session and runs each cell the agent sends on fd 3
// ("SECONDS CPU_SECONDS BYTES\n" then the code), like a notebook: the value of
// a last bare expression is printed, an exception prints its traceback (the
// driver's own frame cut), and a cell past its time gets a TimeoutError raised
// inside it (SIGALRM), so its variables survive. Output goes to the inherited
// stdout/stderr; when a cell is done, one JSON line on fd 3 says how it ended
// ({"status": "ok" | "error" | "timeout" | "exit"}). Each cell gets its own
// CPU budget by moving the soft RLIMIT_CPU past what the session used so far.

namespace arle::agent {

inline constexpr const char* kPythonDriver = R"PY(
import ast, json, os, resource, signal, sys, traceback

channel = 3
namespace = {"__name__": "__main__", "__builtins__": __builtins__}

class _CellTimeout(BaseException):
    pass

def _on_alarm(signum, frame):
    raise _CellTimeout()

signal.signal(signal.SIGALRM, _on_alarm)

def _read_line():
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(channel, 1)
        if not chunk:
            return None
        data += chunk
    return data

def _read_exact(n):
    parts = []
    while n > 0:
        chunk = os.read(channel, min(n, 1 << 16))
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)

def _set_cpu_budget(seconds):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    wanted = used + seconds
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))
    except (ValueError, OSError):
        pass

def _run(code, seconds):
    tree = ast.parse(code, "<python>", "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    exec(compile(tree, "<python>", "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<python>", "eval"), namespace)
        if value is not None:
            print(repr(value))

while True:
    header = _read_line()
    if header is None:
        break
    seconds, cpu, size = header.split()
    body = _read_exact(int(size))
    if body is None:
        break
    status = "ok"
    _set_cpu_budget(int(cpu))
    try:
        try:
            _run(body.decode("utf-8", "replace"), float(seconds))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _CellTimeout:
        status = "timeout"
        print(f"TimeoutError: the cell ran past its {float(seconds):g} s limit and was interrupted", file=sys.stderr)
    except SystemExit as e:
        status = "exit"
        print(f"SystemExit: {e.code}", file=sys.stderr)
    except BaseException as e:
        status = "error"
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != "<python>":
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os.write(channel, (json.dumps({"status": status}) + "\n").encode())
)PY";

}  // namespace arle::agent
