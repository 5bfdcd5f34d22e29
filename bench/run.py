#!/usr/bin/env python3
"""bpdiff's benchmark suite: one command from nothing to bench/RESULTS.md.

    python3 bench/run.py                       # the default run (about 30-40 minutes)
    python3 bench/run.py --sizes 10,1000 --repeat 3 --timeout 60      # a quick look
    python3 bench/run.py --only bpdiff         # re-measure bpdiff's rows, keep the peers'
    python3 bench/run.py --report-only         # rewrite RESULTS.md from bench/out/results.json

What it does, in order:
  1. creates bench/.venv if missing and installs the peers (bench/requirements.txt) and
     bpdiff itself, non-editable (`pip install /work/main`: a snapshot of the source as
     it is now) -- peers are benchmark-only and never bpdiff dependencies;
  2. generates the workloads (bench/workloads.py) into bench/out/workloads;
  3. times start-up baselines (`python -c pass`, `import click, lark`, peers' imports,
     the README example as JSON, as a piped table and as the rich table on a
     pseudo-terminal through `script`);
  4. for each workload kind and size, runs every tool as a separate whole process
     --repeat times (interleaved: round 1 of every tool, then round 2, ...), each with
     --timeout; records median wall time and peak RSS (os.wait4's rusage of that child)
     and the ratio peer / bpdiff; a timeout, crash or unsupported operation is recorded
     as such and that tool is not run at larger sizes of that kind;
  5. measures bpdiff's phase split in-process (bench/phases.py);
  6. cross-checks every peer's value and gradients against bpdiff's (rel. tol. 1e-6);
  7. writes bench/out/results.json and bench/RESULTS.md.

Peers that are too slow at large sizes are capped (--cap TOOL=SIZE; above it:
"skipped (cap)"), and at or above --single-run TOOL=SIZE a tool runs once, not --repeat
times. Defaults: see DEFAULT_CAPS and DEFAULT_SINGLE_RUN below, or --help.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import workloads  # noqa: E402

VENV = os.path.join(BENCH, ".venv")
OUT = os.path.join(BENCH, "out")
RESULTS_JSON = os.path.join(OUT, "results.json")
RESULTS_MD = os.path.join(BENCH, "RESULTS.md")

TOOLS = ("bpdiff", "sympy", "micrograd", "torch", "jax", "autograd")
PEERS = TOOLS[1:]
DEFAULT_SIZES = "10,1000,10000,100000,1000000"
# Above these sizes a tool is not run ("skipped (cap)"). Measured on the 2-core machine:
# SymPy already times out on 1,000-node DAGs; JAX's eager tracing takes 11-39 s at 1e5.
DEFAULT_CAPS = {"sympy": 10_000, "jax": 100_000}
# At or above these sizes a tool runs once instead of --repeat times.
DEFAULT_SINGLE_RUN = {"micrograd": 1_000_000, "torch": 1_000_000, "autograd": 1_000_000,
                      "jax": 100_000}
# Operations a peer lacks (bpdiff names): those workloads are "unsupported" for it.
UNSUPPORTED = {"micrograd": {"sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh",
                             "sigmoid", "softplus", "max", "min"}}
REL_TOL = 1e-6
ABS_TOL = 1e-12  # for gradients that are (nearly) zero, where a relative test is void
PEER_PACKAGES = {"sympy": "sympy", "micrograd": "micrograd", "torch": "torch",
                 "jax": "jax", "autograd": "autograd"}
UNSUPPORTED_EXIT = 3  # peers/_common.py

_log_file = None


def log(message):
    line = time.strftime("%H:%M:%S ") + message
    print(line, file=sys.stderr, flush=True)
    if _log_file:
        _log_file.write(line + "\n")
        _log_file.flush()


# ------------------------------------------------------------------------ the venv
def venv_python():
    return os.path.join(VENV, "bin", "python")


def pip(*args):
    command = [venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               *args]
    log("+ " + shlex.join(command))
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    noise = ("WARNING: Location", "is ignored: it is neither a file nor a directory")
    for line in done.stdout.splitlines():
        if not any(n in line for n in noise):
            log("  " + line)
    if done.returncode:
        sys.exit(f"pip failed ({done.returncode}): {shlex.join(command)}")


def setup_venv(install):
    if not os.path.exists(venv_python()):
        log(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        install = True
    if install:
        pip("-r", os.path.join(BENCH, "requirements.txt"))
        pip(REPO)  # bpdiff, non-editable: a snapshot of the source as it is now
        torch_version = venv_output("import torch; print(torch.__version__)")
        if not torch_version.startswith("2.13.0"):
            sys.exit(f"expected torch 2.13.0 in the bench venv, found {torch_version}")


def venv_output(code):
    return subprocess.run([venv_python(), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def source_hash():
    """A hash of bpdiff's source and grammar as they are on disk now."""
    digest = hashlib.sha256()
    for top in ("src", "grammars"):
        for folder, dirs, files in sorted(os.walk(os.path.join(REPO, top))):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".py", ".lark", ".json")):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, REPO).encode())
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    return digest.hexdigest()[:12]


def git_describe():
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src",
                                "grammars", "pyproject.toml"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + (" + uncommitted changes in src/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------------- measuring
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)


def measure(argv, timeout, stdout_path=os.devnull, stderr_path=os.devnull, env=None):
    """Run argv as one process (its own session) and return its wall time (spawn to
    reap, s), peak RSS (MB), exit code (negative: killed by that signal) and whether it
    was killed after `timeout` s.

    Peak RSS comes from GNU time's %M (the child's ru_maxrss), not from our own wait4:
    Linux counts the parent's resident pages at fork/exec into the child's ru_maxrss, so
    a child of this (large) runner would never show less than the runner's own RSS.
    /usr/bin/time is small, so its child's figure is its own."""
    killed = threading.Event()
    rss_path = stderr_path + ".rss" if stderr_path != os.devnull else None
    if rss_path is None:
        rss_path = os.path.join(OUT, f".rss.{os.getpid()}")
    use_time = os.path.exists(TIME)
    command = [TIME, "-f", "%M", "-o", rss_path, *argv] if use_time else list(argv)
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   start_new_session=True, env=env)

        def kill():
            killed.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    rc = process.returncode = os.waitstatus_to_exitcode(status)
    rss_mb = usage.ru_maxrss / 1024
    if use_time:
        rss_mb = None
        try:
            with open(rss_path, encoding="utf-8") as handle:
                lines = handle.read().split("\n")
            lines = [line.strip() for line in lines if line.strip()]
            for line in lines:
                if line.startswith("Command terminated by signal"):
                    rc = -int(line.rsplit(" ", 1)[1])
            if lines and lines[-1].isdigit():
                rss_mb = int(lines[-1]) / 1024
        except OSError:
            pass
        finally:
            if os.path.exists(rss_path):
                os.remove(rss_path)
    return {"wall": wall, "rss_mb": rss_mb, "rc": rc, "timeout": killed.is_set()}


def peak(runs):
    """The largest peak RSS among runs (MB), None if none was measured."""
    values = [r["rss_mb"] for r in runs if r.get("rss_mb") is not None]
    return max(values) if values else None


def fmt_mb(mb):
    return "—" if mb is None else f"{mb:.0f} MB"


def tail(path, limit=200):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle.read().splitlines() if line.strip()]
    except OSError:
        return ""
    lines = [line for line in lines if "is ignored: it is neither" not in line]
    return lines[-1][:limit] if lines else ""


def tool_command(tool, program, values):
    bin_dir = os.path.join(VENV, "bin")
    if tool == "bpdiff":
        return [os.path.join(bin_dir, "bpdiff"), "-f", program, "--vars", values, "--json"]
    return [venv_python(), os.path.join(BENCH, "peers", f"{tool}_peer.py"), program, values]


BASELINE_EXPR = "(a+b)*b^3"


def baselines():
    bpdiff = os.path.join(VENV, "bin", "bpdiff")
    python = venv_python()
    example = shlex.join([bpdiff, BASELINE_EXPR, "--a", "7", "--b", "3"])
    items = [
        ("python -c pass", [python, "-c", "pass"]),
        ('python -c "import click"', [python, "-c", "import click"]),
        ('python -c "import click, lark"', [python, "-c", "import click, lark"]),
        ('python -c "import click, lark, rich"', [python, "-c", "import click, lark, rich"]),
        ('python -c "import bpdiff.cli"', [python, "-c", "import bpdiff.cli"]),
        (f'bpdiff "{BASELINE_EXPR}" --a 7 --b 3 --json',
         [bpdiff, BASELINE_EXPR, "--a", "7", "--b", "3", "--json"]),
        (f'bpdiff "{BASELINE_EXPR}" --a 7 --b 3 (plain table, piped)',
         [bpdiff, BASELINE_EXPR, "--a", "7", "--b", "3"]),
        ("script -qec true /dev/null (pseudo-terminal overhead)",
         ["script", "-qec", "true", "/dev/null"]),
        (f"script -qec 'bpdiff \"{BASELINE_EXPR}\" --a 7 --b 3' /dev/null (rich table)",
         ["script", "-qec", example, "/dev/null"]),
    ]
    for peer, module in (("sympy", "sympy"), ("micrograd", "micrograd.engine"),
                         ("torch", "torch"), ("jax", "jax"), ("autograd", "autograd")):
        items.append((f'python -c "import {module}"', [python, "-c", f"import {module}"]))
    return items


def warm_up_bpdiff(timeout):
    """One untimed run of the installed bpdiff."""
    bpdiff = os.path.join(VENV, "bin", "bpdiff")
    measure([bpdiff, BASELINE_EXPR, "--a", "7", "--b", "3", "--json"], timeout)


def run_baselines(repeat, timeout):
    env = dict(os.environ, TERM=os.environ.get("TERM", "xterm-256color") or "xterm-256color")
    env.pop("NO_COLOR", None)
    items = baselines()
    runs = {label: [] for label, _ in items}
    for round_ in range(repeat):
        for label, argv in items:
            runs[label].append(measure(argv, timeout, env=env))
    # Proof that the pseudo-terminal run drew the rich table (colour escapes present).
    rich_label, rich_argv = next(item for item in items if item[0].endswith("(rich table)"))
    probe = os.path.join(OUT, "rich_probe.txt")
    measure(rich_argv, timeout, stdout_path=probe, env=env)
    with open(probe, "rb") as handle:
        rich_ok = b"\x1b[" in handle.read()
    result = []
    for label, _ in items:
        ok = [r for r in runs[label] if r["rc"] == 0 and not r["timeout"]]
        result.append({
            "label": label, "runs": len(runs[label]), "ok": len(ok),
            "median": statistics.median(r["wall"] for r in ok) if ok else None,
            "min": min(r["wall"] for r in ok) if ok else None,
            "rss_mb": peak(ok),
            "note": "" if label != rich_label else
            ("colour escapes seen: rich path" if rich_ok else "NO colour escapes: not rich?"),
        })
        log(f"baseline {label}: {fmt_s(result[-1]['median'])}")
    return result


# ------------------------------------------------------------------------ the run
def parse_tool_sizes(items, defaults):
    table = dict(defaults)
    for item in items or ():
        for part in item.split(","):
            if not part.strip():
                continue
            tool, _, size = part.partition("=")
            tool = tool.strip()
            if tool not in TOOLS:
                sys.exit(f"unknown tool {tool!r} in {item!r}; tools: {', '.join(TOOLS)}")
            table[tool] = None if size.strip().lower() in ("none", "") else int(float(size))
    return {k: v for k, v in table.items() if v is not None}


def case_key(kind, size):
    return f"{kind}/{size}"


def run_cases(args, manifest, tools, results):
    cases = results.setdefault("cases", {})
    for entry in manifest:
        kind, size = entry["kind"], entry["target"]
        key = case_key(kind, size)
        case = cases.setdefault(key, {})
        case.update({"kind": kind, "size": size, "nodes": entry["nodes"],
                     "inputs": entry["inputs"], "statements": entry["statements"],
                     "bytes": entry["bytes"]})
        states = case.setdefault("tools", {})
        active = []
        for tool in tools:
            if args.only and tool in states:
                # keep the full run's measurement: ratios stay within one run
                case.setdefault("full_run", {}).setdefault(tool, states[tool])
            state = states[tool] = {"status": None, "runs": [], "note": ""}
            reason = skip_reason(args, tool, kind, size, entry, cases)
            if reason:
                state["status"], state["note"] = reason
                log(f"{key:16} {tool:9} {state['status']}: {state['note']}")
            else:
                active.append(tool)
        for round_ in range(args.repeat):
            for tool in list(active):
                state = states[tool]
                single = args.single_run.get(tool)
                if round_ > 0 and single is not None and size >= single:
                    continue
                run_once(args, tool, entry, state)
                if state["status"] in ("timeout", "crash", "unsupported"):
                    active.remove(tool)
        for tool in tools:
            finish(states[tool])
        if "bpdiff" in tools and not args.no_phases:
            case["phases"] = run_phases(args, entry)
        cross_check_case(case, entry)
        save(results)


def skip_reason(args, tool, kind, size, entry, cases):
    cap = args.caps.get(tool)
    if cap is not None and size > cap:
        return "skipped", f"cap {cap:,}"
    missing = sorted(set(entry["ops"]) & UNSUPPORTED.get(tool, set()))
    if missing:
        return "unsupported", "no " + ", ".join(missing) + f" in {tool}"
    for other in cases.values():
        if other.get("kind") == kind and other.get("size", 0) < size:
            earlier = other.get("tools", {}).get(tool, {})
            if earlier.get("status") in ("timeout", "crash"):
                return "skipped", f"{earlier['status']} at {other['size']:,}"
    return None


def run_once(args, tool, entry, state):
    stem = f"{entry['kind']}_{entry['target']}"
    folder = os.path.join(OUT, "runs", tool)
    os.makedirs(folder, exist_ok=True)
    stdout_path = os.path.join(folder, stem + ".out.tmp")
    stderr_path = os.path.join(folder, stem + ".err")
    argv = tool_command(tool, entry["program"], entry["values"])
    run = measure(argv, args.timeout, stdout_path, stderr_path)
    state["runs"].append(run)
    key = case_key(entry["kind"], entry["target"])
    if run["timeout"]:
        state["status"], state["note"] = "timeout", f"killed after {args.timeout:g} s"
    elif run["rc"] == UNSUPPORTED_EXIT and tool != "bpdiff":
        state["status"], state["note"] = "unsupported", tail(stderr_path)
    elif run["rc"] != 0:
        signal_note = f"signal {-run['rc']}" if run["rc"] < 0 else f"exit {run['rc']}"
        state["status"] = "crash"
        state["note"] = f"{signal_note}: {tail(stderr_path) or '(no message)'}"
    else:
        final = os.path.join(folder, stem + ".json")
        os.replace(stdout_path, final)
        state["status"] = state["status"] or "ok"
        state["output"] = final
        if tool != "bpdiff" and "frontend" not in state:
            try:
                state["frontend"] = read_answer(final).get("frontend")
            except (OSError, ValueError) as error:
                state["status"], state["note"] = "crash", f"unreadable output: {error}"
    log(f"{key:16} {tool:9} {fmt_s(run['wall']):>9} {fmt_mb(run['rss_mb']):>8}"
        f"  {state['status']}{': ' + state['note'] if state['note'] else ''}")


def finish(state):
    ok = [r for r in state["runs"] if r["rc"] == 0 and not r["timeout"]]
    if state["status"] == "ok" and ok:
        state["median"] = statistics.median(r["wall"] for r in ok)
        state["rss_mb"] = peak(ok)
    state["measured_at"] = now()


def run_phases(args, entry):
    script = os.path.join(BENCH, "phases.py")
    samples = []
    for _ in range(args.phase_repeat):
        out = os.path.join(OUT, "phases.out")
        err = os.path.join(OUT, "phases.err")
        run = measure([venv_python(), script, entry["program"], entry["values"]],
                      args.timeout, out, err)
        if run["timeout"] or run["rc"]:
            note = "timeout" if run["timeout"] else tail(err)
            log(f"phases {entry['kind']}/{entry['target']}: failed: {note}")
            return {"error": note}
        with open(out, encoding="utf-8") as handle:
            samples.append(json.load(handle))
    phases = {name: statistics.median(s["phases"][name] for s in samples)
              for name in samples[0]["phases"]}
    return {"phases": phases, "graph_nodes": samples[0].get("graph_nodes"),
            "runs": len(samples)}


def run_floor(args, sizes):
    """bench/floor.py at each size from 10,000 up: median seconds per pattern."""
    script = os.path.join(BENCH, "floor.py")
    floor = {}
    for size in (s for s in sizes if s >= 10_000):
        samples = []
        for _ in range(args.repeat):
            out = os.path.join(OUT, "floor.out")
            run = measure([venv_python(), script, str(size)], args.timeout, out)
            if run["timeout"] or run["rc"]:
                log(f"floor {size}: failed")
                break
            with open(out, encoding="utf-8") as handle:
                samples.append(json.load(handle))
        if samples:
            floor[str(size)] = {pattern: statistics.median(s[pattern] for s in samples)
                                for pattern in ("random", "sequential")}
            log(f"floor {size}: " + ", ".join(f"{k} {fmt_s(v)}"
                                              for k, v in floor[str(size)].items()))
    return floor


# -------------------------------------------------------------------- cross-check
def read_answer(path):
    """value and gradient of a tool's JSON output (bpdiff's may be 100+ MB)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return {"value": data.get("value"), "gradient": data.get("gradient", {}),
            "frontend": data.get("frontend")}


def close(a, b):
    if isinstance(a, str) or isinstance(b, str):  # "nan", "inf", "-inf"
        return a == b
    if a is None or b is None:
        return False
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def compare(reference, answer):
    mismatches = []
    if not close(reference["value"], answer["value"]):
        mismatches.append(("value", reference["value"], answer["value"]))
    ref, got = reference["gradient"], answer["gradient"]
    for name in ref:
        if name not in got:
            mismatches.append((f"∂/∂{name}", ref[name], "missing"))
        elif not close(ref[name], got[name]):
            mismatches.append((f"∂/∂{name}", ref[name], got[name]))
    for name in got:
        if name not in ref:
            mismatches.append((f"∂/∂{name}", "missing", got[name]))
    return mismatches


def cross_check_case(case, entry):
    states = case.get("tools", {})
    bp = states.get("bpdiff", {})
    reference_path = bp.get("output") if bp.get("status") == "ok" else None
    reference = None
    if reference_path and os.path.exists(reference_path):
        reference = read_answer(reference_path)
    for tool in PEERS:
        state = states.get(tool)
        if not state or state.get("status") != "ok":
            continue
        if reference is None:
            state["check"] = {"status": "no reference (bpdiff did not finish)"}
            continue
        answer = read_answer(state["output"])
        mismatches = compare(reference, answer)
        state["check"] = {"status": "ok" if not mismatches else "MISMATCH",
                          "compared": 1 + len(reference["gradient"]),
                          "mismatches": [list(map(str, m)) for m in mismatches[:20]],
                          "mismatch_count": len(mismatches)}
        if mismatches:
            log(f"{case_key(case['kind'], case['size'])} {tool}: {len(mismatches)} "
                f"MISMATCH(ES), first {mismatches[0]}")


# ------------------------------------------------------------------------ report
def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def fmt_s(seconds):
    if seconds is None:
        return "—"
    if seconds < 0:
        return "−" + fmt_s(-seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_ratio(ratio):
    if ratio is None:
        return "—"
    return f"×{ratio:.2f}" if ratio < 10 else f"×{ratio:.0f}" if ratio >= 100 else f"×{ratio:.1f}"


def reference(case):
    """bpdiff's state measured in the same run as the peers: the full run's, if
    --only bpdiff re-measured it since."""
    states = case.get("tools", {})
    return case.get("full_run", {}).get("bpdiff") or states.get("bpdiff", {})


def ok_median(state):
    return state.get("median") if state and state.get("status") == "ok" else None


def cell(state, bp_median):
    if not state:
        return "not run"
    status = state.get("status")
    if status == "ok" and state.get("median") is not None:
        runs = sum(1 for r in state["runs"] if r["rc"] == 0)
        mark = "†" if state.get("frontend") == "fallback" else ""
        parts = [f"{fmt_s(state['median'])}{mark}", fmt_mb(state.get("rss_mb"))]
        if bp_median:
            parts.append(fmt_ratio(state["median"] / bp_median))
        if runs == 1:
            parts.append("1 run")
        check = state.get("check", {}).get("status")
        if check == "MISMATCH":
            parts.append("**MISMATCH**")
        return " · ".join(parts)
    if status == "skipped":
        return f"skipped ({state['note']})"
    if status == "unsupported":
        return "unsupported"
    if status == "timeout":
        return f"**timeout** (>{state['runs'][-1]['wall']:.0f} s)"
    if status == "crash":
        return "**crash**"
    return status or "—"


def machine():
    info = {"nproc": len(os.sched_getaffinity(0)), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kb = int(handle.readline().split()[1])
            info["memory"] = f"{kb / 2**20:.0f} GiB"
    except OSError:
        pass
    try:
        info["python"] = venv_output("import sys; print(sys.version.split()[0])")
        packages = ['bpdiff', 'click', 'lark', 'rich', *PEER_PACKAGES.values(), 'jaxlib', 'numpy']
        code = ("import importlib.metadata as m, json; print(json.dumps({p: m.version(p) "
                f"for p in {packages!r}}}))")
        info["versions"] = json.loads(venv_output(code))
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    return info


def write_report(results, path=RESULTS_MD):
    meta = results["meta"]
    m = meta.get("machine", {})
    lines = ["# bpdiff benchmark results", "",
             "Produced by:", "", "```", meta["command"], "```", ""]
    if meta.get("refreshes"):
        for refresh in meta["refreshes"]:
            lines += [f"Rows of {', '.join(refresh['tools'])} re-measured {refresh['date']} by "
                      f"`{refresh['command']}` (bpdiff {refresh.get('bpdiff', '?')}); "
                      "the ratios below still compare bpdiff and the peers from the same "
                      "run; the re-measured times are in their own table.", ""]
    versions = m.get("versions", {})
    lines += [
        f"- date: {meta['date']} (wall time of the run: {meta.get('elapsed', '?')})",
        f"- machine: {m.get('nproc', '?')} cores ({m.get('cpu', '?')}), {m.get('memory', '?')},"
        f" {m.get('platform', '?')}; shared and noisy, so compare ratios within this run",
        f"- Python {m.get('python', '?')}; bpdiff {versions.get('bpdiff', '?')}, installed "
        "non-editable into bench/.venv, from commit " + (
            f"{meta['full_run_bpdiff']['commit']} (source hash "
            f"{meta['full_run_bpdiff']['source']}) in the full run, re-measured from "
            if meta.get("full_run_bpdiff") else "")
        + f"{meta.get('bpdiff_commit', '?')} (source hash {meta.get('bpdiff_source', '?')})",
        "- peers: " + ", ".join(f"{p} {versions.get(p, '?')}" for p in
                                ("sympy", "micrograd", "torch", "jax", "jaxlib", "autograd",
                                 "numpy")),
        f"- each cell: median wall time of {meta['repeat']} whole-process runs (fewer where "
        "marked), peak RSS, and ×ratio = tool's time / bpdiff's time (above 1: bpdiff is "
        f"faster); timeout {meta['timeout']:g} s; † = the peer's text front-end fell back "
        "from Python's ast (which refuses the program's depth) to the iterative reader in "
        "bench/peers/_common.py",
        f"- caps (not run above): {fmt_caps(meta['caps'])}; single run at or above: "
        f"{fmt_caps(meta['single_run'])}",
    ]
    if meta.get("source_changed"):
        lines.append("- note: bpdiff's source on disk changed during the latest run "
                     f"({meta['source_changed']}): its numbers are for the snapshot installed "
                     "when that run started")
    lines += ["", "## Start-up baselines", "",
              f"Median of {meta.get('baseline_repeat', '?')} runs each"
              + (", measured in the latest run that included bpdiff" +
                 (" (the `--only bpdiff` re-run)" if meta.get("full_run_bpdiff") else "")
                 + "." ), "",
              "| command | median | min | peak RSS | note |", "|---|---:|---:|---:|---|"]
    for b in results.get("baselines", []):
        rss = fmt_mb(b.get("rss_mb"))
        fail = "" if b["ok"] == b["runs"] else f"{b['runs'] - b['ok']} of {b['runs']} failed"
        lines.append(f"| `{b['label']}` | {fmt_s(b['median'])} | {fmt_s(b['min'])} | {rss} |"
                     f" {b.get('note', '')}{fail} |")
    cases = results.get("cases", {})
    kinds = [k for k in workloads.KINDS if any(c["kind"] == k for c in cases.values())]
    tools = [t for t in TOOLS if any(t in c.get("tools", {}) for c in cases.values())]
    refreshed = any(c.get("full_run", {}).get("bpdiff") for c in cases.values())
    lines += ["", "## Whole-process time per workload", "",
              "Size = target nodes; nodes = the program's tree size as written (operations "
              "+ leaves, see bench/workloads.py); graph = bpdiff's graph after sharing.", ""]
    if refreshed:
        lines += ["bpdiff was re-measured after this run (`--only bpdiff`, see the end); "
                  "the tables and ratios here use bpdiff's numbers from the same run as "
                  "the peers.", ""]
    for kind in kinds:
        rows = sorted((c for c in cases.values() if c["kind"] == kind), key=lambda c: c["size"])
        lines += [f"### {kind}: {KIND_TITLES.get(kind, '')}", "",
                  "| size | nodes | graph | " + " | ".join(tools) + " |",
                  "|---:|---:|---:|" + "---|" * len(tools)]
        for c in rows:
            states = c.get("tools", {})
            bp = reference(c)
            bp_median = ok_median(bp)
            graph = (c.get("phases") or {}).get("graph_nodes")
            cells = []
            for tool in tools:
                state = bp if tool == "bpdiff" else states.get(tool)
                cells.append(cell(state, None if tool == "bpdiff" else bp_median))
            graph = graph if graph is None else f"{graph:,}"
            lines.append(f"| {c['size']:,} | {c['nodes']:,} | {graph} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    # ratios only
    peers = [t for t in tools if t != "bpdiff"]
    lines += ["## Ratios: peer time / bpdiff time", "",
              "Above 1: bpdiff is faster. — : not measured (see the tables above).", "",
              "| workload | size | " + " | ".join(peers) + " |",
              "|---|---:|" + "---:|" * len(peers)]
    for kind in kinds:
        for c in sorted((c for c in cases.values() if c["kind"] == kind), key=lambda c: c["size"]):
            states = c.get("tools", {})
            bp_median = ok_median(reference(c))
            cells = []
            for tool in peers:
                s = states.get(tool, {})
                if s.get("status") == "ok" and bp_median and s.get("median"):
                    mark = "†" if s.get("frontend") == "fallback" else ""
                    cells.append(fmt_ratio(s["median"] / bp_median) + mark)
                else:
                    cells.append({"skipped": "cap" if "cap" in s.get("note", "") else "skip",
                                  "unsupported": "unsup.", "timeout": "timeout",
                                  "crash": "crash"}.get(s.get("status"), "—"))
            lines.append(f"| {kind} | {c['size']:,} | " + " | ".join(cells) + " |")
    if refreshed:
        lines += ["", "## bpdiff re-measured (`--only bpdiff`)", "",
                  "The same workloads, bpdiff's newer source, at another time (the machine's "
                  "load differs, so part of any change is noise).", "",
                  "| workload | size | same run as peers | re-measured | change |",
                  "|---|---:|---:|---:|---:|"]
        for kind in kinds:
            for c in sorted((c for c in cases.values() if c["kind"] == kind),
                            key=lambda c: c["size"]):
                before = ok_median(c.get("full_run", {}).get("bpdiff"))
                after = ok_median(c.get("tools", {}).get("bpdiff"))
                change = fmt_ratio(after / before) if before and after else "—"
                lines.append(f"| {kind} | {c['size']:,} | {fmt_s(before)} | {fmt_s(after)} "
                             f"| {change} |")
    lines += scaling_section(results, kinds, tools)
    # phases
    names = ["import", "grammar", "parse+build", "forward", "backward", "render"]
    lines += ["", "## bpdiff's phase split (in-process, bench/phases.py)", "",
              "One fresh process per measurement; `rest` = the CLI's whole-process median "
              "minus the in-process total (interpreter start-up and exit, click, reading "
              "files; measured at different moments, so small or negative at noisy sizes)."
              + (" Measured with the re-measured bpdiff; CLI is its re-measured median."
                 if refreshed else ""), "",
              "| workload | size | graph | " + " | ".join(names) + " | total | CLI | rest |",
              "|---|---:|---:|" + "---:|" * (len(names) + 3)]
    for kind in kinds:
        for c in sorted((c for c in cases.values() if c["kind"] == kind), key=lambda c: c["size"]):
            p = c.get("phases")
            if not p:
                continue
            if "error" in p:
                lines.append(f"| {kind} | {c['size']:,} | — | failed: {p['error']} |")
                continue
            ph = p["phases"]
            bp = c.get("tools", {}).get("bpdiff", {})
            cli = bp.get("median") if bp.get("status") == "ok" else None
            rest = cli - ph["total"] if cli is not None else None
            lines.append(f"| {kind} | {c['size']:,} | {p['graph_nodes']:,} | "
                         + " | ".join(fmt_s(ph.get(n)) for n in names)
                         + f" | {fmt_s(ph['total'])} | {fmt_s(cli)} | {fmt_s(rest)} |")
    # failures and cross-checks
    lines += ["", "## Failures, skips and unsupported workloads", ""]
    unsupported = {}
    for kind in kinds:
        for c in sorted((c for c in cases.values() if c["kind"] == kind), key=lambda c: c["size"]):
            for tool in tools:
                s = c.get("tools", {}).get(tool, {})
                if s.get("status") == "unsupported":
                    unsupported.setdefault((kind, tool), s.get("note", ""))
                elif s.get("status") in ("timeout", "crash") or (
                        s.get("status") == "skipped" and "cap" not in s.get("note", "")):
                    lines.append(f"- {kind} {c['size']:,}, {tool}: {s['status']}"
                                 f"{' — ' + s['note'] if s.get('note') else ''}")
    for (kind, tool), note in unsupported.items():
        lines.append(f"- {kind}, every size, {tool}: unsupported — {note}")
    lines += ["", "## Cross-check against bpdiff", "",
              f"Value and every gradient, `math.isclose(rel_tol={REL_TOL:g}, "
              f"abs_tol={ABS_TOL:g})`.", ""]
    checked = mismatched = 0
    for kind in kinds:
        for c in sorted((c for c in cases.values() if c["kind"] == kind), key=lambda c: c["size"]):
            for tool in peers:
                check = c.get("tools", {}).get(tool, {}).get("check")
                if not check:
                    continue
                checked += 1
                if check["status"] != "ok":
                    mismatched += 1
                    lines.append(f"- {kind} {c['size']:,}, {tool}: {check['status']}")
                    for what, expected, got in check.get("mismatches", [])[:5]:
                        lines.append(f"  - {what}: bpdiff {expected}, {tool} {got}")
                    if check.get("mismatch_count", 0) > 5:
                        lines.append(f"  - … {check['mismatch_count'] - 5} more")
    lines.append(f"{checked} peer results checked, {mismatched} with mismatches.")
    lines.append("")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


KIND_TITLES = {
    "sum": "sum of product terms `x3*x17 + x5*x2 + …` over √N inputs",
    "nest": "N-deep binary nesting `((x+1)*y+1)*y …`",
    "unary": "N-deep unary nesting `sin(tanh(sin(… x)))`",
    "dag": "random DAG of named intermediates over √N inputs (+ - * / ^)",
    "mlp": "unrolled MLP loss: tanh hidden layer, sigmoid output, squared loss",
}


def scaling_section(results, kinds, tools):
    """Report lines: time(10N) / time(N) per workload and tool, and the floor."""
    cases = results.get("cases", {})
    sizes = sorted({c["size"] for c in cases.values() if c["size"] >= 1000})
    steps = [(a, b) for a, b in zip(sizes, sizes[1:]) if b == 10 * a]
    if not steps:
        return []
    lines = ["", "## Cost per size step: time(10N) / time(N)", "",
             "Whole-process medians from the tables above (10 would be exactly linear; "
             "the fixed start-up pulls small steps below it). `floor` rows: "
             "bench/floor.py, the same few lines of pure Python per step (a dict of names, "
             "two earlier names looked up per step), timed in-process: what a 10× larger "
             "working set costs on this machine with no change in the work per step.", "",
             "| workload | tool | " + " | ".join(f"{a:,} → {b:,}" for a, b in steps) + " |",
             "|---|---|" + "---:|" * len(steps)]
    for kind in kinds:
        by_size = {c["size"]: c for c in cases.values() if c["kind"] == kind}
        for tool in tools:
            cells = []
            for a, b in steps:
                small, big = (ok_median(reference(by_size[n]) if tool == "bpdiff" else
                                        by_size[n].get("tools", {}).get(tool))
                              if n in by_size else None for n in (a, b))
                cells.append(f"{big / small:.1f}" if small and big else "—")
            if any(c != "—" for c in cells):
                lines.append(f"| {kind} | {tool} | " + " | ".join(cells) + " |")
    floor = results.get("floor", {})
    for pattern in ("random", "sequential"):
        cells = [f"{floor[str(b)][pattern] / floor[str(a)][pattern]:.1f}"
                 if str(a) in floor and str(b) in floor else "—" for a, b in steps]
        lines.append(f"| floor | {pattern} names | " + " | ".join(cells) + " |")
    return lines


def fmt_caps(table):
    return ", ".join(f"{k} {v:,}" for k, v in table.items()) or "none"


def save(results):
    os.makedirs(OUT, exist_ok=True)
    temporary = RESULTS_JSON + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    os.replace(temporary, RESULTS_JSON)


# -------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Default caps: {fmt_caps(DEFAULT_CAPS)}; default single runs: "
               f"{fmt_caps(DEFAULT_SINGLE_RUN)}. See bench/README.md.")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"target sizes in nodes (default {DEFAULT_SIZES}; 1e4 works)")
    parser.add_argument("--kinds", default=",".join(workloads.KINDS),
                        help="workload kinds (default all: %(default)s)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="tools (default all: %(default)s)")
    parser.add_argument("--only", metavar="TOOLS",
                        help="re-measure only these tools and merge them into the previous "
                             "bench/out/results.json (e.g. --only bpdiff)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and case (default 3)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per run (default 120)")
    parser.add_argument("--cap", action="append", metavar="TOOL=SIZE",
                        help="do not run TOOL above SIZE (TOOL=none lifts a default cap); "
                             "repeatable or comma-separated")
    parser.add_argument("--single-run", action="append", metavar="TOOL=SIZE",
                        help="run TOOL once (not --repeat times) at SIZE and above")
    parser.add_argument("--baseline-repeat", type=int, default=10,
                        help="runs per start-up baseline (default 10)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--phase-repeat", type=int, default=1,
                        help="in-process phase measurements per case (default 1)")
    parser.add_argument("--no-phases", action="store_true")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip bench/floor.py (the machine's cost of a larger working set)")
    parser.add_argument("--seed", type=int, default=0, help="workload seed (default 0)")
    parser.add_argument("--no-install", action="store_true",
                        help="use bench/.venv as it is (no pip install of peers or bpdiff)")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite RESULTS.md from bench/out/results.json")
    args = parser.parse_args(argv)

    if args.report_only:
        with open(RESULTS_JSON, encoding="utf-8") as handle:
            write_report(json.load(handle))
        print(RESULTS_MD)
        return 0

    global _log_file
    os.makedirs(OUT, exist_ok=True)
    _log_file = open(os.path.join(OUT, "run.log"), "a", encoding="utf-8")
    command = "python3 " + shlex.join([os.path.relpath(sys.argv[0], REPO)
                                       if os.path.isabs(sys.argv[0]) else sys.argv[0],
                                       *(sys.argv[1:] if argv is None else argv)])
    log(f"=== {command}")
    started = time.time()
    args.caps = parse_tool_sizes(args.cap, DEFAULT_CAPS)
    args.single_run = parse_tool_sizes(args.single_run, DEFAULT_SINGLE_RUN)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    tools = [t.strip() for t in (args.only or args.tools).split(",") if t.strip()]
    for tool in tools:
        if tool not in TOOLS:
            parser.error(f"unknown tool {tool!r}; tools: {', '.join(TOOLS)}")
    for kind in kinds:
        if kind not in workloads.KINDS:
            parser.error(f"unknown kind {kind!r}; kinds: {', '.join(workloads.KINDS)}")
    if not shutil.which("script") and not args.no_baselines:
        log("note: `script` (util-linux) not found; the pseudo-terminal baseline will fail")

    setup_venv(install=not args.no_install)
    snapshot = source_hash()
    commit = git_describe()

    if args.only:
        if not os.path.exists(RESULTS_JSON):
            parser.error("--only needs a previous run's bench/out/results.json")
        with open(RESULTS_JSON, encoding="utf-8") as handle:
            results = json.load(handle)
        results["meta"].setdefault("refreshes", []).append(
            {"tools": tools, "date": now(), "command": command, "bpdiff": commit})
        if "bpdiff" in tools:
            results["meta"].setdefault("full_run_bpdiff", {
                "commit": results["meta"].get("bpdiff_commit"),
                "source": results["meta"].get("bpdiff_source")})
            results["meta"]["bpdiff_commit"] = commit
            results["meta"]["bpdiff_source"] = snapshot
    else:
        results = {"meta": {"command": command, "date": now(), "repeat": args.repeat,
                            "timeout": args.timeout, "caps": args.caps,
                            "single_run": args.single_run, "sizes": sizes, "kinds": kinds,
                            "tools": tools, "seed": args.seed,
                            "baseline_repeat": args.baseline_repeat,
                            "bpdiff_commit": commit, "bpdiff_source": snapshot}}
    results["meta"]["machine"] = machine()

    log("generating workloads")
    manifest = workloads.write_all(os.path.join(OUT, "workloads"), kinds, sizes, args.seed)
    save(results)

    if "bpdiff" in tools:  # its first run after an install caches Lark's analysis of the
        warm_up_bpdiff(args.timeout)  # grammar (once per install); keep that out of the timings
    if not args.no_baselines and (not args.only or "bpdiff" in tools):
        results["baselines"] = run_baselines(args.baseline_repeat, args.timeout)
        save(results)

    run_cases(args, manifest, tools, results)
    if "bpdiff" in tools and not args.no_floor:
        results["floor"] = run_floor(args, sizes)

    if args.only:  # peers' cross-checks against the re-measured bpdiff output
        entries = {case_key(e["kind"], e["target"]): e for e in manifest}
        for key, case in results["cases"].items():
            if key in entries:
                cross_check_case(case, entries[key])
    after = source_hash()
    if after != snapshot:
        results["meta"]["source_changed"] = f"hash {snapshot} at install, {after} at the end"
        log(f"note: bpdiff's source changed during the run ({snapshot} -> {after}); "
            "re-run `python3 bench/run.py --only bpdiff` to measure the new one")
    if not args.only:
        results["meta"]["elapsed"] = f"{(time.time() - started) / 60:.1f} min"
    save(results)
    write_report(results)
    log(f"done in {(time.time() - started) / 60:.1f} min: {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
