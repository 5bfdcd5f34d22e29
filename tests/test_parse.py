"""The grammar: numbers, precedence, associativity, implicit products, programs, errors."""

import math
import re

import pytest

from bpdiff import BpdiffError, differentiate
from bpdiff.errors import BpdiffNameError, BpdiffSyntaxError
from bpdiff.engine.graph import CONST, VAR
from bpdiff.engine.ops import BY_NAME, FUNCTIONS, PRIMITIVES
from pathlib import Path

from bpdiff.language.grammar import grammar_path
from bpdiff.language.parse import parse


def value(text, **values):
    return differentiate(text, **values).value


@pytest.mark.parametrize("text, expected", [
    ("3", 3), ("3.5", 3.5), (".5", 0.5), ("1e-3", 0.001), ("2E3", 2000), ("3.", 3),
    ("1.5e+2", 150),
])
def test_numbers(text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2^3^2", 512),            # right-associative
    ("2**3**2", 512),
    ("-2^2", -4),              # ^ binds tighter than unary minus
    ("2^-1", 0.5),             # a signed exponent
    ("-2^-2", -0.25),
    ("1 - 2 - 3", -4),         # left-associative
    ("12 / 3 / 2", 2),
    ("2 + 3 * 4", 14),
    ("(2 + 3) * 4", 20),
    ("--3", 3), ("+3", 3), ("-+-3", 3),
    ("2 * -3", -6),
    ("8 / 2 * 4", 16),
    ("2·3 − 1", 5), ("6 ÷ 3 × 2", 4),
])
def test_precedence_and_associativity(text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("text, values, expected", [
    ("2b", {"b": 5}, 10),
    ("2(a+b)", {"a": 1, "b": 2}, 6),
    ("(a+b)(c+d)", {"a": 1, "b": 2, "c": 3, "d": 4}, 21),
    ("c(a+2b)", {"a": 3, "b": 1, "c": -2}, -10),
    ("2x^2", {"x": 3}, 18),           # 2·(x²), not (2x)²
    ("x^2y", {"x": 3, "y": 2}, 18),
    ("a/2b", {"a": 8, "b": 4}, 16),   # same precedence as *: (a/2)·b
    ("(x+1)x", {"x": 2}, 6),
    ("sin(x)(y)", {"x": 0.5, "y": 2}, 2 * math.sin(0.5)),
    ("a b", {"a": 2, "b": 5}, 10),
    ("2sin(x)", {"x": 1}, 2 * math.sin(1)),
    ("a -b", {"a": 5, "b": 3}, 2),    # a difference, not a·(-b)
])
def test_implicit_multiplication(text, values, expected):
    assert value(text, **values) == pytest.approx(expected)


def test_a_function_name_without_parenthesis_is_a_plain_name():
    # The seeds name an intermediate `dot`: only `name(` calls a function.
    assert value("dot = w*x + b; f = sigmoid(dot)", w=1, x=2, b=-2) == pytest.approx(0.5)
    assert value("sum + 1", sum=2) == 3


def test_a_name_before_parenthesis_is_a_call_only_for_functions():
    graph = parse("c(a)")
    assert graph.ops[graph.output] is BY_NAME["mul"]
    graph = parse("sin(a)")
    assert graph.ops[graph.output] is BY_NAME["sin"]
    assert value("ln(x)", x=math.e) == pytest.approx(1)


def test_every_alias_in_the_grammar_is_an_op_and_every_op_is_reachable():
    rules = [line for line in Path(grammar_path()).read_text().splitlines()
             if not line.lstrip().startswith("//")]
    aliases = set(re.findall(r"->\s*(\w+)", "\n".join(rules)))
    structural = {"assign", "expression", "number", "var", "call", "array", "keyword", "define",
                  "implicit_mul", "fraction", "superscript", "bracket_call", "define_output",
                  "head", "method", "augassign", "sup_t", "subscript", "slice", "packed"}
    assert aliases - structural <= set(BY_NAME)
    reachable = (aliases - structural) | {p.name for p in FUNCTIONS.values()} | {"id"}
    reachable |= {p.one_argument for p in FUNCTIONS.values() if p.one_argument}  # max(x)
    reachable |= {"index", "index2", "getitem"}  # x[i], W[i, j], x[1:3]: subscript
    assert {p.name for p in PRIMITIVES} == reachable


def test_every_function_is_callable_by_name():
    for name, op in FUNCTIONS.items():
        if op.vjps is None:
            args = ", ".join(["0.5"] * op.arity)
        else:  # tensor functions: vectors, and a class index for cross_entropy
            args = ", ".join(["[0.5, 0.25]", "[1, 2]" if op.name != "cross_entropy" else "1"]
                             [:op.arity])
            args = {"reshape": "[0.5, 0.25], (2, 1)", "concat": "([0.5], [1, 2])",
                    "stack": "([0.5, 2], [1, 2])", "ones": "(2, 1)", "zeros": "2", "eye": "2",
                    "arange": "3", "one_hot": "[1, 0], 2",
                    "take_along_axis": "[0.5, 0.25], [1], axis=0"}.get(op.name, args)
        assert math.isfinite(float(differentiate(f"sum({name}({args}))").value))


def test_statements_named_intermediates_and_comments():
    program = """
    # the seed's c(a+2b)
    d = 2b; e = a + d
    L = c*e   # the output
    """
    r = differentiate(program, a=3, b=1, c=-2)
    assert r.value == -10
    assert r.gradient == {"b": -4, "a": -2, "c": 5}
    names = {n.name: n for n in r.nodes if n.name}
    assert names["e"].value == 5 and names["e"].grad == -2
    assert names["d"].grad == -2


def test_sharing_and_no_share():
    shared = differentiate("(a+b)*(a+b)", a=1, b=2)
    assert [n.op for n in shared.nodes] == ["mul", "add", "var", "var"]
    assert shared.nodes[1].grad == 6  # one a+b node, both uses summed
    tree = differentiate("(a+b)*(a+b)", a=1, b=2, share=False)
    assert [n.op for n in tree.nodes].count("add") == 2
    assert [n.op for n in tree.nodes].count("var") == 2  # inputs are always shared
    assert tree.gradient == shared.gradient == {"a": 6, "b": 6}


def test_reverse_topological_order():
    r = differentiate("sin(x*y) + x", x=1, y=2)
    position = {n.id: k for k, n in enumerate(r.nodes)}
    for node in r.nodes:
        assert all(position[i] > position[node.id] for i in node.inputs)
    assert r.nodes[0].id == r.graph.output


def test_defaults_and_overrides():
    program = "a = 7\nb = -3\n(a+b)*b^3"
    assert differentiate(program).value == 4 * -27
    assert differentiate(program, b=3).value == 270


def test_output_option_picks_a_named_statement():
    r = differentiate("u = x^2; y = sin(u)", output="u", x=3)
    assert r.value == 9 and r.gradient == {"x": 6}


def test_unused_statements_are_pruned():
    r = differentiate("t = exp(q); y = 2x", x=1)
    assert r.gradient == {"x": 2}
    assert all(n.op != "exp" for n in r.nodes)


def test_named_copy_of_an_input():
    r = differentiate("d = b; L = d*c", b=2, c=5)
    named = {n.name: n for n in r.nodes if n.name}
    assert named["d"].op == "id" and named["d"].grad == 5 and r.gradient["b"] == 5


@pytest.mark.parametrize("text, kind, fragment, line, column", [
    ("x +", BpdiffSyntaxError, "unexpected end of input", 1, 4),
    ("a*b)", BpdiffSyntaxError, "unexpected ')'", 1, 4),
    ("(a+b", BpdiffSyntaxError, "unexpected end of input", 1, 5),
    ("a $ b", BpdiffSyntaxError, "unexpected character '$'", 1, 3),
    ("x = 1\ny = x*+\nz", BpdiffSyntaxError, "unexpected end of line", 2, 8),
    ("x 2", BpdiffSyntaxError, "unexpected '2'", 1, 3),
    ("max(a, b, x)", BpdiffSyntaxError, "max() takes 2 arguments, got 3", 1, 1),
    ("sin(a, b)", BpdiffSyntaxError, "sin() takes 1 argument, got 2", 1, 1),
    ("sin(+)", BpdiffSyntaxError, "unexpected ')'", 1, 6),
    ("c += 1", BpdiffNameError, "'c' has no value yet for +=", 1, 1),
    ("b + 1; b = 3", BpdiffNameError, "used before, at line 1, column 1", 1, 8),
    ("exp = 3; exp(", BpdiffSyntaxError, "unexpected end of input", 1, 14),
])
def test_errors_point_at_the_problem(text, kind, fragment, line, column):
    with pytest.raises(kind) as info:
        differentiate(text, a=1, b=1, x=1)
    error = info.value
    assert fragment in str(error)
    assert (error.line, error.column) == (line, column)
    rendered = str(error).splitlines()
    caret_line = rendered[2]
    assert caret_line.index("^") == 2 + column - 1  # under the column, after the indent
    assert error.exit_code == 2


def test_syntax_error_says_what_was_expected():
    with pytest.raises(BpdiffSyntaxError) as info:
        differentiate("x +")
    assert "expected" in str(info.value) and "a number" in str(info.value)


def test_empty_program():
    for text in ("", "  ", "# only a comment", ";;\n"):
        with pytest.raises(BpdiffSyntaxError, match="empty"):
            differentiate(text)


def test_unknown_function_gets_did_you_mean():
    with pytest.raises(BpdiffNameError) as info:
        differentiate("sinn(x)", x=1)
    assert "did you mean 'sin'" in str(info.value)
    assert (info.value.line, info.value.column) == (1, 1)


def test_values_for_unknown_names_get_did_you_mean():
    with pytest.raises(BpdiffError, match="did you mean 'alpha'"):
        differentiate("alpha + beta", alpha=1, beta=2, alpah=3)


def test_missing_values_are_listed():
    with pytest.raises(BpdiffNameError, match="no value for input 'b' \\(nor for c\\)"):
        differentiate("a*b + c", a=1)


def test_non_numeric_value():
    with pytest.raises(BpdiffError, match="not a number"):
        differentiate("a", a="seven")
    assert differentiate("a", a="-1/4").value == -0.25


def test_graph_is_topological_by_construction():
    graph = parse("y = sin(x)*x; z = y + x^2")
    for node, sources in enumerate(graph.inputs):
        assert all(i < node for i in sources)
    assert graph.ops[0] is VAR and CONST in graph.ops


def test_a_long_name_is_looked_at_from_its_first_character_only():
    # The look for `f(x) = ...` once tried a name from each of its characters: time
    # quadratic in a 150,000-character name (a hang, found by the fuzz contract).
    text = "x" * 150_000 + "\x01 + f(x, y) = x y"
    with pytest.raises(BpdiffSyntaxError, match="unexpected character"):
        parse(text)
