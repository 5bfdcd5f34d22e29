"""The API is safe from several threads: each parse has its own builder and scanner,
and nothing module-level changes during a call. 8 threads each run 200 mixed programs
(scalar, tensor, user functions, --exact, errors) and every result must equal the one
the same program gives when run alone."""

import random
import threading
from pathlib import Path

import bpdiff

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.bp"))

PROGRAMS = [
    ("(a+b)*b^3", {"a": 7, "b": 3}),
    ("d = 2b; e = a + d; L = c*e", {"a": 1, "b": 2, "c": -3}),
    ("sigmoid(w0*x0 + w1*x1 + w2)", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    ("relu(x) + max(x, y) + abs(x - y)", {"x": 0, "y": 0}),
    ("def f(x, y) = x*y + sin(x)\nf(a, 2b) + f(b, a)", {"a": 0.5, "b": 1.5}),
    ("def sq(x) = x^2; def g(u) = sq(u) + sq(2u); L = g(a) * g(b)", {"a": 1, "b": 2}),
    ("sum(W @ x + b)", {"W": [[1, 2], [3, 4]], "x": [1, -1], "b": [0.5, 0.5]}),
    ("cross_entropy(z, 1)", {"z": [1.0, 2.0, 0.5]}),
    ("mean(tanh(x) * x)", {"x": [0.1, -0.2, 0.3, 0.4]}),
    ("log(x) / x", {"x": 2}),
    ("1/x^2", {"x": 0}),
    ("a + * b", {}),  # a syntax error
    ("(a+b*b^3", {"a": 1, "b": 2}),
    ("def f(x) = y*x; f(a)", {"a": 1}),  # a name error in a body
    ("sin x", {"x": 1}),
    ("x*y", {"x": 1}),  # a missing value
    ("[[1, 2], [3]] + x", {"x": 1}),  # a ragged array literal
    ("t1 = a*b; t2 = t1 + t1; t2*t1", {"a": 3, "b": -2}),
    ("exp(-(w0*x0 + w1*x1 + w2))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
] + [(path.read_text(encoding="utf-8"), None) for path in EXAMPLES]


def _plain(x):
    return x.tolist() if hasattr(x, "tolist") else x


def run(text, values, exact):
    """What a run gives, as text to compare (nan equals nan there): value, gradients and
    labels, or the error."""
    try:
        result = bpdiff.differentiate(text, values or {}, exact=exact)
    except bpdiff.BpdiffError as error:
        return f"error {type(error).__name__}: {error}"
    return repr((_plain(result.value), {k: _plain(v) for k, v in result.gradient.items()},
                 [node.label for node in result.nodes], result.exact is not None))


def _work(seed):
    rng = random.Random(seed)
    return [(k, exact) for k, exact in
            ((rng.randrange(len(PROGRAMS)), rng.random() < 0.2) for _ in range(200))]


def test_eight_threads_give_the_serial_results():
    serial = {}
    for k, (text, values) in enumerate(PROGRAMS):
        for exact in (False, True):
            serial[k, exact] = run(text, values, exact)
    assert any(r.startswith("error") for r in serial.values())
    assert sum(not r.startswith("error") for r in serial.values()) > len(PROGRAMS)
    mismatches, crashes = [], []

    def worker(seed):
        try:
            for k, exact in _work(seed):
                got = run(*PROGRAMS[k], exact)
                if got != serial[k, exact]:
                    mismatches.append((k, exact, got, serial[k, exact]))
        except Exception as error:  # noqa: BLE001 - any crash is the finding
            crashes.append(repr(error))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashes == []
    assert mismatches == []
