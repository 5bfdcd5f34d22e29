"""Checking answers against a Result: `--expect KEY=NUMBER`, the tolerance, valid
conventions at kinks, and tracing a wrong gradient to the step that explains it.

A KEY is `value` (the output's value), a name (∂output/∂name), `name.value` (that node's
value) or `name.grad` (the same as `name`, for an input called `value`); `#ID` names a
node by id. Numbers are compared with

    |expected − got| <= atol + min(rtol·max(|expected|, |got|), half a unit in the last
                                   digit of the expected number as written)

(a fraction such as 1/3 claims every digit). With the defaults (rtol 5e-3, atol 1e-9)
an answer rounded to three or more significant digits passes; one wrong in its last
digit (296 for 297, 0.196 for 0.19661) or in the second digit, or rounded to fewer than
three digits (0.20), fails. atol only absorbs float noise around 0.

Everything here returns data (Check, Diagnosis); bpdiff.render.expect_report words it. No
derivative is computed here: the backward pass's edges (their local derivatives) are
recombined, and alternative conventions at kinks come from the primitive table.
"""

import functools
import itertools
import math
import re
import sys
from fractions import Fraction
from typing import NamedTuple

from bpdiff.errors import BpdiffValueError, did_you_mean
from bpdiff.engine.exact import parse_number as exact_number, to_float
from bpdiff.engine.graph import CONST, VAR

DEFAULT_RTOL = 5e-3
DEFAULT_ATOL = 1e-9  # float noise around 0; 1e-6 would wave through any answer below 1e-4
MAX_COMBINATIONS = 243  # conventions tried jointly over several kinks; beyond, one at a time
MAX_KINKS = 50  # kinks tried one at a time when there are too many to combine
MAX_SUBSET_PATHS = 10  # up to this many paths into a node, every subset is tried
FLOAT_NOISE = 1e-12  # relative error a float result may carry, whatever digits are written

_KEY = re.compile(r"(#\d+|[A-Za-z_α-ωΑ-Ω][A-Za-z0-9_α-ωΑ-Ω]*'*)(?:\.(value|grad))?\Z")


class Expectation(NamedTuple):
    """One `KEY=NUMBER` as given."""

    key: str
    number: Fraction | float  # a float only for nan and ±inf
    text: str
    resolution: Fraction | None = None  # half a unit in the last digit written (0: a fraction)


class Target(NamedTuple):
    """What a KEY names: the output's or a node's value, or ∂output/∂node."""

    key: str
    kind: str  # "value" or "grad"
    node: int | None  # None: an input the output does not use (∂ = 0)


class Diagnosis(NamedTuple):
    """A single mistake that would turn bpdiff's answer into the expected one.

    kind: "rounded" (bpdiff's number rounded to too few significant `digits`),
    "last_digit" (close, but the last digit written is not bpdiff's number rounded),
    "forgot_paths" (the paths `edges` into the node left out), "sign" (the local
    derivative of `edges[0]` with its sign flipped), "one" (that local derivative taken
    as 1), "twice" (that edge counted twice), "upstream" (that contribution without its
    upstream factor), "gradient_of" / "value_of" (the answer is node `other`'s gradient
    or value). `count` is how many edges explain it the same way."""

    kind: str
    edges: tuple = ()
    other: int | None = None
    count: int = 1
    digits: int = 0  # "rounded": the answer is bpdiff's rounded to this many digits
    number: Fraction | None = None  # "last_digit": bpdiff's number to the digits written


class Check(NamedTuple):
    """One expectation checked."""

    key: str
    kind: str  # "value" or "grad"
    node: int | None
    expected: Fraction | float
    got: Fraction | float | None
    passed: bool
    convention: tuple = ()  # passed only by another convention: ((kink node, locals), ...)
    others: tuple = ()  # at a kink: what the other valid conventions give
    terms: tuple = ()  # the edges whose contributions sum to a gradient
    diagnosis: Diagnosis | None = None

    @property
    def difference(self):
        """expected − got (nan when either is not a number)."""
        try:
            return self.expected - self.got
        except TypeError:
            return math.nan


def parse_number(text):
    """A number from `--expect` or a problem file (int, float, or text such as `0.197`,
    `-1/4`, `1e-3`, `inf`) as a Fraction (a float only for nan and ±inf); None when
    it is not a number."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(repr(text)) if math.isfinite(text) else text
    number = exact_number(text)
    if number is None and str(text).strip().lower() in ("nan", "inf", "+inf", "-inf"):
        return float(str(text).strip())
    if number is not None and abs(number) > _LARGEST_FLOAT:  # 1e400: as float() reads it
        return math.inf if number > 0 else -math.inf
    return number


_LARGEST_FLOAT = Fraction(sys.float_info.max)


_WRITTEN = re.compile(r"\s*[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?\s*\Z")


def resolution(text):
    """Half a unit in the last digit of a number as written: '297' -> 0.5, '0.197' ->
    0.0005, '1.5e-3' -> 5e-05; 0 for a fraction ('1/3'); None when it cannot be told.
    An integer's trailing zeros may be padding ('1000' for 1.00e3), so they count as
    digits only after a decimal point ('1000.' or '0.1970')."""
    text = str(text).strip()
    if "/" in text:
        return Fraction(0)
    match = _WRITTEN.match(text)
    if match is None:
        return None
    exponent = int(match.group(2) or 0) - len(match.group(1) or "")
    if match.group(1) is None:  # no decimal point
        mantissa = text.lower().split("e")[0].rstrip()
        exponent += len(mantissa) - len(mantissa.rstrip("0")) if mantissa.strip("+-0") else 0
    return Fraction(1, 2) * Fraction(10) ** max(-400, min(400, exponent))


def expectation_of(key, value):
    """An Expectation for KEY and a number (int, float or text); None if not a number."""
    number = parse_number(value)
    if number is None:
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    return Expectation(key, number, text, resolution(text))


def parse_expectation(item):
    """`KEY=NUMBER` as an Expectation; raises BpdiffValueError (exit 2) otherwise."""
    key, sep, text = str(item).partition("=")
    key = key.strip()
    if not sep or not key or not text.strip():
        raise BpdiffValueError(f"--expect {item}: expected KEY=NUMBER, e.g. --expect b=297")
    found = expectation_of(key, text)
    if found is None:
        raise BpdiffValueError(f"--expect {item}: {text.strip()!r} is not a number"
                               " (decimals and fractions like -1/4 work)")
    return found


def resolve(result, key):
    """The Target a KEY names in `result`; raises BpdiffValueError with a did-you-mean."""
    graph = result.graph
    if key == "value":
        return Target(key, "value", graph.output)
    match = _KEY.match(key)
    if match:
        name, part = match.groups()
        kind = "value" if part == "value" else "grad"
        if name.startswith("#"):
            node = int(name[1:])
            if node <= graph.output:
                return Target(key, kind, node)
        elif name in graph.names:
            return Target(key, kind, graph.names[name])
        elif name in graph.declared and kind == "grad":
            return Target(key, kind, None)  # an input the output does not depend on
    names = ["value", *graph.names, *(f"{n}.value" for n in graph.names)]
    stem = key.split(".")[0]
    hint = did_you_mean(key, names) or did_you_mean(stem, names)
    raise BpdiffValueError(f"--expect {key}: no such quantity{hint}",
                           hint="keys: value (the output), NAME (∂output/∂NAME), "
                                "NAME.value; names: " + ", ".join(graph.names))


def close(expected, got, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, resolution=None):
    """Whether `got` matches `expected`: |e − g| <= atol + min(rtol·max(|e|, |g|),
    `resolution`), the resolution never below float noise; nan matches nan and an
    infinity itself."""
    if got is None:
        return False
    if isinstance(expected, float) or isinstance(got, float) and not math.isfinite(got):
        e, g = to_float(expected), to_float(got)
        if not (math.isfinite(e) and math.isfinite(g)):
            return e == g or (e != e and g != g)
    scale = max(abs(expected), abs(got))
    allowed = rtol * scale
    if resolution is not None:
        allowed = min(allowed, max(resolution, FLOAT_NOISE * scale))
    return abs(expected - got) <= atol + allowed


def _got(result, target):
    exact = result.exact
    node = target.node
    if node is None:
        return Fraction(0)
    if target.kind == "value":
        if exact is not None and exact.values[node] is not None:
            return exact.values[node]
        return result.values[node]
    if exact is not None and exact.grads[node] is not None:
        return exact.grads[node]
    return result.grads[node]


def check(result, expectations, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL):
    """Each Expectation checked against `result`, in order: a list of Check.
    Raises BpdiffValueError for a KEY that names nothing."""
    targets = [resolve(result, e.key) for e in expectations]
    if any(t.kind == "grad" for t in targets):
        from bpdiff.api import require_gradients
        require_gradients(result, "--expect " + next(t.key for t in targets
                                                     if t.kind == "grad"))
    if any(t.kind == "grad" and t.node is not None and result.grads[t.node] is None
           for t in targets):
        bad = next(t for t in targets if t.kind == "grad" and t.node is not None
                   and result.grads[t.node] is None)
        raise BpdiffValueError(f"--expect {bad.key}: that node depends on no input, so"
                               " bpdiff computes no gradient for it",
                               hint=f"check its value instead: --expect {bad.key}.value=...")
    alternatives = None
    checks = []
    for expectation, target in zip(expectations, targets):
        got = _got(result, target)
        expected = expectation.number
        matches = functools.partial(close, expected, rtol=rtol, atol=atol,
                                    resolution=expectation.resolution)
        passed = matches(got)
        convention, others, terms, diagnosis = (), (), (), None
        if target.kind == "grad" and target.node is not None:
            terms = tuple(sorted((e for e in result.edges if e.source == target.node),
                                 key=lambda e: (e.node, e.position)))
            if result.kinks:
                if alternatives is None:
                    alternatives = kink_gradients(result)
                default = result.grads[target.node]
                values = {}
                for choice, grads in alternatives:
                    value = grads[target.node]
                    if not close(default, value, 1e-12, 1e-12):
                        values.setdefault(value, choice)
                others = tuple(values)
                if not passed:
                    for value, choice in values.items():
                        if matches(value):
                            passed, convention = True, choice
                            break
        if not passed:
            found = diagnose(result, target, expectation, rtol, atol)
            diagnosis = found[0] if found else None
        checks.append(Check(expectation.key, target.kind, target.node, expected, got,
                            passed, convention, others, terms, diagnosis))
    return checks


# ---- valid conventions at kinks ------------------------------------------------------

def kink_gradients(result):
    """The gradients (by node id) that other valid conventions at the result's kinks
    give: a list of (choice, grads), choice being ((kink node, local derivatives), ...)
    for the kinks whose convention differs from bpdiff's."""
    graph, values = result.graph, result.values
    kinks = [node for node in result.kinks if graph.ops[node].subgradients is not None]
    used_locals = {node: [None] * len(graph.inputs[node]) for node in kinks}
    for e in result.edges:
        if e.node in used_locals:
            used_locals[e.node][e.position] = e.local
    options = []
    for node in kinks:
        op = graph.ops[node]
        args = [values[i] for i in graph.inputs[node]]
        used = tuple(used_locals[node])
        others = [tuple(c) for c in op.subgradients(*args) if tuple(c) != used]
        if others:
            options.append([(node, c) for c in others])
    if not options:
        return []
    combined = math.prod(len(o) + 1 for o in options)
    if combined <= MAX_COMBINATIONS:
        choices = itertools.product(*[[None, *o] for o in options])
        choices = [tuple(c for c in choice if c is not None) for choice in choices]
        choices = [c for c in choices if c]
    else:
        choices = [(c,) for option in options[:MAX_KINKS] for c in option]
    return [(choice, regrad(result, choice)) for choice in choices]


def regrad(result, choice):
    """∂output/∂node for every node, from the result's edges, with the local derivatives
    of the kink nodes in `choice` ((node, locals by position), ...) replaced."""
    override = {node: locals_ for node, locals_ in choice}
    grads = [0.0] * len(result.graph)
    grads[result.graph.output] = 1.0
    for e in result.edges:  # in backward order: a node's gradient is complete first
        local = override[e.node][e.position] if e.node in override else e.local
        grads[e.source] += grads[e.node] * local
    return grads


# ---- tracing a wrong answer ----------------------------------------------------------

def diagnose(result, target, expected, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL):
    """Single mistakes that explain the Expectation `expected` instead of bpdiff's
    answer, best first (a list of Diagnosis, empty when none is found)."""
    if target.node is None or isinstance(expected.number, float):
        return []
    matches = functools.partial(close, expected.number, rtol=rtol, atol=atol,
                                resolution=expected.resolution)
    got = to_float(_got(result, target))
    if math.isfinite(got) and got != 0:
        for digits in (1, 2):
            if float(expected.number) == float(f"{got:.{digits}g}"):
                return [Diagnosis("rounded", digits=digits)]
        if close(expected.number, got, rtol, atol) and expected.resolution:
            # within rtol, but not bpdiff's number rounded to the digits written
            unit = 2 * expected.resolution
            return [Diagnosis("last_digit", number=round(Fraction(got) / unit) * unit)]
    found = []
    if target.kind == "grad" and result.grads[target.node] is not None:
        found.extend(_forgotten_paths(result, target.node, matches))
        found.extend(_wrong_steps(result, target.node, matches))
    found.extend(_other_quantities(result, target, matches))
    return found


def _forgotten_paths(result, node, matches):
    into = [e for e in result.edges if e.source == node]
    if not 2 <= len(into) <= MAX_SUBSET_PATHS:
        return []
    for left_out in range(1, len(into)):
        for dropped in itertools.combinations(range(len(into)), left_out):
            kept = sum(e.contribution for k, e in enumerate(into) if k not in dropped)
            if matches(kept):
                return [Diagnosis("forgot_paths", tuple(into[k] for k in dropped))]
    return []


def _wrong_steps(result, node, matches):
    """One edge's local derivative wrong in a recognisable way (sign, taken as 1, counted
    twice, left out) or, on an edge into `node`, its upstream factor forgotten."""
    edges = result.edges
    got = result.grads[node]
    # ∂edge.source/∂node along the graph (forward mode), from the edges' local derivatives
    tangent = {node: 1.0}
    for e in reversed(edges):  # topological order of e.node
        t = tangent.get(e.source)
        if t:
            tangent[e.node] = tangent.get(e.node, 0.0) + e.local * t
    by_kind = {}
    for e in edges:
        t = tangent.get(e.source)
        if not t:
            continue
        sensitivity = e.upstream * t  # ∂(∂output/∂node)/∂(this edge's local derivative)
        if not math.isfinite(sensitivity) or not math.isfinite(e.local):
            continue
        tries = []
        if e.source != node:
            tries.append(("forgot_paths", 0.0))
        if e.local != 0:
            tries += [("sign", -e.local), ("twice", 2 * e.local)]
        if e.local != 1:
            tries.append(("one", 1.0))
        for kind, local in tries:
            if matches(got + sensitivity * (local - e.local)):
                _note(by_kind, kind, e, prefer=kind == "twice" and e.source == node)
        if e.source == node and e.upstream != 1 and matches(got - e.contribution + e.local):
            _note(by_kind, "upstream", e)
    return [Diagnosis(kind, (edge,), count=count) for kind, (edge, count) in by_kind.items()]


def _note(by_kind, kind, edge, prefer=False):
    # The first edge in backward order is named, except that a path into the node
    # counted twice is named as that path.
    first, count = by_kind.get(kind, (edge, 0))
    by_kind[kind] = (edge if prefer else first, count + 1)


def _other_quantities(result, target, matches):
    """The answer is another node's gradient or value (the wrong node, or a value for
    a gradient): named nodes first."""
    graph = result.graph
    order = [*graph.name_of, *(i for i in range(len(graph)) if i not in graph.name_of)]
    if target.kind == "grad":
        if matches(result.values[target.node]):
            return [Diagnosis("value_of", other=target.node)]
        for node in order:
            grad = result.grads[node]
            if node not in (target.node, graph.output) and grad is not None and matches(grad):
                return [Diagnosis("gradient_of", other=node)]
        for node in order:
            if graph.ops[node] not in (CONST, VAR) and matches(result.values[node]):
                return [Diagnosis("value_of", other=node)]
        return []
    grad = result.grads[target.node]
    if target.node != graph.output and grad is not None and matches(grad):
        return [Diagnosis("gradient_of", other=target.node)]
    for node in order:
        if node != target.node and graph.ops[node] not in (CONST, VAR) and matches(
                result.values[node]):
            return [Diagnosis("value_of", other=node)]
    return []
