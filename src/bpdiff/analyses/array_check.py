"""Checking array answers (`--expect W=[[...]]`, `--expect W=@dW.npy`, --expect-file):
shape first, then element by element, then the mistake that explains a wrong array.

Elements are compared as scalar answers are, by tolerances alone (the digits written
do not count: an array has no single way of being written):

    |expected − got| <= atol + rtol·max(|expected|, |got|)   element by element

(nan matches nan, an infinity itself). A shape that differs from bpdiff's is a failure
in itself, described (transposed, a missing or extra dimension of size 1 as keepdims
gives, a number for an array, broadcastable but not the same, ...), and the answer
reshaped that way is compared too ("its transpose is right").

For a wrong gradient, single mistakes over the backward pass's edges are tried: a path
into the node left out (a forgotten regularisation term), one path's contribution
scaled by a factor (a forgotten 1/N, a flipped sign), or the answer being another
node's gradient or value. Across the checks of a run, the first node in backward order
whose gradient disagrees is where the mistake starts.

Everything here returns data (ArrayCheck); bpdiff.render.array_report words it.
"""

import itertools
import math
from typing import NamedTuple

from bpdiff.engine.graph import CONST, VAR

MAX_SUBSET_PATHS = 10  # up to this many paths into a node, every subset is tried


class ArrayCheck(NamedTuple):
    """One array answer checked (expected and got as NumPy arrays)."""

    key: str
    kind: str  # "value" or "grad"
    node: int | None  # None: an input the output does not use (∂ = 0)
    expected: object
    got: object
    passed: bool
    shape: str | None = None  # None (shapes agree) or how they differ: "transposed",
    # "scalar" (a number for an array), "array" (an array for a number), "keepdims",
    # "reshaped" (same size), "broadcast" (broadcastable to bpdiff's), "other"
    fixed: bool = False  # the answer transposed / reshaped that way matches
    wrong: int = 0  # elements that differ (shapes agreeing)
    worst: tuple | None = None  # index of the element furthest out of tolerance
    error: float = 0.0  # its relative error |e − g| / max(|e|, |g|)
    diagnosis: tuple | None = None  # ("forgot_paths", edges) | ("factor", edge|None, k)
    # | ("gradient_of", node) | ("value_of", node)
    first: bool = False  # the first node in backward order whose gradient disagrees
    upstream_ok: tuple = ()  # then: the checked nodes using it whose gradients agree
    alone: bool = False  # a failed gradient check with no other gradient checked
    answer: str = ""  # the answer as given: '[[1, 2], [3, 4]]', '@dW.npy', 'answers.npz: dW'

    @property
    def size(self):
        """The number of elements compared."""
        return int(self.got.size)


def elementwise_close(expected, got, rtol, atol):
    """A boolean array: where `expected` and `got` (same shape) agree."""
    import numpy as np

    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(expected), np.abs(got))
        ok = np.abs(expected - got) <= atol + rtol * scale
        same = (expected == got) | (np.isnan(expected) & np.isnan(got))
    return ok | same


def check_array(result, target, expected, got, rtol, atol):
    """One ArrayCheck of the array (or number) `expected` against bpdiff's `got`."""
    import numpy as np

    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    base = dict(key=target.key, kind=target.kind, node=target.node, expected=expected,
                got=got)
    if expected.shape != got.shape:
        shape, fixed = _shape_problem(expected, got, rtol, atol)
        return ArrayCheck(**base, passed=False, shape=shape, fixed=fixed)
    ok = elementwise_close(expected, got, rtol, atol)
    wrong = int(ok.size - np.count_nonzero(ok))
    if not wrong:
        return ArrayCheck(**base, passed=True)
    with np.errstate(all="ignore"):
        gap = np.abs(expected - got)
        excess = np.where(ok, -1.0, np.nan_to_num(gap / (atol + rtol * np.maximum(
            np.abs(expected), np.abs(got))), nan=np.inf, posinf=np.inf))
        worst = np.unravel_index(int(np.argmax(excess)), ok.shape) if ok.ndim else ()
        e, g = float(expected[worst]), float(got[worst])
        scale = max(abs(e), abs(g))
        error = abs(e - g) / scale if scale and math.isfinite(scale) else (
            0.0 if e == g else math.inf)
    worst = tuple(int(i) for i in worst)
    diagnosis = _diagnose(result, target, expected, got, rtol, atol)
    return ArrayCheck(**base, passed=False, wrong=wrong, worst=worst,
                      error=error if error == error else math.inf, diagnosis=diagnosis)


def _shape_problem(expected, got, rtol, atol):
    """How the shapes differ, and whether the answer so reshaped would be right."""
    import numpy as np

    def matches(array):
        return array.shape == got.shape and bool(elementwise_close(array, got, rtol,
                                                                   atol).all())

    if expected.ndim == 0 and got.ndim:
        return "scalar", False
    if got.ndim == 0 or got.size == 1 and expected.size > 1:
        return "array", expected.size == 1 and matches(expected.reshape(got.shape))
    if expected.ndim == got.ndim >= 2 and expected.shape == got.shape[::-1]:
        return "transposed", matches(expected.T)
    squeeze = tuple(n for n in expected.shape if n != 1)
    if squeeze == tuple(n for n in got.shape if n != 1):
        return "keepdims", matches(expected.reshape(got.shape))
    if expected.size == got.size:
        return "reshaped", matches(expected.reshape(got.shape))
    try:
        np.broadcast_shapes(expected.shape, got.shape)
    except ValueError:
        return "other", False
    return "broadcast", False


def _diagnose(result, target, expected, got, rtol, atol):
    """A single mistake over the backward pass's edges that explains `expected`."""
    import numpy as np

    def matches(array):
        array = np.broadcast_to(array, got.shape)
        return bool(elementwise_close(expected, array, rtol, atol).all())

    edges = result.recorded_edges
    if target.kind == "grad" and target.node is not None and edges is not None:
        into = [e for e in edges if e.source == target.node]
        if 2 <= len(into) <= MAX_SUBSET_PATHS:
            for left_out in range(1, len(into)):
                for dropped in itertools.combinations(range(len(into)), left_out):
                    kept = sum(np.asarray(e.contribution) for k, e in enumerate(into)
                               if k not in dropped)
                    if matches(kept):
                        return ("forgot_paths", tuple(into[k] for k in dropped))
        scaled = [(None, got)] if len(into) != 1 else []
        scaled += [(e, np.broadcast_to(np.asarray(e.contribution), got.shape)) for e in into]
        for edge, part in scaled:
            factor = _factor(expected - (got - part), part)
            if factor is not None and not math.isclose(factor, 1.0, rel_tol=rtol) \
                    and matches(got + (factor - 1.0) * part):
                return ("factor", edge, factor)
    graph = result.graph
    order = [*graph.name_of, *(i for i in range(len(graph)) if i not in graph.name_of)]
    if target.kind == "grad" and target.node is not None:
        if matches_shape(result.values[target.node], got) and matches(
                result.values[target.node]):
            return ("value_of", target.node)
        for node in order:
            grad = result.grads[node]
            if node not in (target.node, graph.output) and grad is not None \
                    and matches_shape(grad, got) and matches(grad):
                return ("gradient_of", node)
    for node in order:
        value = result.values[node]
        if node != target.node and graph.ops[node] not in (CONST, VAR) \
                and matches_shape(value, got) and matches(value):
            return ("value_of", node)
    return None


def matches_shape(value, got):
    """Whether `value` is an array of `got`'s shape."""
    return getattr(value, "shape", ()) == got.shape


def _factor(wanted, part):
    """The k for which k·part is closest to `wanted` (None when part is all 0 or k is
    not a finite number)."""
    import numpy as np

    with np.errstate(all="ignore"):
        norm = float(np.sum(part * part))
        if not norm or not math.isfinite(norm):
            return None
        k = float(np.sum(wanted * part)) / norm
    return k if math.isfinite(k) and k != 0 else None


def mark_first_diverging(checks, result):
    """The checks with the first failed gradient check in backward order marked
    (`first`), and with it the checked nodes that use it and whose gradients agree."""
    failed = [c for c in checks if isinstance(c, ArrayCheck) and c.kind == "grad"
              and not c.passed and c.node is not None]
    if not failed:
        return checks
    if sum(c.kind == "grad" for c in checks) == 1:
        return [c._replace(alone=True) if c is failed[0] else c for c in checks]
    first = max(failed, key=lambda c: c.node)
    users = set()
    if result.recorded_edges is not None:
        users = {e.node for e in result.recorded_edges if e.source == first.node}
    agreeing = {c.node for c in checks if c.kind == "grad" and c.passed
                and c.node is not None}
    upstream_ok = tuple(sorted(users & agreeing, reverse=True))
    return [c._replace(first=True, upstream_ok=upstream_ok) if c is first else c
            for c in checks]
