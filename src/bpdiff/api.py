"""The Python API: `differentiate(text, **values)` runs the whole pipeline
(parse -> graph -> forward -> backward) and returns a Result. The CLI is built on it.

When some input value is an array, or the program has array literals or tensor-only
operations, the passes run on NumPy arrays (bpdiff.engine.tensor, imported only then);
with `exact=True` they run in rational arithmetic (bpdiff.engine.exact).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    from collections.abc import Iterable, Mapping

    import numpy  # not `np`: a module-level `np` would change how _to_array's `np.` compiles

    from bpdiff.engine.exact import Exact

MAX_DIMENSIONS = 64  # NumPy's limit


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


@dataclass(slots=True, eq=False, repr=False)
class Result:
    """A finished forward and backward pass over a program: everything the analyses and
    renderers read, computed once by differentiate() and not changed afterwards."""

    text: str  # the program as given
    graph: Graph  # the DAG: node lists in topological order
    inputs: dict  # input name -> value, in order of first appearance
    values: list  # each node's value, by node id (NumPy arrays in tensor mode)
    grads: list  # ∂output/∂node by node id; None for a node that depends on no input
    math: ModuleType  # what the passes ran on: bpdiff.engine.scalar or .tensor
    kink_policy: KinkPolicy  # the derivatives used where none exists (--kink)
    nonfinite: list  # autodiff.NonFinite: the first nan/inf value and gradient, and where
    kinks: list  # ids of the nodes evaluated at a point where their derivative does not exist
    exact: Exact | None = None  # an --exact run's fractions, else None
    recorded_edges: list[Edge] | None = None  # see `edges`; None when not recorded

    @classmethod
    def from_passes(cls, text: str, graph: Graph, inputs: dict[str, Any], values: list[Any],
                    grads: list[Any], math: ModuleType = scalar,
                    kink_policy: KinkPolicy = PYTORCH, edges: list[Edge] | None = None) -> Result:
        """The Result of forward and backward passes already run (`edges`: the Edges
        backward recorded, or None): finds the non-finite numbers and the kinks."""
        return cls(text, graph, inputs, values, grads, math, kink_policy,
                   find_nonfinite(graph, values, grads, math), find_kinks(graph, values, math),
                   recorded_edges=edges)

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
        """False for an array-valued output (its gradients are those of sum(output))."""
        return not self.tensor or self.values[self.graph.output].ndim == 0

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
    inputs or given values is read as their product (`bc` as b·c, with a note). Raises
    BpdiffError subclasses on bad input.
    """
    policy = kink if isinstance(kink, KinkPolicy) else parse_policy(kink)
    given = {**(values or {}), **named_values}
    graph = parse(text, share=share, output=output, lib=lib, given=given)
    splits = split_names(graph, given) if split else None
    if splits:  # `3(a + bc)`: bc is b·c, read again so
        graph = parse(text, share=share, output=output, lib=lib, given=given, splits=splits)
    inputs = resolve_inputs(graph, given, text)
    record: list[Edge] | None = [] if edges else None
    if exact:
        return _differentiate_exact(text, graph, given, inputs, policy, record)
    namespace: ModuleType = scalar
    if graph.tensor or any(type(v) is not float for v in inputs.values()):
        from bpdiff.engine import tensor as namespace
        inputs = {name: namespace.constant(value) for name, value in inputs.items()}
    try:
        node_values = forward(graph, inputs, namespace, max_elements)
    except TensorError as error:
        raise _shape_error(graph, error) from None
    grads = backward(graph, node_values, namespace, record=record, kink=policy.overrides())
    if namespace.ARRAYS:
        graph.notes.extend(_array_notes(graph, node_values))
    return Result.from_passes(text, graph, inputs, node_values, grads, namespace, policy, record)


def _array_notes(graph: Graph, values: list) -> list[str]:
    """What a reader of an array program should know: a seed-style `W x` that is an
    elementwise product, and an array output (its gradients are those of its sum)."""
    notes = []
    for node in sorted(graph.implicit):
        a, b = (values[i] for i in graph.inputs[node])
        if a.ndim == 2 and 1 <= b.ndim <= 2 and a.shape[1] == b.shape[0]:
            notes.append(f"{expression(graph, node)} is an elementwise product (as * in"
                         f" NumPy) of shapes {a.shape} and {b.shape}; for the matrix product"
                         " write @")
    if values[graph.output].ndim:
        notes.append(f"the output is an array of shape {values[graph.output].shape}, not a"
                     " number: the gradients are those of sum(output), the usual seed of"
                     " ones")
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
        Edge(e.node, e.position, e.source, *map(exact.to_float, e[3:])) for e in record]
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
