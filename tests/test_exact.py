"""--exact: rational arithmetic through the same primitive table, with floats where it
must, and a size guard."""

import json
import math
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from conftest import run_main
from hypothesis import assume, given
from hypothesis import strategies as st

import bpdiff
from bpdiff.engine import exact
from bpdiff.engine.exact import Approx, Q, parse_number
from bpdiff.engine.namespace import missing_members

SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json").read_text())


def differentiate(text, values=None, **options):
    """bpdiff.differentiate in exact arithmetic."""
    return bpdiff.differentiate(text, values, exact=True, **options)


run = run_main


def grads(result):
    graph = result.graph
    return {name: result.exact.grads[node] for name, node in graph.variables.items()}


def test_inverse_square_gives_minus_a_quarter_exactly():
    result = differentiate("1/x^2", {"x": 2})
    assert result.exact.values[result.graph.output] == Fraction(1, 4)
    assert grads(result) == {"x": Fraction(-1, 4)}
    assert type(grads(result)["x"]) is Q
    assert result.gradient == {"x": -0.25}  # the floats beside them


def test_dag_in_exact_integers():
    result = differentiate("(a+b)*b^3", {"a": 7, "b": 3})
    assert result.exact.values[result.graph.output] == 270
    assert grads(result) == {"a": 27, "b": 297}
    assert all(isinstance(v, Fraction) for v in result.exact.values)


def test_decimals_and_fractions_are_read_as_written():
    result = differentiate("x + 0.2 - y", {"x": "0.1", "y": "3/10"})
    assert result.exact.values[result.graph.output] == 0  # floats give 5.6e-17
    assert bpdiff.differentiate("x + 0.2 - y", x=0.1, y=0.3).value != 0
    assert differentiate("a*x", {"a": 0.1, "x": "-1/4"}).exact.values[-1] == Fraction(-1, 40)


def test_defaults_and_constants_are_exact():
    result = differentiate("a = 0.1\nb = 1/3\nf = a*b + 0.7")
    assert result.exact.values[result.graph.output] == Fraction(1, 30) + Fraction(7, 10)


def test_x_over_x_squared_sums_two_paths_exactly():
    result = differentiate("x/(x^2)", {"x": 3})
    assert grads(result) == {"x": Fraction(-1, 9)}


def test_functions_fall_back_to_floats_marked_approximate():
    result = differentiate("sigmoid(x) + x^2", {"x": 1})
    out = result.graph.output
    assert result.exact.values[out] is None and result.values[out] == pytest.approx(
        1 / (1 + math.exp(-1)) + 1)
    assert result.exact.grads[result.graph.variables["x"]] is None
    assert result.exact.values[result.graph.variables["x"]] == 1


@pytest.mark.parametrize("program, value", [
    ("sigmoid(x)", Fraction(1, 2)), ("exp(x)", 1), ("tanh(x)", 0), ("sin(x)", 0),
    ("cos(x)", 1), ("log(x + 1)", 0), ("sqrt(x + 9/4)", Fraction(3, 2)),
    ("(x + 4)^(1/2)", 2), ("relu(x - 1)", 0), ("abs(x - 1/3)", Fraction(1, 3)),
    ("max(x, 1/2)", Fraction(1, 2)), ("min(x, -2)", -2),
])
def test_rational_points_of_functions_stay_exact(program, value):
    result = differentiate(program, {"x": 0})
    assert result.exact.values[result.graph.output] == value


def test_sigmoid_gradient_at_zero_is_a_quarter():
    assert grads(differentiate("sigmoid(x)", {"x": 0})) == {"x": Fraction(1, 4)}


def test_the_namespace_offers_every_function_of_scalar():
    assert missing_members(exact.NAMESPACE) == []  # the interface scalar provides too


def test_approximations_stay_approximate():
    a = Approx(0.5)
    assert type(a + Fraction(1, 3)) is Approx and type(Q(1, 3) * a) is Approx
    assert type(1.0 - a) is Approx and type(-a) is Approx and type(a * 2) is Approx
    q = Q(1, 3)
    assert type(q + 1.0) is Q and type(1.0 * q) is Q and type(0.0 + q) is Q  # the rules' literals
    assert q - 1.0 == Fraction(-2, 3) and type(-q) is Q and type(abs(-q)) is Q
    assert exact.div(q, 0) == math.inf and type(exact.div(q, 0)) is Approx


def test_division_by_zero_and_domain_errors_as_floats():
    result = differentiate("1/x + log(y)", {"x": 0, "y": -1})
    assert math.isnan(result.value) or math.isinf(result.value)
    assert result.exact.values[result.graph.output] is None
    assert result.nonfinite


@pytest.mark.parametrize("program", ["9^9^9", "2^100000", "(3/7)^5000 * x", "x^x^x^x",
                                     "10^4000 * 10^4000"])
def test_blow_up_is_guarded_and_quick(program):
    start = time.perf_counter()
    result = differentiate(program, {"x": 9} if "x" in program else {})
    assert time.perf_counter() - start < 2
    assert result.exact.oversized >= 1


def test_big_but_allowed_powers_stay_exact():
    result = differentiate("2^1000 * x", {"x": 3})
    assert result.exact.values[result.graph.output] == 3 * 2**1000
    assert result.value == float(3 * 2**1000) and result.exact.oversized == 0
    beyond = differentiate("2^2000 / x", {"x": 3})  # exact, but beyond float range
    assert beyond.exact.values[beyond.graph.output] == Fraction(2**2000, 3)
    assert beyond.value == math.inf


def test_nine_to_the_nine_to_the_nine_in_a_process_finishes_quickly(tmp_path):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bpdiff", "9^9^9", "--exact", "--json"],
                          capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert time.perf_counter() - start < 10
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["value"] == "inf" and data["exact"]["value"] is None
    assert data["exact"]["oversized"] >= 1 and "exact arithmetic gave up" in done.stderr


@pytest.mark.parametrize("text, number", [
    ("0.1", Fraction(1, 10)), ("-1/4", Fraction(-1, 4)), ("1e-3", Fraction(1, 1000)),
    (".5", Fraction(1, 2)), ("2.", 2), (" 7 ", 7), ("1.5/0.5", 3), ("1e400", 10**400),
    ("1e999999999", None), ("9" * 5000, None), ("1/0", None), ("abc", None), ("inf", None),
])
def test_numbers_from_text(text, number):
    assert parse_number(text) == number


def test_huge_input_text_falls_back_to_float_quickly():
    start = time.perf_counter()
    result = differentiate("x*2", {"x": "1e999999999"})
    assert time.perf_counter() - start < 1
    assert result.value == math.inf and result.exact.inputs["x"] is None


# ---- the command line ------------------------------------------------------------------

def test_table_shows_fractions_and_marks_approximations():
    code, out, _ = run("1/x^2", "--x", "2", "--exact")
    assert code == 0 and "out = 1/4;  ∂out/∂x = -1/4" in out and "≈" not in out
    code, out, _ = run("sigmoid(x) + 1/x", "--x", "2", "--exact")
    assert code == 0 and "≈0.880797" in out and " 1/2 " in out
    assert "≈ marks a rounded number" in out


def test_json_has_fractions_and_validates():
    code, out, _ = run("1/x^2", "--x", "2", "--exact", "--json")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["gradient"] == {"x": -0.25}  # numbers stay numbers
    assert data["exact"] == {"value": "1/4", "gradient": {"x": "-1/4"}, "inputs": {"x": "2"},
                             "limit_bits": 10_000, "oversized": 0}
    assert data["nodes"][0]["exact"] == {"value": "1/4", "grad": "1"}
    plain = json.loads(run("1/x^2", "--x", "2", "--json")[1])
    assert "exact" not in plain and "exact" not in plain["nodes"][0]


def test_exact_expectations():
    assert run("1/x^2", "--x", "2", "--exact", "--expect", "x=-1/4")[0] == 0
    assert run("1/x^2", "--x", "2", "--exact", "--expect", "x=-0.25")[0] == 0
    code, out, _ = run("1/x^2", "--x", "2", "--exact", "--expect", "x=-1/3")
    assert code == 1 and "-1/3" in out


def test_exact_with_fractions_on_the_command_line():
    code, out, _ = run("x*y", "--x", "1/3", "--y", "3/7", "--exact")
    assert code == 0 and "out = 1/7;  ∂out/∂x = 3/7, ∂out/∂y = 1/3" in out


def test_long_fractions_are_rounded_in_the_table_but_whole_in_json():
    code, out, _ = run("x^100", "--x", "1/3", "--exact")
    assert code == 0
    summary = [line for line in out.splitlines() if line.startswith("out = ")][0]
    assert "≈" in summary and "/" not in summary.split(";")[0]
    data = json.loads(run("x^100", "--x", "1/3", "--exact", "--json")[1])
    assert data["exact"]["value"] == f"1/{3**100}"


# ---- exact agrees with floats ----------------------------------------------------------

_LEAVES = st.sampled_from(["a", "b", "2", "0.5", "3"])


@st.composite
def rational_programs(draw):
    """+ − × ÷ and small integer powers over a and b."""
    parts = [draw(_LEAVES) for _ in range(draw(st.integers(2, 6)))]
    while len(parts) > 1:
        op = draw(st.sampled_from(["+", "-", "*", "/", "^2", "^-1"]))
        right, left = parts.pop(), parts.pop()
        parts.append(f"({left})^{op[1:]} + {right}" if op.startswith("^")
                     else f"({left} {op} {right})")
    return parts[0] + " + a*b"


_RATIONALS = st.fractions(min_value=-5, max_value=5, max_denominator=7)


@given(rational_programs(), _RATIONALS, _RATIONALS)
def test_exact_matches_floats_and_is_exact(program, a, b):
    floats = bpdiff.differentiate(program, a=str(a), b=str(b))
    assume(all(math.isfinite(v) and abs(v) < 1e9 for v in [*floats.values,
                                                           *floats.gradient.values()]))
    fractions = differentiate(program, {"a": str(a), "b": str(b)})
    assert fractions.exact.values[fractions.graph.output] is not None
    assert all(g is not None for g in grads(fractions).values())
    for name, g in grads(fractions).items():
        assert float(g) == pytest.approx(floats.gradient[name], rel=1e-9, abs=1e-9)
    assert float(fractions.exact.values[-1]) == pytest.approx(floats.value, rel=1e-9, abs=1e-9)
