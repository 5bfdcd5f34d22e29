"""The Python API: `differentiate(text, **values)` runs the whole pipeline
(parse -> graph -> forward -> backward) and returns a Result. The CLI is built on it.

May import: bpdiff.parse, bpdiff.autodiff, bpdiff.errors, bpdiff.render.labels.
"""

import functools
from typing import NamedTuple

from .autodiff import backward, find_kinks, find_problems, forward
from .errors import BpdiffNameError, BpdiffValueError, did_you_mean
from .ops import FUNCTIONS
from .parse import parse
from .render.labels import call_label, label, op_name


class Node(NamedTuple):
    """One node of a finished run, as the table and JSON show it."""

    id: int
    op: str
    label: str
    inputs: tuple
    value: float
    grad: float | None  # ∂output/∂node; None when the node depends on no input
    name: str | None
    call: str | None = None  # the user-function call that made it: 'f#1', 'g#1/f#2'


class Result:
    """A finished forward and backward pass over a program."""

    def __init__(self, text, graph, inputs, values, grads):
        self.text = text
        self.graph = graph
        self.inputs = inputs  # variable name -> value, in order of first appearance
        self.values = values  # by node id
        self.grads = grads  # by node id
        self.problems = find_problems(graph, values, grads)
        self.kinks = find_kinks(graph, values)  # node ids at a non-differentiable point

    @functools.cached_property
    def edges(self):
        """Every edge of the backward pass (autodiff.Edge), in the order visited."""
        record = []
        backward(self.graph, self.values, record=record)
        return record

    @property
    def value(self):
        """The output's value."""
        return self.values[self.graph.output]

    @property
    def gradient(self):
        """∂output/∂input for each input, in order of first appearance."""
        return {name: self.grads[node] for name, node in self.graph.variables.items()}

    def node(self, node):
        """The Node record for node id `node`."""
        graph = self.graph
        return Node(node, op_name(graph, node), label(graph, node), graph.inputs[node],
                    self.values[node], self.grads[node], graph.name_of.get(node),
                    call_label(graph, node))

    @property
    def nodes(self):
        """Every node, output first, in reverse topological order."""
        return [self.node(i) for i in range(self.graph.output, -1, -1)]

    def __repr__(self):
        return f"Result(value={self.value!r}, gradient={self.gradient!r})"


def differentiate(text, /, values=None, *, output=None, share=True, lib=(), **named_values):
    """Parse `text`, evaluate it at the given input values and backpropagate.

    Values come as keyword arguments (`differentiate("x*y", x=2, y=3)`) or as a dict
    (`values=`), which also serves names that clash with the options. `output` picks a
    named statement as the output instead of the last one; `share=False` keeps repeated
    subexpressions as separate nodes; `lib` is a file of `def`s (or a list of them) whose
    functions the program may call. Raises BpdiffError subclasses on bad input.
    """
    graph = parse(text, share=share, output=output, lib=lib)
    given = {**(values or {}), **named_values}
    inputs = resolve_inputs(graph, given, text)
    node_values = forward(graph, inputs)
    return Result(text, graph, inputs, node_values, backward(graph, node_values))


def resolve_inputs(graph, given, text=None):
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
            inputs[name] = to_number(name, given[name])
        elif name in graph.defaults:
            inputs[name] = graph.defaults[name]
        else:
            missing.append(name)
    if missing:
        raise _missing_values(graph, missing, text)
    return inputs


def to_number(name, value):
    """`value` (a number or its text, fractions like -1/4 allowed) as a float."""
    if isinstance(value, bool):
        raise BpdiffValueError(f"the value for '{name}' must be a number, not {value}")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise BpdiffValueError(f"the value for '{name}' is too large for a float") from None
    text = str(value).strip()
    try:
        if "/" in text:
            numerator, denominator = text.split("/")
            return float(numerator) / float(denominator)
        return float(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise BpdiffValueError(f"the value for '{name}' is not a number: {text!r}") from None


def _missing_values(graph, missing, text):
    name = missing[0]
    line, column = graph.positions.get(name, (None, None))
    others = "" if len(missing) == 1 else f" (nor for {', '.join(missing[1:])})"
    hint = "give one, e.g. " + " ".join(f"--{n} 1" for n in missing)
    close = did_you_mean(name, [*FUNCTIONS, *graph.definitions])
    if close:
        hint = f"'{name}' is not a known function{close}; {hint}"
    return BpdiffNameError(f"no value for input '{name}'{others}", text, line, column, hint)
