"""The long fuzzing run of bpdiff: the strategies and contract checks of
tests/test_fuzz.py, over many more inputs.

    python fuzz/run_fuzz.py                      # 200,000 inputs
    python fuzz/run_fuzz.py --count 20000 --seconds 900 --jobs 2

Inputs run in-process (differentiate() and cli.main()), each under a time limit
(signal.alarm: an input that takes longer is a hang, reported with the input); a sample
of the command lines also runs as real `python -m bpdiff` processes, half of them with
PYTHONIOENCODING=utf-8 (the strict stdout of an en_US.UTF-8 locale). The categories of
fuzz/hardening.py add real processes with odd standard streams (a full disk, a closed
stdin or pipe, ASCII/latin-1/cp1252), array-size bombs, Ctrl-C at random moments and
planted cache files. A last-resort
watchdog (faulthandler) ends the process if an input is stuck where no signal handler
can run, leaving that input in fuzz/failures/current-input.txt.

Each failing input is classified as a known bug (tests/test_fuzz.py's KNOWN_BUGS) or a
new one; for each kind of failure the smallest input is shrunk further and written to
fuzz/failures/ with a line of Python that reproduces it. The last line printed is

    fuzz: N inputs, F failures, H hangs

and the exit status is 0 unless there was a hang or a failure that is not a known bug.
"""

import argparse
import collections
import faulthandler
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import test_fuzz as F  # noqa: E402  (the shared strategies and checks)
import hardening as H  # noqa: E402  (odd standard streams, array-size bombs: issue 15)

FAILURES = os.path.join(HERE, "failures")
CURRENT_INPUT = os.path.join(FAILURES, "current-input.txt")
BATCH = 100  # inputs per hypothesis run (largest share); each gets a fresh seed and engine


def _library(item):
    return F.check_library(item)


def _main(item):
    violations, outcome = F.check_main(item)
    return violations, f"exit {outcome.code}" if outcome.error is None else "exception"


def _bytes_case(data):
    return F.LibraryCase(data.decode("utf-8", errors="replace"))


# name -> (strategy, check, share of the inputs)
CATEGORIES = {
    "grammar": (F.library_cases(), _library, 0.265),
    "text": (F.library_cases(F.random_texts), _library, 0.08),
    "bytes": (st.binary().map(_bytes_case), _library, 0.04),
    "mutation": (F.library_cases(F.mutated_programs()), _library, 0.24),
    "argv": (F.invocations(), _main, 0.28),
    "json": (F.json_invocations(), _main, 0.08),
    "streams": (H.stream_cases(), H.check_stream_case, 0.02),  # real processes
    "sizes": (H.size_bombs(), H.check_size_bomb, 0.02),
    "signals": (H.signal_cases(), H.check_signal_case, 0.01),  # real processes
    "caches": (H.cache_cases(), H.check_cache_case, 0.005),  # real processes
}


class Run:
    """Counters and failure records of one process's share of the run."""

    def __init__(self, options, count, seconds, seed_value, subprocesses):
        self.options = options
        self.count = count
        self.deadline = time.monotonic() + seconds if seconds else None
        self.random = random.Random(seed_value)
        self.seed = seed_value
        self.subprocess_target = subprocesses
        self.inputs = 0
        self.outcomes = collections.defaultdict(collections.Counter)  # category -> label -> n
        self.failures = collections.Counter()  # signature -> inputs
        self.examples = {}  # signature -> the smallest few (size, category, item, violation)
        self.hangs = 0
        self.subprocess_runs = 0
        self.subprocess_unrepresentable = 0
        self.current_fd = None

    def over(self):
        return self.inputs >= self.count or (
            self.deadline is not None and time.monotonic() >= self.deadline)

    def _mark_current(self, category, item):
        """Leave the input being run where the watchdog's victim can be found."""
        if self.current_fd is None:
            return
        data = f"{category}\n{item!r}\n".encode("utf-8", "backslashreplace")
        os.pwrite(self.current_fd, data, 0)
        os.ftruncate(self.current_fd, len(data))

    def one(self, category, item, check):
        self._mark_current(category, item)
        if self.options.timeout:
            faulthandler.dump_traceback_later(self.options.timeout * 3 + 10, exit=True)
        try:
            with F.time_limit(self.options.timeout):
                violations, label = check(item)
        except F.InputTimeout as error:
            violations, label = [F.Violation("hang", str(error))], "hang"
        self.inputs += 1
        self.outcomes[category][label] += 1
        self._record(category, item, violations)
        if category == "argv" and self.subprocess_target and self._sample():
            self._subprocess(item)

    def _sample(self):
        share = CATEGORIES["argv"][2] * self.count or 1
        return self.random.random() < self.subprocess_target / share

    def _subprocess(self, item):
        strict = self.subprocess_runs % 2 == 0
        timeout = max(30, self.options.timeout * 3)
        if self.options.timeout:  # the watchdog must outlast the process's own timeout
            faulthandler.dump_traceback_later(timeout + 30, exit=True)
        violations = F.check_subprocess(item, strict_stdout=strict, timeout=timeout)
        if violations is None:
            self.subprocess_unrepresentable += 1
            return
        self.subprocess_runs += 1
        label = "subprocess" + ("" if strict else "-inherited-locale")
        self.outcomes[label]["checked"] += 1
        self._record(label, item, violations)

    def _record(self, category, item, violations):
        seen = set()
        for violation in violations:
            if violation.kind == "hang":
                self.hangs += 1
            signature = _signature(violation)
            if signature in seen:
                continue
            seen.add(signature)
            self.failures[signature] += 1
            size = len(repr(item))
            kept = self.examples.setdefault(signature, [])
            if len(kept) < 3 or size < kept[-1][0]:
                kept.append((size, category, item, violation))
                kept.sort(key=lambda entry: entry[0])
                del kept[3:]

    def summary(self):
        return {"inputs": self.inputs, "outcomes": {k: dict(v) for k, v in self.outcomes.items()},
                "failures": dict(self.failures), "examples": self.examples, "hangs": self.hangs,
                "subprocess_runs": self.subprocess_runs,
                "subprocess_unrepresentable": self.subprocess_unrepresentable}


def _failures(counter):
    """Failing inputs by signature -> how many inputs failed (hangs counted apart)."""
    return sum(n for signature, n in counter.items() if not signature.endswith(" hang"))


def _signature(violation):
    bug = F.known_bug(violation)
    return f"{bug.id} {violation.signature()}" if bug else f"new {violation.signature()}"


def _batches(run, progress):
    """Run the categories in rounds (at most BATCH inputs of the largest share each) until
    each category has its share of the count, or the time is up."""
    quota = {name: round(run.count * share) for name, (_, _, share) in CATEGORIES.items()}
    quota["grammar"] += run.count - sum(quota.values())
    done = collections.Counter()
    largest = max(share for _, _, share in CATEGORIES.values())
    round_number = 0
    last_report = time.monotonic()
    while not run.over() and any(done[name] < quota[name] for name in CATEGORIES):
        for number, (name, (strategy, check, share)) in enumerate(CATEGORIES.items()):
            size = min(max(1, round(BATCH * share / largest)), quota[name] - done[name])
            if size <= 0 or run.over():
                continue
            before = run.inputs
            _hypothesis_batch(run, name, strategy, check, size,
                              run.seed * 1_000_003 + round_number * 101 + number)
            done[name] += max(1, run.inputs - before)
        round_number += 1
        if progress and time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            print(f"fuzz: ... {run.inputs:,} inputs, {_failures(run.failures):,} failures,"
                  f" {run.hangs} hangs", file=sys.stderr, flush=True)


def _hypothesis_batch(run, name, strategy, check, size, batch_seed):
    @seed(batch_seed)
    @settings(max_examples=size, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate], print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def body(item):
        if not run.over():
            run.one(name, item, check)

    body()


def _worker(arguments):
    """One process's share: (options, count, seconds, seed, subprocesses, progress)."""
    options, count, seconds, seed_value, subprocesses, progress = arguments
    F._WORKDIR.clear()  # a working directory of its own
    run = Run(options, count, seconds, seed_value, subprocesses)
    os.makedirs(FAILURES, exist_ok=True)
    run.current_fd = os.open(f"{CURRENT_INPUT}.{os.getpid()}", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _batches(run, progress)
    except KeyboardInterrupt:
        print("fuzz: interrupted", file=sys.stderr)
    finally:
        faulthandler.cancel_dump_traceback_later()
        os.close(run.current_fd)
        os.unlink(f"{CURRENT_INPUT}.{os.getpid()}")
        for path in F._WORKDIR:
            shutil.rmtree(path, ignore_errors=True)
        F._WORKDIR.clear()
    return run.summary()


def _merge(parts):
    total = {"inputs": 0, "outcomes": collections.defaultdict(collections.Counter),
             "failures": collections.Counter(), "examples": {}, "hangs": 0,
             "subprocess_runs": 0, "subprocess_unrepresentable": 0}
    for part in parts:
        for key in ("inputs", "hangs", "subprocess_runs", "subprocess_unrepresentable"):
            total[key] += part[key]
        for category, labels in part["outcomes"].items():
            total["outcomes"][category].update(labels)
        total["failures"].update(part["failures"])
        for signature, kept in part["examples"].items():
            merged = sorted(total["examples"].get(signature, []) + kept, key=lambda e: e[0])
            total["examples"][signature] = merged[:3]
    return total


# ---------------------------------------------------------------------------------------
# Shrinking a failing input further (delta debugging), keeping its failure signature


def _still_fails(category, item, signature, timeout):
    check = _check_for(category)
    try:
        with F.time_limit(timeout):
            violations = check(item)
    except F.InputTimeout:
        return False
    return any(_signature(v) == signature for v in violations)


def _check_for(category):
    if category.startswith("subprocess"):
        strict = category == "subprocess"
        return lambda item: F.check_subprocess(item, strict_stdout=strict) or []
    check = CATEGORIES[category][1]
    return lambda item: check(item)[0]


def _ddmin(sequence, keeps_failing, budget):
    """A shorter sequence (str, bytes or tuple) for which keeps_failing() holds."""
    chunk = max(1, len(sequence) // 2)
    while chunk >= 1 and budget[0] > 0:
        start, changed = 0, False
        while start < len(sequence) and budget[0] > 0:
            candidate = sequence[:start] + sequence[start + chunk:]
            budget[0] -= 1
            if keeps_failing(candidate):
                sequence, changed = candidate, True
            else:
                start += chunk
        if not changed:
            chunk //= 2
    if len(sequence) <= 40:  # short: try cutting out every piece, longest first
        for length in range(len(sequence) - 1, 1, -1):
            for start in range(len(sequence) - length + 1):
                if budget[0] <= 0 or start + length > len(sequence):
                    break
                candidate = sequence[:start] + sequence[start + length:]
                budget[0] -= 1
                if keeps_failing(candidate):
                    return _ddmin(candidate, keeps_failing, budget)
    return sequence


def minimize(category, item, signature, timeout, budget=2000):
    """A smaller input with the same failure, within `budget` runs (a fifth of it for
    main(), a fiftieth for real processes)."""
    if isinstance(item, (H.StreamCase, H.SignalCase, H.CacheCase)):  # a real process per
        return item  # try (and a signal's timing): kept as it is
    left = [budget // 50 if category.startswith("subprocess") else
            budget if isinstance(item, F.LibraryCase) else budget // 5]
    fails = lambda candidate: _still_fails(category, candidate, signature, timeout)  # noqa: E731
    if isinstance(item, F.LibraryCase):
        for _ in range(2):  # values first (to free the text), then the text, twice
            for name in list(item.values):
                left[0] -= 1
                candidate = replace(item, values={k: v for k, v in item.values.items()
                                                  if k != name})
                if left[0] > 0 and fails(candidate):
                    item = candidate
            item = replace(item, text=_ddmin(item.text, lambda t: fails(replace(item, text=t)),
                                             left))
        for candidate in (replace(item, output=None), replace(item, share=True)):
            left[0] -= 1
            if candidate != item and left[0] > 0 and fails(candidate):
                item = candidate
        return item
    argv = _ddmin(item.argv, lambda a: fails(F.Invocation(a, item.files, item.stdin)), left)
    item = F.Invocation(argv, item.files, item.stdin)
    for k in range(len(item.argv)):
        def with_arg(text, k=k):
            return F.Invocation(item.argv[:k] + (text,) + item.argv[k + 1:], item.files, item.stdin)
        shorter = _ddmin(item.argv[k], lambda t: fails(with_arg(t)), left)
        item = with_arg(shorter)
    for k, (name, data) in enumerate(item.files):
        def with_file(blob, k=k, name=name):
            files = item.files[:k] + ((name, blob),) + item.files[k + 1:]
            return F.Invocation(item.argv, files, item.stdin)
        item = with_file(_ddmin(data, lambda b: fails(with_file(b)), left))
    if item.stdin:
        item = F.Invocation(item.argv, item.files,
                            _ddmin(item.stdin, lambda b: fails(
                                F.Invocation(item.argv, item.files, b)), left))
    return item


# ---------------------------------------------------------------------------------------
# Reporting


def _reproducer(category, item):
    checks = {H.StreamCase: "check_stream_case", H.SignalCase: "check_signal_case",
              H.CacheCase: "check_cache_case"}
    if type(item) in checks:
        return ("import sys; sys.path[:0] = ['tests', 'fuzz']; import test_fuzz as F; "
                "from test_fuzz import Invocation; "
                f"import hardening as H; print(H.{checks[type(item)]}(H.{item!r}))")
    if isinstance(item, F.LibraryCase):
        return ("from fractions import Fraction; from decimal import Decimal; import bpdiff; "
                f"bpdiff.differentiate({item.text!r}, {item.values!r}, output={item.output!r},"
                f" share={item.share!r})")
    check = ("F.check_subprocess(i, strict_stdout=True)" if category == "subprocess" else
             "F.check_subprocess(i, strict_stdout=False)" if category.startswith("subprocess")
             else "F.check_main(i)[0]")
    return ("import sys; sys.path.insert(0, 'tests'); import test_fuzz as F; "
            f"i = F.{item!r}; print({check})")


def _as_json(item):
    if isinstance(item, H.StreamCase):
        return {"condition": item.condition, **_as_json(item.invocation)}
    if isinstance(item, H.SignalCase):
        return {"delay": item.delay, **_as_json(item.invocation)}
    if isinstance(item, H.CacheCase):
        return {"plant": item.plant, "program": item.program}
    if isinstance(item, F.LibraryCase):
        return {"text": item.text, "values": {k: repr(v) for k, v in item.values.items()},
                "output": item.output, "share": item.share}
    return {"argv": list(item.argv),
            "files": {name: data.decode("latin-1") for name, data in item.files},
            "stdin": item.stdin.decode("latin-1")}


def _file_name(signature, rank):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", signature).strip("_")[:120] + f"-{rank}.json"


def report(total, options, started):
    os.makedirs(FAILURES, exist_ok=True)
    for old in os.listdir(FAILURES):  # the previous run's records
        if old.endswith(".json"):
            os.unlink(os.path.join(FAILURES, old))
    known_ids = {bug.id: bug.summary for bug in F.KNOWN_BUGS}
    print(f"fuzz: outcomes by category ({time.monotonic() - started:.0f} s in all):")
    for category, labels in sorted(total["outcomes"].items()):
        shown = ", ".join(f"{label} {n:,}" for label, n in labels.most_common())
        print(f"  {category:28s} {shown}")
    print(f"fuzz: {total['subprocess_runs']} real processes (python -m bpdiff); "
          f"{total['subprocess_unrepresentable']} sampled command lines could not be one "
          "(NUL, lone surrogate, too long)")
    new = 0
    for signature, kept in sorted(total["examples"].items()):
        bug_id = signature.split(" ", 1)[0]
        count = total["failures"][signature]
        _, category, item, violation = kept[0]
        if violation.kind != "hang" and options.minimize:
            try:
                smaller = minimize(category, item, signature, options.timeout or 10)
            except Exception as error:  # noqa: BLE001 - keep the unshrunk input
                print(f"fuzz: could not shrink {signature}: {error!r}", file=sys.stderr)
                smaller = item
            if smaller != item:
                kept = [(len(repr(smaller)), category, smaller, violation)] + kept
        for rank, (size, category, item, violation) in enumerate(kept):
            record = {"signature": signature, "known_bug": known_ids.get(bug_id),
                      "category": category, "inputs_with_this_failure": count,
                      "kind": violation.kind, "detail": violation.detail,
                      "exception": violation.exception, "message": violation.message,
                      "traceback": violation.traceback, "input": _as_json(item),
                      "input_repr": repr(item), "reproduce": _reproducer(category, item)}
            with open(os.path.join(FAILURES, _file_name(signature, rank)), "w",
                      encoding="utf-8") as handle:
                json.dump(record, handle, indent=1, ensure_ascii=True)
        label = ("HANG" if violation.kind == "hang" else
                 f"known bug {bug_id}" if bug_id in known_ids else "NEW")
        new += bug_id not in known_ids and violation.kind != "hang"
        print(f"fuzz: {label}: {signature.split(' ', 1)[1]} on {count:,} inputs;"
              f" smallest: {F.describe(kept[0][2])[:300]}")
    failures = _failures(total["failures"])
    print(f"fuzz: failing inputs written to {os.path.relpath(FAILURES)}/" if failures or
          total["hangs"] else "fuzz: nothing written to fuzz/failures/")
    print(f"fuzz: {total['inputs']} inputs, {failures} failures, {total['hangs']} hangs")
    return 1 if new or total["hangs"] else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="inputs in all (200,000)")
    parser.add_argument("--seconds", type=float, default=0, help="time budget (0: none)")
    parser.add_argument("--seed", type=int, default=None, help="for a reproducible run")
    parser.add_argument("--timeout", type=int, default=10,
                        help="seconds per input before it counts as a hang (10)")
    parser.add_argument("--subprocesses", type=int, default=None,
                        help="real processes to run (default: count / 1000, at most 200)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (1)")
    parser.add_argument("--no-minimize", dest="minimize", action="store_false",
                        help="do not shrink failing inputs")
    options = parser.parse_args(argv)
    seed_value = options.seed if options.seed is not None else random.randrange(2**32)
    subprocesses = (options.subprocesses if options.subprocesses is not None
                    else min(200, options.count // 1000))
    jobs = max(1, options.jobs)
    print(f"fuzz: {options.count:,} inputs, seed {seed_value}, {jobs} job(s), time limit "
          f"{options.timeout} s per input", flush=True)
    started = time.monotonic()
    shares = [(options, options.count // jobs + (k < options.count % jobs), options.seconds,
               seed_value + k, subprocesses // jobs + (k < subprocesses % jobs), k == 0)
              for k in range(jobs)]
    if jobs == 1:
        parts = [_worker(shares[0])]
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_worker, shares)
    return report(_merge(parts), options, started)


if __name__ == "__main__":
    sys.exit(main())
