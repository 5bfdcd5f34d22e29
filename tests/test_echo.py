"""`--parse`: how a program was read, through the CLI. The reading must parse back to
the very graph the program gave (a round trip through bpdiff's own parser), and be fully
parenthesised (its shape does not change when every operator gets the same precedence,
checked with Python's ast). Golden files in tests/golden/echo/ (BPDIFF_UPDATE_GOLDEN=1
rewrites them)."""

import ast
import json
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings

import bpdiff
from bpdiff.engine.graph import CONST, VAR
from bpdiff.language.parse import parse
from conftest import check_golden, run_main
from test_random_expressions import programs

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "echo"
SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "parse.schema.json").read_text())


def echo(*args):
    code, out, err = run_main(*args, "--parse")
    assert code == 0, err
    assert err == ""
    return out


def reading(*args):
    """The one line the echo reads a single expression as."""
    lines = echo(*args).splitlines()
    assert lines[0] == "read as:" and lines[2] == ""
    return lines[1].strip()


def echo_json(*args):
    code, out, err = run_main(*args, "--parse", "--json")
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    return data


def structure(graph):
    """A graph as comparable data: (op, inputs, payload) per node, names."""
    ops = [op if op in (CONST, VAR) else op.name for op in graph.ops]
    return list(zip(ops, graph.inputs, graph.payload)), graph.name_of, graph.output


def as_program(data):
    """The statements of a --parse --json object, written back as a program (ending in
    the output's name when a later statement is not used)."""
    text = "; ".join(s["reads"] if s["name"] is None else f"{s['name']} = {s['reads']}"
                     for s in data["statements"])
    last = data["statements"][-1]
    if last["node"] != data["output"]:
        output, = (s["name"] for s in data["statements"] if s["node"] == data["output"])
        text += f"; {output}"
    return text


_BINARY = re.compile(r" (\+|-|\*|/|\^) ")


def shape(text, operator):
    """The tree Python reads `text` as, with every binary operator of the reading made
    `operator` and operator types erased: the same for every choice of operator only
    when the text is fully parenthesised."""
    python = _BINARY.sub(f" {operator} ", text)
    dump = ast.dump(ast.parse(python, mode="eval"))
    return re.sub(r"op=\w+\(\)", "op", dump)


def assert_fully_parenthesised(text):
    shapes = {shape(text, op) for op in ("**", "-", "*", "+")}
    assert len(shapes) == 1, text


# ---------------------------------------------------------------------------------------
# How single expressions are read


@pytest.mark.parametrize("program, expected", [
    ("2x^2 - -y", "(2 * (x ^ 2)) - (-y)"),
    ("a/2b", "(a / 2) * b"),
    ("c(a+2b)", "c * (a + (2 * b))"),
    ("-x^2", "-(x ^ 2)"),
    ("2^3^2", "2 ^ (3 ^ 2)"),
    ("(2^3)^2", "(2 ^ 3) ^ 2"),
    ("2(a+b)", "2 * (a + b)"),
    ("(a+b)(c+d)", "(a + b) * (c + d)"),
    ("2(a)(b)c", "((2 * a) * b) * c"),
    ("2x y", "(2 * x) * y"),
    ("x(y)", "x * y"),  # x is not a function: a product
    ("1e-3x", "0.001 * x"),
    (".5a", "0.5 * a"),
    ("2.50 * x", "2.5 * x"),
    ("a·b × c ÷ d − g", "(((a * b) * c) / d) - g"),
    ("a ** b ** c", "a ^ (b ^ c)"),
    ("pow(a, b + 1)", "a ^ (b + 1)"),
    ("ln(x) + sigma(y)", "log(x) + sigmoid(y)"),
    ("max(a + b, -c)", "max(a + b, -c)"),
    ("sin(cos(x)^2)", "sin(cos(x) ^ 2)"),
    ("-(-x)", "-(-x)"),
    ("- -x", "-(-x)"),
    ("+x", "x"),
    ("-x*y", "(-x) * y"),  # unary minus binds tighter than *
    ("a - b - c", "(a - b) - c"),
    ("a - (b - c)", "a - (b - c)"),
    ("a/b/c", "(a / b) / c"),
    ("x^-1", "x ^ (-1)"),
    ("(((x)))", "x"),
    ("x", "x"),
    ("3", "3"),
    ("(a+b)*(a+b)", "(a + b) * (a + b)"),  # one shared node, read twice
])
def test_reading(program, expected):
    assert reading(program) == expected
    assert_fully_parenthesised(expected)
    assert structure(parse(expected, share=False)) == structure(parse(program, share=False))


def test_no_values_are_needed_and_given_ones_are_ignored():
    assert reading("x*y") == "x * y"
    assert reading("x*y") == echo("x*y", "--x", "2", "--y", "nonsense").splitlines()[1].strip()
    assert echo("x*y", "--vars", "no-such-file.json")  # not even read


def test_statements_defaults_and_unused_ones():
    out = echo("a = 7; b = -2.5\nd = 2b  # twice b\ne = a + d; junk = a*a; L = c*e")
    assert out.splitlines()[:7] == [
        "read as:",
        "  a = 7   (input with a default)",
        "  b = -2.5   (input with a default)",
        "  d = 2 * b",
        "  e = a + d",
        "  junk = a * a   (not used by the output)",
        "  L = c * e   (output)",
    ]


def test_output_option_and_copies():
    out = echo("d = b; e = d; L = e*2", "--output", "e")
    assert "  d = b\n  e = d   (output)\n  L = e * 2   (not used by the output)\n" in out


def test_the_reading_is_as_written_though_sharing_merges_it():
    data = echo_json("d = a+b; e = (a+b)*2")
    assert as_program(data) == "d = a + b; e = (a + b) * 2"  # not `d * 2`
    assert [s["used"] for s in data["statements"]] == [True, True]  # e's a+b is node d
    nodes = {n["id"]: n for n in data["nodes"]}
    e = nodes[data["output"]]
    assert e["expression"] == "d * 2" and nodes[e["inputs"][0]]["name"] == "d"
    apart = echo_json("d = a+b; e = (a+b)*2", "--no-share")
    assert apart["shared"] is False and len(apart["nodes"]) == 5  # d is not used
    assert [s["used"] for s in apart["statements"]] == [False, True]
    text = echo("(x+1)*(x+1) + 2")
    assert text.splitlines()[3] == (  # x, 1, x+1, *, 2, +; x+1 and 1 written twice
        "6 nodes (output first; ids as in the table); sharing merged 2 repeated"
        " subexpressions or constant into one node (--no-share keeps them apart):")


def test_node_ids_match_the_table():
    program = "d = 2b; e = a + d; L = c*e"
    data = echo_json(program)
    code, out, _ = run_main(program, "--a", "1", "--b", "2", "--c", "3", "--json")
    evaluated = json.loads(out)["nodes"]
    assert [(n["id"], n["op"], n["inputs"], n["name"]) for n in data["nodes"]] == \
           [(n["id"], n["op"], n["inputs"], n["name"]) for n in evaluated]


def test_json_shape():
    data = echo_json("a = 7; f = sin(a) * x")
    assert data["statements"] == [
        {"name": "a", "reads": "7", "default": True, "used": True, "node": 0},
        {"name": "f", "reads": "sin(a) * x", "default": False, "used": True, "node": 3}]
    assert data["inputs"] == ["a", "x"] and data["defaults"] == {"a": 7}
    assert data["nodes"][0] == {"id": 3, "op": "mul", "inputs": [1, 2], "name": "f",
                                "expression": "#1 * x"}


@pytest.mark.parametrize("extra, clash", [
    (["--explain"], "--explain"), (["--locals"], "--locals"), (["--symbolic"], "--symbolic"),
    (["--dot"], "pictures"), (["--expect", "a=1"], "--expect"), (["--gradcheck"], "--gradcheck"),
    (["--exact"], "--exact"), (["--format", "latex"], "--format"), (["--top", "3"], "--top"),
])
def test_usage_errors(extra, clash):
    code, out, err = run_main("x*y", "--parse", *extra)
    assert code == 2 and out == "" and clash in err


@pytest.mark.parametrize("program", ["x +", "", "(a", "sin()", "b = a; a = 2"])
def test_bad_programs_are_still_errors(program):
    code, out, err = run_main(program, "--parse")
    assert code == 2 and out == "" and "error" in err


def test_big_node_lists_are_summarised():
    program = "\n".join(["s0 = x"] + [f"s{k} = s{k - 1}*x + {k}" for k in range(1, 150)])
    out = echo(program)
    assert "149 of" not in out and "nodes hidden" in out
    assert len(echo(program, "--all").splitlines()) > 450


# ---------------------------------------------------------------------------------------
# Round trip: the reading parses back to the same graph


@settings(max_examples=150)
@given(programs())
def test_random_programs_read_back_to_the_same_graph(case):
    text = case[0]
    data = echo_json(text)
    again = as_program(data)
    assert structure(parse(again, share=False)) == structure(parse(text, share=False))
    for statement in data["statements"]:
        if not statement["default"]:
            assert_fully_parenthesised(statement["reads"])


# ---------------------------------------------------------------------------------------
# 100,000-deep nesting: no recursion, linear time

DEPTH = 100_000


@pytest.fixture
def from_file(tmp_path):
    """Arguments reading a program from a file (a program may start with '-')."""
    def args(text):
        path = tmp_path / "deep.bp"
        path.write_text(text)
        return "-f", str(path)
    return args


def test_deep_negation(from_file):
    text = reading(*from_file("-" * DEPTH + "x"))
    assert text == "-(" * (DEPTH - 1) + "-x" + ")" * (DEPTH - 1)


def test_deep_parentheses_and_calls(from_file):
    assert reading(*from_file("(" * DEPTH + "x" + ")" * DEPTH)) == "x"
    deep_calls = "sin(" * DEPTH + "x" + ")" * DEPTH
    assert reading(*from_file(deep_calls)) == deep_calls


def test_deep_binary_nesting_and_powers(from_file):
    text = reading(*from_file("(" * DEPTH + "x" + "+1)*2" * DEPTH))
    assert text.startswith("(" * (2 * DEPTH - 1) + "x + 1) * 2) + 1) * 2)")
    assert text.endswith(" + 1) * 2") and text.count("(") == text.count(")") == 2 * DEPTH - 1
    power = reading(*from_file("^".join(["2"] * DEPTH + ["x"])))
    assert power == "2 ^ (" * (DEPTH - 1) + "2 ^ x" + ")" * (DEPTH - 1)


def test_deep_json(from_file):
    code, out, _ = run_main(*from_file("-" * DEPTH + "x"), "--parse", "--json")
    data = json.loads(out)  # (validating 100,001 nodes against the schema is slow)
    assert len(data["nodes"]) == DEPTH + 1
    assert data["statements"][0]["reads"].endswith("(-x" + ")" * (DEPTH - 1))


# ---------------------------------------------------------------------------------------
# Golden files

GOLDEN_CASES = {
    "implicit": ["2x^2 - -y"],
    "statements": ["a = 7; b = -2.5; d = a+b; e = (a+b)*2 # d is shared\nL = c(e + 2b)"],
    "unicode": ["u = x·y; v = u × 2 − ln(x) ÷ sigma(y)**2"],
    "no_share": ["(x+1)*(x+1)", "--no-share"],
}


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden(case):
    text = echo(*GOLDEN_CASES[case])
    text += echo_text_json(*GOLDEN_CASES[case])
    check_golden(GOLDEN / f"{case}.txt", text)


def echo_text_json(*args):
    return json.dumps(echo_json(*args), ensure_ascii=False, indent=1) + "\n"


@pytest.mark.parametrize("example", ["dag", "cab2b", "advanced_u1_u4", "sigmoid_neuron"])
def test_examples_read_back(example):
    text = (ROOT / "examples" / f"{example}.bp").read_text()
    data = echo_json("-f", str(ROOT / "examples" / f"{example}.bp"))
    assert structure(parse(as_program(data), share=False)) == structure(parse(text, share=False))
