"""Pictures: DOT and Mermaid text (golden files, parsed structurally), the rich tree, and
rendering through Graphviz's `dot`.

Golden files live in tests/golden/pictures/; after an intended change to the output,
regenerate them with `BPDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_pictures.py` and
review the diff. DOT text is parsed with pydot (skipped if it is not installed); SVG, PNG
and PDF are drawn when Graphviz's `dot` is on PATH (skipped otherwise).
"""

import io
import math
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import check_golden
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.engine.autodiff import Edge
from bpdiff.errors import BpdiffError
from bpdiff.engine.graph import CONST, VAR
from bpdiff.render import pictures
from bpdiff.language.labels import label
from bpdiff.numbers import format_number

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "pictures"
EXAMPLES = ("dag", "cab2b", "advanced_u1_u4", "sigmoid_neuron")

try:
    import pydot
except ImportError:  # pragma: no cover - pydot is in the test extra
    pydot = None
needs_pydot = pytest.mark.skipif(pydot is None, reason="pydot is not installed")
# pydot's parser uses pyparsing names that newer pyparsing deprecates
pytestmark = pytest.mark.filterwarnings("ignore:'.*' deprecated - use:DeprecationWarning")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed")


def example(name):
    return bpdiff.differentiate((ROOT / "examples" / f"{name}.bp").read_text(), edges=True)




def uses(graph):
    """Every (source, node, position): one per use of an input, in node order."""
    return [(source, node, position) for node, sources in enumerate(graph.inputs)
            for position, source in enumerate(sources)]


def tree_text(result, width=100, **options):
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(pictures.tree(result, **options))
    return console.export_text()


def same_number(text, x):
    """`text` (as printed) stands for exactly the float `x`."""
    y = float(text)
    return (math.isnan(x) and math.isnan(y)) or y == x


# ---------------------------------------------------------------------------------------
# Golden files


@pytest.mark.parametrize("name", EXAMPLES)
def test_dot_golden(name):
    check_golden(GOLDEN / f"{name}.dot", pictures.dot(example(name)))


@pytest.mark.parametrize("name", EXAMPLES)
def test_mermaid_golden(name):
    check_golden(GOLDEN / f"{name}.mmd", pictures.mermaid(example(name)))


@pytest.mark.parametrize("name", ["dag", "advanced_u1_u4"])
def test_tree_golden(name):
    check_golden(GOLDEN / f"{name}.tree.txt", tree_text(example(name)))


# ---------------------------------------------------------------------------------------
# DOT, parsed with pydot


def parse_dot(text):
    graphs = pydot.graph_from_dot_data(text)
    assert graphs and len(graphs) == 1, "pydot could not parse the DOT text"
    return graphs[0]


def unquote(value):
    """A pydot attribute value as the text it stands for."""
    assert value.startswith('"') and value.endswith('"'), value
    return re.sub(r'\\(["\\])', r"\1", value[1:-1])


def check_dot_structure(result, text, precision):
    graph = result.graph
    parsed = parse_dot(text)
    assert parsed.get_type() == "digraph" and parsed.get_name() == "bpdiff"
    assert parsed.get("rankdir") == "BT"
    nodes = {n.get_name(): n for n in parsed.get_nodes()
             if n.get_name() not in ("graph", "node", "edge")}
    assert set(nodes) == {f"n{i}" for i in range(len(graph.ops))}
    edges = parsed.get_edges()
    assert len(edges) == len(uses(graph))
    by_use = {(e.node, e.position): e for e in result.edges}
    seen = Counter()
    for drawn in edges:
        node, position = map(int, unquote(drawn.get("id"))[1:].split("_"))
        source = graph.inputs[node][position]
        assert (drawn.get_source(), drawn.get_destination()) == (f"n{source}", f"n{node}")
        seen[node, position] += 1
        edge = by_use.get((node, position))
        if edge is None:  # a use whose source has no gradient: drawn plainly
            assert result.grads[source] is None and drawn.get("label") is None
            continue
        shown = unquote(drawn.get("label"))
        assert shown.startswith("∂")
        number = shown.rsplit(" = ", 1)[1]
        assert number == format_number(edge.local, precision)
        assert same_number(number, edge.local) or precision < 17
    assert set(seen) == {(n, p) for _, n, p in uses(graph)} and max(seen.values(), default=1) == 1
    return nodes


@needs_pydot
@pytest.mark.parametrize("name", EXAMPLES)
def test_dot_parses_with_one_node_per_node_and_one_edge_per_use(name):
    result = example(name)
    nodes = check_dot_structure(result, pictures.dot(result), 6)
    check_dot_structure(result, pictures.dot(result, precision=17), 17)
    graph = result.graph
    for i, node in nodes.items():
        i = int(i[1:])
        shown = node.get("label")
        assert shown.startswith("<<") and shown.endswith(">>")  # an HTML-like label
        assert label(graph, i) in shown.replace("&gt;", ">").replace("&lt;", "<")
        assert f"value {format_number(result.values[i])}" in shown or \
            f">{format_number(result.values[i])}<" in shown
        assert f"grad {format_number(result.grads[i])}" in shown or \
            f"<B>{format_number(result.grads[i])}</B>" in shown
    output = nodes[f"n{graph.output}"]
    assert output.get("penwidth") is not None and "(output)" in output.get("label")
    for i, op in enumerate(graph.ops):
        if op is VAR and i != graph.output:
            assert nodes[f"n{i}"].get("fillcolor") == '"#dbeafe"'
        if op is CONST:
            assert "grad —" in nodes[f"n{i}"].get("label")
            assert nodes[f"n{i}"].get("fontsize") == "9"


def test_dot_edge_labels_show_formula_and_value():
    text = pictures.dot(example("advanced_u1_u4"))
    assert 'label="∂u_4/∂u_2 = 2*u_2 = -4"' in text  # u_4 = u_2^2
    assert 'label="∂u_1/∂x_1 = 1"' in text  # a formula that is just the value is not repeated
    assert 'tooltip="upstream 10 × local -4 = -40"' in text
    assert "n1 -> n8 [id=\"e8_1\", color=\"#9ca3af\", style=dashed];" in text  # the constant 2


def test_dot_draws_each_use_of_a_shared_node():
    result = bpdiff.differentiate("x*x", x=3, edges=True)
    text = pictures.dot(result)
    assert text.count("n0 -> n1 ") == 2
    assert 'id="e1_0"' in text and 'id="e1_1"' in text


def test_dot_quote_escapes_quotes_and_backslashes():
    assert pictures.dot_quote('say "hi" \\N') == '"say \\"hi\\" \\\\N"'
    assert pictures.dot_quote("a\nb") == '"a\\nb"'
    assert pictures.dot_quote("#2 * (b^3)") == '"#2 * (b^3)"'  # nothing else is special


@needs_pydot
def test_dot_quote_round_trips_through_pydot():
    nasty = 'a "quoted" \\ back#slash * (x^2)'
    parsed = parse_dot(f"digraph g {{ a -> b [label={pictures.dot_quote(nasty)}]; }}")
    assert unquote(parsed.get_edges()[0].get("label")) == nasty


def test_renderers_only_read_the_result():
    """Values, gradients and edge numbers are shown as the Result holds them."""
    result = bpdiff.differentiate("(a+b)*b^3", a=7, b=3, edges=True)
    graph = result.graph
    result.values = [1000.0 + i for i in range(len(graph.ops))]
    result.grads = [None if op is CONST else 2000.0 + i for i, op in enumerate(graph.ops)]
    result.recorded_edges = [Edge(node, position, source, 3000.0 + k, 1.0, 3000.0 + k)
                                for k, (source, node, position) in enumerate(
                                    u for u in uses(graph) if graph.ops[u[0]] is not CONST)]
    dot_text, mermaid_text = pictures.dot(result), pictures.mermaid(result)
    text = tree_text(result)
    for i in range(len(graph.ops)):
        for shown in (dot_text, mermaid_text):
            assert str(1000 + i) in shown
            if graph.ops[i] is not CONST:
                assert str(2000 + i) in shown
        assert f"value {1000 + i}" in text
    for edge in result.edges:
        assert f"= {edge.local:g}\"" in dot_text and f"= {edge.local:g}\"|" in mermaid_text


# ---------------------------------------------------------------------------------------
# Mermaid, checked line by line

NODE_LINE = re.compile(r'^    n(\d+)\["([^"]*)"\]$')
ARROW_LINE = re.compile(r'^    n(\d+) (?:-->\|"([^"]*)"\||-\.->) n(\d+)$')


def check_mermaid_structure(result, text, precision=6):
    graph = result.graph
    lines = text.splitlines()
    assert lines[0] == "flowchart BT"
    node_lines = [NODE_LINE.match(line) for line in lines if NODE_LINE.match(line)]
    arrows = [ARROW_LINE.match(line) for line in lines if ARROW_LINE.match(line)]
    others = [line for line in lines[1:]
              if not NODE_LINE.match(line) and not ARROW_LINE.match(line)]
    assert all(line.startswith(("    classDef ", "    class ")) for line in others), others
    assert [int(m[1]) for m in node_lines] == list(range(len(graph.ops)))
    for m in node_lines:
        i = int(m[1])
        parts = m[2].split("<br/>")
        assert parts[0].split(" = ")[0] == label(graph, i)
        assert parts[2] == f"value {format_number(result.values[i], precision)}"
        assert parts[3] == f"grad {format_number(result.grads[i], precision)}"
    assert len(arrows) == len(uses(graph))
    by_use = {(e.node, e.position): e for e in result.edges}
    for m, (source, node, position) in zip(arrows, uses(graph)):
        assert (int(m[1]), int(m[3])) == (source, node)
        edge = by_use.get((node, position))
        if edge is None:
            assert m[2] is None and result.grads[source] is None
        else:
            assert m[2].rsplit(" = ", 1)[1] == format_number(edge.local, precision)
    output_class = [line for line in lines if line.endswith(" output") and "class " in line]
    assert output_class == [f"    class n{graph.output} output"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_mermaid_structure(name):
    result = example(name)
    check_mermaid_structure(result, pictures.mermaid(result))
    check_mermaid_structure(result, pictures.mermaid(result, precision=3), 3)


def test_mermaid_quote_uses_entity_codes():
    assert pictures.mermaid_quote('say "hi"') == '"say #quot;hi#quot;"'
    assert pictures.mermaid_quote("a<b>&c`d|e;") == '"a#lt;b#gt;#amp;c#96;d#124;e#59;"'
    assert pictures.mermaid_quote("#2 * #4") == '"#2 * #4"'  # no `;`: no entity code
    assert pictures.mermaid_quote("#35;") == '"#35#59;"'  # cannot turn into one
    assert pictures.mermaid_quote("a\nb") == '"a<br/>b"'


def test_mermaid_constants_are_dotted_and_unlabelled():
    text = pictures.mermaid(bpdiff.differentiate("2*3 + x", x=1, edges=True))
    assert "    n0 -.-> n2\n    n1 -.-> n2\n    n2 -.-> n4\n" in text
    assert '    n3 -->|"∂out/∂x = 1"| n4\n' in text
    assert "    class n0,n1,n2 constant\n" in text


# ---------------------------------------------------------------------------------------
# rich tree


def test_tree_shows_a_shared_subexpression_once_then_refers_to_it():
    result = bpdiff.differentiate("(a+b)*(a+b)", a=1, b=2)
    assert result.graph.inputs[3] == (2, 2)  # one node for a + b, used twice
    lines = tree_text(result).splitlines()
    assert lines[0] == "#3 #2 * #2  mul  value 9  grad 1"
    assert [line[4:] for line in lines[1:]] == [
        "#2 a + b  add  value 3  grad 6",
        "├── #0 a  var  value 1  grad 6",
        "└── #1 b  var  value 2  grad 6",
        "↺ #2 a + b (shared, see above)",
    ]


def test_tree_of_the_dag_example():
    text = tree_text(example("dag"))
    assert text.count("add  value 10  grad 27") == 1  # c = a + b
    full_b = [line for line in text.splitlines() if " b  var  value 3  grad 297" in line]
    refs_b = [line for line in text.splitlines() if "↺" in line]
    assert len(full_b) == 1 and len(refs_b) == 1 and " b (shared, see above)" in refs_b[0]
    assert text.index(full_b[0]) < text.index(refs_b[0])  # the full line comes first


def test_tree_without_sharing_repeats_the_tree_as_written():
    text = tree_text(bpdiff.differentiate("(a+b)*(a+b)", a=1, b=2, share=False))
    assert text.count("add  value 3  grad 3") == 2
    assert text.count("↺") == 2  # the inputs a and b are always shared


def test_tree_refuses_deep_graphs_without_recursing():
    deep = bpdiff.differentiate("sin(" * 5000 + "x" + ")" * 5000, x=0.5)
    with pytest.raises(ValueError, match="5001 levels deep"):
        pictures.tree(deep)
    limit = pictures.MAX_TREE_DEPTH
    ok = bpdiff.differentiate("sin(" * (limit - 1) + "x" + ")" * (limit - 1), x=0.5)
    assert pictures.depth(ok.graph) == limit
    lines = tree_text(ok, width=4 * limit + 60).splitlines()  # each level indents by 4
    assert len(lines) == limit and lines[-1].endswith("#0 x  var  value 0.5  grad 0.0127399")
    with pytest.raises(ValueError):
        pictures.tree(ok, max_depth=limit - 1)


def test_deep_graph_as_dot_and_mermaid():
    depth = 20_000
    result = bpdiff.differentiate("-" * depth + "x", x=3, edges=True)
    assert pictures.dot(result).count(" -> ") == depth
    assert pictures.mermaid(result).count(" -->|") == depth


# ---------------------------------------------------------------------------------------
# Graphviz's dot


def test_render_file_rejects_unknown_suffixes(tmp_path):
    for name in ("graph.jpg", "graph", "graph.dot"):
        with pytest.raises(BpdiffError, match=r"\.svg, \.png or \.pdf"):
            pictures.render_file("digraph { a }", tmp_path / name)


def test_render_file_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(pictures.shutil, "which", lambda name: None)
    with pytest.raises(BpdiffError) as raised:
        pictures.render_file("digraph { a }", tmp_path / "graph.svg")
    message = str(raised.value)
    assert "Graphviz" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert raised.value.exit_code == 2


@needs_dot
def test_render_file_reports_dot_errors(tmp_path):
    with pytest.raises(BpdiffError, match="syntax error"):
        pictures.render_file("digraph {", tmp_path / "broken.svg")
    with pytest.raises(BpdiffError, match="could not draw"):
        pictures.render_file("digraph { a }", tmp_path / "missing" / "dir" / "graph.svg")


@needs_dot
@pytest.mark.parametrize("name", EXAMPLES)
def test_dot_accepts_the_text_without_warnings(name):
    done = subprocess.run(["dot", "-Tsvg"], input=pictures.dot(example(name)).encode(),
                          capture_output=True, check=False)
    assert done.returncode == 0 and done.stderr == b""
    svg = done.stdout.decode()
    assert svg.count('class="node"') == len(example(name).graph.ops)


@needs_dot
def test_render_file_draws_svg_png_and_pdf(tmp_path):
    text = pictures.dot(example("dag"))
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}
    for fmt, start in magic.items():
        path = tmp_path / f"dag.{fmt.upper() if fmt == 'pdf' else fmt}"
        pictures.render_file(text, path)
        assert path.read_bytes().startswith(start)
    svg = (tmp_path / "dag.svg").read_text()
    assert "c = a + b" in svg and "∂e/∂c = d = 27" in svg


# ---------------------------------------------------------------------------------------
# Property: DOT edge labels hold exactly the backward pass's local derivatives

UNARY = ("sin", "cos", "exp", "tanh", "sigmoid", "relu", "abs", "sqrt", "log", "-")
BINARY = ("+", "-", "*", "/", "^", "max", "min")


def _combine(children):
    def unary(f, a):
        return f"-({a})" if f == "-" else f"{f}({a})"

    def binary(op, a, b):
        return f"{op}({a}, {b})" if op.isalpha() else f"({a}) {op} ({b})"

    return st.one_of(st.builds(unary, st.sampled_from(UNARY), children),
                     st.builds(binary, st.sampled_from(BINARY), children, children))


EXPRESSIONS = st.recursive(st.sampled_from(["x", "y", "x", "y", "2", "0.5", "3"]),
                           _combine, max_leaves=6)
VALUES = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0])


@needs_pydot
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(EXPRESSIONS, VALUES, VALUES, st.booleans())
def test_dot_edge_labels_equal_the_local_derivatives(text, x, y, share):
    names = {n: v for n, v in (("x", x), ("y", y)) if re.search(rf"\b{n}\b", text)}
    result = bpdiff.differentiate(text, values=names, share=share, edges=True)
    check_dot_structure(result, pictures.dot(result, precision=17), 17)
    check_mermaid_structure(result, pictures.mermaid(result))
