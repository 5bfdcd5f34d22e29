"""Checking answers against a Result: `--expect KEY=NUMBER`, the grading rule, valid
conventions at kinks, and tracing a wrong gradient to the step that explains it.

A KEY is `value` (the output's value), a name (∂output/∂name), `name.value` (that node's
value) or `name.grad` (the same as `name`, for an input called `value`); `dNAME` and
`grad_NAME` are ∂output/∂NAME too, for a NAME of the program that dNAME is not; `#ID`
names a node by id. An answer may be an array (`W=[[1, 2], [3, 4]]`, `W=@dW.npy`), and
the arrays of --expect-file FILE.npz are answers named for what they answer: the name
of a node (or `value`, or `loss` when no node is so named) for its value, `dNAME`,
`grad_NAME` or `NAME.grad` for ∂output/∂NAME. Arrays, and every answer on an array
program, are checked element by element by bpdiff.analyses.array_check, within a
tolerance (ARRAY_RTOL and DEFAULT_ATOL unless --rtol/--atol are given: an array has no
one way of being written). A number is graded the way courses round (`Rule`, by default):

    it passes when it is the true value correctly rounded at the precision written,
    |expected − got| <= half a unit in its last written digit (+ float noise),
    provided it has at least `sig` significant digits (2 by default, --sig N).

An answer with fewer digits than that (0.2, an integer such as 2 or -3), a zero (0, 0.00,
-0) and a fraction (-1/4) claim to be exact: they pass only when they equal the true value
up to float noise (1e-12 relative; 1e-9 absolute for a zero). An integer claims every digit it
writes: 270 has three (2.7e2 has two). nan matches nan and an infinity itself. The
explicit tolerance rule, when `rtol` or `atol` is given (--rtol/--atol), replaces all of
that: |expected − got| <= atol + rtol·max(|expected|, |got|) (rtol 0 and atol 1e-9 when
not given). The same rule, in JavaScript, checks the practice page's answers
(bpdiff/render/assets/grading.js; both run tests/data/grading_cases.json).

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
from bpdiff.numbers import written

DEFAULT_SIG = 2  # the fewest significant digits a rounded answer may have
MAX_SIG = 17
SIG_RANGE = range(1, MAX_SIG + 1)  # --sig N
DEFAULT_ATOL = 1e-9  # float noise around 0; 1e-6 would wave through any answer below 1e-4
ARRAY_RTOL = 5e-3  # arrays: relative tolerance per element unless --rtol is given
NEAR = 5e-3  # a failed answer this close (relative) is diagnosed as a wrong last digit
MAX_COMBINATIONS = 243  # conventions tried jointly over several kinks; beyond, one at a time
MAX_KINKS = 50  # kinks tried one at a time when there are too many to combine
MAX_SUBSET_PATHS = 10  # up to this many paths into a node, every subset is tried
FLOAT_NOISE = 1e-12  # relative error a float result may carry, whatever digits are written

_KEY = re.compile(r"(#\d+|[A-Za-z_α-ωΑ-Ω][A-Za-z0-9_α-ωΑ-Ω]*'*)(?:\.(value|grad))?\Z")


class Expectation(NamedTuple):
    """One `KEY=NUMBER` as given."""

    key: str
    number: Fraction | float  # a float only for nan and ±inf
    text: str  # as typed: '-0.20'
    resolution: Fraction | None = None  # half a unit in the last digit written (0: exact)
    digits: int | None = None  # significant digits written (None: a fraction, nan, inf)
    named: bool = False  # an array's name in --expect-file: a bare name is a value


class Rule(NamedTuple):
    """How answers are graded: rounded at the precision written with at least `sig`
    significant digits, or, when `rtol` or `atol` is given, within that tolerance."""

    sig: int = DEFAULT_SIG
    rtol: float | None = None
    atol: float | None = None

    @property
    def tolerance(self):
        """Whether the explicit tolerance rule applies."""
        return self.rtol is not None or self.atol is not None

    def describe(self):
        """The rule in words, for reports."""
        if self.tolerance:
            return (f"within atol {self.atol if self.atol is not None else DEFAULT_ATOL:g}"
                    f" + rtol {self.rtol or 0:g} × |number|")
        return (f"rounded at the precision written, with at least {self.sig} significant"
                f" digit{'s' if self.sig != 1 else ''}")


class Target(NamedTuple):
    """What a KEY names: the output's or a node's value, or ∂output/∂node."""

    key: str
    kind: str  # "value" or "grad"
    node: int | None  # None: an input the output does not use (∂ = 0)


class Diagnosis(NamedTuple):
    """A single mistake that would turn bpdiff's answer into the expected one.

    kind: "too_few_digits" (bpdiff's number rounded to `digits` significant digits,
    fewer than the rule asks for),
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
    digits: int = 0  # "too_few_digits": the answer's significant digits
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
    text: str = ""  # the answer as typed
    rule: Rule = Rule()

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
    if number and to_float(number) == 0:  # 1e-400 likewise
        return Fraction(0)
    return number


_LARGEST_FLOAT = Fraction(sys.float_info.max)


def resolution(text):
    """Half a unit in the last digit of a number as written: '297' -> 0.5, '0.197' ->
    0.0005, '1.5e-3' -> 5e-05; 0 for a fraction ('1/3'); None when it cannot be told."""
    found = written(text)
    if found is None:
        return None
    last = found[1]
    if last is None:
        return Fraction(0)
    return Fraction(1, 2) * Fraction(10) ** max(-400, min(400, last))


def expectation_of(key, value):
    """An Expectation for KEY and a number (int, float or text); None if not a number."""
    text = getattr(value, "text", None)  # a TOML float keeps its text (problems.py)
    if text is None:
        text = repr(value) if isinstance(value, float) else str(value).strip()
    number = parse_number(text.replace("\u2212", "-") if isinstance(value, str) else value)
    if number is None:
        return None
    found = written(text)
    digits = found[0] if found is not None else None
    return Expectation(key, number, text, resolution(text), digits)


def parse_expectation(item, max_elements=None):
    """`KEY=NUMBER`, `KEY=[[...]]` (a nested list) or `KEY=@FILE.npy` as an Expectation;
    raises BpdiffValueError (exit 2) otherwise."""
    key, sep, text = str(item).partition("=")
    key = key.strip()
    if not sep or not key or not text.strip():
        raise BpdiffValueError(f"--expect {item}: expected KEY=NUMBER, e.g. --expect b=297")
    if text.strip().startswith(("[", "@")):
        return array_expectation(key, text.strip(), max_elements, where=f"--expect {key}")
    found = expectation_of(key, text)
    if found is None:
        raise BpdiffValueError(f"--expect {item}: {text.strip()!r} is not a number"
                               " (decimals and fractions like -1/4 work)")
    return found


def array_expectation(key, value, max_elements=None, base=None, where=None):
    """An Expectation holding an array: `value` a nested list, its text ('[[1, 2]]') or
    '@FILE.npy' (relative to the folder `base`, None: the working one)."""
    from bpdiff.api import to_value
    from bpdiff.inputs import read_npy

    where = where or key
    if isinstance(value, str) and value.startswith("@"):
        array = read_npy(value[1:], max_elements, base, what=f"{where}: {value[1:]}")
    else:
        try:
            array = to_value(key, value)
        except BpdiffValueError as error:
            message = error.message.replace(f"the value for '{key}'", "the answer")
            raise BpdiffValueError(f"{where}: {message}", hint=error.hint) from None
    shown = value if isinstance(value, str) else f"array of shape {array.shape}"
    return Expectation(key, array, shown)


def file_expectations(path, max_elements=None):
    """The Expectations of --expect-file FILE.npz: one per array, named for what it
    answers (see the module's docstring)."""
    from bpdiff.inputs import read_npz

    return [Expectation(name, array, f"{path}: {name}", named=True)
            for name, array in read_npz(path, max_elements).items()]


def _gradient_alias(name, graph):
    """NAME for `dNAME`, `grad_NAME` or `NAME.grad` naming no node itself, else None."""
    for prefix in ("grad_", "d"):
        stem = name[len(prefix):]
        if name.startswith(prefix) and name not in graph.names and (
                stem in graph.names or stem in graph.declared):
            return stem
    return None


def resolve(result, key, named=False):
    """The Target a KEY names in `result` (`named`: an array's name in --expect-file,
    where a bare name is a node's value); raises BpdiffValueError with a did-you-mean."""
    graph = result.graph
    if key == "value" or named and key == "loss" and key not in graph.names:
        return Target(key, "value", graph.output)
    alias = _gradient_alias(key.removesuffix(".grad") if named else key, graph)
    if alias is not None:
        node = graph.names.get(alias)
        return Target(key, "grad", node)
    if named and key in graph.names:
        return Target(key, "value", graph.names[key])
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
    names = ["value", *graph.names, *(f"{n}.value" for n in graph.names),
             *(f"d{n}" for n in graph.declared)]
    stem = key.split(".")[0]
    hint = did_you_mean(key, names) or did_you_mean(stem, names)
    if named:
        raise BpdiffValueError(f"--expect-file: the array '{key}' answers nothing in the"
                               f" program{hint}", hint="name each array for what it"
                               " answers: dNAME (or grad_NAME) for ∂output/∂NAME, NAME or"
                               " 'value' for a value; names: " + ", ".join(graph.names))
    raise BpdiffValueError(f"--expect {key}: no such quantity{hint}",
                           hint="keys: value (the output), NAME or dNAME (∂output/∂NAME), "
                                "NAME.value; names: " + ", ".join(graph.names))


def within(expected, got, rtol, atol):
    """Whether |expected − got| <= atol + rtol·max(|expected|, |got|); nan matches nan
    and an infinity itself; None (no number) matches nothing."""
    if got is None:
        return False
    if isinstance(expected, float) or isinstance(got, float):
        e, g = to_float(expected), to_float(got)
        if not (math.isfinite(e) and math.isfinite(g)):
            return e == g or (e != e and g != g)
    return abs(expected - got) <= atol + rtol * max(abs(expected), abs(got))


def passes(expectation, got, rule=Rule()):
    """Whether `got` (bpdiff's number) passes as the Expectation's answer under `rule`
    (see the module's docstring)."""
    if rule.tolerance:
        return within(expectation.number, got, rule.rtol or 0.0,
                      DEFAULT_ATOL if rule.atol is None else rule.atol)
    expected = expectation.number
    if got is None or isinstance(expected, float) or not math.isfinite(to_float(got)):
        return within(expected, got, 0.0, 0.0)  # nan, inf, -inf
    if to_float(expected) == to_float(got):
        return True  # read as a float (as the practice page reads it), it is bpdiff's number
    allowed = FLOAT_NOISE * max(abs(expected), abs(got))
    if expected == 0:
        allowed += DEFAULT_ATOL  # a zero answer: float noise around 0 is zero
    digits = expectation.digits
    if digits is not None and digits >= rule.sig:  # else it claims to be exact
        allowed += expectation.resolution
    return abs(expected - got) <= allowed


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


def check(result, expectations, rule=Rule()):
    """Each Expectation checked against `result` under `rule`, in order: a list of Check
    (ArrayCheck for an array answer and on an array program, within rule's tolerance or
    the arrays' default one). Raises BpdiffValueError for a KEY that names nothing."""
    targets = [resolve(result, e.key, e.named) for e in expectations]
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
    if result.tensor or any(hasattr(e.number, "shape") for e in expectations):
        return _check_arrays(result, expectations, targets,
                             ARRAY_RTOL if rule.rtol is None else rule.rtol,
                             DEFAULT_ATOL if rule.atol is None else rule.atol)
    alternatives = None
    checks = []
    for expectation, target in zip(expectations, targets):
        got = _got(result, target)
        expected = expectation.number
        matches = functools.partial(passes, expectation, rule=rule)
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
                    if not within(default, value, 1e-12, 1e-12):
                        values.setdefault(value, choice)
                others = tuple(values)
                if not passed:
                    for value, choice in values.items():
                        if matches(value):
                            passed, convention = True, choice
                            break
        if not passed:
            found = diagnose(result, target, expectation, rule)
            diagnosis = found[0] if found else None
        checks.append(Check(expectation.key, target.kind, target.node, expected, got,
                            passed, convention, others, terms, diagnosis, expectation.text,
                            rule))
    return checks


def _check_arrays(result, expectations, targets, rtol, atol):
    from bpdiff.analyses.array_check import check_array, mark_first_diverging

    checks = []
    for expectation, target in zip(expectations, targets):
        got = _got_array(result, target)
        expected = expectation.number
        if isinstance(expected, Fraction):
            expected = to_float(expected)
        checks.append(check_array(result, target, expected, got, rtol, atol)._replace(
            answer=expectation.text))
    return mark_first_diverging(checks, result)


def _got_array(result, target):
    if target.node is None:  # an input the output does not use: ∂ = 0 at its shape
        name = target.key
        for prefix in ("grad_", "d"):
            if name.startswith(prefix) and name[len(prefix):] in result.inputs:
                name = name[len(prefix):]
        value = result.inputs.get(name.split(".")[0], 0.0)
        return value * 0.0
    values = result.values if target.kind == "value" else result.grads
    return values[target.node]


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

def diagnose(result, target, expected, rule=Rule()):
    """Single mistakes that explain the Expectation `expected` instead of bpdiff's
    answer, best first (a list of Diagnosis, empty when none is found)."""
    if target.node is None or isinstance(expected.number, float):
        return []
    got = to_float(_got(result, target))
    digits = expected.digits
    if not rule.tolerance:
        if digits and digits < rule.sig and passes(expected, got, rule._replace(sig=1)):
            return [Diagnosis("too_few_digits", digits=digits)]
        if digits and digits >= rule.sig and math.isfinite(got) and got != 0 and (within(
                expected.number, got, NEAR, 0) or abs(expected.number - Fraction(got))
                <= 4 * expected.resolution):  # within two units of its last digit
            # close, but not bpdiff's number rounded to the digits written
            unit = 2 * expected.resolution
            return [Diagnosis("last_digit", number=round(Fraction(got) / unit) * unit)]
        # a slip is recognised in an answer rounded to 2 digits under --sig 3 too
        rule = rule._replace(sig=min(rule.sig, DEFAULT_SIG))
    matches = functools.partial(passes, expected, rule=rule)
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
