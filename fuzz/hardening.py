"""Fuzz categories for issue 15's hardening, used by run_fuzz.py:

* "streams": a command line of tests/test_fuzz.py run as a real `python -m bpdiff` with
  an odd standard stream: stdout on a full disk (/dev/full), stdin closed, stdout read
  for 10 bytes and closed, or PYTHONIOENCODING ascii, latin-1 or cp1252;
* "sizes": array-size bombs: x * y, x @ y, tanh(x * x.T) ... with x a column and y a
  row of 1 to 100,000 numbers (from --vars), with --json, --gradcheck, --html or a
  small --max-elements, in-process.

Both check the command's contract (tests/test_fuzz.py's cli_problems: exit 0, 1 or 2, no
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
    try:
        process.stdin.write(stdin)
    except BrokenPipeError:
        pass
    process.stdin.close()
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
