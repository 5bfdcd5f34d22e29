"""--explain, --locals and --symbolic: the narration's numbers agree with the computed
gradients, formulas come from the primitive table, and expressions match SymPy."""

import json
import math
import re
from pathlib import Path

import jsonschema
import pytest
import sympy
from hypothesis import assume, given, settings, strategies as st

import bpdiff
from bpdiff import differentiate
from bpdiff.language.parse import parse
from bpdiff.render.explain import explain_steps, explain_text, locals_rows
from bpdiff.render.gradients import symbolic_gradients
from bpdiff.analyses.symbolic import gradient_expressions, to_text

SEED_U = "u1 = x1 + x2; u2 = x3*x4; u3 = u1*u2; u4 = u2^2; y = u3*u4"
U_VALUES = dict(x1=-7, x2=2, x3=2, x4=-1)
SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json").read_text())
GOLDEN = Path(__file__).parent / "golden" / "explain"


def test_the_seed_sum_over_two_paths_is_written_out():
    text = explain_text(differentiate(SEED_U, **U_VALUES, edges=True), 6)
    assert ("∂y/∂u2 = (∂y/∂u3)(∂u3/∂u2) + (∂y/∂u4)(∂u4/∂u2) = (4)(-5) + (10)(-4)"
            " = -20 + -40 = -60") in text
    assert "∂u4/∂u2 = 2*u2 = -4" in text
    assert "u2 = x3 * x4 = 2 * (-1) = -2" in text  # forward narration


def test_explain_for_the_dag_example():
    text = explain_text(differentiate("(a+b)*b^3", a=7, b=3, edges=True), 6)
    assert "∂#4/∂b = 3*b^2 = 27" in text
    assert "∂out/∂b = (∂out/∂#2)(∂#2/∂b) + (∂out/∂#4)(∂#4/∂b) = (27)(1) + (10)(27)" \
           " = 27 + 270 = 297" in text


@pytest.mark.parametrize("example", ["dag", "cab2b", "advanced_u1_u4", "sigmoid_neuron",
                                     "x_over_x2", "gates_combined"])
def test_golden_explain_locals_and_symbolic(example):
    """Reviewed by hand once; BPDIFF_UPDATE_GOLDEN=1 rewrites them."""
    import os

    path = Path(__file__).parents[1] / "examples" / f"{example}.bp"
    if not path.exists():
        pytest.skip(f"no example {path.name}")
    result = differentiate(path.read_text(), edges=True)
    text = explain_text(result, 6)
    text += "\n" + "\n".join(" | ".join(row) for row in locals_rows(result, 6)) + "\n"
    text += "\n" + "\n".join(f"{k} = {v}" for k, v in symbolic_gradients(result).items()) + "\n"
    golden = GOLDEN / f"{example}.txt"
    if os.environ.get("BPDIFF_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


simple_programs = st.sampled_from([
    "(a+b)*b^3", "b(a+2b)", "sin(a*b) + a", "a/b - b/a", "tanh(a)*sigmoid(b)", "a^2*b^2 + a",
    "exp(a - b)*log(b^2 + 1)", "max(a, b)*min(a, b)", "relu(a)*abs(b) + sqrt(a^2 + 1)",
    "d = a*b; e = d + a; f = e*d", "(a+b)*(a+b)*(a-b)",
])
values = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 0.05)


@settings(max_examples=30)
@given(simple_programs, values, values)
def test_every_number_in_the_narration_is_consistent(program, a, b):
    result = differentiate(program, a=a, b=b, edges=True)
    for step in explain_steps(result):
        if step["stage"] == "backward" and step["terms"]:
            assert sum(t["contribution"] for t in step["terms"]) == pytest.approx(step["grad"])
            for term in step["terms"]:
                assert term["upstream"] == result.grads[term["via"]]
                assert term["contribution"] == pytest.approx(term["upstream"] * term["local"])
        if step["stage"] == "forward":
            assert step["value"] == result.values[step["node"]]


@settings(max_examples=30)
@given(simple_programs, values, values)
def test_local_formulas_evaluate_to_the_local_values(program, a, b):
    assume(abs(abs(a) - abs(b)) > 0.05)  # step() formulas hold away from max/min ties
    result = differentiate(program, a=a, b=b, edges=True)
    graph = result.graph
    by_ref = {}
    for step in explain_steps(result):
        if step["stage"] == "forward":
            by_ref[step["ref"]] = step["value"]
    for step in explain_steps(result):
        for term in step.get("terms", []):
            formula = term["formula"]
            names = set(re.findall(r"#\d+|\b[A-Za-z_]\w*\b", formula)) - set(bpdiff.engine.ops.FUNCTIONS)
            text = formula
            for name in sorted(names, key=len, reverse=True):
                text = text.replace(name, f"({by_ref[name]!r})")
            assert differentiate(text).value == pytest.approx(term["local"], rel=1e-9, abs=1e-12)
    assert graph.output is not None


@settings(max_examples=30)
@given(simple_programs, values, values)
def test_symbolic_gradients_evaluate_to_the_numeric_gradient(program, a, b):
    assume(abs(abs(a) - abs(b)) > 0.05)  # step() formulas hold away from max/min ties
    result = differentiate(program, a=a, b=b)
    for name, text in symbolic_gradients(result).items():
        assert text is not None
        got = differentiate(text, values={k: v for k, v in result.inputs.items()
                                          if re.search(rf"\b{k}\b", text)}).value
        assert got == pytest.approx(result.gradient[name], rel=1e-9, abs=1e-9)


SYMPY_NAMES = {"sigmoid": lambda x: 1 / (1 + sympy.exp(-x)), "relu": lambda x: sympy.Max(x, 0),
               "step": sympy.Heaviside, "sign": sympy.sign, "log": sympy.log, "ln": sympy.log,
               "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min, "softplus":
               lambda x: sympy.log(1 + sympy.exp(x))}


def _to_sympy(text):
    local = {"a": sympy.Symbol("a", real=True), "b": sympy.Symbol("b", real=True),
             **SYMPY_NAMES}
    return sympy.sympify(text.replace("^", "**"), locals=local)


@pytest.mark.parametrize("program", ["(a+b)*b^3", "c(a+2b)", "sin(a*b) + a", "a/b - b/a",
                                     "tanh(a)*sigmoid(b)", "exp(a - b)*log(b^2 + 1)",
                                     "sqrt(a^2 + 1)*b", "1/a^2", "a/a^2"])
def test_symbolic_gradients_are_equivalent_to_sympy(program):
    graph = parse(program)
    algebra, grads = gradient_expressions(graph)
    source = _to_sympy(program.replace("c(a+2b)", "c*(a+2*b)"))
    for name, node in graph.variables.items():
        ours = _to_sympy(to_text(algebra, grads[node]))
        symbol = sympy.Symbol(name, real=True) if name in "ab" else sympy.Symbol(name)
        theirs = sympy.diff(source, symbol)
        assert sympy.simplify(ours - theirs) == 0, (name, to_text(algebra, grads[node]), theirs)


def test_symbolic_deep_shared_graphs_finish():
    # v_k uses v_(k-1) twice: the expression DAG doubles as a tree at every level.
    program = "\n".join(["v0 = x"] + [f"v{k} = sin(v{k - 1})*v{k - 1}" for k in range(1, 3000)])
    result = differentiate(program, x=0.3)
    assert symbolic_gradients(result) == {"x": None}


def test_symbolic_size_limit_and_named_intermediates():
    program = "\n".join(["v0 = x"] + [f"v{k} = sin(v{k - 1})*v{k - 1}" for k in range(1, 40)])
    result = differentiate(program, x=0.3)
    assert symbolic_gradients(result, max_chars=200) == {"x": None}
    wrt = symbolic_gradients(differentiate("d = 2b; e = a + d; L = c*e", a=3, b=1, c=-2),
                             ["b", "d", "e"])
    assert wrt == {"b": "2*c", "d": "c", "e": "c"}


def test_json_sections_match_the_schema():
    from bpdiff.render.json import to_dict

    result = differentiate(SEED_U, **U_VALUES, edges=True)
    data = to_dict(result, explain=True, locals_=True, symbolic=symbolic_gradients(result))
    jsonschema.validate(json.loads(json.dumps(data)), SCHEMA)
    backward = [s for s in data["explain"] if s["stage"] == "backward"]
    assert {s["ref"]: s["grad"] for s in backward}["u2"] == -60
    assert len(data["locals"]) == len(result.edges)


def test_locals_rows_are_the_edges():
    result = differentiate("(a+b)*b^3", a=7, b=3, edges=True)
    rows = locals_rows(result, 6)
    assert ("b → #4", "∂#4/∂b", "3*b^2", "27", "10", "270") in rows
    assert len(rows) == len(result.edges) == 5
    assert math.fsum(float(r[5]) for r in rows if r[0].startswith("b ")) == 297


def test_kinks_are_named_with_their_convention():
    result = differentiate("max(x, y)*relu(z) + abs(x - y)", x=1, y=1, z=0, edges=True)
    assert [result.graph.ops[n].name for n in result.kinks] == ["max", "relu", "abs"]
    text = explain_text(result, 6)
    assert "[a tie splits the gradient evenly: 1/2 to each] = 0.5" in text
    assert "[relu'(0) = 0] = 0" in text
    assert differentiate("max(x, y)", x=1, y=2).kinks == []
