"""Fuzz categories for issue 15's hardening, used by run_fuzz.py:

* "streams": a command line of tests/test_fuzz.py run as a real `python -m bpdiff` with
  an odd standard stream: stdout on a full disk (/dev/full), stdin closed, stdout read
  for 10 bytes and closed, or PYTHONIOENCODING ascii, latin-1 or cp1252;
* "sizes": array-size bombs: x * y, x @ y, tanh(x * x.T) ... with x a column and y a
  row of 1 to 100,000 numbers (from --vars), with --json, --gradcheck, --html or a
  small --max-elements, in-process;
* "signals": a command line run as a real process and interrupted (SIGINT) at a random
  moment, imports included;
* "caches": a program run with a FIFO, a symlink, garbage or a damaged table where the
  table cache lives, a cache directory others can write to, or a pickle planted in
  TMPDIR where Lark once kept its cache.

Each checks the command's contract (tests/test_fuzz.py's cli_problems: exit 0, 1 or 2, no
traceback, a message on error, strict JSON) and that nothing else escapes.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from hypothesis import strategies as st

import test_fuzz as F

ENCODINGS = ("ascii", "latin-1", "cp1252")
STREAM_CONDITIONS = ("stdout-full", "stdin-closed", "pipe-closed", *ENCODINGS)


@dataclass(frozen=True)
class StreamCase:
    """A command line, run as a real process with an odd standard stream."""

    invocation: F.Invocation
    condition: str  # one of STREAM_CONDITIONS


def stream_cases():
    """StreamCases from test_fuzz's command lines and every stream condition."""
    return st.builds(StreamCase, F.invocations(), st.sampled_from(STREAM_CONDITIONS))


def check_stream_case(case, timeout=60):
    """(violations, label) of one StreamCase; ([], 'unrepresentable') when its command
    line cannot be a real one (a NUL, a lone surrogate)."""
    argv = F.subprocess_argv(case.invocation)
    if argv is None:
        return [], "unrepresentable"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    encoding = case.condition if case.condition in ENCODINGS else "utf-8"
    env["PYTHONIOENCODING"] = encoding
    directory = F.workdir()
    with F.files_in(directory, case.invocation.files):
        code, stdout, stderr = _run(case.condition, [sys.executable, "-m", "bpdiff", *argv],
                                    case.invocation.stdin, directory, env, timeout)
    if code is None:
        return [F.Violation("hang", f"python -m bpdiff ran over {timeout} s")], "hang"
    violations = []
    try:
        stdout, stderr = stdout.decode(encoding), stderr.decode(encoding)
    except UnicodeDecodeError as error:
        violations.append(F.Violation("encoding", f"output not {encoding}: {error}"[:300]))
        stdout = stdout.decode("utf-8", "surrogateescape")
        stderr = stderr.decode("utf-8", "surrogateescape")
    if case.condition == "pipe-closed":
        stdout = ""  # cut short by the reader: not checked as JSON
    violations += F.cli_problems(code, stdout, stderr)
    return violations, f"{case.condition} exit {code}"


def _run(condition, command, stdin, directory, env, timeout):
    """(exit code, stdout bytes, stderr bytes) of `command` under `condition`; exit code
    None when it ran over `timeout` seconds (it is killed)."""
    options = {"cwd": directory, "env": env, "stderr": subprocess.PIPE}
    if condition == "stdin-closed":
        options["preexec_fn"] = lambda: os.close(0)
    else:
        options["stdin"] = subprocess.PIPE
    with open(os.devnull if condition != "stdout-full" else "/dev/full", "wb") as sink:
        options["stdout"] = sink if condition == "stdout-full" else subprocess.PIPE
        process = subprocess.Popen(command, **options)
        try:
            if condition == "pipe-closed":
                return _read_then_close(process, stdin, timeout)
            out, err = process.communicate(None if condition == "stdin-closed" else stdin,
                                           timeout=timeout)
            return process.returncode, out or b"", err
        except subprocess.TimeoutExpired:
            return None, b"", b""
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _read_then_close(process, stdin, timeout):
    try:  # the process may end before it reads its input: then writing fails
        process.stdin.write(stdin)
        process.stdin.close()
    except BrokenPipeError:
        pass
    head = process.stdout.read(10)
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout)
    return process.returncode, head, err


# ---- array-size bombs ------------------------------------------------------------------

SIZE_PROGRAMS = [  # (program, the inputs it uses)
    ("sum(x * y)", "xy"), ("sum(x @ y)", "xy"), ("sum(tanh(x * x.T))", "x"),
    ("sum(x * transpose(x))", "x"), ("sum(softmax(x * y))", "xy"),
    ("mean(x + y) + sum(y @ x)", "xy"), ("norm(x * y - 1)", "xy"), ("sum(x.T @ x)", "x"),
    ("sum(exp(x) * y + x)", "xy"),
]
SIZES = [1, 2, 50, 1000, 20_000, 100_000]  # 1000² is allowed; 20,000² is over 1e8
SIZE_OPTIONS = [[], ["--json"], ["--gradcheck"], ["--html", "out.html"],
                ["--max-elements", "1"], ["--max-elements", "100"],
                ["--max-elements", "1000000"], ["--explain"], ["--locals"]]


@st.composite
def size_bombs(draw):
    """An Invocation of an array program whose intermediate arrays may be huge."""
    program, names = draw(st.sampled_from(SIZE_PROGRAMS))
    n = draw(st.sampled_from(SIZES))
    values = {"x": [[0.5]] * n, "y": [[0.25] * n]}
    options = draw(st.lists(st.sampled_from(SIZE_OPTIONS), max_size=2))
    data = json.dumps({name: values[name] for name in names}).encode()
    argv = (program, "--vars", "v.json", *(arg for option in options for arg in option))
    return F.Invocation(argv, (("v.json", data),))


def check_size_bomb(invocation):
    """test_fuzz's check_main, with the output file removed afterwards."""
    violations, outcome = F.check_main(invocation)
    path = os.path.join(F.workdir(), "out.html")
    if os.path.exists(path):
        os.unlink(path)
    label = f"exit {outcome.code}" if outcome.error is None else "exception"
    return violations, label


# ---- signals ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SignalCase:
    """A command line run as a real process and sent SIGINT (Ctrl-C) after `delay` s."""

    invocation: F.Invocation
    delay: float


def signal_cases():
    """SignalCases: test_fuzz's command lines, Ctrl-C from 0 to 0.4 s after the start
    (imports, parsing, the passes or writing, whichever is running then)."""
    return st.builds(SignalCase, F.invocations(), st.floats(0, 0.4))


def check_signal_case(case, timeout=60):
    """(violations, label): an interrupted run exits 130 with one line on stderr and no
    traceback (or finishes first and keeps the usual contract)."""
    import signal
    import time

    argv = F.subprocess_argv(case.invocation)
    if argv is None:
        return [], "unrepresentable"
    directory = F.workdir()
    with F.files_in(directory, case.invocation.files):
        process = subprocess.Popen([sys.executable, "-m", "bpdiff", *argv], cwd=directory,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        time.sleep(case.delay)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(case.invocation.stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return [F.Violation("hang", f"no exit {timeout} s after Ctrl-C")], "hang"
    stdout = out.decode("utf-8", "surrogateescape")
    stderr = err.decode("utf-8", "surrogateescape")
    code = process.returncode
    if code == 130:
        problems = []
        if "Traceback" in stderr or stderr.count("\n") != 1:
            problems.append(F.Violation("interrupt", f"stderr after Ctrl-C: {stderr[-300:]!r}"))
        return problems, "interrupted"
    if code == -signal.SIGINT:  # before Python's own handler was set: nothing printed
        problems = [] if not stderr else [F.Violation("interrupt", stderr[-300:])]
        return problems, "killed before start-up"
    if "KeyboardInterrupt" in stderr and "/bpdiff/" not in stderr:  # in Python's own
        return [], "interrupted in the interpreter's start-up, before bpdiff's code"  # site
        # or runpy, before any of bpdiff's code runs: no frame of bpdiff's in the trace
    return F.cli_problems(code, stdout, stderr), f"finished exit {code}"


# ---- planted cache files ---------------------------------------------------------------

PLANTS = ("fifo", "symlink", "garbage", "truncated", "keys dropped", "bad types",
          "other user's dir", "pickle in TMPDIR")
PLANT_PROGRAMS = ("(a+b)*b^3", "a + * b", "def f(x) = x^2; f(a) + b", "sin x")


@dataclass(frozen=True)
class CacheCase:
    """A program run with a planted file where bpdiff (or Lark, formerly) keeps a cache."""

    plant: str
    program: str


def cache_cases():
    """CacheCases: every kind of planted file with a valid program, syntax errors and a
    def (a def sends the scanner down its careful path)."""
    return st.builds(CacheCase, st.sampled_from(PLANTS), st.sampled_from(PLANT_PROGRAMS))


def check_cache_case(case, timeout=60):
    """(violations, label): no hang, no traceback, the usual exit codes, nothing loaded
    from TMPDIR, a symlink's target untouched."""
    import marshal
    import pickle
    import shutil
    import tempfile

    from bpdiff.language import lalr
    from bpdiff.version import __version__

    root = tempfile.mkdtemp(prefix="bpdiff-fuzz-cache-")
    try:
        cache, temp, marker = (os.path.join(root, name) for name in ("cache", "tmp", "ran"))
        directory = os.path.join(cache, "bpdiff")
        os.makedirs(directory, mode=0o700)
        os.makedirs(temp)
        tables = os.path.join(directory, f"tables-{__version__}-{lalr.FORMAT}.marshal")
        env = dict(os.environ, XDG_CACHE_HOME=cache, TMPDIR=temp)
        command = [sys.executable, "-m", "bpdiff", case.program, "--a", "1", "--b", "2"]
        if case.plant not in ("fifo", "symlink", "pickle in TMPDIR", "other user's dir"):
            subprocess.run(command, env=env, capture_output=True, timeout=timeout)
        target = os.path.join(root, "target.txt")
        _plant(case.plant, tables, directory, temp, target, marker, marshal, pickle)
        try:
            done = subprocess.run(command, env=env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return [F.Violation("hang", f"planted {case.plant}: over {timeout} s")], "hang"
        stderr = done.stderr.decode("utf-8", "surrogateescape")
        violations = F.cli_problems(done.returncode, done.stdout.decode("utf-8", "replace"),
                                    stderr)
        if os.path.exists(marker):
            violations.append(F.Violation("unpickled", f"planted {case.plant}: payload ran"))
        if os.path.exists(target) and open(target).read() != "keep":
            violations.append(F.Violation("overwritten", "a symlink's target was written"))
        return violations, f"{case.plant} exit {done.returncode}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _plant(plant, tables, directory, temp, target, marker, marshal, pickle):
    """Put the `plant` kind of file where the caches are."""
    if plant == "fifo":
        os.mkfifo(tables)
    elif plant == "symlink":
        with open(target, "w") as handle:
            handle.write("keep")
        os.symlink(target, tables)
    elif plant == "garbage":
        with open(tables, "wb") as handle:
            handle.write(os.urandom(200))
    elif plant == "truncated":
        data = open(tables, "rb").read()
        with open(tables, "wb") as handle:
            handle.write(data[:len(data) // 2])
    elif plant in ("keys dropped", "bad types"):
        data = marshal.loads(open(tables, "rb").read())
        if plant == "keys dropped":
            data.pop("actions", None)
            data.pop("scanner", None)
        else:
            data["rules"] = [("x", "y")]
            data["start"] = "nowhere"
        with open(tables, "wb") as handle:
            handle.write(marshal.dumps(data))
    elif plant == "other user's dir":
        os.chmod(directory, 0o777)
    else:  # Lark's old cache name pattern, and anything else there
        for name in (".lark_cache_root_x_3_11.tmp", ".lark_cache.tmp"):
            with open(os.path.join(temp, name), "wb") as handle:
                handle.write(b"0" * 64 + b"\n" + pickle.dumps(_Payload(marker)))
