"""`--crosscheck`: the value and every gradient recomputed by PyTorch or JAX and compared.

No second table of operations: the primitives' own forward rules run with a math
namespace `m` whose functions are the framework's (torch.sin, torch.maximum, ...) on
float64 inputs, and the framework's autodiff differentiates what they build. Forward
rules have no Python-level branching (only derivative rules do, pow's), so every op
maps; step, whose derivative is 0, is a comparison there, and softplus is
logaddexp(a, 0), as in JAX (torch's F.softplus turns linear above 20, which is off by
2e-9 in the gradient). At a kink each framework
follows its own convention, so bpdiff's gradients are compared as the matching --kink
policy gives them (torch: pytorch, jax: jax), with a note when that is not the policy
of the run.

A number agrees when |bpdiff − other| <= tolerance · max(|bpdiff|, |other|) (the
relative error, 0 when both are equal, nan with nan included), or when the difference
is below ABSOLUTE_FLOOR × the largest magnitude among the run's numbers: gradients
summed in another order may cancel to different specks of rounding.

Neither framework is a dependency: they are imported here, only when asked for.
"""

import math
from types import SimpleNamespace
from typing import NamedTuple

from bpdiff.engine import scalar
from bpdiff.engine.autodiff import backward, forward
from bpdiff.errors import BpdiffError
from bpdiff.engine.kinks import KinkPolicy

BACKENDS = ("torch", "jax")
DEFAULT_TOLERANCE = 1e-9
ABSOLUTE_FLOOR = 1e-13


class Row(NamedTuple):
    """One quantity compared: the output's value or ∂output/∂input."""

    name: str  # "value" or the input's name
    bpdiff: float
    other: float
    error: float  # relative error
    passed: bool


class CrossCheck(NamedTuple):
    """The comparison with one framework."""

    backend: str  # "torch" or "jax"
    version: str
    policy: str  # the --kink policy bpdiff's gradients were compared under
    tolerance: float
    rows: tuple
    notes: tuple

    @property
    def passed(self):
        """Every row agrees."""
        return all(row.passed for row in self.rows)

    @property
    def max_error(self):
        """The largest relative error among the rows (0 when there is none)."""
        errors = [row.error for row in self.rows]
        return max(errors, default=0.0)


def crosscheck(result, tolerance=DEFAULT_TOLERANCE, backends=BACKENDS):
    """`result` recomputed by the first of `backends` that imports, and compared.
    Raises BpdiffError (exit 2) when none does, or for an array program (as the CLI's
    --crosscheck: the frameworks' namespaces hold the scalar rules only)."""
    if result.tensor:
        raise BpdiffError("--crosscheck works on scalar programs, not on arrays",
                          hint="check array gradients with --gradcheck")
    for backend in backends:
        loaded = _load(backend)
        if loaded is not None:
            return _compare(result, backend, loaded, tolerance)
    raise BpdiffError("--crosscheck needs PyTorch or JAX, and neither can be imported"
                      f" here (tried {', '.join(backends)})",
                      hint="install one (pip install torch) in the environment bpdiff runs in")


def _load(backend):
    import warnings

    try:
        with warnings.catch_warnings():  # torch warns when numpy is missing: not our matter
            warnings.simplefilter("ignore")
            if backend == "torch":
                import torch
                return torch
            import jax
            jax.config.update("jax_enable_x64", True)
            return jax
    except (ImportError, OSError):  # not installed, or its native libraries do not load
        return None


def _compare(result, backend, module, tolerance):
    value, grads = (_torch_run if backend == "torch" else _jax_run)(result, module)
    policy = "pytorch" if backend == "torch" else "jax"
    ours, notes = _bpdiff_gradient(result, policy)
    numbers = [result.value, value, *ours.values(), *grads.values()]
    floor = ABSOLUTE_FLOOR * max([1.0, *(abs(x) for x in numbers if math.isfinite(x))])
    rows = [_row("value", result.value, value, tolerance, floor)]
    rows += [_row(name, ours[name], grads[name], tolerance, floor) for name in ours]
    return CrossCheck(backend, module.__version__, policy, tolerance, tuple(rows),
                      tuple(notes))


def _bpdiff_gradient(result, policy):
    """bpdiff's gradient under the --kink `policy` (the run's own when it is that)."""
    graph, notes = result.graph, []
    grads = result.grads
    matching = KinkPolicy(policy)
    if result.kinks and result.kink_policy != matching:
        grads = backward(graph, result.values, kink=matching.overrides())
        notes.append(f"{len(result.kinks)} node(s) at a kink: bpdiff's gradients are"
                     f" compared as --kink {policy} gives them (this run uses --kink"
                     f" {result.kink_policy.name})")
    elif result.kinks:
        notes.append(f"{len(result.kinks)} node(s) at a kink, where {policy}'s convention"
                     " is compared")
    return {name: grads[node] for name, node in graph.variables.items()}, notes


def _row(name, ours, other, tolerance, floor):
    error = relative_error(ours, other)
    passed = error <= tolerance or abs(ours - other) <= floor
    return Row(name, ours, other, error, passed)


def relative_error(a, b):
    """|a − b| / max(|a|, |b|); 0 when a and b are equal (nan and nan included), inf
    when one is nan or infinite and the other is not the same."""
    if a == b or (a != a and b != b):
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


# ---- the frameworks' namespaces -------------------------------------------------------

SCALAR_MEMBERS = ("ARRAYS", "tie_share", "where", "quiet", "constant", "ones_like",
                  "anywhere", "all_finite", "first_nonfinite")
"""The members a framework's namespace takes from bpdiff.engine.scalar: only forward rules
run on a framework, whose values here hold one number each, so these (which the
derivative rules and the passes use) need nothing of the framework's own."""


def _namespace(**functions):
    """A MathNamespace (bpdiff.engine.namespace): `functions` and scalar's SCALAR_MEMBERS."""
    return SimpleNamespace(**{name: getattr(scalar, name) for name in SCALAR_MEMBERS},
                           **functions)


def torch_namespace(torch):
    """The math namespace over float64 torch tensors (Python floats are promoted)."""
    def tensor(x):
        return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)

    def unary(fn):
        return lambda a: fn(tensor(a))

    def binary(fn):
        return lambda a, b: fn(tensor(a), tensor(b))

    return _namespace(
        div=binary(torch.div), pow=binary(torch.pow), maximum=binary(torch.maximum),
        minimum=binary(torch.minimum),
        exp=unary(torch.exp), log=unary(torch.log), sqrt=unary(torch.sqrt),
        log1p=unary(torch.log1p), expm1=unary(torch.expm1), atan=unary(torch.atan),
        asin=unary(torch.asin), acos=unary(torch.acos),
        sin=unary(torch.sin), cos=unary(torch.cos), tan=unary(torch.tan),
        tanh=unary(torch.tanh), fabs=unary(torch.abs), sigmoid=unary(torch.sigmoid),
        relu=unary(torch.relu),
        softplus=unary(lambda a: torch.logaddexp(a, torch.zeros_like(a))),
        sign=unary(torch.sign), step=unary(lambda a: (a > 0).to(torch.float64)))


def _torch_run(result, torch):
    graph = result.graph
    inputs = {name: torch.tensor(x, dtype=torch.float64, requires_grad=True)
              for name, x in result.inputs.items()}
    out = forward(graph, inputs, m=torch_namespace(torch))[graph.output]
    grads = [None] * len(inputs)
    if isinstance(out, torch.Tensor) and out.requires_grad:
        grads = torch.autograd.grad(out, list(inputs.values()), allow_unused=True)
    value = out.item() if isinstance(out, torch.Tensor) else float(out)
    return value, {name: 0.0 if g is None else g.item() for name, g in zip(inputs, grads)}


def jax_namespace(jax):
    """The math namespace over float64 JAX arrays."""
    jnp = jax.numpy
    return _namespace(
        div=jnp.divide, pow=jnp.power, maximum=jnp.maximum, minimum=jnp.minimum,
        exp=jnp.exp, log=jnp.log, sqrt=jnp.sqrt, sin=jnp.sin, cos=jnp.cos, tan=jnp.tan,
        log1p=jnp.log1p, expm1=jnp.expm1, atan=jnp.arctan, asin=jnp.arcsin,
        acos=jnp.arccos,
        tanh=jnp.tanh, fabs=jnp.abs, sigmoid=jax.nn.sigmoid, relu=jax.nn.relu,
        softplus=jax.nn.softplus, sign=jnp.sign,
        step=lambda a: jnp.where(jnp.asarray(a) > 0, 1.0, 0.0))


def _jax_run(result, jax):
    graph, names = result.graph, list(result.inputs)
    m = jax_namespace(jax)

    def output(*xs):
        return jax.numpy.asarray(forward(graph, dict(zip(names, xs)), m=m)[graph.output],
                                 dtype=jax.numpy.float64)

    xs = [jax.numpy.float64(result.inputs[name]) for name in names]
    if not names:
        return float(output()), {}
    value, grads = jax.value_and_grad(output, argnums=tuple(range(len(names))))(*xs)
    return float(value), {name: float(g) for name, g in zip(names, grads)}
