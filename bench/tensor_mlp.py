#!/usr/bin/env python3
"""Tensor mode against PyTorch CPU: an MLP loss and its gradient, whole process.

    /tmp/venv-bench-torch/bin/python bench/tensor_mlp.py            # writes TENSOR_RESULTS.md
    python bench/tensor_mlp.py --hidden 16,128 --repeat 3 --print   # a quick look

The program (bpdiff syntax; columns of X are the batch's examples):

    H = tanh(W1 @ X + b1)
    P = W2 @ H + b2
    L = mean((P - Y)^2)

with X (D, B), W1 (hidden, D), b1 (hidden, 1), W2 (K, hidden), b2 (K, 1), Y (K, B);
B = 64, D = 32, K = 8 by default and hidden 16, 128, 512. Values are seeded normal
numbers, written once to bench/out/tensor_mlp/ as one JSON file per size.

For each size, each tool runs as its own process, --repeat times, interleaved (a round
of both tools, then the next round), with bench/run.py's measure(): wall time from spawn
to reap and peak RSS from GNU time (%M):

    bpdiff: bpdiff -f mlp.bp --vars values.json --json
    torch:  python bench/peers/torch_tensor_mlp.py values.json

The table gives each tool's median and peak RSS and the ratio torch/bpdiff (above 1:
bpdiff is faster), with start-up baselines, and cross-checks the answers: L and the
parameters' gradients from both, relative difference to the largest element.

Run it with a Python that has bpdiff and torch (`pip install torch==2.13.0` and
`pip install -e .` in a benchmark-only venv; see bench/README.md).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
from run import measure  # noqa: E402

OUT = os.path.join(BENCH, "out", "tensor_mlp")
RESULTS_MD = os.path.join(BENCH, "TENSOR_RESULTS.md")
PEER = os.path.join(BENCH, "peers", "torch_tensor_mlp.py")
PROGRAM = "H = tanh(W1 @ X + b1)\nP = W2 @ H + b2\nL = mean((P - Y)^2)\n"
PARAMETERS = ("W1", "b1", "W2", "b2")
TOLERANCE = 1e-9  # float64 both sides; only the order of the sums differs


def workload(hidden, batch, inputs, outputs, seed):
    """The values of one size: seeded, scaled so tanh is neither saturated nor linear."""
    rng = np.random.default_rng(seed + hidden)
    return {
        "X": rng.normal(size=(inputs, batch)),
        "W1": rng.normal(scale=inputs ** -0.5, size=(hidden, inputs)),
        "b1": rng.normal(scale=0.1, size=(hidden, 1)),
        "W2": rng.normal(scale=hidden ** -0.5, size=(outputs, hidden)),
        "b2": rng.normal(scale=0.1, size=(outputs, 1)),
        "Y": rng.normal(size=(outputs, batch)),
    }


def write_case(hidden, args):
    """Program and values files for one hidden size: their paths."""
    os.makedirs(OUT, exist_ok=True)
    program = os.path.join(OUT, "mlp.bp")
    with open(program, "w", encoding="utf-8") as handle:
        handle.write(PROGRAM)
    values = workload(hidden, args.batch, args.inputs, args.outputs, args.seed)
    path = os.path.join(OUT, f"values_h{hidden}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({name: array.tolist() for name, array in values.items()}, handle)
    return program, path


def commands(python, program, values):
    bpdiff = os.path.join(os.path.dirname(python), "bpdiff")
    return {"bpdiff": [bpdiff, "-f", program, "--vars", values, "--json"],
            "torch": [python, PEER, values]}


def run_case(hidden, args):
    """Interleaved runs of both tools: {tool: [measurement, ...]}, and the answers."""
    program, values = write_case(hidden, args)
    tools = commands(args.python, program, values)
    runs = {tool: [] for tool in tools}
    for round_ in range(args.repeat):
        for tool, argv in tools.items():
            stdout = os.path.join(OUT, f"{tool}_h{hidden}.out")
            stderr = os.path.join(OUT, f"{tool}_h{hidden}.err")
            result = measure(argv, args.timeout, stdout, stderr)
            if result["rc"] != 0 or result["timeout"]:
                with open(stderr, encoding="utf-8", errors="replace") as handle:
                    raise SystemExit(f"{tool} failed at hidden={hidden}: {result}\n"
                                     + handle.read()[-2000:])
            runs[tool].append(result)
            log(f"hidden {hidden} round {round_ + 1} {tool}: {result['wall']:.3f} s,"
                f" {result['rss_mb']} MB")
    answers = {}
    for tool in tools:
        with open(os.path.join(OUT, f"{tool}_h{hidden}.out"), encoding="utf-8") as handle:
            answers[tool] = json.load(handle)
    return runs, answers, os.path.getsize(os.path.join(OUT, f"bpdiff_h{hidden}.out"))


def torch_compute(python, values, repeat, timeout):
    """The torch script's own compute time (lists to gradients), median of `repeat` runs."""
    seconds = [json.loads(subprocess.run([python, PEER, values], capture_output=True, text=True,
                                         check=True, timeout=timeout).stdout)["compute_s"]
               for _ in range(repeat)]
    return statistics.median(seconds)


def cross_check(answers):
    """The largest relative difference between the tools' L and parameter gradients."""
    bp, torch = answers["bpdiff"], answers["torch"]
    worst = abs(bp["value"] - torch["value"]) / max(abs(torch["value"]), 1e-300)
    for name in PARAMETERS:
        a, b = np.array(bp["gradient"][name], dtype=float), np.array(torch["gradient"][name])
        if a.shape != b.shape:
            raise SystemExit(f"∂L/∂{name}: bpdiff shape {a.shape}, torch {b.shape}")
        worst = max(worst, float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)))
    return worst


def baselines(python, repeat, timeout):
    """Start-up costs both tools pay: (label, median s, peak MB)."""
    bpdiff = os.path.join(os.path.dirname(python), "bpdiff")
    rows = []
    for label, argv in [("python -c pass", [python, "-c", "pass"]),
                        ("python -c 'import numpy'", [python, "-c", "import numpy"]),
                        ("python -c 'import torch'", [python, "-c", "import torch"]),
                        ("bpdiff scalar: (a+b)*b^3 --json", [bpdiff, "(a+b)*b^3", "--a", "7",
                                                             "--b", "3", "--json"]),
                        ("bpdiff tensor: sum(x) --x '[1, 2]' --json",
                         [bpdiff, "sum(x)", "--x", "[1, 2]", "--json"])]:
        runs = [measure(argv, timeout, os.devnull, os.path.join(OUT, "baseline.err"))
                for _ in range(repeat)]
        rows.append((label, statistics.median(r["wall"] for r in runs),
                     max(r["rss_mb"] or 0 for r in runs)))
        log(f"baseline {label}: {rows[-1][1]:.3f} s")
    return rows


def phases(python, hidden, args):
    """bpdiff in-process, one fresh interpreter per run, medians of --repeat runs: the
    imports, reading the values, differentiate() (parse, forward, backward) and the JSON
    text."""
    code = (
        "import json, time, sys\n"
        "t0 = time.perf_counter()\n"
        "from bpdiff.api import differentiate\n"
        "from bpdiff.render.json import render\n"
        "import numpy\n"
        "t1 = time.perf_counter()\n"
        f"values = json.load(open({os.path.join(OUT, f'values_h{hidden}.json')!r}))\n"
        f"text = open({os.path.join(OUT, 'mlp.bp')!r}).read()\n"
        "t2 = time.perf_counter()\n"
        "result = differentiate(text, values)\n"
        "t3 = time.perf_counter()\n"
        "out = render(result)\n"
        "t4 = time.perf_counter()\n"
        "print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3]))\n")
    runs = [json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True,
                                      check=True, timeout=args.timeout).stdout)
            for _ in range(args.repeat)]
    return [statistics.median(column) for column in zip(*runs)]


def log(message):
    print(message, file=sys.stderr, flush=True)


def fmt_s(seconds):
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def report(args, cases, base, machine):
    lines = [
        "# bpdiff tensor mode vs PyTorch CPU: an MLP loss and its gradient",
        "",
        f"Written by `bench/tensor_mlp.py` on {machine['date']} ({machine['cpu']},"
        f" {machine['nproc']} cores, load average {machine['load_before']} before and"
        f" {machine['load_after']} after; Python {machine['python']}, NumPy"
        f" {machine['numpy']}, torch {machine['torch']}, bpdiff {machine['bpdiff']}).",
        "",
        "```",
        PROGRAM.rstrip(),
        "```",
        "",
        f"X is ({args.inputs}, B) with B = {args.batch} examples as columns, Y is"
        f" ({args.outputs}, B), W1 (hidden, {args.inputs}), b1 (hidden, 1),"
        f" W2 ({args.outputs}, hidden), b2 ({args.outputs}, 1); seeded normal values"
        f" (seed {args.seed}). Whole processes, {args.repeat} runs each, interleaved:",
        "`bpdiff -f mlp.bp --vars values.json --json` against"
        " `python bench/peers/torch_tensor_mlp.py values.json` (float64 tensors,"
        " `L.backward()`, the four parameters' gradients as JSON).",
        "",
        "| hidden | parameters | bpdiff median | bpdiff peak RSS | torch median |"
        " torch peak RSS | torch / bpdiff | bpdiff JSON | max rel. diff |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for hidden, case in cases.items():
        bp = statistics.median(r["wall"] for r in case["runs"]["bpdiff"])
        torch = statistics.median(r["wall"] for r in case["runs"]["torch"])
        params = hidden * args.inputs + hidden + args.outputs * hidden + args.outputs
        bp_rss, torch_rss = (max(r["rss_mb"] for r in case["runs"][tool])
                             for tool in ("bpdiff", "torch"))
        lines.append(
            f"| {hidden} | {params:,} | {fmt_s(bp)} | {bp_rss:.0f} MB"
            f" | {fmt_s(torch)} | {torch_rss:.0f} MB"
            f" | ×{torch / bp:.2f} | {case['json_bytes'] / 1e6:.1f} MB | {case['diff']:.1e} |")
    lines += [
        "",
        f"Answers: L and ∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2 agree at every size (largest"
        f" difference relative to each array's largest element in the last column;"
        f" the check fails above {TOLERANCE:g}).",
        "",
        "Where bpdiff's time goes (in-process, a fresh interpreter per run, medians of"
        f" {args.repeat} runs; the rest of the whole-process median is interpreter start-up,"
        " click and writing stdout), and the same computation in the torch script (from the"
        " values as Python lists to the gradients: tensors made, forward, backward;"
        " medians of its own timer):",
        "",
        "| hidden | import bpdiff + numpy | read values | bpdiff differentiate() | JSON text |"
        " torch compute | torch / bpdiff, compute only |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for hidden, case in cases.items():
        compute = case["phases"][2]
        lines.append("| " + " | ".join([str(hidden), *map(fmt_s, case["phases"]),
                                        fmt_s(case["torch_compute"]),
                                        f"×{case['torch_compute'] / compute:.2f}"]) + " |")
    lines += ["", "Start-up baselines (medians):", "", "| command | median | peak RSS |",
              "|---|---:|---:|"]
    lines += [f"| `{label}` | {fmt_s(wall)} | {rss:.0f} MB |" for label, wall, rss in base]
    lines += [
        "",
        "## Reading it",
        "",
        "- The machine is shared by several agents (2 cores): absolute times move between"
        " runs; compare the ratios, all from this one run.",
        "- Both sides pay their imports on every run: torch's import alone costs more than"
        " bpdiff's whole run at these sizes (see the baselines), so the whole-process ratio"
        " mostly compares start-up. The compute-only ratio compares bpdiff's differentiate()"
        " (which also parses the program and converts the lists) with torch's tensors,"
        " forward and backward.",
        "- bpdiff prints every node's value and gradient (the hidden activations included)"
        " as JSON; the torch script prints only L and the parameters' gradients. At"
        " hidden = 512 that output is the JSON size above, and writing it is part of"
        " bpdiff's time (the JSON column of the phase table).",
        "- Both use NumPy/torch kernels for the products; neither is told how many threads"
        " to use.",
        "",
    ]
    return "\n".join(lines)


def machine_info(python):
    code = ("import json, sys, importlib.metadata as m; print(json.dumps({'python':"
            " sys.version.split()[0], 'numpy': m.version('numpy'), 'torch': m.version('torch'),"
            " 'bpdiff': m.version('bpdiff')}))")
    info = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True,
                                     check=True).stdout)
    info["nproc"] = len(os.sched_getaffinity(0))
    info["cpu"] = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in handle
                               if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info["date"] = datetime.date.today().isoformat()
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", default="16,128,512", help="hidden sizes (default %(default)s)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--inputs", type=int, default=32, help="features D (default 32)")
    parser.add_argument("--outputs", type=int, default=8, help="outputs K (default 8)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool (default 5, >= 3)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--python", default=sys.executable,
                        help="a Python with bpdiff and torch (default: this one)")
    parser.add_argument("--print", action="store_true", help="print the report, do not write it")
    args = parser.parse_args(argv)
    if args.repeat < 3:
        parser.error("--repeat must be at least 3 (the median of at least 3 runs)")
    os.makedirs(OUT, exist_ok=True)
    machine = machine_info(args.python)
    machine["load_before"] = f"{os.getloadavg()[0]:.1f}"
    cases = {}
    for hidden in (int(h) for h in args.hidden.split(",")):
        runs, answers, json_bytes = run_case(hidden, args)
        diff = cross_check(answers)
        if not diff <= TOLERANCE:
            raise SystemExit(f"hidden={hidden}: bpdiff and torch differ by {diff:.2e}")
        cases[hidden] = {"runs": runs, "diff": diff, "json_bytes": json_bytes,
                         "phases": phases(args.python, hidden, args),
                         "torch_compute": torch_compute(
                             args.python, os.path.join(OUT, f"values_h{hidden}.json"),
                             args.repeat, args.timeout)}
    base = baselines(args.python, args.repeat, args.timeout)
    machine["load_after"] = f"{os.getloadavg()[0]:.1f}"
    text = report(args, cases, base, machine)
    if args.print:
        print(text)
    else:
        with open(RESULTS_MD, "w", encoding="utf-8") as handle:
            handle.write(text)
        log(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    main()
