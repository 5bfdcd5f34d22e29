"""Checking answers: --expect (keys, tolerance, kinks, tracing a wrong answer),
--gradcheck and --problems, through the API, click's runner and a real process."""

import json
import math
import os
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from conftest import run_main, substitute_op
from hypothesis import assume, given
from hypothesis import strategies as st

import bpdiff
from bpdiff.analyses.expect import (DEFAULT_ATOL, DEFAULT_SIG, Expectation, Rule, check,
                                    expectation_of, parse_expectation, passes, resolution)
from bpdiff.analyses.gradcheck import gradcheck, relative_error
from bpdiff.analyses.problems import grade, parse, read

ROOT = Path(__file__).resolve().parents[1]
# Scalar programs: --gradcheck and --problems refuse arrays (the tensor_*.bp examples are
# checked against their scalar unrollings in test_tensor.py).
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.bp") if not p.name.startswith("tensor_"))
SEEDS = ROOT / "examples" / "problems" / "seeds.toml"
SCHEMAS = Path(bpdiff.__file__).parent / "schema"
RESULT_SCHEMA = json.loads((SCHEMAS / "result.schema.json").read_text())
PROBLEMS_SCHEMA = json.loads((SCHEMAS / "problems.schema.json").read_text())
DAG = ["(a+b)*b^3", "--a", "7", "--b", "3"]


run = run_main


def process(*args, cwd=None):
    """A real `bpdiff` process."""
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"})


def expect(result, **answers):
    return check(result, [parse_expectation(f"{k}={v}") for k, v in answers.items()])


# ---- the three exit paths, in a real process ------------------------------------------

def test_process_exit_0_when_every_check_passes(tmp_path):
    done = process(*DAG, "--expect", "value=270", "--expect", "a=27", "--expect", "b=297",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "out = 270;" in done.stdout  # the usual table comes first
    assert "all 3 checks passed" in done.stdout and "✗" not in done.stdout
    assert done.stderr == ""


def test_process_exit_1_with_the_report_when_a_check_fails(tmp_path):
    done = process(*DAG, "--expect", "value=270", "--expect", "b=270", cwd=tmp_path)
    assert done.returncode == 1
    assert "✗   ∂out/∂b       270  297         -27" in done.stdout
    assert ("expected ∂out/∂b = 270; bpdiff gets 297 = 27 (via a + b) + 270 (via b^3)"
            in done.stdout)
    assert "did you forget the path via a + b?" in done.stdout
    assert done.stderr == "bpdiff: 1 of 2 checks failed: b\n"
    assert "Traceback" not in done.stderr


def test_process_exit_2_for_an_unknown_key_with_did_you_mean(tmp_path):
    done = process(*DAG, "--expect", "bb=297", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--expect bb: no such quantity (did you mean 'b'?)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("item, message", [
    ("b", "expected KEY=NUMBER"), ("b=", "expected KEY=NUMBER"), ("=3", "expected KEY=NUMBER"),
    ("b=x", "'x' is not a number"), ("b=1/0", "is not a number"), ("Value=1", "'value'"),
    ("b.val=1", "no such quantity"), ("#99=1", "no such quantity"), ("c=1", "no such quantity"),
])
def test_bad_expectations_exit_2_and_print_nothing(item, message):
    code, out, err = run(*DAG, "--expect", item)
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize("option, value", [("--rtol", "nan"), ("--rtol", "-1"),
                                           ("--atol", "inf"), ("--gradcheck-tol", "-0.1")])
def test_bad_tolerances_exit_2(option, value):
    code, out, err = run(*DAG, "--expect", "b=297", option, value)
    assert code == 2 and out == "" and option in err


# ---- keys ------------------------------------------------------------------------------

def test_every_kind_of_key():
    result = bpdiff.differentiate("a = 3; b = 1; c = -2; d = 2b; e = a + d; L = c * e", edges=True)
    checks = expect(result, value=-10, a=-2, b=-4, c=5, d=-2, e=-2, **{
        "d.value": 2, "e.value": 5, "L.value": -10, "b.grad": -4, "#4": -2, "#4.value": 2})
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_an_input_called_value_is_reached_with_grad():
    result = bpdiff.differentiate("value * 3", value=2, edges=True)
    [output, gradient] = expect(result, **{"value": 6, "value.grad": 3})
    assert output.passed and output.kind == "value"
    assert gradient.passed and gradient.kind == "grad"


def test_an_input_the_output_does_not_use_has_gradient_zero():
    result = bpdiff.differentiate("u = x^2; y = z", x=3, z=1, output="u")
    assert expect(result, z=0)[0].passed and not expect(result, z=1)[0].passed


def test_a_node_without_inputs_has_no_gradient_to_check():
    result = bpdiff.differentiate("k = 2*3; y = k*x", x=1)
    with pytest.raises(bpdiff.BpdiffError, match="depends on no input"):
        expect(result, k=1)
    assert expect(result, **{"k.value": 6})[0].passed


# ---- the grading rule (the shared cases: tests/test_grading.py) -----------------------

SIGMOID_PRIME_1 = 0.19661193324148185


def _passes(text, got, rule=Rule()):
    return passes(expectation_of("x", text), got, rule)


@pytest.mark.parametrize("answer, passes_", [
    ("0.197", True),  # three significant digits
    ("0.1966", True), ("0.19661", True), ("0.196612", True), (repr(SIGMOID_PRIME_1), True),
    ("1.97e-1", True), ("0.1970", False),  # 0.19661 to four digits is 0.1966
    ("0.196", False),  # truncated, not rounded: wrong in its last digit
    ("0.1967", False),
    ("0.20", True),  # two digits, correctly rounded (the seed's σ'(1) ≈ 0.20)
    ("0.2", False), ("1/5", False),  # one digit, a fraction: exact, and they are not
    ("0.19", False), ("0.186", False), ("0.207", False),  # wrong in the second digit
    ("-0.197", False), ("-0.20", False),
])
def test_rule_on_sigmoid_prime(answer, passes_):
    assert _passes(answer, SIGMOID_PRIME_1) is passes_


@pytest.mark.parametrize("answer, passes_", [("297", True), ("297.0", True), ("2.97e2", True),
                                             ("296", False), ("298", False), ("300", False),
                                             ("3.0e2", True), ("3e2", False), ("594/2", True),
                                             ("296.9", False)])
def test_rule_on_integers(answer, passes_):
    assert _passes(answer, 297.0) is passes_


@pytest.mark.parametrize("answer, got, passes_", [
    ("1000", 1000.4, True), ("1000", 1004, False), ("1.00e3", 1004, True),  # integers claim
    ("1000.", 1001, False), ("1000.0", 1000.04, True), ("0", 0, True), ("0", 1e-12, True),
    ("0", 0.3, False), ("0.00", 0.004, False),  # a zero claims to be exact
    ("10", 10.02, True), ("10.0", 10.02, True), ("10.00", 10.004, True), ("10.00", 10.006, False)])
def test_trailing_zeros(answer, got, passes_):
    assert _passes(answer, got) is passes_


@pytest.mark.parametrize("text, half_unit", [
    ("297", Fraction(1, 2)), ("0.197", Fraction(1, 2000)), ("1.5e-3", Fraction(1, 20000)),
    ("-2.", Fraction(1, 2)), ("1/3", 0), (".5", Fraction(1, 20)), ("x", None),
    ("300", Fraction(1, 2)), ("3e2", 50), ("30e1", 5), ("300.", Fraction(1, 2)),
    ("0", Fraction(1, 2)), ("-100", Fraction(1, 2))])
def test_resolution_is_half_a_unit_in_the_last_digit(text, half_unit):
    assert resolution(text) == half_unit


def test_rule_defaults_are_those_documented():
    assert (DEFAULT_SIG, DEFAULT_ATOL) == (2, 1e-9)
    from bpdiff.cli import command
    help_text = {p.name: p.help for p in command.params if hasattr(p, "help")}
    assert "[default: 2]" in help_text["sig"] and "1e-9" in help_text["atol"]
    assert "1e-6" in help_text["gradcheck_tol"]
    readme = (ROOT / "README.md").read_text()
    assert "at least 2 significant digits" in readme


@given(st.floats(1e-6, 1e6) | st.floats(-1e6, -1e-6), st.integers(2, 8))
def test_rounding_to_two_or_more_significant_digits_always_passes(x, digits):
    assert _passes(f"{x:.{digits - 1}e}", x)
    if abs(x) < 1:
        assert _passes(format(Decimal(f"{x:.{digits - 1}e}"), "f"), x)  # 1.97e-1 as 0.197


@given(st.floats(1e-2, 1e6) | st.floats(-1e6, -1e-2), st.integers(2, 5),
       st.sampled_from([-1, 1]))
def test_a_wrong_digit_always_fails(x, digit, delta):
    """Rounded to `digit` significant digits, then the last one off by one."""
    mantissa, exponent = f"{x:.{digit - 1}e}".split("e")
    last = int(mantissa[-1])
    assume(0 <= last + delta <= 9)
    unit = 2 * resolution(f"{mantissa}e{exponent}")
    # not within a hair of a rounding boundary, where the wrong digit is off by just
    # half a unit
    assume(abs(abs(Fraction(f"{mantissa}e{exponent}") - Fraction(x)) - unit / 2) > unit / 100)
    wrong = f"{mantissa[:-1]}{last + delta}e{exponent}"
    assert not _passes(wrong, x)


@given(st.floats(1e-6, 1e6) | st.floats(-1e6, -1e-6), st.integers(2, 8))
def test_too_few_digits_must_be_exact(x, sig):
    rounded = f"{x:.{sig - 2}e}"  # one digit fewer than asked for
    if float(rounded) == x:
        assert _passes(rounded, x, Rule(sig=sig))
    elif abs(float(rounded) - x) > 1e-11 * abs(x):  # more than float noise
        assert not _passes(rounded, x, Rule(sig=sig))
    assert _passes(rounded, x, Rule(sig=sig - 1))


def test_sig_rtol_and_atol_options():
    assert run("sigmoid(x)", "--x", "1", "--expect", "x=0.20")[0] == 0
    assert run("sigmoid(x)", "--x", "1", "--expect", "x=0.20", "--sig", "3")[0] == 1
    assert run("sigmoid(x)", "--x", "1", "--expect", "x=0.2")[0] == 1
    assert run("sigmoid(x)", "--x", "1", "--expect", "x=0.2", "--rtol", "0.05")[0] == 0
    assert run("x - x", "--x", "1", "--expect", "value=0.001")[0] == 1
    assert run("x - x", "--x", "1", "--expect", "value=0.001", "--atol", "0.01")[0] == 0


# ---- the computed answers pass; any perturbed answer fails -----------------------------

_LEAVES = st.sampled_from(["a", "b", "c", "2", "3", "0.5"])


@st.composite
def programs(draw):
    """Small expressions in a, b, c (no recursion: built bottom-up)."""
    parts = [draw(_LEAVES) for _ in range(draw(st.integers(2, 5)))]
    while len(parts) > 1:
        op = draw(st.sampled_from(["+", "-", "*", "/", "max", "sin", "tanh", "sigmoid", "^2"]))
        right = parts.pop()
        left = parts.pop()
        if op in ("max",):
            parts.append(f"max({left}, {right})")
        elif op in ("sin", "tanh", "sigmoid"):
            parts.append(f"{op}({left}) * {right}")
        elif op == "^2":
            parts.append(f"({left})^2 + {right}")
        else:
            parts.append(f"({left} {op} {right})")
    return parts[0] + " + a*b*c"


_VALUES = st.integers(-4, 4).map(str) | st.sampled_from(["0.5", "-1/4", "1.5", "2/3"])


def _answers(result):
    answers = {"value": result.value, **result.gradient}
    answers.update({f"{n}.value": result.values[i] for n, i in result.graph.names.items()})
    return answers


@given(programs(), _VALUES, _VALUES, _VALUES)
def test_computed_answers_always_pass(program, a, b, c):
    result = bpdiff.differentiate(program, a=a, b=b, c=c)
    answers = _answers(result)
    assume(all(math.isfinite(v) for v in answers.values()))
    argv = [program, "--set", f"a={a}", "--set", f"b={b}", "--set", f"c={c}"]
    for key, number in answers.items():
        argv += ["--expect", f"{key}={number!r}"]
    code, out, err = run(*argv)
    assert code == 0, out + err


@given(programs(), _VALUES, _VALUES, _VALUES, st.data())
def test_any_perturbed_answer_fails(program, a, b, c, data):
    result = bpdiff.differentiate(program, a=a, b=b, c=c, edges=True)
    answers = _answers(result)
    assume(all(math.isfinite(v) and abs(v) < 1e12 for v in answers.values()))
    assume(not result.kinks)  # there another convention may give the perturbed number
    key = data.draw(st.sampled_from(sorted(answers)))
    size = data.draw(st.floats(0.02, 100))
    sign = data.draw(st.sampled_from([-1, 1]))
    got = answers[key]
    wrong = got + sign * (size * abs(got) + 1e-3)
    checks = check(result, [Expectation(key, Fraction(repr(wrong)), repr(wrong))])
    assert not checks[0].passed


# ---- kinks -----------------------------------------------------------------------------

def test_relu_at_zero_accepts_both_conventions_with_a_note():
    result = bpdiff.differentiate("(a + relu(b)) * c", a=7, b=0, c=2, edges=True)
    zero, one, wrong = expect(result, b=0), expect(result, b=2), expect(result, b=1)
    assert zero[0].passed and not zero[0].convention and zero[0].others == (2.0,)
    assert one[0].passed and one[0].convention
    assert not wrong[0].passed
    code, out, _ = run("(a + relu(b)) * c", "--a", "7", "--b", "0", "--c", "2",
                       "--expect", "b=2")
    assert code == 0
    assert "at a kink: your answer follows the convention ∂#2/∂b = 1" in out
    assert "relu'(0) = 0" in out


@pytest.mark.parametrize("answer, passes", [(0, True), (0.5, True), (1, True), (0.25, False),
                                            (2, False)])
def test_max_tie_accepts_0_half_and_1(answer, passes):
    result = bpdiff.differentiate("max(x, y)", x=1, y=1, edges=True)
    assert expect(result, x=answer)[0].passed is passes


def test_abs_at_zero_accepts_minus_one_zero_and_one():
    result = bpdiff.differentiate("3*abs(x)", x=0, edges=True)
    assert [expect(result, x=v)[0].passed for v in (-3, 0, 3, 1)] == [True, True, True, False]


def test_several_kinks_combine():
    result = bpdiff.differentiate("relu(b) * c + max(a, b)", a=0, b=0, c=2, edges=True)
    # relu'(0) in {0, 1} times c = 2, plus a tie share in {0, 1/2, 1}
    for answer in (0, 0.5, 1, 2, 2.5, 3):
        assert expect(result, b=answer)[0].passed, answer
    assert not expect(result, b=7)[0].passed


# ---- tracing a wrong answer -------------------------------------------------------------

def _hint(*args):
    code, out, _ = run(*args)
    assert code == 1
    return out


@pytest.mark.parametrize("answer, hint", [
    ("270", "your answer matches the path via b^3 alone: did you forget the path via a + b?"),
    ("27", "your answer matches the path via a + b alone: did you forget the path via b^3?"),
    ("243", "with its sign flipped"),
    ("567", "your answer counts the path via b^3 twice"),
    ("10", "your answer is ∂out/∂#4: the gradient of #4 (b^3)"),
    ("3", "your answer is the value of b, not its gradient ∂out/∂b"),
])
def test_wrong_gradients_are_traced(answer, hint):
    assert hint in _hint(*DAG, "--expect", f"b={answer}")


def test_a_forgotten_deeper_path_is_named():
    out = _hint("-f", str(ROOT / "examples" / "mvchain.bp"), "--expect", "x=24")
    assert "leaves out the path through u_2 → y" in out
    out = _hint("-f", str(ROOT / "examples" / "mvchain.bp"), "--expect", "x=60")
    assert "counts the path through u_1 → y twice" in out  # the seed's double count


def test_a_wrong_sign_of_one_local_derivative_is_named():
    out = _hint("-f", str(ROOT / "examples" / "advanced_u1_u4.bp"), "--expect", "x_3=-60")
    assert "∂u_2/∂x_3 with its sign flipped: bpdiff has ∂u_2/∂x_3 = x_4 = -1" in out


def test_a_forgotten_local_derivative_and_upstream_are_named():
    out = _hint("y = sin(x^2)", "--x", "1", "--expect", "x=2")
    assert "did you forget to multiply by ∂y/∂#2 = cos(#2)" in out or "cos" in out
    out = _hint("d = 2b; e = a + d; L = c*e", "--a", "3", "--b", "1", "--c", "-2",
                "--expect", "b=2")
    assert "upstream" in out or "your answer" in out


def test_too_much_rounding_is_named():
    out = _hint("sigmoid(x)", "--x", "1", "--expect", "x=0.2")
    assert ("0.2 has 1 significant digit: an answer with fewer than 2 must be exact;"
            " give 2 digits (0.20) or more") in out
    out = _hint("sigmoid(x)", "--x", "1", "--expect", "x=0.20", "--sig", "3")
    assert "give 3 digits (0.197) or more" in out


def test_no_hint_when_nothing_explains_it():
    out = _hint(*DAG, "--expect", "b=29.7")
    assert "expected ∂out/∂b = 29.7; bpdiff gets 297" in out
    assert "your answer" not in out


def test_json_has_the_checks_and_matches_the_schema():
    code, out, _ = run(*DAG, "--expect", "b=270", "--expect", "a=27", "--json")
    assert code == 1
    data = json.loads(out)
    jsonschema.validate(data, RESULT_SCHEMA)
    failed, passed = data["checks"]
    assert failed["passed"] is False and failed["difference"] == -27
    assert "did you forget the path via a + b?" in failed["hint"]
    assert passed == {"key": "a", "quantity": "∂out/∂a", "node": 0, "answer": "27", "expected": 27,
                      "got": 27, "difference": 0, "passed": True, "note": None, "hint": None}


def test_checks_need_no_rich_and_startup_stays_lazy():
    done = subprocess.run([sys.executable, "-c", "import sys, bpdiff.cli; print("
                           "sorted(m for m in ('bpdiff.analyses.expect', 'bpdiff.engine.exact', 'bpdiff.analyses.quiz',"
                           " 'bpdiff.analyses.problems', 'bpdiff.analyses.gradcheck', 'fractions', 'tomllib')"
                           " if m in sys.modules))"], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# ---- --gradcheck -----------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gradcheck_passes_on_every_example(path):
    result = bpdiff.differentiate(path.read_text())
    rows = gradcheck(result)
    assert all(row.status in ("ok", "kink") for row in rows), rows
    assert all(row.error < 1e-8 for row in rows if row.status == "ok")


def test_gradcheck_in_a_process(tmp_path):
    done = process("-f", str(ROOT / "examples" / "dag.bp"), "--gradcheck", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "gradcheck: 2 inputs, worst relative error" in done.stdout
    assert "(tolerance 1e-06): passed" in done.stdout


def test_relative_error_as_cs231n():
    assert relative_error(0, 0) == 0
    assert relative_error(1, 1.1) == pytest.approx(0.1 / 1.1)
    assert relative_error(-2, 2) == 2


@pytest.mark.parametrize("program, values", [
    ("relu(x)", {"x": 0}),  # at the kink
    ("relu(x)", {"x": 1e-6}),  # within a step of it
    ("3*abs(x - 1)", {"x": 1 + 1e-7}),
    ("max(x, y)", {"x": 1, "y": 1}),
    ("max(x, 2) * y", {"x": 2.000001, "y": 1}),
    ("step(x)*3 + x", {"x": 1e-7}),  # a jump crossed: the local derivative is 0 both sides
    ("sqrt(x)", {"x": 1e-9}),
])
def test_gradcheck_flags_kinks_and_does_not_fail_on_them(program, values):
    rows = gradcheck(bpdiff.differentiate(program, values))
    assert rows[0].status == "kink" and rows[0].kinks


def test_gradcheck_does_not_flag_a_kink_that_does_not_move():
    rows = gradcheck(bpdiff.differentiate("x * relu(y)", x=2, y=0))
    assert [r.status for r in rows] == ["ok", "kink"]


def test_gradcheck_catches_a_wrong_gradient():
    result = bpdiff.differentiate("sin(x) * y", x=1, y=2)
    result.grads[result.graph.variables["x"]] *= -1  # as a wrong derivative rule would
    rows = gradcheck(result)
    assert [r.status for r in rows] == ["fail", "ok"] and rows[0].error > 1


@pytest.fixture
def wrong_sine(monkeypatch):
    """The primitive table with a wrong derivative for sin (its sign flipped)."""
    from bpdiff.engine.ops import FUNCTIONS

    wrong = FUNCTIONS["sin"]._replace(local_grads=(lambda m, a, out: -m.cos(a),))
    substitute_op(monkeypatch, wrong)


def test_gradcheck_catches_a_wrong_rule_in_the_table_and_exits_1(wrong_sine):
    code, out, err = run("sin(x) * y", "--x", "1", "--y", "2", "--gradcheck")
    assert code == 1
    assert "FAIL" in out and "gradcheck: 2 inputs, worst relative error 2.0e+00" in out
    assert err == "bpdiff: gradcheck failed for x\n"
    code, out, _ = run("sin(x) * y", "--x", "1", "--y", "2", "--gradcheck", "--json")
    data = json.loads(out)
    jsonschema.validate(data, RESULT_SCHEMA)
    assert code == 1 and not data["gradcheck"]["passed"]
    assert [r["status"] for r in data["gradcheck"]["inputs"]] == ["fail", "ok"]


def test_gradcheck_json_when_it_passes():
    code, out, _ = run("exp(10*x)", "--x", "1", "--gradcheck", "--json")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, RESULT_SCHEMA)
    assert data["gradcheck"]["passed"] and data["gradcheck"]["inputs"][0]["status"] == "ok"
    assert data["gradcheck"]["inputs"][0]["relative_error"] < 1e-8


@pytest.mark.parametrize("program, values, tol", [
    ("exp(10*x)", {"x": 1}, 1e-12),  # truncation error about 2e-9: beyond a 1e-12 tolerance
    ("sin(1e10*x)", {"x": 1}, 1e-6),  # a step of 1e-5 spans many periods
])
def test_gradcheck_does_not_fail_where_finite_differences_cannot_tell(program, values, tol):
    rows = gradcheck(bpdiff.differentiate(program, values), tol)
    assert rows[0].status == "unstable"
    code, out, _ = run(program, *[f"--{k}={v}" for k, v in values.items()], "--gradcheck",
                       "--gradcheck-tol", str(tol))
    assert code == 0 and "unstable (not checked)" in out


def test_gradcheck_of_underflowing_gradients_passes():
    rows = gradcheck(bpdiff.differentiate("4.9e-324*x", x=0))
    assert rows[0].status == "ok"


def test_gradcheck_non_finite_is_not_applicable():
    rows = gradcheck(bpdiff.differentiate("log(x)", x=1e-7))
    assert rows[0].status == "n/a"


def test_gradcheck_refuses_huge_work_without_force():
    program = "+".join(f"x{i}*x{i}" for i in range(2000))
    code, out, err = run(program, "--gradcheck", *[f"--x{i}=1" for i in range(2000)])
    assert code == 2 and out == "" and "--force" in err


# ---- --problems ------------------------------------------------------------------------

def test_seed_problem_set_passes():
    problems, tolerances = read(str(SEEDS))
    graded = grade(problems, tolerances)
    assert len(graded) >= 40 and all(g.passed for g in graded)
    files = {p.stem for p in EXAMPLES}
    names = {g.problem.name.split(" at ")[0] for g in graded}
    assert names == files  # every example is in the set


def test_seed_problem_set_in_a_process_with_json(tmp_path):
    done = process("--problems", str(SEEDS), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, PROBLEMS_SCHEMA)
    assert data["passed"] and data["failed"] == 0 and data["total"] == len(data["problems"])
    done = process("--problems", str(SEEDS), cwd=tmp_path)
    assert done.returncode == 0 and "44 of 44 problems passed" in done.stdout


PROBLEM = """
[[problem]]
name = "dag"
program = "(a+b)*b^3"
[problem.values]
a = 7
b = "3"
[problem.expect]
value = 270
a = 27
b = {b}
"""


def test_failing_problem_exits_1_with_keys_and_hints(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROBLEM.format(b=270) + '\n[[problem]]\nprogram = "x^2"\n'
                    "values = {x = 3}\nexpect = {x = 6, \"x.value\" = 3}\n")
    code, out, err = run("--problems", str(path))
    assert code == 1
    assert "✗ dag        1 of 3 failed: b" in out
    assert "did you forget the path via a + b?" in out
    assert "✓ problem 2  2 checks" in out
    assert "1 of 2 problems passed (4 of 5 checks); failed: dag" in out
    assert "bpdiff: 1 of 2 problems failed: dag" in err
    code, out, _ = run("--problems", str(path), "--json")
    data = json.loads(out)
    jsonschema.validate(data, PROBLEMS_SCHEMA)
    assert code == 1 and data["failed"] == 1 and data["problems"][0]["failed"] == ["b"]


def test_tolerances_from_the_file_and_the_problem(tmp_path):
    path = tmp_path / "p.toml"
    text = '[[problem]]\nprogram = "sigmoid(x)"\nvalues = {x = 1}\nexpect = {x = 0.2}\n'
    path.write_text(text)
    assert run("--problems", str(path))[0] == 1
    assert run("--problems", str(path), "--rtol", "0.05")[0] == 0
    path.write_text("rtol = 0.05\n" + text)
    assert run("--problems", str(path))[0] == 0
    path.write_text(text.replace("[[problem]]", "[[problem]]\nrtol = 0.05"))
    assert run("--problems", str(path))[0] == 0


@pytest.mark.parametrize("text, message", [
    ("", "no problems: expected [[problem]] tables"),
    ("[[problem]\n", "not valid TOML"),
    ("title = 1\n", "unknown top-level field 'title'"),
    ('[[problem]]\nprogam = "x"\n', "problem 1 ('problem 1'): unknown field 'progam'"
                                    " (did you mean 'program'?)"),
    ('[[problem]]\nname = "p"\nexpect = {value = 1}\n',
     "problem 1 ('p'), field 'program': missing"),
    ('[[problem]]\nprogram = 3\nexpect = {value = 1}\n', "field 'program': expected a string"),
    ('[[problem]]\nname = "p"\nprogram = "x*"\nexpect = {value = 1}\n',
     "problem 1 ('p'), field 'program': line 1, column 3"),
    ('[[problem]]\nname = "p"\nprogram = "x*y"\nvalues = {x = 1}\nexpect = {value = 1}\n',
     "problem 1 ('p'), field 'values': line 1, column 3: no value for input 'y'"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = "abc"}\nexpect = {value = 1}\n',
     "field 'values': the value for 'x' is not a number"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = true}\nexpect = {value = 1}\n',
     "field 'values.x': true is not a number"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = 1, y = 2}\nexpect = {value = 1}\n',
     "field 'values': a value was given for 'y'"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = 1}\n', "field 'expect': missing"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = 1}\nexpect = {q = 1}\n',
     "field 'expect.q': no such quantity"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = 1}\nexpect = {x = "one"}\n',
     "field 'expect.x': \"one\" is not a number"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = 1}\noutput = "u"\nexpect = {x = 1}\n',
     "field 'output'"),
    ('[[problem]]\nprogram = "x"\nvalues = {x = 1}\nrtol = -1\nexpect = {x = 1}\n',
     "field 'rtol': expected a number >= 0"),
    ('[[problem]]\nname = "a"\nprogram = "x"\nvalues = {x = 1}\nexpect = {x = 1}\n'
     '[[problem]]\nname = "a"\nprogram = "x"\nvalues = {x = 1}\nexpect = {x = 1}\n',
     "problem 2: the name 'a' is used twice"),
])
def test_malformed_problem_files_exit_2_naming_problem_and_field(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    code, out, err = run("--problems", str(path))
    assert code == 2 and out == "", out
    assert message in err and str(path) in err
    assert "Traceback" not in err


def test_missing_problem_file_exits_2():
    code, out, err = run("--problems", "/nonexistent/p.toml")
    assert code == 2 and out == "" and "no such file" in err


def test_dotted_keys_and_exact_problems():
    problems, _ = parse({"problem": [{"program": "c = x*y; d = c + 1", "exact": True,
                                      "values": {"x": "1/3", "y": 3},
                                      "expect": {"value": 2, "c": {"value": 1}, "y": "1/3"}}]})
    [graded] = grade(problems)
    assert graded.passed and [c.key for c in graded.checks] == ["value", "y", "c.value"]
    assert graded.checks[1].got == Fraction(1, 3)


@pytest.mark.parametrize("args, message", [
    (["x", "--problems", "p.toml"], "--problems does not take PROGRAM"),
    (["--problems", "p.toml", "--x", "1"], "input values"),
    (["--problems", "p.toml", "--expect", "x=1"], "--expect"),
    (["--problems", "p.toml", "--quiz", "2"], "--quiz does not take --problems"),
    (["--problems", "p.toml", "--explain"], "--explain"),
    (["x", "--x", "1", "--answers", "k.toml"], "--answers go with --quiz"),
])
def test_options_that_do_not_go_together_exit_2(args, message):
    code, out, err = run(*args)
    assert code == 2 and out == "" and message in err


def test_problem_sets_grade_quickly():
    problems, tolerances = read(str(SEEDS))
    start = time.perf_counter()
    grade(problems, tolerances)
    assert time.perf_counter() - start < 5


def test_the_readme_problem_set_example_grades():
    import tomllib

    readme = (ROOT / "README.md").read_text()
    example = readme.split("#### Problem sets")[1].split("```toml\n")[1].split("```")[0]
    problems, tolerances = parse(tomllib.loads(example))
    [graded] = grade(problems, tolerances)
    assert graded.passed and len(graded.checks) == 5


def test_kink_conventions_include_the_one_the_table_uses():
    from bpdiff.engine import scalar
    from bpdiff.engine.ops import PRIMITIVES

    with_conventions = [op for op in PRIMITIVES if op.subgradients is not None]
    assert {op.name for op in with_conventions} == {"relu", "abs", "max", "min"}
    for op in with_conventions:
        args = (0.0,) * op.arity if op.arity == 1 else (1.0, 1.0)
        assert op.at_kink(*args)
        out = op.forward(scalar, *args)
        used = tuple(rule(scalar, *args, out) for rule in op.local_grads)
        assert used in [tuple(c) for c in op.subgradients(*args)], op.name
