"""Scale (correctness, not timing): 100,000-deep nesting and 100,000-term sums work,
because parsing, forward, backward and rendering never recurse."""

import json
import math

import pytest

from bpdiff import differentiate
from bpdiff.render import json as json_renderer
from bpdiff.render import table

DEPTH = 100_000


def test_deep_parentheses():
    r = differentiate("(" * DEPTH + "x" + ")" * DEPTH, x=3)
    assert (r.value, r.gradient) == (3, {"x": 1})


def test_deep_unary_minus():
    r = differentiate("-" * DEPTH + "x", x=3)  # an even count: +x
    assert (r.value, r.gradient) == (3, {"x": 1})
    assert len(r.graph) == DEPTH + 1


def test_deep_nested_binary_operations():
    r = differentiate("(" * DEPTH + "x" + "+1)*1" * DEPTH, x=0.5, share=False)
    assert r.value == pytest.approx(DEPTH + 0.5)
    assert r.gradient == {"x": 1}


def test_deep_function_nesting():
    r = differentiate("sin(" * DEPTH + "x" + ")" * DEPTH, x=0.5)
    assert len(r.graph) == DEPTH + 1
    value, grad = 0.5, 1.0
    for _ in range(DEPTH):  # the chain rule by hand
        grad *= math.cos(value)
        value = math.sin(value)
    assert r.value == pytest.approx(value, rel=1e-12)
    assert r.gradient["x"] == pytest.approx(grad, rel=1e-9)


def test_deep_right_associative_power():
    r = differentiate("^".join(["1"] * DEPTH + ["x"]), x=2)
    assert r.value == 1 and r.gradient == {"x": 0}


def test_long_sum_of_products():
    terms = DEPTH
    program = " + ".join(f"{k}*x{k % 10}" for k in range(terms))
    r = differentiate(program, {f"x{i}": 1 for i in range(10)})
    assert r.value == sum(range(terms))
    for i in range(10):
        assert r.gradient[f"x{i}"] == sum(range(i, terms, 10))


def test_deep_graph_renders_as_json_and_table():
    r = differentiate("-" * DEPTH + "x", x=3)
    data = json.loads(json_renderer.render(r))
    assert len(data["nodes"]) == DEPTH + 1
    text = table.plain(r, 6)  # summarised by default
    assert "hidden" in text and len(text.splitlines()) < 100
    assert len(table.plain(r, 6, max_rows=None).splitlines()) == DEPTH + 1 + 3


def test_many_statements():
    lines = ["v0 = x"] + [f"v{k} = v{k - 1} + x" for k in range(1, 20_000)]
    r = differentiate("\n".join(lines), x=1)
    assert r.value == 20_000 and r.gradient == {"x": 20_000}
