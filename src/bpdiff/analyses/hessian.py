"""`--hessian` and `--hvp`: second derivatives by differentiating the backward pass.

Forward-over-reverse: forward() and backward() run unchanged on dual numbers
(bpdiff.engine.dual), with the inputs moving along a direction v; the tangents of the
gradients are then H·v, the Hessian of the output times v. One pass gives a
Hessian-vector product; n passes with unit directions give the n×n Hessian, column by
column (so it is symmetric up to rounding; it is not symmetrised). Every derivative
comes from the primitive table, the kink policy included: at a kink the local
derivative is the policy's constant, whose own derivative is 0.
"""

from typing import NamedTuple

from bpdiff.engine.autodiff import backward, forward
from bpdiff.engine.dual import Dual, namespace, tangent
from bpdiff.errors import BpdiffError, BpdiffValueError, did_you_mean
from bpdiff.engine.sizes import total_elements


class Hessian(NamedTuple):
    """∂²output/∂wrt[i]∂wrt[j] as rows of a matrix."""

    wrt: tuple
    matrix: tuple  # tuple of rows (tuples of floats)


class Curvature(NamedTuple):
    """What --hessian and --hvp asked for (None where not asked)."""

    hessian: Hessian | None
    hvp: "HessianVectorProduct | None"


class HessianVectorProduct(NamedTuple):
    """H·v for the inputs `wrt`, H restricted to them."""

    wrt: tuple
    vector: tuple
    product: tuple


def inputs_wrt(result, names=None):
    """The inputs to differentiate with respect to: `names` (checked), else all."""
    graph = result.graph
    if not names:
        return tuple(graph.variables)
    for name in names:
        if name in graph.declared:
            continue
        if name in graph.names:
            raise BpdiffValueError(f"--wrt {name}: second derivatives are taken with"
                                   " respect to inputs, and this is a named intermediate",
                                   hint="inputs: " + ", ".join(graph.declared))
        raise BpdiffValueError(f"--wrt {name}: not an input of the program"
                               f"{did_you_mean(name, graph.declared)}",
                               hint="inputs: " + ", ".join(graph.declared))
    if len(set(names)) != len(names):
        raise BpdiffValueError("--wrt names an input twice: " + ", ".join(names))
    return tuple(names)


def directional(result, direction):
    """The derivative of every input's gradient along `direction` (input name -> its
    component; names not given do not move): (H·direction) by input name."""
    graph = result.graph
    kink = result.kink_policy.overrides()
    m = namespace(kink)
    inputs = {name: Dual(x, float(direction[name])) if direction.get(name) else x
              for name, x in result.inputs.items()}
    grads = backward(graph, forward(graph, inputs, m=m), m=m, kink=kink)
    return {name: float(tangent(grads[node])) for name, node in graph.variables.items()}


MAX_WORK = 2_000_000  # dual node evaluations (inputs × nodes) before --force is needed


def hessian(result, names=None, force=False):
    """The Hessian of the output with respect to `names` (default: every input); a
    BpdiffError when that is more than MAX_WORK dual node evaluations, unless `force`."""
    wrt = inputs_wrt(result, names)
    work = len(wrt) * total_elements(result.values)  # an array counts its elements
    if work > MAX_WORK and not force:
        raise BpdiffError(f"the Hessian takes {len(wrt):,} passes over {len(result.graph):,}"
                          f" nodes ({work:,} dual evaluations, over {MAX_WORK:,}):"
                          " it would be slow",
                          hint="--hvp gives H·v in one pass; --wrt picks fewer inputs;"
                               " --force computes it anyway")
    columns = [_column(result, name, wrt) for name in wrt]
    return Hessian(wrt, tuple(zip(*columns)) if columns else ())


def _column(result, name, wrt):
    if name not in result.inputs:  # declared, but the output does not use it
        return (0.0,) * len(wrt)
    moved = directional(result, {name: 1.0})
    return tuple(moved.get(other, 0.0) for other in wrt)


def hvp(result, vector, names=None):
    """H·v for `vector` (one number, or its text, per input of `names`, default every
    input), H restricted to those inputs."""
    from bpdiff.numbers import to_number

    wrt = inputs_wrt(result, names)
    if len(vector) != len(wrt):
        raise BpdiffValueError(f"--hvp has {len(vector)} number(s) for {len(wrt)} input(s)"
                               f" ({', '.join(wrt) or 'none'})",
                               hint="one number per input, in this order; --wrt picks"
                                    " the inputs")
    v = []
    for x in vector:
        try:
            number = to_number("--hvp", x)
        except BpdiffValueError:
            raise BpdiffValueError(f"--hvp: {str(x).strip()!r} is not a number"
                                   " (decimals and fractions like -1/4 work)") from None
        if number - number != 0:  # nan and ±inf (1e400 too)
            raise BpdiffValueError(f"--hvp: {str(x).strip()!r} is not a finite number")
        v.append(number)
    v = tuple(v)
    moved = directional(result, dict(zip(wrt, v)))
    return HessianVectorProduct(wrt, v, tuple(moved.get(name, 0.0) for name in wrt))


def curvature_of(result, want_hessian, vector_text, names=None, force=False):
    """The Hessian (if `want_hessian`) and H·v for `vector_text` ('1,-2,1/2'; None:
    none), with respect to `names` (default: every input)."""
    product = None
    if vector_text is not None:
        product = hvp(result, vector_text.split(",") if vector_text.strip() else [], names)
    return Curvature(hessian(result, names, force) if want_hessian else None, product)
