"""`--gradcheck`: every analytic gradient against central finite differences.

For each input x, with a step h = STEP·max(1, |x|), the output is recomputed by
autodiff.forward at x + h and x − h (no other math: the forward pass is the model), and
numeric = (f(x + h) − f(x − h)) / ((x + h) − (x − h)). The error is CS231n's relative
error |a − n| / max(|a|, |n|) (0 when both are 0). A row fails when that is over the
tolerance, unless the gap is within the rounding noise of the difference quotient
(a few ulps of f divided by 2h), which is all a zero or tiny gradient can show.

The same quotient with the step 2h must agree with it to the tolerance; where it does
not, finite differences cannot resolve the gradient that finely here (sharp curvature,
cancellation, a tolerance below what floats allow) and the row is "unstable", not
counted: a failure then always means a derivative that disagrees with a numeric one
that can be trusted.

Finite differences are not trusted near a kink: where a relu, abs, max, min, step, sign
or sqrt node that moves with x is at its kink at x, x + h or x − h (the primitive
table's at_kink), or its local derivative jumps between x − h and x + h (the step
crossed the kink), the row is flagged "kink" and does not fail. Where the analytic or
the numeric gradient is not finite, the row is "n/a"; where a step makes an index (a
class, a length) a non-integer the program refuses, the row is "index", not checked.

In tensor mode every element of every input is a row (`W[0,1]`), perturbed alone; an
array output is weighted by the seed backward started from (Σ seed ⊙ output: the
--grad-output array, or ones for --sum-output), so that the numbers compared are the
gradients of the same scalar. An array output with no seed has no gradients to check.
With `sample=K` only K elements of each array input, drawn at random (seeded: the same
seed draws the same elements), are rows: for arrays too big to check whole.
"""

import math
import sys
from typing import NamedTuple

from bpdiff.engine import scalar
from bpdiff.engine.autodiff import TensorError, forward
from bpdiff.errors import BpdiffError
from bpdiff.engine.graph import CONST, VAR
from bpdiff.engine.sizes import total_elements

STEP = 1e-5
DEFAULT_TOL = 1e-6
NOISE_ULPS = 8  # rounding noise allowed in f(x ± h), in units of machine epsilon
MAX_WORK = 20_000_000  # node evaluations (4 × inputs × nodes, array elements counted)
# before --force is needed
JUMP = 1e-3  # a local derivative changing by more than this (relative) over the step


class Row(NamedTuple):
    """One input's comparison."""

    name: str
    analytic: float
    numeric: float
    error: float  # CS231n relative error
    step: float
    status: str  # "ok", "fail", "kink", "unstable", "n/a" or "index"
    kinks: tuple = ()  # the kink nodes that make finite differences unreliable here
    sampled: tuple | None = None  # (elements checked, elements) of a sampled array input


def relative_error(analytic, numeric):
    """|a − n| / max(|a|, |n|), 0 when both are 0 (CS231n)."""
    scale = max(abs(analytic), abs(numeric))
    if scale == 0:
        return 0.0
    return abs(analytic - numeric) / scale


def gradcheck(result, tol=DEFAULT_TOL, force=False, sample=None, seed=0):
    """One Row per input of `result` (per element of an array input; with `sample`, per
    one of `sample` elements of each array input drawn with the random `seed`), in order
    of first appearance. Raises BpdiffError when the work would exceed MAX_WORK node
    evaluations, unless `force`, and when `result` has no gradients (an array output
    with neither grad_output nor sum_output)."""
    from bpdiff.api import require_gradients

    require_gradients(result, "--gradcheck")
    graph, m = result.graph, result.math
    inputs = dict(result.inputs)
    chosen = {name: _elements(x, m, sample, seed) for name, x in inputs.items()}
    count = sum(len(indices) for indices in chosen.values())
    numbers = total_elements(result.values)  # the nodes, an array counting its elements
    work = 4 * count * numbers
    if work > MAX_WORK and not force:
        what, over = (("nodes", f"{len(graph):,} nodes") if numbers == len(graph) else
                      ("numbers", f"{numbers:,} numbers in {len(graph):,} nodes"))
        raise BpdiffError(f"--gradcheck would compute {work:,} {what} ({count:,} inputs"
                          f" × 4 forward passes over {over})",
                          hint="add --force to run it anyway, or check a sample of"
                               " each array: --gradcheck-sample 20")
    kink_ops = [node for node, op in enumerate(graph.ops)
                if op is not VAR and op is not CONST and op.at_kink is not None]
    rows = []
    for name, x in inputs.items():
        size = getattr(x, "size", 1)
        sampled = (len(chosen[name]), size) if sample is not None and m.ARRAYS \
            and x.ndim else None
        for index in chosen[name]:
            analytic = _element(result.gradient[name], index, m)
            h = STEP * max(1.0, abs(_element(x, index, m)))
            label = name if index == () else f"{name}[{','.join(map(str, index))}]"
            try:
                numeric, noise, up, down = _difference(graph, inputs, name, index, h, m,
                                                       result.seed)
            except TensorError:  # an index (a class, a length) moved off the integers
                rows.append(Row(label, analytic, math.nan, math.nan, h, "index", ()))
                continue
            wide, wide_noise, wide_up, wide_down = _difference(graph, inputs, name, index,
                                                               2 * h, m, result.seed)
            kinks = tuple(node for node in kink_ops
                          if _near_kink(graph, node, result.values, up, down, m)
                          or _near_kink(graph, node, result.values, wide_up, wide_down, m))
            rows.append(Row(label, analytic, numeric, relative_error(analytic, numeric), h,
                            _status(analytic, numeric, wide, noise, wide_noise, kinks, tol),
                            kinks, sampled))
    return rows


def _status(analytic, numeric, wide, noise, wide_noise, kinks, tol):
    if kinks:
        return "kink"
    if not (math.isfinite(analytic) and math.isfinite(numeric) and math.isfinite(wide)):
        return "n/a"
    if relative_error(numeric, wide) > tol and abs(numeric - wide) > noise + wide_noise:
        return "unstable"
    return "ok" if relative_error(analytic, numeric) <= tol or abs(analytic - numeric) <= noise \
        else "fail"


def _elements(x, m, sample=None, seed=0):
    """The indices of an input's elements: () alone for a number; with `sample`, that
    many of them (all when fewer), drawn with the random `seed`, in index order."""
    if not m.ARRAYS:
        return [()]
    import numpy as np

    if sample is None or x.size <= sample:
        return list(np.ndindex(x.shape))
    picked = np.sort(np.random.default_rng(seed).choice(x.size, size=sample, replace=False))
    return [tuple(int(i) for i in np.unravel_index(int(k), x.shape)) for k in picked]


def _element(x, index, m):
    """Element `index` of a value, as a float."""
    return float(x[index]) if m.ARRAYS else x


def _moved(x, index, h, m):
    """A copy of input value x with element `index` moved by h."""
    if not m.ARRAYS:
        return x + h
    moved = x.copy()
    moved[index] = float(x[index]) + h
    return moved


def _difference(graph, inputs, name, index, h, m, seed=1.0):
    """The central difference quotient of the output (Σ seed ⊙ output, when an array) in
    element `index` of input `name` with step h, the rounding noise it may carry, and
    the node values at x + h and x − h."""
    plus, minus = dict(inputs), dict(inputs)
    plus[name], minus[name] = _moved(inputs[name], index, h, m), _moved(inputs[name], index, -h, m)
    up, down = forward(graph, plus, m), forward(graph, minus, m)
    with m.quiet():
        f_up, f_down = _seeded(up[graph.output], seed, m), _seeded(down[graph.output], seed, m)
    width = _element(plus[name], index, m) - _element(minus[name], index, m)
    numeric = scalar.div(f_up - f_down, width)
    # a few ulps of f (and of the smallest normal float, below which digits are lost)
    noise = NOISE_ULPS * (sys.float_info.epsilon * max(abs(f_up), abs(f_down))
                          + sys.float_info.min) / width
    return numeric, noise, up, down


def _seeded(value, seed, m):
    """The scalar whose gradients backward computed: Σ seed ⊙ value."""
    return float(m.total(seed * value)) if m.ARRAYS else seed * value


def _near_kink(graph, node, here, up, down, m):
    """Whether kink node `node` moves with the input and, at an element that moves, is
    at its kink within a step or has a local derivative that jumps across it."""
    sources = graph.inputs[node]
    args_up = [up[i] for i in sources]
    args_down = [down[i] for i in sources]
    moved = False  # where the perturbation moves the node's inputs
    for a, b in zip(args_up, args_down):
        moved = moved | (a != b)
    if not m.anywhere(moved):
        return False  # does not depend on this input
    op = graph.ops[node]
    with m.quiet():
        if any(m.anywhere(op.at_kink(*args) & moved)
               for args in ([here[i] for i in sources], args_up, args_down)):
            return True
        flat = True  # where every local derivative is 0 on both sides
        for rule in op.local_grads:
            a, b = rule(m, *args_up, up[node]), rule(m, *args_down, down[node])
            if m.first_nonfinite(a) is not None or m.first_nonfinite(b) is not None:
                return True
            if m.anywhere((m.fabs(a - b) > JUMP * m.maximum(m.fabs(a), m.fabs(b))) & moved):
                return True
            flat = flat & (a == 0) & (b == 0)
        # A piecewise-constant op (step, sign) crossed its jump if its value changed.
        return m.anywhere(flat & (up[node] != down[node]) & moved)


def passed(rows):
    """Whether no row failed."""
    return all(row.status != "fail" for row in rows)
