"""User-defined functions (`def`) and --lib: a call must give exactly what the body
written out in place gives (hypothesis over random bodies and arguments, nested calls
included), checked against SymPy and central differences; the call labels in the table,
JSON and --explain; every error with its position; 100,000-deep nested calls; --lib files."""

import json
import math
import re
from pathlib import Path

import jsonschema
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff import differentiate
from bpdiff.errors import BpdiffError, BpdiffNameError, BpdiffSyntaxError
from bpdiff.language.parse import parse
from conftest import run_main
from test_random_expressions import (SYMBOLS, SYMPY_NAMES, _check_finite_difference, _close,
                                     _scale, _sympy_value, expressions, values)

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "examples" / "lib" / "gates.bp"
SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json").read_text())
PROFILE = settings(max_examples=120, deadline=None, derandomize=True, database=None)
PARAMS = ("x", "y", "z")  # the random bodies' names (test_random_expressions' inputs)


# ---- a call is its body written out ------------------------------------------------------

def inline(body, args):
    """`body` (bpdiff text over x, y, z) with each parameter replaced by its argument,
    parenthesized: what the user would write without `def`."""
    by_name = dict(zip(PARAMS, args))
    # not \b: in an implicit product such as `2x` the name follows a digit
    return re.sub(r"(?<![A-Za-z_])[xyz](?![A-Za-z0-9_])",
                  lambda m: f"({by_name[m.group()]})", body)


def sympy_inline(sym, args):
    """The same substitution in SymPy (simultaneous, so x -> y -> ... cannot chain)."""
    expr = sp.sympify(sym, locals=SYMPY_NAMES)
    subs = {SYMBOLS[p]: sp.sympify(a, locals=SYMPY_NAMES) for p, a in zip(PARAMS, args)}
    return expr.subs(subs, simultaneous=True)


@st.composite
def programs_with_defs(draw):
    """(program with defs, the same program written out, SymPy text of its output).

    f's body is random over its parameters x, y, z; g's is a random expression plus a
    call of f with random arguments; the program calls g (or f) with random arguments
    over the inputs, which are also named x, y, z (a body sees only its parameters)."""
    f_body = draw(expressions(depth=3))
    f_args = [draw(expressions(depth=2)) for _ in PARAMS]
    g_extra = draw(expressions(depth=2))
    g_body = f"{g_extra.text} + f({', '.join(a.text for a in f_args)})"
    g_inline = f"{g_extra.text} + {inline(f_body.text, [a.text for a in f_args])}"
    g_sym = (f"({g_extra.sym}) + ({sympy_inline(f_body.sym, [a.sym for a in f_args])})")
    which = draw(st.sampled_from(["f", "g", "both"]))
    args = [draw(expressions(depth=2)) for _ in PARAMS]
    texts, syms = [a.text for a in args], [a.sym for a in args]
    f_call = (f"f({', '.join(texts)})", inline(f_body.text, texts), sympy_inline(f_body.sym, syms))
    g_call = (f"g({', '.join(texts)})", inline(g_inline, texts), sympy_inline(g_sym, syms))
    calls = {"f": [f_call], "g": [g_call], "both": [g_call, f_call]}[which]
    separator = draw(st.sampled_from(["; ", "\n", " ;\n"]))
    program = (f"def f(x, y, z) = {f_body.text}{separator}def g(x, y, z) = {g_body}{separator}"
               + " * ".join(f"({c[0]})" for c in calls))
    written_out = " * ".join(f"({c[1]})" for c in calls)
    sym = " * ".join(f"({c[2]})" for c in calls)
    return program, written_out, sym


def run(text, point, share=True):
    """differentiate() with the values of the inputs the program names (an argument
    for an unused parameter names inputs that the output does not use)."""
    declared = parse(text).declared
    return differentiate(text, {n: v for n, v in point.items() if n in declared}, share=share)


def _same(got, want, scale):
    return got == want or math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-13 * scale)


@PROFILE
@given(program=programs_with_defs(), data=st.data(), share=st.booleans())
def test_a_call_gives_what_its_body_written_out_gives(program, data, share):
    text, written_out, _ = program
    point = {n: data.draw(values, label=n) for n in PARAMS}
    with_defs = run(text, point, share)
    inline_ = run(written_out, point, share)
    scale = _scale(inline_)
    assert _same(with_defs.value, inline_.value, scale), (text, written_out, point)
    assert set(with_defs.gradient) == set(inline_.gradient)
    for name, grad in inline_.gradient.items():
        assert _same(with_defs.gradient[name], grad, scale), (text, written_out, point, name)
    if share:  # the same nodes: expanding a call is parsing its body in place
        assert len(with_defs.graph) == len(inline_.graph)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(program=programs_with_defs(), data=st.data())
def test_programs_with_defs_match_sympy_and_finite_differences(program, data):
    text, _, sym = program
    point = {n: data.draw(values, label=n) for n in PARAMS}
    r = run(text, point)
    assert r.nonfinite == [], text
    point = {n: point[n] for n in r.graph.declared}
    scale = _scale(r)
    expr = sp.sympify(sym, locals=SYMPY_NAMES)
    assert _close(r.value, _sympy_value(expr, point), scale), (text, point)
    for name in r.gradient:
        want = _sympy_value(sp.diff(expr, SYMBOLS[name]), point)
        assert _close(r.gradient[name], want, scale), (text, point, name)
        _check_finite_difference(text, point, name, r, scale)


A, B, X, Y = sp.symbols("a b x y", real=True)
SOFTPLUS2 = sp.Lambda(X, sp.log(1 + sp.exp(X)))
F = sp.Lambda((A, B), A * B + sp.sin(A))


@pytest.mark.parametrize("text, expected", [
    ("def softplus2(x) = log(1 + exp(x)); softplus2(a*b) + softplus2(a)",
     SOFTPLUS2(A * B) + SOFTPLUS2(A)),
    ("def f(a, b) = a*b + sin(a)\nf(a, b)", F(A, B)),
    ("def f(a, b) = a*b + sin(a)\nf(b, a)", F(B, A)),  # arguments bind by position
    ("def f(a, b) = a*b + sin(a); def g(u) = f(u, u^2) / (1 + f(2, u)^2); g(a) * f(a, b)",
     F(A, A ** 2) / (1 + F(2, A) ** 2) * F(A, B)),
    ("def sq(t) = t*t; sq(sq(sq(a - b)))", (A - B) ** 8),
    ("def k(t, u) = 3; k(a, b) * a", 3 * A),  # parameters need not be used
])
def test_gradients_match_sympy(text, expected):
    point = {"a": 0.7, "b": -1.3}
    r = differentiate(text, point)
    subs = {A: sp.Float(0.7, 30), B: sp.Float(-1.3, 30)}
    assert r.value == pytest.approx(float(expected.subs(subs)), rel=1e-12)
    for name, symbol in (("a", A), ("b", B)):
        want = float(sp.diff(expected, symbol).subs(subs))
        assert r.gradient.get(name, 0.0) == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_softplus2_matches_the_built_in_softplus():
    mine = differentiate("def softplus2(x) = log(1 + exp(x)); softplus2(w*v)", w=0.5, v=-3)
    builtin = differentiate("softplus(w*v)", w=0.5, v=-3)
    assert mine.value == pytest.approx(builtin.value, rel=1e-15)
    for name in ("w", "v"):
        assert mine.gradient[name] == pytest.approx(builtin.gradient[name], rel=1e-15)


# ---- calls in the graph: labels, sharing, renderers ---------------------------------------

def calls_by_op(result):
    return [(n.op, n.call) for n in result.nodes]


def test_each_call_labels_the_nodes_it_made():
    r = differentiate("def f(a, b) = a*b + sin(a); f(x, y) + f(y, x)", x=1, y=2)
    labels = {n.call for n in r.nodes}
    assert labels == {None, "f#1", "f#2"}
    assert [n.call for n in r.nodes if n.op == "sin"] == ["f#2", "f#1"]
    assert r.nodes[0].call is None  # the outer + is the program's own
    # x*y and y*x are different nodes; sin(x) and sin(y) too
    assert sum(n.op == "mul" for n in r.nodes) == 2


def test_nested_calls_are_labelled_with_their_path_and_numbered_through_the_program():
    r = differentiate("def f(t) = t^2 + 1; def g(t) = f(t) * f(t + 1); g(x) + f(x - 1)", x=2)
    ops = {(n.op, n.call) for n in r.nodes}
    assert ("mul", "g#1") in ops
    assert ("pow", "g#1/f#1") in ops and ("pow", "g#1/f#2") in ops
    assert ("pow", "f#3") in ops  # the third expansion of f, made by the program
    assert r.value == (5 * 10) + 2


def test_a_shared_node_keeps_the_call_that_made_it_first():
    r = differentiate("def f(t) = sin(t) * 2; f(x) + f(x) + sin(x)", x=1)
    assert [n.call for n in r.nodes if n.op == "sin"] == ["f#1"]
    assert r.graph.calls[1][2] == "f#2"  # f#2 made nothing new: every node was shared
    unshared = differentiate("def f(t) = sin(t) * 2; f(x) + f(x) + sin(x)", x=1, share=False)
    assert [n.call for n in unshared.nodes if n.op == "sin"] == [None, "f#2", "f#1"]
    assert unshared.gradient == pytest.approx(r.gradient)


def test_a_function_returning_a_parameter_or_constant():
    r = differentiate("def first(p, q) = p; def three(p) = 3; first(x, y) * three(x)",
                      x=2, y=5)
    assert r.value == 6 and r.gradient == {"x": 3}
    assert differentiate("def neg(p) = -p; a = neg(7); a * b", b=2).gradient == {"b": -7}


def test_the_table_shows_a_call_column_only_when_a_function_was_called():
    code, out, _ = run_main("def sq(t) = t*t; sq(x) + 1", "--x", "3")
    header, rule, *rows = out.splitlines()
    assert header.split() == ["id", "label", "op", "inputs", "call", "value", "gradient"]
    assert [row.split()[-3] for row in rows if "*" in row] == ["sq#1"]
    code, out, _ = run_main("def sq(t) = t*t; x + 1", "--x", "3")
    assert code == 0 and "call" not in out.splitlines()[0]


def test_json_has_a_call_on_each_node_a_call_made_and_follows_the_schema():
    code, out, _ = run_main("def sq(t) = t*t; def h(t) = sq(t) + 1; h(x) * x", "--x", "3",
                            "--json", "--explain")
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    calls = {node["label"]: node.get("call") for node in data["nodes"]}
    assert calls == {"#3 * x": None, "#1 + 1": "h#1", "1": "h#1", "x * x": "h#1/sq#1",
                     "x": None}
    assert [s.get("call") for s in data["explain"] if s["stage"] == "forward"] == [
        None, "h#1/sq#1", "h#1", None]
    from bpdiff.render.json import render, to_dict
    result = differentiate("def sq(t) = t*t; def h(t) = sq(t) + 1; h(x) * x", x=3)
    assert json.loads(render(result)) == json.loads(json.dumps(to_dict(result)))


def test_explain_says_which_call_made_a_node():
    code, out, _ = run_main("def sq(t) = t*t; sq(x) + 1", "--x", "3", "--explain")
    assert "  #1 = x * x = 3 * 3 = 9   (in sq#1)" in out.splitlines()


def test_exact_mode_and_other_renderers_take_defs():
    code, out, _ = run_main("def sq(t) = t*t; 1/sq(x)", "--x", "2", "--exact", "--json")
    assert code == 0 and json.loads(out)["exact"]["gradient"] == {"x": "-1/4"}
    for option in ("--symbolic", "--locals", "--dot", "--mermaid", "--tree", "--gradcheck"):
        code, out, err = run_main("def sq(t) = t*t; sq(x) + 1", "--x", "3", option)
        assert code == 0, (option, err)


# ---- the language around def ---------------------------------------------------------------

def test_a_defined_name_is_called_only_after_its_definition():
    # before `def c`, c(a + 2b) is a product; the program cannot then define c
    assert differentiate("c(a + 2b)", a=3, b=1, c=-2).value == -10
    r = differentiate("def c(t) = t^2\nc(a + 2b)", a=3, b=1)
    assert r.value == 25 and r.gradient == {"a": 10, "b": 20}


def test_spacing_comments_and_continuations_in_definitions():
    text = "# gates\ndef  f ( p ,q )=p*q  # product\n\ndef g(p) = \\\n  f(p, p)\ng (x)"
    assert differentiate(text, x=3).value == 9


def test_def_is_a_reserved_word_but_names_containing_it_are_not():
    assert differentiate("define + def_ + undef", define=1, def_=2, undef=3).value == 6
    with pytest.raises(BpdiffSyntaxError) as info:
        differentiate("x + def", x=1)
    assert "'def' starts a definition" in str(info.value)
    with pytest.raises(BpdiffSyntaxError) as info:
        differentiate("def + 1")
    assert "expected the new function's name" in str(info.value)


def test_a_program_of_definitions_only_is_empty():
    with pytest.raises(BpdiffSyntaxError, match="empty"):
        differentiate("def f(x) = x")


def test_output_may_name_a_statement_after_definitions():
    r = differentiate("def sq(t) = t*t; u = sq(x); v = u + 1", output="u", x=3)
    assert r.value == 9


ERRORS = [
    # (program, error class, message fragment, line, column)
    ("def f(x) = f(x) + 1; f(2)", BpdiffNameError, "'f' calls itself: recursion is not allowed",
     1, 12),
    ("def f(x) = 2*f; 1", BpdiffNameError, "'f' refers to itself: recursion", 1, 14),
    ("def f(x) = g(x)\ndef g(x) = f(x)\nf(1)", BpdiffNameError,
     "f calls 'g', which is defined later, at line 2, column 5", 1, 12),
    ("def sin(x) = x; 1", BpdiffNameError, "'sin' is a built-in function and cannot be"
     " redefined", 1, 5),
    ("def ln(x) = x; 1", BpdiffNameError, "'ln' is a built-in function", 1, 5),
    ("def f(x) = x\ndef f(y) = y\n1", BpdiffNameError,
     "'f' is already defined, at line 1, column 5", 2, 5),
    ("def f(a, b, a) = a; 1", BpdiffNameError, "parameter 'a' is repeated", 1, 13),
    ("def f(sin) = 1; 1", BpdiffNameError, "parameter 'sin' has the name of a function", 1, 7),
    ("def f(a, b) = a*b\n\n  f(1)", BpdiffSyntaxError,
     "f() takes 2 arguments, got 1 (f(a, b) is defined at line 1, column 5)", 3, 3),
    ("def f(a) = a; f(1, 2, 3)", BpdiffSyntaxError, "f() takes 1 argument, got 3", 1, 15),
    ("def f(x) = sinn(x); 1", BpdiffNameError,
     "unknown function 'sinn' in the body of f (did you mean 'sin'?)", 1, 12),
    ("def halve(t) = t/2; def f(x) = halv(x); 1", BpdiffNameError,
     "unknown function 'halv' in the body of f (did you mean 'halve'?)", 1, 32),
    ("def f(x) = x + y; 1", BpdiffNameError, "'y' is not a parameter of f(x)", 1, 16),
    ("def f(a, b) = a + bb; 1", BpdiffNameError,
     "'bb' is not a parameter of f(a, b) (did you mean 'b'?)", 1, 19),
    ("u = 2\ndef f(x) = x*u; f(1)", BpdiffNameError, "'u' is not a parameter", 2, 14),
    ("def f(x) = x; y = f + 1", BpdiffNameError, "'f' is a function used without arguments",
     1, 19),
    ("def f(x) = x; f = 3", BpdiffNameError, "'f' is a function and cannot be assigned", 1, 15),
    ("def f(x) = x; def g(x) = f; 1", BpdiffNameError, "'f' is a function used without", 1, 26),
    ("y = 2\ndef y(x) = x; 1", BpdiffNameError, "'y' is already a name in the program", 2, 5),
    ("x + 1; def x(t) = t", BpdiffNameError, "'x' is already a name in the program", 1, 12),
    ("def f(x) = x; f + 1", BpdiffNameError, "'f' is a function used without arguments", 1,
     15),
    ("def = 3", BpdiffSyntaxError, "unexpected '='", 1, 5),
    ("def 3(x) = x", BpdiffSyntaxError, "unexpected '3'", 1, 5),
    ("def f() = 1", BpdiffSyntaxError, "unexpected ')'", 1, 7),
    ("def f(x) = x $ 2", BpdiffSyntaxError, "unexpected character '$'", 1, 14),
    ("def f(x) x", BpdiffSyntaxError, "unexpected 'x'", 1, 10),
]


@pytest.mark.parametrize("text, kind, fragment, line, column", ERRORS)
def test_errors_point_at_the_problem(text, kind, fragment, line, column):
    with pytest.raises(kind) as info:
        differentiate(text, x=1)
    error = info.value
    assert fragment in str(error)
    assert (error.line, error.column) == (line, column), str(error)
    caret_line = str(error).splitlines()[2]
    assert caret_line.index("^") == 2 + column - 1
    assert error.exit_code == 2


@pytest.mark.parametrize("text, kind, fragment, line, column", ERRORS[:6])
def test_errors_exit_2_with_nothing_on_stdout(text, kind, fragment, line, column):
    code, out, err = run_main(text, "--x", "1")
    assert (code, out) == (2, "")
    assert fragment in err and f"line {line}, column {column}" in err and "Traceback" not in err


def test_the_expected_name_after_def_is_explained():
    with pytest.raises(BpdiffSyntaxError) as info:
        differentiate("def 3(x) = x")
    assert "expected the new function's name" in str(info.value)


def test_a_misspelt_call_in_the_program_suggests_a_defined_function():
    with pytest.raises(BpdiffNameError) as info:
        differentiate("def swish(t) = t*sigmoid(t); swsh(x)", x=1)
    assert "did you mean 'swish'" in str(info.value)


DOUBLING = "def f0(x) = x + 1\n" + "".join(
    f"def f{i}(x) = f{i - 1}(x) * f{i - 1}(x + 1)\n" for i in range(1, 40)) + "f39(y)"


def test_expansion_is_bounded(monkeypatch):
    from bpdiff.language import defs
    monkeypatch.setattr(defs, "MAX_EXPANDED", 10_000)
    with pytest.raises(BpdiffSyntaxError, match="expand to more than 10,000 nodes") as info:
        parse(DOUBLING, share=False)  # 2^40 nodes
    assert info.value.line < 15  # in a body: the bodies expanded so far count too


def test_calls_that_make_no_node_are_not_kept_inside_bodies():
    graph = parse(DOUBLING)  # shared, f39(y) is a polynomial of 822 nodes
    assert len(graph) < 1000 and len(graph.calls) < 1000


# ---- depth --------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deeply_nested_calls(depth):
    r = differentiate("def f(t) = sin(t)\n" + "f(" * depth + "x" + ")" * depth, x=0.5)
    assert len(r.graph) == depth + 1
    value, grad = 0.5, 1.0
    for _ in range(depth):
        grad *= math.cos(value)
        value = math.sin(value)
    assert r.value == pytest.approx(value, rel=1e-12)
    assert r.gradient["x"] == pytest.approx(grad, rel=1e-9)
    assert r.nodes[0].call == f"f#{depth}" and r.nodes[-2].call == "f#1"


def test_a_long_chain_of_definitions():
    count = 500
    text = "def f0(t) = t + 1\n" + "".join(f"def f{i}(t) = f{i - 1}(t) * 1\n"
                                          for i in range(1, count))
    r = differentiate(text + f"f{count - 1}(x)", x=2)
    assert r.value == 3 and r.gradient == {"x": 1}
    deepest = min(r.nodes, key=lambda n: n.id if n.op == "add" else math.inf)
    assert deepest.call.count("/") == count - 1


# ---- --lib ----------------------------------------------------------------------------------

def test_the_gates_library_from_the_command_line():
    code, out, _ = run_main("--lib", str(GATES), "-f",
                            str(ROOT / "examples" / "lib" / "last_neuron_gates.bp"), "--json")
    assert code == 0
    with_gates = json.loads(out)
    code, out, _ = run_main("-f", str(ROOT / "examples" / "last_neuron.bp"), "--json")
    plain = json.loads(out)
    assert with_gates["value"] == pytest.approx(plain["value"], rel=1e-15)
    assert with_gates["gradient"] == pytest.approx(plain["gradient"], rel=1e-15)
    assert with_gates["value"] == pytest.approx(0.1161034829, rel=1e-9)


def sig(t):
    return 1 / (1 + math.exp(-t))


@pytest.mark.parametrize("call, value, grad", [
    ("smooth_relu(x)", math.log(1 + math.exp(0.3)), sig(0.3)),
    ("swish(x)", 0.3 * sig(0.3), sig(0.3) + 0.3 * sig(0.3) * (1 - sig(0.3))),
    ("sqerr(x, 2)", (0.3 - 2) ** 2, 2 * (0.3 - 2)),
    ("l2loss(x, 1, 2x, 0)", 0.5 * ((0.3 - 1) ** 2 + 0.6 ** 2), (0.3 - 1) + 2 * 0.6),
    ("logsumexp2(x, 2x)", math.log(math.exp(0.3) + math.exp(0.6)),
     (math.exp(0.3) + 2 * math.exp(0.6)) / (math.exp(0.3) + math.exp(0.6))),
    ("neuron(2, x, 1)", sig(1.6), 2 * sig(1.6) * (1 - sig(1.6))),
])
def test_every_gate_of_the_library(call, value, grad):
    r = differentiate(call, x=0.3, lib=GATES)
    assert r.value == pytest.approx(value, rel=1e-12)
    assert r.gradient["x"] == pytest.approx(grad, rel=1e-12)


def test_gelu_matches_its_formula_and_sympy():
    t = sp.Symbol("t", real=True)
    gelu = 0.5 * t * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (t + 0.044715 * t ** 3)))
    r = differentiate("gelu(x)", x=0.8, lib=[str(GATES)])
    assert r.value == pytest.approx(float(gelu.subs(t, 0.8)), rel=1e-12)
    assert r.gradient["x"] == pytest.approx(float(sp.diff(gelu, t).subs(t, 0.8)), rel=1e-12)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_several_libraries_each_seeing_the_ones_before(tmp_path):
    first = write(tmp_path, "a.bp", "# base\ndef sq(t) = t*t\n")
    second = write(tmp_path, "b.bp", "def quad(t) = sq(sq(t)); def both(s, t) = sq(s) + t\n")
    code, out, _ = run_main("--lib", first, "--lib", second, "quad(x) + both(x, 1)", "--x", "2",
                            "--json")
    assert code == 0 and json.loads(out)["value"] == 16 + 5
    code, _, err = run_main("--lib", second, "--lib", first, "quad(x)", "--x", "2")
    assert code == 2 and f"{second}, line 1, column 15: unknown function 'sq'" in err


@pytest.mark.parametrize("text, fragment, line, column", [
    ("def f(x) = x\n\n# fine\ny = 2\n", "a library holds only definitions", 4, 1),
    ("def f(x) = x\n  2*3  # no\n", "a library holds only definitions", 2, 3),
    ("x + 1\n", "a library holds only definitions", 1, 1),
    ("def f(x) = x; sin(1)\n", "a library holds only definitions", 1, 15),
    ("def f(x) = x +\n", "unexpected end of line", 1, 15),
    ("def f(x) = y\n", "'y' is not a parameter of f(x)", 1, 12),
    ("def exp(x) = x\n", "'exp' is a built-in function", 1, 5),
])
def test_library_errors_name_the_file_and_line(tmp_path, text, fragment, line, column):
    path = write(tmp_path, "gates.bp", text)
    with pytest.raises(BpdiffError) as info:
        differentiate("1", lib=path)
    assert str(info.value).startswith(f"{path}, line {line}, column {column}: {fragment}")
    code, out, err = run_main("--lib", path, "1")
    assert (code, out) == (2, "") and f"{path}, line {line}" in err


def test_a_program_cannot_redefine_a_library_function(tmp_path):
    path = write(tmp_path, "g.bp", "def sq(t) = t*t\n")
    with pytest.raises(BpdiffNameError) as info:
        differentiate("def sq(t) = t; 1", lib=path)
    assert f"'sq' is already defined, at {path}, line 1, column 5" in str(info.value)
    with pytest.raises(BpdiffSyntaxError) as info:  # an arity error names the library
        differentiate("sq(1, 2)", lib=path)
    assert f"defined at {path}, line 1, column 5" in str(info.value)


def test_a_library_that_does_not_exist_or_is_empty(tmp_path):
    code, out, err = run_main("--lib", str(tmp_path / "nope.bp"), "1")
    assert (code, out) == (2, "") and "no such file" in err
    empty = write(tmp_path, "empty.bp", "# nothing yet\n\n")
    assert differentiate("2", lib=empty).value == 2


def test_library_functions_follow_no_share(tmp_path):
    path = write(tmp_path, "g.bp", "def twice(t) = sin(t) + sin(t)\n")
    assert len(differentiate("twice(x)", x=1, lib=path).graph) == 3
    assert len(differentiate("twice(x)", x=1, lib=path, share=False).graph) == 4


def test_lib_is_refused_with_problems_and_quiz(tmp_path):
    code, out, err = run_main("--quiz", "1", "--lib", str(GATES))
    assert (code, out) == (2, "") and "--lib" in err


def test_lib_through_a_real_process():
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-m", "bpdiff", "--lib", str(GATES), "swish(x)",
                           "--x", "1", "--json"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == pytest.approx(sig(1), rel=1e-15)
    done = subprocess.run([sys.executable, "-m", "bpdiff", "--lib", str(GATES), "swish(x, 2)",
                           "--x", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert f"swish(x) is defined at {GATES}, line 11, column 5" in done.stderr


# ---- the fuzz contract (tests/test_fuzz.py) on programs with definitions ---------------------

@st.composite
def definitions_good_and_bad(draw):
    """A `def` statement with every part valid, missing or wrong."""
    name = draw(st.sampled_from(["f", "g", "f", "sin", "def", "x", "3", "", "f f", "f2"]))
    params = draw(st.sampled_from(["(x)", "(x, y)", "(x)", "()", "(x, x)", "(sin)", "(f)", "(x",
                                   "x)", "", "(x,)", "(2)", "(def)"]))
    equals = draw(st.sampled_from([" = ", "=", " = ", "", " == "]))
    body = draw(st.sampled_from(["x", "x*y", "f(x)", "g(x)", "sin", "f", "y", "", "x +", "def",
                                 "2", "f(x, x)", "f(f(x))", "sin(x) + g(x)(x)", "x $"]))
    return f"def {name}{params}{equals}{body}"


def _fuzz_cases():
    from test_fuzz import library_cases, mutated_programs

    statements = st.one_of(definitions_good_and_bad(), st.sampled_from(
        ["f(1)", "f(1, 2)", "g(x)", "f", "f = 2", "x", "sin(f(x))", "def", "y = g(f(x), 2)"]))
    programs = st.lists(statements, min_size=1, max_size=4).map("; ".join)
    with_defs = programs_with_defs().map(lambda program: program[0])
    return library_cases(st.one_of(programs, programs, mutated_programs(with_defs), with_defs))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(case=_fuzz_cases())
def test_programs_with_definitions_keep_the_fuzz_contract(case):
    from test_fuzz import assert_contract, check_library, checked

    assert_contract(checked(check_library, case)[0], case)
