"""A switched-off branch passes no gradient, even an infinite one (issue 15, point 4).

Where relu, step, sign, max/min routing, abs at 0, pow's own where() or a kink
convention of 0 makes a local derivative 0, the contribution is 0 whatever the upstream
gradient, as PyTorch's masked backward gives it; an ordinary 0 × inf (a product by a
zero factor) stays nan, as PyTorch gives it too. The same holds elementwise in tensor
mode, for dual numbers (--hessian) and in exact arithmetic."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.analyses import crosscheck as cc
from bpdiff.analyses.hessian import hessian

# ---- the issue's programs ---------------------------------------------------------------

ISSUE = [("sqrt(relu(x))", {"x": -1}, {"x": 0.0}),
         ("1/relu(x)", {"x": -1}, {"x": 0.0}),
         ("sqrt(max(x, 0))", {"x": -1}, {"x": 0.0}),
         # a^2 at a = 0 is an ordinary product 2·a = 0 times inf: nan, as in PyTorch
         ("exp((relu(b)+a^2)^0.5)", {"a": 0, "b": -3.7}, {"a": math.nan, "b": 0.0})]


def _same(got, want):
    return got == want or (math.isnan(got) and math.isnan(want))


@pytest.mark.parametrize("text, point, want", ISSUE)
def test_the_issue_programs_give_0_through_the_switched_off_branch(text, point, want):
    r = bpdiff.differentiate(text, point)
    assert all(_same(r.gradient[name], want[name]) for name in want), r.gradient
    exact = bpdiff.differentiate(text, point, exact=True)
    assert all(_same(exact.gradient[name], want[name]) for name in want), exact.gradient


@pytest.mark.parametrize("text, point, want", ISSUE)
def test_the_same_elementwise_in_tensor_mode(text, point, want):
    arrays = {name: [x, 4.0] for name, x in point.items()}  # element 1: nothing at a pole
    r = bpdiff.differentiate(text, arrays, sum_output=True)
    for name in want:
        scalar = bpdiff.differentiate(text, {n: v[1] for n, v in arrays.items()})
        assert _same(float(r.gradient[name][0]), want[name]), r.gradient
        assert r.gradient[name][1] == pytest.approx(scalar.gradient[name])


def test_an_ordinary_zero_times_inf_stays_nan():
    assert math.isnan(bpdiff.differentiate("sqrt(x*0)", x=1).gradient["x"])
    assert math.isnan(bpdiff.differentiate("sqrt(x*z)", x=1, z=0).gradient["x"])
    # 0 from the switch plus nan from the product: nan, as in PyTorch
    assert math.isnan(bpdiff.differentiate("sqrt(relu(y) + x*z)", x=1, y=-1, z=0)
                      .gradient["x"])
    assert bpdiff.differentiate("sqrt(relu(y) + x*z)", x=1, y=-1, z=0).gradient["y"] == 0


def test_the_edges_record_the_zero_contribution():
    r = bpdiff.differentiate("sqrt(relu(x))", x=-1, edges=True)
    relu = r.graph.names.get("x") + 1
    [edge] = [e for e in r.edges if e.node == relu]
    assert (edge.local, edge.upstream, edge.contribution) == (0.0, math.inf, 0.0)


# ---- kink conventions ---------------------------------------------------------------------

@pytest.mark.parametrize("text, point, policy, want", [
    ("sqrt(relu(x))", {"x": 0}, "pytorch", 0.0),  # relu'(0) = 0
    ("sqrt(relu(x))", {"x": 0}, "relu=one", math.inf),  # relu'(0) = 1 passes inf on
    ("sqrt(abs(x))", {"x": 0}, "pytorch", 0.0),  # abs'(0) = 0
    ("sqrt(abs(x))", {"x": 0}, "abs=zero", 0.0),
    ("sqrt(abs(x))", {"x": 0}, "abs=jax", math.inf),  # abs'(0) = 1
    ("sqrt(max(x, y) - 1)", {"x": 1, "y": 1}, "max=zero", 0.0),  # the tie: (0, 1)
    ("sqrt(max(x, y) - 1)", {"x": 1, "y": 1}, "max=one", math.inf),  # (1, 0)
    ("sqrt(sqrt(x))", {"x": 0}, "sqrt=zero", 0.0),  # sqrt'(0) = 0 at the inner one
])
def test_a_convention_of_0_at_a_kink_switches_the_branch_off(text, point, policy, want):
    r = bpdiff.differentiate(text, point, kink=policy)
    assert r.gradient["x"] == want
    arrays = bpdiff.differentiate(text, {n: [v, v] for n, v in point.items()}, kink=policy,
                                 sum_output=True)
    assert list(arrays.gradient["x"]) == [want, want]


def test_second_derivatives_through_a_switched_off_branch_are_0():
    r = bpdiff.differentiate("sqrt(relu(x)) + y^2", x=-1, y=3)
    assert hessian(r).matrix == ((0.0, 0.0), (0.0, 2.0))


# ---- random programs ------------------------------------------------------------------

# (text with X for the operand, a point X that switches it off, its value there)
SWITCHES = [("relu(X)", -1.5, 0.0), ("relu(X)", -0.25, 0.0), ("max(X, 0)", -2.0, 0.0),
            ("min(X, 0)", 0.75, 0.0), ("max(0, X)", -0.5, 0.0), ("step(X)", -1.0, 0.0),
            ("step(X)", 2.0, 1.0), ("sign(X)", 3.0, 1.0), ("sign(X)", -3.0, -1.0),
            ("abs(X)", 0.0, 0.0), ("X^0", 2.5, 1.0)]
# not 0^X: PyTorch's ∂(0^x)/∂x is 0 × upstream (nan for an infinite one), not masked
# an inner function of x whose derivative is finite and nonzero, and x for X = t
INNER = [("x", lambda t: t), ("2*x", lambda t: t / 2), ("-x", lambda t: -t),
         ("x + 1", lambda t: t - 1), ("0.5*x", lambda t: 2 * t)]
# a function with an infinite (or nan) derivative at U = 0
POLES = ["sqrt(U)", "1/U", "log(U)", "U^0.5", "U^-2", "sqrt(sqrt(U))"]
# an outer wrapper of the pole P
OUTER = ["P", "exp(P)", "2*P + y", "y*P", "-P", "tanh(P) + P"]


@st.composite
def switched_programs(draw):
    """(program text with U for the pole's input, the switched-off sum that U stands
    for, the point): x reaches U only through branches that are switched off there,
    and U = 0, where the pole's derivative is not finite."""
    switch, at, value = draw(st.sampled_from(SWITCHES))
    inner, solve = draw(st.sampled_from(INNER))
    x = solve(at)
    terms = [switch.replace("X", f"({inner})") + (f" - {value!r}" if value else "")]
    for _ in range(draw(st.integers(0, 2))):  # more switched-off uses of x
        other, other_at, other_value = draw(st.sampled_from(SWITCHES))
        terms.append(other.replace("X", f"(x - {x - other_at!r})")
                     + (f" - {other_value!r}" if other_value else ""))
    pole = draw(st.sampled_from(POLES))
    text = draw(st.sampled_from(OUTER)).replace("P", f"({pole})")
    point = {"x": x}
    if "y" in text:
        point["y"] = draw(st.sampled_from([-2.0, 0.5, 3.0]))
    return text, " + ".join(f"({t})" for t in terms), point


def _program(text, u):
    return text.replace("U", f"({u})")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(program=switched_programs())
def test_random_switched_off_branches_pass_0_however_large_the_upstream(program):
    text, u, point = program
    r = bpdiff.differentiate(_program(text, u), point, edges=True)
    assert r.gradient["x"] == 0.0, (r.text, point, r.gradient)
    zeroed = [e for e in r.edges if e.local == 0 and not math.isfinite(e.upstream)]
    assert zeroed, r.text  # the case at issue: 0 × a non-finite upstream
    for e in zeroed:  # was 0 only where a branch is off; elsewhere nan, as in PyTorch
        op = r.graph.ops[e.node]
        assert (e.contribution == 0) == (op.switched_off is not None), (r.text, op.name)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(program=switched_programs(), factor=st.sampled_from(["0", "z", "z*w"]))
def test_an_ordinary_zero_factor_beside_them_stays_nan(program, factor):
    text, u, point = program
    extra = {name: value for name, value in (("z", 0.0), ("w", 2.0)) if name in factor}
    r = bpdiff.differentiate(_program(text, f"{u} + x*{factor}"), {**point, **extra})
    assert math.isnan(r.gradient["x"]), (r.text, point, r.gradient)  # PyTorch: 0 + nan


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(program=switched_programs(), other=st.sampled_from([0.5, 2.0, 3.0]))
def test_random_switched_programs_elementwise_match_scalar_runs(program, other):
    text, u, point = program
    text = _program(text, u)
    arrays = {name: np.array([x, other if name == "x" else x]) for name, x in point.items()}
    r = bpdiff.differentiate(text, arrays, sum_output=True)
    for i in range(2):
        scalar = bpdiff.differentiate(text, {name: float(x[i]) for name, x in arrays.items()})
        for name in point:
            want, got = scalar.gradient[name], float(r.gradient[name][i])
            assert _same(got, want) or got == pytest.approx(want), (text, i, name)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(program=switched_programs())
def test_random_switched_programs_agree_with_pytorch(program):
    pytest.importorskip("torch")
    text, u, point = program
    if "abs(" in u:  # PyTorch's abs backward is grad·sgn(x): inf·0 = nan at 0
        return
    check = cc.crosscheck(bpdiff.differentiate(_program(text, u), point), backends=("torch",))
    assert check.passed, (text, point, check)
