"""Big graphs: the table's summary (--top K, --only named, --all) and collapsed
pictures, end to end through the CLI.

Oracles: the summary's top-K rows are recomputed from the API's gradients by sorting;
a collapsed picture must be acyclic, keep reachability between the nodes it shows
exactly (a path in the picture iff a path in the graph, computed by brute force), keep
every direct edge between them, and count every hidden node once. Golden files in
tests/golden/summary/ (BPDIFF_UPDATE_GOLDEN=1 rewrites them).
"""

import io
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import bpdiff
from bpdiff.engine.graph import CONST
from bpdiff.render import collapse, table
from bpdiff.render.selection import DEFAULT_TOP, named
from conftest import check_golden, run_main
from test_random_expressions import programs, values

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "summary"
# 150 terms, 450 nodes: over the default --max-nodes 200. Named: a, b, s; inputs x, y.
BIG = "a = x*y; b = sin(a)\n" + "s = " + " + ".join(
    f"{k}*a*x" if k % 3 else f"b*{k}" for k in range(1, 151)) + "\ns*y"
BIG_VALUES = ("--x", "0.5", "--y", "2")


def cli(*args):
    code, out, err = run_main(*args)
    assert code == 0, err
    return out




def table_ids(text):
    """Node ids of the rows of a plain table, in order."""
    lines = text.splitlines()
    assert lines[0].split()[0] == "id" and set(lines[1]) <= {"-", " "}
    ids = []
    for line in lines[2:]:
        if not re.match(r"\s*\d+  \S", line):  # a row, not the note
            break
        ids.append(int(line.split()[0]))
    return ids


def expected_summary(result, k):
    """Ids the summary must show: output, inputs, named, and the k unnamed nodes with
    the largest |gradient| (ties to the lower id), output first."""
    graph = result.graph
    keep = {graph.output, *graph.name_of}
    unnamed = sorted((i for i in range(len(graph)) if i not in keep
                      and result.grads[i] is not None),
                     key=lambda i: (-abs(result.grads[i]), i))
    return sorted(keep | set(unnamed[:k]), reverse=True)


# ---------------------------------------------------------------------------------------
# The table


def test_over_the_limit_the_table_keeps_named_nodes_and_the_largest_gradients():
    result = bpdiff.differentiate(BIG, x=0.5, y=2)
    assert len(result.graph) > 200
    text = cli(BIG, *BIG_VALUES)
    shown = table_ids(text)
    assert shown == expected_summary(result, DEFAULT_TOP)
    hidden = len(result.graph) - len(shown)
    assert (f"{hidden:,} of {len(result.graph):,} nodes hidden: showing the output, inputs,"
            f" named intermediates and the {DEFAULT_TOP} nodes with the largest |gradient|"
            " (--all shows every node)") in text
    assert text.rstrip().splitlines()[-1].startswith("out = ")  # the summary line stays


@pytest.mark.parametrize("k", [0, 1, 3, 25])
def test_top_k(k):
    result = bpdiff.differentiate(BIG, x=0.5, y=2)
    text = cli(BIG, *BIG_VALUES, "--top", str(k))
    assert table_ids(text) == expected_summary(result, k)
    assert ("the output, inputs and named intermediates (" in text) == (k == 0)


def test_only_named_at_any_size():
    program = "d = 2b; e = a + d*d; L = c*e + sin(e)"
    result = bpdiff.differentiate(program, a=1, b=2, c=3)
    text = cli(program, "--a", "1", "--b", "2", "--c", "3", "--only", "named")
    graph = result.graph
    assert table_ids(text) == sorted({graph.output, *graph.name_of}, reverse=True)
    assert f"{len(graph) - len(table_ids(text))} of {len(graph)} nodes hidden" in text
    with_top = cli(program, "--a", "1", "--b", "2", "--c", "3", "--only", "named", "--top", "2")
    assert table_ids(with_top) == expected_summary(result, 2)


def test_under_the_limit_everything_is_shown_and_all_shows_everything_above():
    program = "d = 2b; L = d*a + sin(d)"
    text = cli(program, "--a", "1", "--b", "2", "--top", "1")
    assert len(table_ids(text)) == len(bpdiff.differentiate(program, a=1, b=2).graph)
    assert "hidden" not in text
    everything = cli(BIG, *BIG_VALUES, "--all")
    assert len(table_ids(everything)) == len(bpdiff.differentiate(BIG, x=0.5, y=2).graph)


def test_nothing_hidden_means_no_note():
    text = cli("a = x*y; b = a + x", "--x", "1", "--y", "2", "--only", "named")
    assert "hidden" not in text


def test_the_rich_table_shows_the_same_rows():
    from rich.console import Console

    result = bpdiff.differentiate(BIG, x=0.5, y=2)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    for renderable in table.rich_table(result, 6, 200, top=3):
        console.print(renderable)
    printed = console.file.getvalue()
    rows = [int(line.split("│")[1]) for line in printed.splitlines()
            if re.match(r"│\s*\d+\s*│", line)]
    assert rows == expected_summary(result, 3)
    assert "nodes hidden" in printed


def test_sheets_follow_the_summary():
    result = bpdiff.differentiate(BIG, x=0.5, y=2)
    text = cli(BIG, *BIG_VALUES, "--format", "markdown", "--only", "named")
    ids = [int(line.split("|")[1]) for line in text.splitlines()[2:] if line.startswith("| ")]
    assert ids == sorted(named(result.graph), reverse=True)
    assert "nodes hidden" in text


@pytest.mark.parametrize("extra", [["--all", "--top", "3"], ["--all", "--only", "named"],
                                   ["--only", "everything"], ["--top", "-1"]])
def test_usage_errors(extra):
    code, out, err = run_main("x*y", "--x", "1", "--y", "2", *extra)
    assert code == 2 and out == ""


# ---------------------------------------------------------------------------------------
# Collapsed pictures: properties


def reachability(graph):
    """reach[i]: the set of nodes with a path to node i (i itself included)."""
    reach = []
    for node, sources in enumerate(graph.inputs):
        mine = {node}
        for source in sources:
            mine |= reach[source]
        reach.append(mine)
    return reach


def picture_reachability(view):
    """For each drawn item, the drawn items with a path to it in the picture; fails if
    the picture has a cycle."""
    edges = {}
    for node, _, source in view.uses:
        edges.setdefault(source, set()).add(node)
    for source, target, _ in view.links:
        edges.setdefault(source, set()).add(target)
    items = set(view.nodes) | set(view.groups) | set(edges) | {t for ts in edges.values()
                                                               for t in ts}
    indegree = dict.fromkeys(items, 0)
    for targets in edges.values():
        for target in targets:
            indegree[target] += 1
    order = [item for item in items if indegree[item] == 0]
    reach = {item: {item} for item in items}
    for item in order:  # Kahn's algorithm; `order` grows as it goes
        for target in edges.get(item, ()):
            reach[target] |= reach[item]
            indegree[target] -= 1
            if indegree[target] == 0:
                order.append(target)
    assert len(order) == len(items), "the collapsed picture has a cycle"
    return reach


def check_view(result, keep, view):
    graph = result.graph
    shown = sorted(keep)
    constants = {i for i in view.nodes if i not in keep}
    assert all(graph.ops[i] is CONST for i in constants)
    assert set(view.nodes) == set(keep) | {s for i in keep for s in graph.inputs[i]
                                           if graph.ops[s] is CONST}
    hidden = [i for i in range(len(graph)) if i not in keep and graph.ops[i] is not CONST]
    assert sum(view.groups.values()) + sum(c for _, _, c in view.links if c) == len(hidden)
    assert all(size > 0 for size in view.groups.values())
    direct = {(node, position, source) for node in keep
              for position, source in enumerate(graph.inputs[node])
              if source in keep or graph.ops[source] is CONST}
    assert set(view.uses) == direct
    real, drawn = reachability(graph), picture_reachability(view)
    for target in shown:
        for source in shown:
            assert (source in real[target]) == (source in drawn[target]), (source, target)


@settings(max_examples=120, deadline=None)
@given(programs(), st.data())
def test_collapsed_pictures_keep_paths_and_count_every_hidden_node(case, data):
    text, _, declared, _ = case
    point = {name: data.draw(values, label=name) for name in sorted(declared)}
    result = bpdiff.differentiate(text, point)
    keep = named(result.graph)
    top = data.draw(st.integers(0, 3), label="top")
    view = collapse.picture_view(result, None, top=top, only="named")
    keep = keep | set(i for i in view.nodes if result.graph.ops[i] is not CONST)
    check_view(result, keep, view)


def test_the_big_example_collapses():
    result = bpdiff.differentiate(BIG, x=0.5, y=2)
    view = collapse.picture_view(result, 200, top=None, only="named")
    check_view(result, named(result.graph), view)
    assert len(view.nodes) < 10 and len(view.groups) + len(view.links) < 12


def test_a_chain_is_one_edge():
    result = bpdiff.differentiate("y = " + "sin(" * 50 + "x" + ")" * 50 + "; y*2", x=1)
    view = collapse.picture_view(result, 200, only="named")
    assert view.groups == {} and (0, result.graph.names["y"], 49) in view.links


# ---------------------------------------------------------------------------------------
# Collapsed pictures through the CLI


def test_over_the_limit_pictures_need_a_choice():
    code, out, err = run_main(BIG, *BIG_VALUES, "--dot")
    assert code == 2 and out == "" and "--only named or --top K" in err and "--force" in err
    assert "digraph" in cli(BIG, *BIG_VALUES, "--dot", "--top", "2")
    assert "digraph" in cli(BIG, *BIG_VALUES, "--dot", "--force")


def test_too_many_named_nodes_are_refused():
    program = "\n".join(f"v{k} = x*{k + 1}" for k in range(30)) + "\n" + "+".join(
        f"v{k}" for k in range(30))
    code, out, err = run_main(program, "--x", "1", "--mermaid", "--only", "named",
                              "--max-nodes", "20")
    assert code == 2 and out == "" and "--max-nodes" in err


@pytest.mark.filterwarnings("ignore:'.*' deprecated - use:DeprecationWarning")
def test_dot_of_a_collapsed_picture_parses():
    pydot = pytest.importorskip("pydot")
    text = cli(BIG, *BIG_VALUES, "--dot", "--only", "named")
    (graph,) = pydot.graph_from_dot_data(text)
    names = {n.get_name() for n in graph.get_nodes()} - {"graph", "node", "edge"}
    assert any(name.startswith("g") for name in names)
    labels = [e.get("label") for e in graph.get_edges() if e.get("label")]
    assert any("nodes" in label for label in labels) or any(
        "nodes" in (n.get("label") or "") for n in graph.get_nodes())


DEPTH = 100_000


def test_a_deep_chain_collapses_to_one_edge(tmp_path):
    path = tmp_path / "deep.bp"
    path.write_text("y = " + "-" * DEPTH + "x\ny*y")
    text = cli("-f", str(path), "--x", "2", "--tree", "--only", "named")
    assert text.splitlines()[1:] == [  # y's outermost negation is y itself
        "├── #100000 y = -#99999  neg  value 2  grad 4",
        f"│   └── … {DEPTH - 1:,} nodes",
        "│       └── #0 x  var  value 2  grad 4",
        "└── ↺ #100000 y (shared, see above)"]


@pytest.mark.parametrize("flag, suffix", [("--dot", "dot"), ("--mermaid", "mmd"),
                                          ("--tree", "tree.txt")])
@pytest.mark.parametrize("name", ["regress_nn_unrolled", "big"])
def test_golden_collapsed(flag, suffix, name):
    if name == "big":
        args = [BIG, *BIG_VALUES, "--top", "2"]
    else:
        args = ["-f", str(ROOT / "examples" / f"{name}.bp"), "--only", "named"]
    check_golden(GOLDEN / f"{name}.{suffix}", cli(*args, flag))


def test_svg_of_a_collapsed_picture(tmp_path):
    if not shutil.which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    target = tmp_path / "big.svg"
    cli(BIG, *BIG_VALUES, "--render", str(target), "--only", "named")
    assert "… " in target.read_text() and "<svg" in target.read_text()
