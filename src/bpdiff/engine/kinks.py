"""`--kink`: which convention the backward pass uses where a derivative does not exist.

A policy names one of ops.KINK_POLICIES for every op with a kink (relu, abs, max, min,
step, sign, sqrt, arcsin, arccos), from text such as `jax`, `relu=one,max=half` or
`one,sqrt=pytorch` (a bare name sets the default, pytorch unless given; NAME=POLICY sets one op). What
each policy means for each op is data in the primitive table (`kink_rules`); this
module only reads it: `overrides()` gives backward() the local derivatives to use at
a kink, `local_derivative()` applies them, `text()` words the convention for warnings,
narration and checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bpdiff.errors import BpdiffValueError, did_you_mean
from bpdiff.engine.ops import KINK_POLICIES, PRIMITIVES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bpdiff.engine.namespace import MathNamespace
    from bpdiff.engine.ops import Primitive

KINKED = {p.name: p for p in PRIMITIVES if p.kink_rules is not None}
"""The ops a policy applies to, by name."""

DEFAULT = "pytorch"


class KinkPolicy:
    """A convention for every kinked op: `default`, except where `ops` ((op name,
    policy), ...: set one by one) says otherwise. A value: equal policies compare equal."""

    __slots__ = ("default", "ops")

    def __init__(self, default: str = DEFAULT, ops: tuple[tuple[str, str], ...] = ()) -> None:
        self.default, self.ops = default, ops

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KinkPolicy):
            return NotImplemented
        return (self.default, self.ops) == (other.default, other.ops)

    def __hash__(self) -> int:
        return hash((self.default, self.ops))

    def __repr__(self) -> str:
        return f"KinkPolicy({self.default!r}, {self.ops!r})"

    def of(self, name: str) -> str:
        """The policy used for op `name`."""
        return dict(self.ops).get(name, self.default)

    def overrides(self) -> dict[str, tuple[float, ...]] | None:
        """op name -> its local derivatives at a kink, for every op whose convention is
        not the primitive table's own rule (PyTorch's); None when there is none."""
        # (every op in KINKED has kink_rules, which mypy cannot see: hence the ignores)
        chosen = {name: op.kink_rules[self.of(name)]  # type: ignore[index]
                  for name, op in KINKED.items()}
        changed = {name: locals_ for name, locals_ in chosen.items()
                   if locals_ != KINKED[name].kink_rules[DEFAULT]}  # type: ignore[index]
        return changed or None

    def text(self, op: Primitive) -> str:
        """The convention `op` follows at its kink, in words: "relu'(0) = 1" (an op
        no policy applies to, such as the tensor op norm, keeps its own)."""
        if op.kink_rules is None:
            return op.kink
        return convention_text(op, op.kink_rules[self.of(op.name)])

    @property
    def name(self) -> str:
        """The policy as `--kink` text: 'pytorch', 'jax,relu=one'."""
        return ",".join([self.default, *(f"{op}={policy}" for op, policy in self.ops)])

    def as_dict(self) -> dict[str, Any]:
        """{"default": policy, "ops": {op name: policy}} for every kinked op (JSON)."""
        return {"default": self.default, "ops": {name: self.of(name) for name in KINKED}}


PYTORCH = KinkPolicy()


def local_derivative(m: MathNamespace, op: Primitive, position: int, args: Sequence[Any],
                     out: Any, at_kink: Any = None,
                     kink_locals: tuple[float, ...] | None = None) -> Any:
    """∂op/∂input `position` at `args` (result `out`) in namespace `m`: the table's rule,
    or the policy's constant kink_locals[position] where `at_kink` holds (a bool, or
    an array of them; None: nowhere)."""
    local = op.local_grads[position](m, *args, out)
    if at_kink is None:
        return local
    return m.where(at_kink, kink_locals[position], local)  # type: ignore[index]  # set with at_kink


def convention_text(op: Primitive, locals_: tuple[float, ...]) -> str:
    """Words for the local derivatives `locals_` at `op`'s kink."""
    if op.arity == 1:  # the point as the op's `kink` names it: "sqrt'(0)", "arcsin'(±1)"
        return f"{op.kink.partition(' = ')[0]} = {_number(locals_[0])}"
    first, second = locals_
    if first == second == 0:  # a comparison's jump: flat on both sides
        return op.kink
    if first == second:
        return f"a tie splits the gradient evenly: {_number(first)} to each"
    if second == 0:
        return "a tie sends all of the gradient to the first input"
    if first == 0:
        return "a tie sends all of the gradient to the second input"
    return f"a tie sends {_number(first)} of the gradient to the first input, " \
           f"{_number(second)} to the second"


def _number(x: float) -> str:
    return {0.5: "1/2", float("inf"): "inf"}.get(x, f"{x:g}")


def parse_policy(text: str | None) -> KinkPolicy:
    """A KinkPolicy from `--kink` text; raises BpdiffValueError (exit 2) on a bad one."""
    if text is None:
        return PYTORCH
    default, ops = None, {}
    for item in (part.strip() for part in str(text).split(",")):
        if not item:
            continue
        name, sep, policy = (s.strip() for s in item.partition("="))
        if not sep:
            if default is not None:
                raise BpdiffValueError(f"--kink {text}: two default policies,"
                                       f" {default} and {name}",
                                       hint="give one, e.g. --kink jax,relu=one")
            default = _check_policy(text, name)
            continue
        if name not in KINKED:
            raise BpdiffValueError(f"--kink {text}: '{name}' has no kink"
                                   f"{did_you_mean(name, KINKED)}",
                                   hint="ops with kinks: " + ", ".join(KINKED))
        ops[name] = _check_policy(text, policy)
    if default is None and not ops:
        raise BpdiffValueError("--kink needs a policy: " + ", ".join(KINK_POLICIES))
    return KinkPolicy(default or DEFAULT, tuple(ops.items()))


def _check_policy(text: str, policy: str) -> str:
    if policy not in KINK_POLICIES:
        raise BpdiffValueError(f"--kink {text}: unknown policy '{policy}'"
                               f"{did_you_mean(policy, KINK_POLICIES)}",
                               hint="policies: " + ", ".join(KINK_POLICIES))
    return policy
