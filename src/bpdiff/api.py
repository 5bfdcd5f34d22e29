"""The Python API: `differentiate(text, **values)` runs the whole pipeline
(parse -> graph -> forward -> backward) and returns a Result. The CLI is built on it.

When some input value is an array, or the program has array literals or tensor-only
operations, the passes run on NumPy arrays (bpdiff.engine.tensor, imported only then);
with `exact=True` they run in rational arithmetic (bpdiff.engine.exact).
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from bpdiff.engine import scalar
from bpdiff.engine.autodiff import Edge, TensorError, backward, find_kinks, find_nonfinite, forward
from bpdiff.engine.graph import Graph
from bpdiff.errors import BpdiffError, BpdiffNameError, BpdiffValueError, did_you_mean
from bpdiff.engine.kinks import PYTORCH, KinkPolicy, parse_policy
from bpdiff.engine.sizes import DEFAULT_MAX_ELEMENTS
from bpdiff.engine.ops import FUNCTIONS
from bpdiff.language.parse import parse
from bpdiff.language.labels import call_label, expression, label, op_name
from bpdiff.numbers import to_number

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping

    import numpy  # not `np`: a module-level `np` would change how _to_array's `np.` compiles

    from bpdiff.engine.exact import Exact

MAX_DIMENSIONS = 64  # NumPy's limit

SEED_KINDS = ("scalar", "grad_output", "sum_output", "none")
"""How a Result's backward pass was seeded: a number output (seed 1), the given upstream
gradient (grad_output=), ones for an array output (sum_output=True), or not at all."""


class Node(NamedTuple):
    """One node of a finished run, as the table and JSON show it."""

    id: int
    op: str
    label: str
    inputs: tuple
    value: float  # a NumPy array in tensor mode
    grad: float | None  # ∂output/∂node; None when the node depends on no input
    name: str | None
    call: str | None = None  # the user-function call that made it: 'f#1', 'g#1/f#2'


class EdgesNotRecorded(RuntimeError):
    """`Result.edges` read from a run that did not record them (differentiate's
    `edges=False`, the default)."""


class Result:
    """A finished forward and backward pass over a program: everything the analyses and
    renderers read, computed once by differentiate() and not changed afterwards.
    (A slots class: nothing undeclared can be attached. Not a dataclass, whose
    machinery costs more start-up than a small program's whole run.)

    text: the program as given. graph: the DAG, node lists in topological order.
    inputs: input name -> value, in order of first appearance.
    values: each node's value, by node id (NumPy arrays in tensor mode).
    grads: ∂output/∂node by node id; None for a node that depends on no input.
    math: what the passes ran on: bpdiff.engine.scalar or .tensor.
    kink_policy: the derivatives used where none exists (--kink).
    nonfinite: autodiff.NonFinite: the first nan/inf value and gradient, and where.
    kinks: ids of the nodes evaluated at a point where their derivative does not exist.
    exact: an --exact run's fractions, else None.
    recorded_edges: see `edges`; None when not recorded.
    seed: the upstream gradient backward started from at the output (1 for a number,
        the grad_output array, or ones for sum_output); None when an array output was
        given neither, so no gradient was computed (grads all None).
    seed_kind: SEED_KINDS: how that seed was chosen.
    """

    __slots__ = ("text", "graph", "inputs", "values", "grads", "math", "kink_policy",
                 "nonfinite", "kinks", "exact", "recorded_edges", "seed", "seed_kind")
    text: str
    graph: Graph
    inputs: dict
    values: list
    grads: list
    math: ModuleType
    kink_policy: KinkPolicy
    nonfinite: list
    kinks: list
    exact: Exact | None
    recorded_edges: list[Edge] | None
    seed: Any
    seed_kind: str

    def __init__(self, text: str, graph: Graph, inputs: dict, values: list, grads: list,
                 math: ModuleType, kink_policy: KinkPolicy, nonfinite: list, kinks: list,
                 exact: Exact | None = None, recorded_edges: list[Edge] | None = None,
                 seed: Any = 1.0, seed_kind: str = "scalar") -> None:
        self.text, self.graph, self.inputs, self.values, self.grads = (
            text, graph, inputs, values, grads)
        self.math, self.kink_policy, self.nonfinite, self.kinks = (
            math, kink_policy, nonfinite, kinks)
        self.exact, self.recorded_edges = exact, recorded_edges
        self.seed, self.seed_kind = seed, seed_kind

    @classmethod
    def from_passes(cls, text: str, graph: Graph, inputs: dict[str, Any], values: list[Any],
                    grads: list[Any], math: ModuleType = scalar,
                    kink_policy: KinkPolicy = PYTORCH, edges: list[Edge] | None = None,
                    seed: Any = 1.0, seed_kind: str = "scalar") -> Result:
        """The Result of forward and backward passes already run (`edges`: the Edges
        backward recorded, or None; `seed`, `seed_kind`: what backward started from):
        finds the non-finite numbers and the kinks."""
        return cls(text, graph, inputs, values, grads, math, kink_policy,
                   find_nonfinite(graph, values, grads, math), find_kinks(graph, values, math),
                   recorded_edges=edges, seed=seed, seed_kind=seed_kind)

    @property
    def edges(self) -> list[Edge]:
        """Every edge of the backward pass (autodiff.Edge), in the order visited: recorded
        during that pass only when asked for, with differentiate(..., edges=True); raises
        EdgesNotRecorded otherwise rather than running backward again."""
        if self.recorded_edges is None:
            raise EdgesNotRecorded("this Result has no edges: the backward pass records them"
                                   " only when asked, with differentiate(..., edges=True)")
        return self.recorded_edges

    @property
    def tensor(self) -> bool:
        """Whether the passes ran on NumPy arrays (tensor mode)."""
        return self.math.ARRAYS

    @property
    def output_is_scalar(self) -> bool:
        """False for an array-valued output (whose gradients need a seed: see `seed`)."""
        return not self.tensor or self.values[self.graph.output].ndim == 0

    @property
    def has_gradients(self) -> bool:
        """Whether the backward pass ran: False for an array output given neither
        grad_output nor sum_output (the values alone were computed)."""
        return self.seed is not None

    @property
    def value(self) -> Any:
        """The output's value."""
        return self.values[self.graph.output]

    @property
    def gradient(self) -> dict[str, Any]:
        """∂output/∂input for each input, in order of first appearance."""
        return {name: self.grads[node] for name, node in self.graph.variables.items()}

    def node(self, node: int) -> Node:
        """The Node record for node id `node`."""
        graph = self.graph
        return Node(node, op_name(graph, node), label(graph, node), graph.inputs[node],
                    self.values[node], self.grads[node], graph.name_of.get(node),
                    call_label(graph, node))

    @property
    def nodes(self) -> list[Node]:
        """Every node, output first, in reverse topological order."""
        return [self.node(i) for i in range(self.graph.output, -1, -1)]

    def __repr__(self) -> str:
        return f"Result(value={self.value!r}, gradient={self.gradient!r})"


def differentiate(text: str, /, values: Mapping[str, object] | None = None, *,
                  output: str | None = None, share: bool = True,
                  kink: str | KinkPolicy | None = None,
                  lib: str | os.PathLike | Iterable[str | os.PathLike] = (),
                  exact: bool = False, edges: bool = False,
                  max_elements: int | None = DEFAULT_MAX_ELEMENTS, split: bool = True,
                  progress: Callable[[str, int, str], None] | None = None,
                  grad_output: object = None, sum_output: bool = False,
                  **named_values: object) -> Result:
    """Parse `text`, evaluate it at the given input values and backpropagate.

    Values come as keyword arguments (`differentiate("x*y", x=2, y=3)`) or as a dict
    (`values=`), which also serves names that clash with the options. `output` picks a
    named statement as the output instead of the last one; `share=False` keeps repeated
    subexpressions as separate nodes; `kink` is a --kink policy (text such as "jax" or
    "relu=one", or a kinks.KinkPolicy) for the derivatives at kinks; `lib` is a file of
    `def`s (or a list of them) whose functions the program may call. With `exact=True`
    the passes run in rational arithmetic: the Result's floats are the exact numbers
    rounded, and `result.exact` holds the fractions. With `edges=True` the backward pass
    records every edge it visits (`result.edges`: what --explain, --locals, pictures,
    the HTML report and --expect's diagnosis read). An array operation whose result
    would hold more than `max_elements` numbers (None: no limit) is refused before it
    runs. With `split` (the default), an input with no value whose letters are all
    inputs or given values is read as their product (`bc` as b·c, with a note).
    `progress(phase, count, unit)`, if given, is called as each phase starts: ("parsing",
    the text's length, "characters"), then ("forward", nodes, "nodes") and ("backward",
    ...); the CLI shows them.

    An array-valued output has no single gradient: give `grad_output` (the upstream
    gradient ∂L/∂output, shaped like the output, as PyTorch's `backward(gradient=...)`:
    a nested list, a NumPy array or its JSON text) or `sum_output=True` (the gradients
    of sum(output), a seed of ones); with neither, only the values are computed and
    every gradient is None (`result.has_gradients` is False). Raises BpdiffError
    subclasses on bad input (a grad_output of another shape than the output's included).
    """
    report = progress or _no_progress
    policy = kink if isinstance(kink, KinkPolicy) else parse_policy(kink)
    given = {**(values or {}), **named_values}
    report("parsing", len(text), "characters")
    graph = parse(text, share=share, output=output, lib=lib, given=given)
    splits = split_names(graph, given) if split else None
    if splits:  # `3(a + bc)`: bc is b·c, read again so
        graph = parse(text, share=share, output=output, lib=lib, given=given, splits=splits)
    inputs = resolve_inputs(graph, given, text)
    record: list[Edge] | None = [] if edges else None
    report("forward", len(graph), "nodes")
    if exact:
        if grad_output is not None:
            raise BpdiffError("--grad-output is for an array output; --exact works on"
                              " scalar programs, whose output is a number")
        return _differentiate_exact(text, graph, given, inputs, policy, record)
    namespace: ModuleType = scalar
    if graph.tensor or any(type(v) is not float for v in inputs.values()):
        from bpdiff.engine import tensor as namespace
        inputs = {name: namespace.constant(value) for name, value in inputs.items()}
    try:
        node_values = forward(graph, inputs, namespace, max_elements)
    except TensorError as error:
        raise _shape_error(graph, error) from None
    seed, seed_kind = choose_seed(graph, node_values[graph.output], grad_output, sum_output)
    if seed is None:
        grads: list[Any] = [None] * len(node_values)
        record = None if record is None else []
    else:
        report("backward", len(graph), "nodes")
        grads = backward(graph, node_values, namespace, record=record,
                         kink=policy.overrides(), seed=seed)
    if namespace.ARRAYS:
        graph.notes.extend(_array_notes(graph, node_values))
    return Result.from_passes(text, graph, inputs, node_values, grads, namespace, policy, record,
                              seed, seed_kind)


def _output_words(result: Result) -> tuple[str, str]:
    """('the output y', 'y') for a named output, ('the output', 'output') otherwise."""
    name = result.graph.name_of.get(result.graph.output)
    return (f"the output {name}", name) if name else ("the output", "output")


def seed_note(result: Result, jacobian: bool = False) -> str | None:
    """The note an array output needs: what to add for its gradients when none were
    computed (not with `jacobian`, which needs none), or that a seed of ones makes them
    those of its sum; None for a number output or a given grad_output."""
    if result.seed_kind not in ("none", "sum_output") or (jacobian and result.seed is None):
        return None
    from bpdiff.numbers import shape_text

    output, name = _output_words(result)
    shape = shape_text(result.value.shape)
    if result.seed_kind == "sum_output":
        return (f"{output} is an array of shape {shape}, seeded with ones (--sum-output):"
                f" the gradients are those of sum({name})")
    return (f"{output} is an array of shape {shape}, so it has no single gradient: add"
            f" --grad-output ARRAY (∂L/∂{name}, shape {shape}), --sum-output (the gradients"
            f" of sum({name})) or --jacobian")


def require_gradients(result: Result, option: str) -> None:
    """Refuse `option` (exit 2), which reads gradients, on a Result that has none (an
    array output given neither grad_output nor sum_output)."""
    if result.has_gradients:
        return
    from bpdiff.numbers import shape_text

    output, _ = _output_words(result)
    shape = shape_text(result.value.shape)
    raise BpdiffError(f"{option} needs gradients, but {output} is an array of shape {shape}"
                      " and no upstream gradient was given",
                      hint=f"add --grad-output ARRAY (shape {shape}) or --sum-output")


def choose_seed(graph: Graph, out: Any, grad_output: object,
                sum_output: bool) -> tuple[Any, str]:
    """The upstream gradient backward starts from at the output, and its kind (one of
    SEED_KINDS): `grad_output` as a value of the output's shape (a shape mismatch is
    refused naming both), ones for `sum_output`, 1 for a number output; (None, "none")
    for an array output given neither."""
    if grad_output is not None and sum_output:
        raise BpdiffError("give either --grad-output or --sum-output, not both",
                          hint="--sum-output is --grad-output of ones")
    arrays = hasattr(out, "shape")
    shape = out.shape if arrays else ()
    if grad_output is not None and not shape:
        raise BpdiffError("--grad-output is for an array output; this output is a number,"
                          " whose gradients start from 1", hint="leave --grad-output out")
    if grad_output is not None:
        seed = to_value("--grad-output", grad_output)
        seed_shape = getattr(seed, "shape", ())
        if seed_shape != shape:
            from bpdiff.numbers import shape_text

            who = graph.name_of.get(graph.output, "the output")
            raise BpdiffValueError(
                f"--grad-output has shape {shape_text(seed_shape)}, but {who} has shape"
                f" {shape_text(shape)}: the upstream gradient is shaped like the output",
                hint=f"give an array of shape {shape_text(shape)}")
        return seed, "grad_output"
    if not arrays:
        return 1.0, "scalar"
    if sum_output or not shape:
        import numpy as np

        return np.ones_like(out), "sum_output" if shape else "scalar"
    return None, "none"


def _no_progress(phase: str, count: int, unit: str) -> None:
    """differentiate's `progress` when none is given."""


def _array_notes(graph: Graph, values: list) -> list[str]:
    """What a reader of an array program should know: a seed-style `W x` that is an
    elementwise product."""
    notes = []
    for node in sorted(graph.implicit):
        a, b = (values[i] for i in graph.inputs[node])
        if a.ndim == 2 and 1 <= b.ndim <= 2 and a.shape[1] == b.shape[0]:
            notes.append(f"{expression(graph, node)} is an elementwise product (as * in"
                         f" NumPy) of shapes {a.shape} and {b.shape}; for the matrix product"
                         " write @")
    return notes


def _differentiate_exact(text: str, graph: Graph, given: Mapping[str, object],
                         float_inputs: dict[str, Any], policy: KinkPolicy,
                         record: list[Edge] | None) -> Result:
    """The passes in rational arithmetic (bpdiff.engine.exact), on scalar programs; the
    Result holds their numbers rounded to floats, edges included, and the fractions."""
    from bpdiff.engine import exact

    if graph.tensor or any(type(v) is not float for v in float_inputs.values()):
        raise BpdiffError("--exact works on scalar programs, not on arrays")
    inputs = {name: exact.input_value(name, given[name]) if name in given
              else exact.constant(graph.defaults[name]) for name in float_inputs}
    with exact.counting_oversized() as oversized:
        node_values = forward(graph, inputs, m=exact.NAMESPACE)
        node_grads = backward(graph, node_values, m=exact.NAMESPACE, record=record,
                              kink=policy.overrides())
    fractions = exact.Exact([exact.fraction(v) for v in node_values],
                            [None if g is None else exact.fraction(g) for g in node_grads],
                            {k: exact.fraction(v) for k, v in inputs.items()}, len(oversized))
    if oversized:
        graph.notes.append(f"exact arithmetic gave up on {len(oversized):,} operation(s) whose"
                           f" result would exceed {exact.LIMIT_BITS:,} bits; those numbers, and"
                           " what is computed from them, are floats (marked ≈)")
    values = [exact.to_float(v) for v in node_values]
    grads = [None if g is None else exact.to_float(g) for g in node_grads]
    edges = None if record is None else [
        Edge(e.node, e.position, e.source, *map(exact.to_float, (e.local, e.upstream,
                                                                 e.contribution)))
        for e in record]
    return Result(text, graph, {k: exact.to_float(v) for k, v in inputs.items()}, values,
                  grads, scalar, policy, find_nonfinite(graph, values, grads, scalar),
                  find_kinks(graph, node_values, exact.NAMESPACE), fractions, edges)


def _shape_error(graph: Graph, error: TensorError) -> BpdiffValueError:
    from bpdiff.engine.tensor import shape_text

    message = error.message
    if "broadcast" in message:
        message = "shapes " + " and ".join(map(shape_text, error.dims)) + " do not broadcast"
    op = graph.ops[error.node]
    hint = None
    if op.name == "mul" and _matmul_fits(*error.dims):
        hint = "* multiplies elementwise; for the matrix product write @"
    return BpdiffValueError(f"{expression(graph, error.node)}: {message}", hint=hint)


def _matmul_fits(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return 1 <= len(a) <= 2 and 1 <= len(b) <= 2 and a[-1] == b[0]


_PIECES = r"[A-Za-zα-ωΑ-Ω][0-9]*"  # a letter and its digits: x, y2


def split_names(graph: Graph, given: Mapping[str, object]) -> dict[str, list[str]]:
    """{name: its pieces} for each input with no value whose single letters (or
    letter+digit pieces, x1y2) are all inputs or given values: `bc` read as b·c. A name
    with a value or a default, or of one piece, is never split."""
    known = set(graph.variables) | set(given) | {"π"}  # π: the constant, or a value
    splits = {}
    for name in graph.variables:
        if name in given or name in graph.defaults:
            continue
        pieces = re.findall(_PIECES, name)
        if len(pieces) > 1 and "".join(pieces) == name and all(p in known for p in pieces):
            splits[name] = pieces
    return splits


def resolve_inputs(graph: Graph, given: Mapping[str, object],
                   text: str | None = None) -> dict[str, Any]:
    """Each input's value: given, else the program's default. Raises on names that are
    not inputs, inputs with no value and values that are not finite numbers' text."""
    for name in given:
        if name not in graph.declared:
            known = list(graph.declared) or ["(the program has no inputs)"]
            raise BpdiffValueError(f"a value was given for '{name}', which is not an input"
                                   f" of the program{did_you_mean(name, graph.declared)}",
                                   hint="inputs: " + ", ".join(known))
    inputs = {}
    missing = []
    for name in graph.variables:
        if name in given:
            inputs[name] = to_value(name, given[name])
        elif name in graph.defaults:
            inputs[name] = graph.defaults[name]
        else:
            missing.append(name)
    if missing:
        raise _missing_values(graph, missing, text)
    return inputs


def to_value(name: str, value: Any) -> Any:
    """A number (see to_number) or an array: a list, tuple, NumPy array or the text of a
    JSON array such as '[[1, 2], [3, 4]]' (rectangular, numbers only), as float64."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise BpdiffValueError(f"the value for '{name}' is not a valid JSON array:"
                                   f" {value.strip()[:60]!r}") from None
        except RecursionError:
            raise _too_deep(name) from None
    if isinstance(value, (list, tuple)) or hasattr(value, "shape"):
        return _to_array(name, value)
    return to_number(name, value)


def _to_array(name: str, value: object) -> numpy.ndarray:
    import numpy as np

    pending = [(value, 1)]
    while pending:  # numbers only: NumPy would take True and "1" as 1.0
        item, depth = pending.pop()
        if isinstance(item, (list, tuple)):
            if depth > MAX_DIMENSIONS:
                raise _too_deep(name)
            pending.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, bool) or not isinstance(item, (int, float, np.ndarray,
                                                             np.number)):
            raise BpdiffValueError(f"the value for '{name}' must hold numbers only,"
                                   f" not {item!r}")
        elif isinstance(item, np.ndarray) and item.dtype.kind not in "iuf":
            raise BpdiffValueError(f"the value for '{name}' must hold numbers, not"
                                   f" {item.dtype} values")
    try:
        array = np.array(value, dtype=np.float64)
    except (ValueError, OverflowError):
        raise BpdiffValueError(f"the value for '{name}' is not a rectangular array: its rows"
                               " differ in length") from None
    if array.size == 0:
        raise BpdiffValueError(f"the value for '{name}' is an empty array")
    return array


def _too_deep(name: str) -> BpdiffValueError:
    return BpdiffValueError(f"the value for '{name}' has more than {MAX_DIMENSIONS}"
                            " dimensions (lists nested deeper than that), the most an array"
                            " can have")


def _missing_values(graph: Graph, missing: list[str], text: str | None) -> BpdiffNameError:
    """The error for inputs with no value; a close function name is suggested only for
    a name written as if called, `sinn(x)`."""
    name = missing[0]
    line, column = graph.positions.get(name, (None, None))
    others = "" if len(missing) == 1 else f" (nor for {', '.join(missing[1:])})"
    hint = "give one, e.g. " + " ".join(f"--{n} 1" for n in missing)
    if _called(text, line, column, name):
        close = did_you_mean(name, [*FUNCTIONS, *graph.definitions])
        if close:
            hint = f"'{name}' is not a known function{close}; {hint}"
    from bpdiff.language.pasted import python_hint

    python = None if text is None else python_hint(text, line)
    error = BpdiffNameError(f"no value for input '{name}'{others}", text, line, column,
                            python or hint)
    if python is None:
        error.missing = missing  # type: ignore[attr-defined]  # the CLI words its own hint
    return error


def _called(text: str | None, line: int | None, column: int | None, name: str) -> bool:
    """Whether `name`, first used at (line, column) of `text`, is followed by '('."""
    if text is None or line is None:
        return False
    assert column is not None  # positions hold (line, column) pairs
    rest = text.split("\n")[line - 1][column - 1 + len(name):]
    return rest.lstrip(" \t").startswith("(")
