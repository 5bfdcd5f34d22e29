"""The computation graph: plain data, built once, in topological order by construction.

A node is created only after its inputs exist, so the order of the node lists *is* a
topological order: forward is a loop over it, backward the same loop reversed, and no
sort, recursion or visited set is ever needed. Identical subexpressions are shared by
a dict keyed on (op, input ids) at creation time (hash-consing); variables are always
shared. Nodes live in parallel lists indexed by node id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bpdiff.engine.ops import BY_NAME

if TYPE_CHECKING:
    from bpdiff.engine.ops import Primitive
    from bpdiff.language.defs import Definition

VAR = "var"
CONST = "const"


class Graph:
    """Nodes as parallel lists: `ops[i]` (a Primitive, or VAR / CONST), `inputs[i]`
    (tuple of node ids) and `payload[i]` (the variable's name or the constant's value).
    `names` maps named intermediates and variables to node ids; `name_of` the reverse."""

    __slots__ = ("ops", "inputs", "payload", "share", "_memo", "variables", "names",
                 "name_of", "defaults", "output", "declared", "positions", "tensor", "implicit",
                 "calls", "call_of", "definitions", "notes", "versions")

    def __init__(self, share: bool = True) -> None:
        self.ops: list[Any] = []  # a Primitive, VAR or CONST (Any: mypy cannot narrow by `is`)
        self.inputs: list[tuple[int, ...]] = []
        self.payload: list[Any] = []  # a name, a float, an array literal's tuples, or None
        self.share = share
        self._memo: dict[tuple[Any, ...], int] = {}
        self.variables: dict[str, int] = {}  # name -> node id, in order of first appearance
        self.names: dict[str, int] = {}  # every name a program defined or used -> node id
        self.name_of: dict[int, str] = {}  # node id -> the name shown for it
        self.defaults: dict[str, Any] = {}  # variable name -> default value declared by `a = 7`
        self.output: int = None  # type: ignore[assignment]  # parse sets it before any use
        self.declared: dict[str, None] = {}  # every input the program names, used or not
        self.positions: dict[str, tuple[int, int]] = {}  # input name -> (line, column) of first use
        self.tensor = False  # whether the program has array literals or tensor-only ops
        self.implicit: set[int] = set()  # nodes written as implicit products (2b, W x)
        self.calls: list[tuple[str, int, str]] = []  # each expansion of a user function:
        # (name, parent, label); see defs.py
        self.call_of: dict[int, int] = {}  # node id -> index in `calls` of the expansion making it
        self.definitions: dict[str, Definition] = {}  # user function name -> defs.Definition
        self.notes: list[str] = []  # how the text was read where it could be read two ways
        self.versions: dict[int, tuple[str, int]] = {}  # node id -> (name, version) of a
        # name assigned more than once

    def __len__(self) -> int:
        return len(self.ops)

    def _append(self, op: Any, inputs: tuple[int, ...], payload: Any) -> int:
        self.ops.append(op)
        self.inputs.append(inputs)
        self.payload.append(payload)
        return len(self.ops) - 1

    def constant(self, value: float | tuple[Any, ...]) -> int:
        """The node for a numeric literal (shared by value unless sharing is off)."""
        if not self.share:
            return self._append(CONST, (), value)
        key = (CONST, value)
        node = self._memo.get(key)
        if node is None:
            node = self._memo[key] = self._append(CONST, (), value)
        return node

    def variable(self, name: str) -> int:
        """The node for input `name`, created on first use."""
        node = self.variables.get(name)
        if node is None:
            node = self.variables[name] = self.names[name] = self._append(VAR, (), name)
            self.name_of[node] = name
        return node

    def apply_unshared(self, op: Primitive, inputs: tuple[int, ...]) -> int:
        """A new node for `op` applied to `inputs`, which no apply() ever shares."""
        return self._append(op, inputs, None)

    def apply(self, op: Primitive, inputs: tuple[int, ...]) -> int:
        """The node for `op` applied to the node ids `inputs` (shared if seen before)."""
        if not self.share:
            return self._append(op, inputs, None)
        key = (op.key, inputs)
        node = self._memo.get(key)
        if node is None:
            node = self._memo[key] = self._append(op, inputs, None)
        return node

    def name_node(self, name: str, node: int) -> int:
        """Give `node` the name `name`; a node that already shows a name (a variable,
        an earlier intermediate) or a constant gets a named copy instead."""
        if node in self.name_of or self.ops[node] is CONST:
            node = self._append(BY_NAME["id"], (node,), None)
        self.names[name] = node
        self.name_of[node] = name
        return node

    def is_constant_literal(self, node: int) -> float | tuple[Any, ...] | None:
        """The value if `node` is a number or a negated number, else None."""
        op = self.ops[node]
        if op is CONST:
            return self.payload[node]
        if op is BY_NAME["neg"] and self.ops[self.inputs[node][0]] is CONST:
            value = self.payload[self.inputs[node][0]]
            return -value if type(value) is float else None
        return None

    def depends_on(self, output: int) -> bytearray:
        """A bytearray, 1 at `output` and at every node it depends on."""
        needed = bytearray(len(self.ops))
        needed[output] = 1
        inputs = self.inputs
        for node in range(output, -1, -1):
            if needed[node]:
                for source in inputs[node]:
                    needed[source] = 1
        return needed

    def pruned(self, output: int) -> Graph:
        """A Graph holding only the nodes `output` depends on, renumbered in the same
        (topological) order, with `output` as its output (this graph if all are needed)."""
        needed = self.depends_on(output)
        inputs = self.inputs
        if output == len(self.ops) - 1 and needed.count(0) == 0:  # nothing to drop
            self.output = output
            self.declared = dict.fromkeys(self.variables)
            return self
        new_id: dict[int, int] = {}
        kept = Graph(self.share)
        for node in range(output + 1):
            if needed[node]:
                new_id[node] = kept._append(self.ops[node],
                                            tuple([new_id[i] for i in inputs[node]]),
                                            self.payload[node])
        kept.variables = {n: new_id[i] for n, i in self.variables.items() if i in new_id}
        kept.names = {n: new_id[i] for n, i in self.names.items() if i in new_id}
        kept.name_of = {new_id[i]: n for i, n in self.name_of.items() if i in new_id}
        kept.defaults = {n: v for n, v in self.defaults.items() if n in kept.variables}
        kept.output = new_id[output]
        kept.declared = dict.fromkeys(self.variables)
        kept.positions = self.positions
        kept.tensor = self.tensor and any(  # an unused tensor statement does not count
            type(value) is tuple if op is CONST else op is not VAR and op.vjps is not None
            for op, value in zip(kept.ops, kept.payload))
        kept.calls, kept.definitions, kept.notes = self.calls, self.definitions, self.notes
        kept.call_of = {new_id[i]: c for i, c in self.call_of.items() if i in new_id}
        kept.implicit = {new_id[i] for i in self.implicit if i in new_id}
        kept.versions = {new_id[i]: v for i, v in self.versions.items() if i in new_id}
        return kept
