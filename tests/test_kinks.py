"""--kink: every policy on every op with a kink, through the API and the CLI, against the
README's table (written out here, not read from ops.py); policies change nothing away
from kinks; --expect still accepts every valid subgradient under every policy."""

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from conftest import run_main
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.engine import exact, ops, scalar
from bpdiff.analyses.expect import check, parse_expectation
from bpdiff.errors import BpdiffError
from bpdiff.engine.kinks import KINKED, KinkPolicy, parse_policy
from bpdiff.render.explain import explain_text

SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json")
                    .read_text())
POLICIES = ("pytorch", "jax", "zero", "one", "half")
INF = math.inf

TABLE = {  # the README's table: the local derivative(s) at the kink under each policy
    "relu": {"pytorch": (0,), "jax": (0,), "zero": (0,), "one": (1,), "half": (0.5,)},
    "abs": {"pytorch": (0,), "jax": (1,), "zero": (0,), "one": (1,), "half": (0.5,)},
    "sqrt": {"pytorch": (INF,), "jax": (INF,), "zero": (0,), "one": (1,), "half": (0.5,)},
    "arcsin": {"pytorch": (INF,), "jax": (INF,), "zero": (0,), "one": (1,), "half": (0.5,)},
    "arccos": {"pytorch": (-INF,), "jax": (-INF,), "zero": (0,), "one": (1,), "half": (0.5,)},
    "max": {"pytorch": (0.5, 0.5), "jax": (0.5, 0.5), "zero": (0, 1), "one": (1, 0),
            "half": (0.5, 0.5)},
    "min": {"pytorch": (0.5, 0.5), "jax": (0.5, 0.5), "zero": (0, 1), "one": (1, 0),
            "half": (0.5, 0.5)},
    "step": dict.fromkeys(POLICIES, (0,)),
    "sign": dict.fromkeys(POLICIES, (0,)),
    **{name: dict.fromkeys(POLICIES, (0, 0)) for name in ("gt", "ge", "lt", "le", "eq", "ne")},
}
AT_KINK = {1: {"x": 0.0}, 2: {"x": 1.5, "y": 1.5}}  # by arity
KINK_AT = {"arcsin": 1.0, "arccos": -1.0}  # a one-input op's kink, where it is not at 0


def _at_kink(op):
    """The point (name -> value) where `op` (its name) is at its kink."""
    arity = ops.BY_NAME[op].arity
    return {"x": KINK_AT[op]} if op in KINK_AT else AT_KINK[arity]
PROGRAM = {1: "{op}(x)", 2: "{op}(x, y)"}


def program(op):
    """op applied to x (and y): a call, or the comparison's operator."""
    symbol = ops.BY_NAME[op].symbol
    return f"(x {symbol} y)" if symbol else PROGRAM[ops.BY_NAME[op].arity].format(op=op)


def _cases():
    return [(op, policy) for op in TABLE for policy in POLICIES]


def test_the_table_covers_every_op_with_a_kink():
    assert set(TABLE) == set(KINKED)
    assert set(KINKED) == {p.name for p in ops.SCALAR_PRIMITIVES if p.at_kink is not None}
    assert ops.KINK_POLICIES == POLICIES


@pytest.mark.parametrize("op, policy", _cases())
def test_each_policy_on_each_kinked_op_through_the_api(op, policy):
    arity = ops.BY_NAME[op].arity
    r = bpdiff.differentiate(program(op), _at_kink(op), kink=policy)
    assert r.kinks == [r.graph.output]
    assert tuple(r.gradient.values()) == TABLE[op][policy]
    assert r.kink_policy.of(op) == policy
    # upstream factors multiply the convention like any local derivative
    r = bpdiff.differentiate(f"3 * {program(op)}", _at_kink(op),
                             kink=policy)
    assert tuple(r.gradient.values()) == tuple(3 * c for c in TABLE[op][policy])


@pytest.mark.parametrize("op, policy", _cases())
def test_each_policy_on_each_kinked_op_through_the_cli(op, policy):
    arity = ops.BY_NAME[op].arity
    args = [a for name, v in _at_kink(op).items() for a in (f"--{name}", str(v))]
    code, out, err = run_main(program(op), *args, "--kink", policy, "--json")
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    want = [c if math.isfinite(c) else f"{c}" for c in TABLE[op][policy]]
    assert list(data["gradient"].values()) == want
    assert data["kink_policy"]["default"] == policy
    assert data["kink_policy"]["ops"][op] == policy
    assert f"the convention used ({policy})" in data["warnings"][-1]
    assert f"the convention used ({policy})" in err  # the warning on stderr too


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_negative_zero_is_at_the_kink_too(zero):
    for op in ("relu", "abs", "sqrt"):
        for policy in POLICIES:
            r = bpdiff.differentiate(f"{op}(x)", x=zero, kink=policy)
            assert r.gradient["x"] == TABLE[op][policy][0], (op, policy)


def test_per_op_settings_override_the_default():
    text = "relu(x) + abs(y) + max(x, y) + sqrt(z)"
    point = {"x": 0, "y": 0, "z": 0}
    r = bpdiff.differentiate(text, point, kink="relu=one,max=zero")
    # relu 1 + max's first input 0; abs 0 + max's second input 1; sqrt pytorch: inf
    assert r.gradient == {"x": 1.0, "y": 1.0, "z": INF}
    r = bpdiff.differentiate(text, point, kink="one, sqrt=pytorch")
    assert r.gradient == {"x": 2.0, "y": 1.0, "z": INF}
    assert r.kink_policy == KinkPolicy("one", (("sqrt", "pytorch"),))
    assert r.kink_policy.name == "one,sqrt=pytorch"
    r = bpdiff.differentiate(text, point, kink="jax,abs=pytorch")
    assert r.gradient == {"x": 0.5, "y": 0.5, "z": INF}


def test_the_pytorch_policy_is_the_tables_own_rule_and_text():
    """kink_rules["pytorch"] is what the derivative rules give at the kink (so the default
    needs no override), and the words for it are the op's documented `kink`."""
    for op in KINKED.values():
        args = (KINK_AT.get(op.name, 0.0),) if op.arity == 1 else (2.0, 2.0)
        assert op.at_kink(*args)
        out = op.forward(scalar, *args)
        assert tuple(r(scalar, *args, out) for r in op.local_grads) == \
            op.kink_rules["pytorch"], op.name
        assert KinkPolicy().text(op) == op.kink, op.name
    assert KinkPolicy().overrides() is None
    assert KinkPolicy("jax").overrides() == {"abs": (1.0,)}


def test_every_policy_gives_a_valid_subgradient_where_one_exists():
    for op in KINKED.values():
        if op.subgradients is None:
            continue
        args = (KINK_AT.get(op.name, 0.0),) if op.arity == 1 else (2.0, 2.0)
        valid = op.subgradients(*args)
        for policy in POLICIES:
            locals_ = op.kink_rules[policy]
            if op.arity == 2:  # a tie: shares in [0, 1] adding up to 1
                assert sum(locals_) == 1 and all(0 <= c <= 1 for c in locals_)
            else:  # within the hull of the one-sided derivatives
                assert min(v[0] for v in valid) <= locals_[0] <= max(v[0] for v in valid)


values = st.floats(-5, 5, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=values, y=values, z=values, policy=st.sampled_from(POLICIES[1:]))
def test_policies_change_nothing_away_from_kinks(x, y, z, policy):
    text = "relu(x*y) + abs(y - z) * max(x, z) - min(y, x) + sqrt(x*x + 1) + step(z) + sign(y)"
    point = {"x": x, "y": y, "z": z}
    default = bpdiff.differentiate(text, point)
    other = bpdiff.differentiate(text, point, kink=policy)
    if not default.kinks:
        assert other.gradient == default.gradient
        assert other.value == default.value


@pytest.mark.parametrize("spec, message", [
    ("tensorflow", "unknown policy 'tensorflow'"),
    ("pytroch", "did you mean 'pytorch'"),
    ("relu=two", "unknown policy 'two'"),
    ("rellu=one", "'rellu' has no kink (did you mean 'relu'?)"),
    ("sin=one", "'sin' has no kink"),
    ("jax,one", "two default policies"),
    (",", "--kink needs a policy"),
])
def test_bad_policies_are_clear_errors(spec, message):
    with pytest.raises(BpdiffError, match=re.escape(message)):
        parse_policy(spec)
    code, out, err = run_main("relu(x)", "--x", "1", "--kink", spec)
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err


def test_the_policy_is_named_in_the_narration_and_the_warning():
    r = bpdiff.differentiate("max(x, y) * relu(z) + abs(x - y)", x=1, y=1, z=0, kink="one", edges=True)
    text = explain_text(r, 6)
    assert "[a tie sends all of the gradient to the first input] = 1" in text
    assert "[relu'(0) = 1] = 1" in text
    assert "[abs'(0) = 1] = 1" in text
    code, out, err = run_main("relu(x)", "--x", "0", "--kink", "half")
    assert code == 0
    assert "the convention used (half): relu'(0) = 1/2" in err
    assert "0.5" in out


def test_exact_arithmetic_follows_the_policy():
    r = bpdiff.differentiate("3*relu(x) + max(x, y)", {"x": 0, "y": 0}, kink="half", exact=True)
    xs = r.exact.grads[r.graph.variables["x"]]
    assert xs == Fraction(3, 2) + Fraction(1, 2)
    code, out, _ = run_main("3*relu(x)", "--x", "0", "--kink", "half", "--exact", "--json")
    assert json.loads(out)["exact"]["gradient"] == {"x": "3/2"}


@pytest.mark.parametrize("policy", POLICIES)
def test_expect_accepts_every_valid_subgradient_under_every_policy(policy):
    def passes(result, **answer):
        [(key, value)] = answer.items()
        return check(result, [parse_expectation(f"{key}={value}")])[0].passed

    # relu'(0) in {0, 1} (and the policy's own), times c = 2
    r = bpdiff.differentiate("(a + relu(b)) * c", a=7, b=0, c=2, kink=policy, edges=True)
    assert passes(r, b=0) and passes(r, b=2)
    assert passes(r, b=2 * TABLE["relu"][policy][0])
    assert not passes(r, b=7)
    # a tie: 0, 1/2 or 1 to either side
    r = bpdiff.differentiate("max(x, y)", x=1, y=1, kink=policy, edges=True)
    assert all(passes(r, x=v) for v in (0, 0.5, 1)) and not passes(r, x=0.25)
    # abs'(0) in {-1, 0, 1} (and the policy's own)
    r = bpdiff.differentiate("3*abs(x)", x=0, kink=policy, edges=True)
    assert all(passes(r, x=v) for v in (-3, 0, 3, 3 * TABLE["abs"][policy][0]))
    assert not passes(r, x=2)


def test_a_passing_answer_under_another_convention_names_the_policy():
    code, out, _ = run_main("(a + relu(b)) * c", "--a", "7", "--b", "0", "--c", "2",
                            "--kink", "one", "--expect", "b=0")
    assert code == 0
    assert "at a kink: your answer follows the convention ∂#2/∂b = 0" in out
    assert "(bpdiff uses relu'(0) = 1, --kink one)" in out


def test_kink_is_refused_with_problem_sets_and_quizzes():
    code, out, err = run_main("--quiz", "1", "--kink", "one")
    assert (code, out) == (2, "") and "--kink" in err
