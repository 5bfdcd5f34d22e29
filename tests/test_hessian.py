"""--hessian and --hvp: second derivatives by dual numbers through bpdiff's own forward and
backward passes, checked against SymPy's exact Hessian (sympy.hessian of the same
program, built as in test_ops and test_random_expressions), against central finite
differences of bpdiff's gradient, and H·v against H @ v; every primitive, random
programs, kink policies, 100,000-deep graphs and the CLI."""

import json
import math
from pathlib import Path

import jsonschema
import pytest
import sympy as sp
from conftest import run_main
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ops import DOMAINS, SYMPY, _program_texts
from test_random_expressions import (SYMBOLS, SYMPY_NAMES, VARIABLES, _at_a_kink, add,
                                     expressions, mul, programs, values, var)

import bpdiff
from bpdiff.engine import dual, ops, scalar
from bpdiff.engine.namespace import members
from bpdiff.errors import BpdiffError
from bpdiff.analyses.hessian import hessian, hvp

SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json")
                    .read_text())
RANDOM = settings(max_examples=120, deadline=None, derandomize=True, database=None)


def _sympy_at(expr, point):
    """`expr` at `point` (symbol name -> float) with 40 significant digits."""
    return float(expr.subs({SYMBOLS[n]: sp.Float(v, 40) for n, v in point.items()})
                 .evalf(40))


def _scale(numbers):
    return max([1.0, *(abs(x) for x in numbers)])


def _close(got, want, scale, rel=1e-8, abs_=1e-11):
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_ * scale)


# ---- by hand --------------------------------------------------------------------------

def test_the_worked_example():
    r = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    # f = a b^3 + b^4: f_aa = 0, f_ab = 3b^2 = 27, f_bb = 6ab + 12b^2 = 234
    assert hessian(r) == (("a", "b"), ((0.0, 27.0), (27.0, 234.0)))
    assert hvp(r, ["1", "-1/2"]).product == (-13.5, -90.0)
    assert hessian(r, ["b"]).matrix == ((234.0,),)
    assert hvp(r, [2], ["b"]).product == (468.0,)


def test_mixed_derivative_of_a_power_where_the_exponent_is_zero():
    # ∂²(x^y)/∂x∂y = x^(y-1) (1 + y ln x) = 1/x at y = 0: the rule's special case for
    # b = 0 must not hide the tangent of b
    r = bpdiff.differentiate("x^y", x=2, y=0)
    h = hessian(r).matrix
    assert h[0][1] == h[1][0] == 0.5
    assert h[0][0] == 0 and h[1][1] == pytest.approx(math.log(2) ** 2)


@pytest.mark.parametrize("policy, c", [("pytorch", 0), ("jax", 0), ("zero", 0), ("one", 1),
                                       ("half", 0.5)])
def test_second_derivatives_at_a_kink_follow_the_policy(policy, c):
    # relu(x)^2 at 0: f'' = 2 relu'(0)^2 with relu'(0) the policy's constant
    r = bpdiff.differentiate("relu(x)^2", x=0, kink=policy)
    assert hessian(r).matrix == ((2 * c * c,),)
    # the constant itself has derivative 0: relu(x) * y has f_xy = relu'(0)
    r = bpdiff.differentiate("relu(x) * y", x=0, y=5, kink=policy)
    assert hessian(r).matrix == ((0.0, c), (c, 0.0))
    # max(x, y)^2 at a tie: f_xx = 2 c^2, f_xy = 2 c (1 - c)
    r = bpdiff.differentiate("max(x, y)^2", x=1, y=1, kink=policy)
    share = {"pytorch": 0.5, "jax": 0.5}.get(policy, c)
    assert hessian(r).matrix == ((2 * share ** 2, 2 * share * (1 - share)),
                                 (2 * share * (1 - share), 2 * (1 - share) ** 2))


def test_a_declared_input_the_output_does_not_use_has_zero_rows():
    r = bpdiff.differentiate("a = 1; b = 2; a*a")
    assert hessian(r, ["a", "b"]).matrix == ((2.0, 0.0), (0.0, 0.0))
    assert hvp(r, [1, 1], ["a", "b"]).product == (2.0, 0.0)


@pytest.mark.parametrize("names, vector, message", [
    (["d"], None, "named intermediate"),
    (["q"], None, "not an input"),
    (["xx"], None, "did you mean 'x'"),
    (["x", "x"], None, "twice"),
    (None, ["1"], "1 number(s) for 2 input(s)"),
    (None, ["1", "two"], "'two' is not a number"),
])
def test_bad_requests_are_clear_errors(names, vector, message):
    r = bpdiff.differentiate("d = x*y; d*d", x=1, y=2)
    with pytest.raises(BpdiffError, match=message.replace("(", r"\(").replace(")", r"\)")):
        if vector is None:
            hessian(r, names)
        else:
            hvp(r, vector, names)


# ---- the dual namespace ----------------------------------------------------------------

def test_the_dual_namespace_has_every_scalar_function():
    public = set(members()) - {"ARRAYS", "all_finite"}
    assert public == set(dual.LIFTED) | set(dual.CONSTANT) | set(dual.SELECTORS) | set(dual.PASSES)
    assert set(dual.LIFTED.values()) <= set(ops.BY_NAME)
    assert not set(dual.LIFTED) & set(dual.CONSTANT)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5))
def test_on_plain_floats_the_dual_namespace_is_the_scalar_one(a, b):
    m = dual.namespace()
    for name in dual.LIFTED:
        fn = getattr(scalar, name)
        args = (a, b) if ops.BY_NAME[dual.LIFTED[name]].arity == 2 else (a,)
        want, got = fn(*args), getattr(m, name)(*args)
        assert got == want or (got != got and want != want), name


def test_duals_compare_by_value_and_follow_the_product_rule():
    x = dual.Dual(3.0, 1.0)
    assert x == 3 and x > 2 and x >= 3 and x < 4 and x <= 3 and x != 2
    y = 2 * x * x - x + 1 - x  # 2x^2 - 2x + 1: value 13, derivative 4x - 2 = 10
    assert (y.value, y.tangent) == (13.0, 10.0)
    assert dual.tangent(5.0) == 0.0 and dual.value(x) == 3.0
    s = dual.namespace().sin(x)
    assert (s.value, s.tangent) == (math.sin(3.0), math.cos(3.0))


# ---- every primitive against SymPy ----------------------------------------------------

@pytest.mark.parametrize("prim", ops.SCALAR_PRIMITIVES,
                         ids=[p.name for p in ops.SCALAR_PRIMITIVES])
@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_primitive_matches_sympys_hessian(prim, data):
    text = _program_texts(prim)[0]
    names = ["x", "y", "z"][:prim.arity]
    symbols = [SYMBOLS[n] for n in names]
    point = dict(zip(names, data.draw(DOMAINS[prim.name], label="point")))
    if prim.name == "id":
        text = "d = x; d"
    r = bpdiff.differentiate(text, point)
    matrix = hessian(r, names).matrix
    want = sp.hessian(SYMPY[prim.name](*symbols), symbols)
    wants = [[_sympy_at(want[i, j], point) for j in range(len(names))]
             for i in range(len(names))]
    scale = _scale([x for row in wants for x in row])
    for i in range(len(names)):
        for j in range(len(names)):
            assert _close(matrix[i][j], wants[i][j], scale), (
                f"{text} at {point}: H[{i}][{j}] = {matrix[i][j]}, SymPy {wants[i][j]}")


# ---- random programs: SymPy, finite differences of the gradient, H·v = H @ v -----------

@st.composite
def mixed_programs(draw):
    """Three random expressions with x, y and z mixed in, so that every entry of the
    3×3 Hessian is in play: (e1 + x)(e2 + y) + (e3 + z)·x·y."""
    e1, e2, e3 = (draw(expressions(), label=f"e{k}") for k in (1, 2, 3))
    x, y, z = var("x"), var("y"), var("z")
    body = add(mul(add(e1, x), add(e2, y)), mul(mul(add(e3, z), x), y))
    return body.text, body.sym, set(VARIABLES), frozenset(VARIABLES)


@RANDOM
@given(program=programs(), data=st.data())
def test_random_programs_match_sympy_finite_differences_and_hvp(program, data):
    _check_program(program, data)


@RANDOM
@given(program=mixed_programs(), data=st.data())
def test_random_programs_of_three_inputs_match_sympy_finite_differences_and_hvp(program,
                                                                              data):
    _check_program(program, data)


def _check_program(program, data):
    text, sym, declared, used = program
    point = {n: data.draw(values, label=n) for n in sorted(declared)}
    r = bpdiff.differentiate(text, point)
    names = list(r.gradient)
    h = hessian(r).matrix
    if not names:
        assert h == ()
        return
    scale = _scale([abs(v) for v in r.values] + [x for row in h for x in row]
                   + [g for g in r.gradient.values()])
    assert all(math.isfinite(x) for row in h for x in row), (text, point, h)

    expr = sp.sympify(sym, locals=SYMPY_NAMES)
    symbols = [SYMBOLS[n] for n in names]
    want = sp.hessian(expr, symbols)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            exact = _sympy_at(want[i, j], point)
            assert _close(h[i][j], exact, scale), (
                f"{text!r} at {point}: ∂²/∂{a}∂{b} = {h[i][j]}, SymPy {exact}")
            assert _close(h[i][j], h[j][i], scale, rel=1e-10, abs_=1e-13)

    vector = [data.draw(st.floats(-2, 2), label=f"v_{n}") for n in names]
    product = hvp(r, vector).product
    for i in range(len(names)):
        want_i = math.fsum(h[i][j] * vector[j] for j in range(len(names)))
        assert _close(product[i], want_i, scale, rel=1e-10, abs_=1e-13), (text, point)

    if not _at_a_kink(r):
        for j, name in enumerate(names):
            _check_finite_difference(text, point, name, [row[j] for row in h], names, scale)


def _check_finite_difference(text, point, name, column, names, scale):
    """Central differences of bpdiff's gradient along `name` against the Hessian's
    column; skipped where finite differences cannot be trusted (the steps h and 2h
    disagree: a kink or a jump nearby), as in test_random_expressions."""
    v = point[name]
    h = 1e-5 * max(1.0, abs(v))

    def grad(at):
        return bpdiff.differentiate(text, {**point, name: at}).gradient

    up, down, up2, down2 = grad(v + h), grad(v - h), grad(v + 2 * h), grad(v - 2 * h)
    for i, other in enumerate(names):
        central = (up[other] - down[other]) / ((v + h) - (v - h))
        central2 = (up2[other] - down2[other]) / ((v + 2 * h) - (v - 2 * h))
        tol = 1e-4 * (1 + abs(central)) + 1e-7 * scale
        if abs(central - central2) > tol:
            continue
        assert abs(column[i] - central) <= 2 * tol, (
            f"{text!r} at {point}: ∂²/∂{other}∂{name} = {column[i]}, central {central}")


def test_the_hessian_of_a_random_program_is_not_trivially_zero():
    """The checks above compare real numbers: most random programs have curvature."""
    r = bpdiff.differentiate("sin(x*y) + exp(y)*z^2", x=0.5, y=-1, z=2)
    assert all(x != 0 for row in hessian(r).matrix[:2] for x in row[:2])


# ---- scale ---------------------------------------------------------------------------

def test_100000_deep_nesting():
    depth = 100_000
    r = bpdiff.differentiate("sin(" * depth + "x" + ")" * depth, x=0.5)
    value, first, second = 0.5, 1.0, 0.0
    for _ in range(depth):  # g = sin(f): g' = cos f f', g'' = cos f f'' - sin f f'^2
        first, second = (math.cos(value) * first,
                         math.cos(value) * second - math.sin(value) * first * first)
        value = math.sin(value)
    [[got]] = hessian(r).matrix
    assert got == pytest.approx(second, rel=1e-9)


# ---- the command line ----------------------------------------------------------------

def test_cli_prints_the_hessian_as_a_labelled_table():
    code, out, err = run_main("(a+b)*b^3", "--a", "7", "--b", "3", "--hessian")
    assert (code, err) == (0, "")
    assert out == (
        "out = 270;  ∂out/∂a = 27, ∂out/∂b = 297\n"
        "\n"
        "Hessian of out: ∂²out/∂row ∂column:\n"
        "    a    b\n"
        "-  --  ---\n"
        "a   0   27\n"
        "b  27  234\n")


def test_cli_prints_a_hessian_vector_product():
    code, out, _ = run_main("(a+b)*b^3", "--a", "7", "--b", "3", "--hvp", "-1,1/2")
    assert code == 0
    assert "Hessian-vector product H·v (H the Hessian of out):" in out
    assert out.endswith("input    v   H·v\n"
                        "-----  ---  ----\n"
                        "a       -1  13.5\n"
                        "b      0.5    90\n")
    assert "Hessian of out:" not in out  # only what was asked for


def test_cli_json_has_the_hessian_and_hvp_and_matches_the_schema():
    code, out, _ = run_main("L = x*y^2 + z", "--x", "1", "--y", "2", "--z", "3",
                            "--hessian", "--hvp", "1,0", "--wrt", "y,x", "--json")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["hessian"] == {"wrt": ["y", "x"], "matrix": [[2, 4], [4, 0]]}
    assert data["hvp"] == {"wrt": ["y", "x"], "vector": [1, 0], "product": [2, 4]}


def test_cli_with_no_inputs():
    code, out, _ = run_main("2*3", "--hessian", "--hvp", "")
    assert code == 0 and out.count("(no inputs)") == 2


@pytest.mark.parametrize("args, message", [
    (["--hvp", "1"], "--hvp has 1 number(s) for 2 input(s) (x, y)"),
    (["--hvp", "1,a"], "--hvp: 'a' is not a number"),
    (["--hessian", "--wrt", "d"], "named intermediate"),
    (["--hessian", "--wrt", "zz"], "not an input"),
])
def test_cli_errors_exit_2_with_nothing_on_stdout(args, message):
    code, out, err = run_main("d = x*y; d*d", "--x", "1", "--y", "2", *args)
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err


def test_cli_hessian_under_exact_is_computed_in_floats():
    code, out, _ = run_main("x^3/3", "--x", "1/3", "--exact", "--hessian")
    assert code == 0 and "x  0.666667" in out


def test_rich_tables_for_a_terminal():
    from rich.console import Console

    from bpdiff.analyses.hessian import curvature_of
    from bpdiff.render import hessian as render

    r = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    console = Console(width=80, record=True, color_system=None)
    for renderable in render.rich(r, curvature_of(r, True, "1,2"), 6):
        console.print(renderable)
    text = console.export_text()
    assert "Hessian of out: ∂²out/∂row ∂column:" in text
    assert "│ b │ 27 │ 234 │" in text
    assert "│ b     │ 2 │ 495 │" in text


def test_a_hessian_too_big_to_be_quick_needs_force(monkeypatch):
    import bpdiff.analyses.hessian

    monkeypatch.setattr(bpdiff.analyses.hessian, "MAX_WORK", 1000)  # 40 inputs × 117 nodes is over
    terms = " + ".join(f"x{k}*x{k + 1}" for k in range(39))
    values = {f"x{k}": 1 for k in range(40)}
    code, out, err = run_main(terms, *[f"--x{k}=1" for k in range(40)], "--hessian")
    assert (code, out) == (2, "") and "--hvp gives H·v in one pass" in err
    code, out, _ = run_main(terms, *[f"--x{k}=1" for k in range(40)], "--hessian", "--force")
    assert code == 0 and "Hessian of out" in out
    r = bpdiff.differentiate(terms, values)
    assert hvp(r, [1] * 40).product[1] == 2.0  # one pass is fine
    assert hessian(r, ["x1", "x2"]).matrix == ((0.0, 1.0), (1.0, 0.0))
    assert hessian(r, force=True).matrix[0][1] == 1.0
