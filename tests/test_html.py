"""--html and --html-practice without a browser: the page is self-contained, its data is
`--json`'s, it reads without JavaScript, big graphs are summarised, and both layouts
(Graphviz's and the built-in one) give sound geometry. The browser tests are in
test_html_browser.py."""

import html
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.render import html as report_html
from bpdiff.render import layout as layouts
from bpdiff.render.explain import explain_text
from bpdiff.numbers import format_number
from bpdiff.render.table import rows
from conftest import run_main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "advanced_u1_u4.bp"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed")


def example(name="advanced_u1_u4"):
    return bpdiff.differentiate((ROOT / "examples" / f"{name}.bp").read_text(), edges=True)


def embedded(page):
    """The page's JSON data block, parsed."""
    blocks = re.findall(r'<script type="application/json" id="bpdiff-data">(.*?)</script>',
                        page, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def write(tmp_path, *args, name="report.html"):
    path = tmp_path / name
    code, out, err = run_main(*args, "--html", str(path))
    assert code == 0, err
    return path.read_text(encoding="utf-8"), out


def element_text(page, element_id):
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    return html.unescape(match.group(1))


# ---- the page -------------------------------------------------------------------------


def test_one_self_contained_file_with_no_external_urls(tmp_path):
    page, _ = write(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(?i)https?:|ftp:|//[a-z0-9.-]+\.[a-z]{2,}/", page)
    markup = re.sub(r"(?s)<script[^>]*>.*?</script>", "", page)
    attributes = re.findall(r"(?i)\s([a-z:-]+)\s*=", " ".join(re.findall(r"<[a-z][^>]*>", markup)))
    assert {"src", "srcset", "href", "xlink:href", "action", "formaction", "poster",
            "data", "background"}.isdisjoint(a.lower() for a in attributes)
    assert "id" in attributes and "viewbox" in {a.lower() for a in attributes}  # it looked
    assert set(re.findall(r"url\(([^)]*)\)", page)) <= {"#arrow", "#arrow-active"}
    for tag in ("<link", "<iframe", "<img", "<object", "<embed", "@import", "fetch(",
                "XMLHttpRequest", "<base"):
        assert tag not in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts == [' type="application/json" id="bpdiff-data"', ""]  # both inline
    assert page.count("<style>") == 1
    assert report_html.asset("report.js") in page and report_html.asset("report.css") in page


def test_css_rules_are_well_formed():
    css = re.sub(r"(?s)/\*.*?\*/", "", report_html.asset("report.css"))
    open_rules = []
    for brace in re.finditer(r"[{}]", css):
        if brace.group() == "{":  # rules nest only inside @media
            assert not open_rules or open_rules[-1].startswith("@media")
            open_rules.append(re.split(r"[{}]", css[:brace.start()])[-1].strip())
        else:
            assert open_rules
            open_rules.pop()
    assert open_rules == []
    css = re.sub(r"@media[^{]*\{", "", css).replace("} }", "}")
    for body in re.findall(r"\{([^}]*)\}", css):  # every declaration is `property: value`
        for declaration in filter(str.strip, body.split(";")):
            assert re.fullmatch(r"\s*(--)?[a-z][a-z-]*\s*:\s*\S.*", declaration, re.S), declaration
    outside = re.sub(r"\{[^}]*\}", "", css)
    assert ":" not in re.sub(r":(root|focus-visible|focus|hover|disabled|first-child)\b", "",
                             outside)


def test_embedded_data_is_the_json_output(tmp_path):
    page, _ = write(tmp_path, "-f", str(EXAMPLE))
    code, out, _ = run_main("-f", str(EXAMPLE), "--json", "--explain", "--locals")
    assert code == 0
    data = embedded(page)
    assert data["result"] == json.loads(out)
    view = data["view"]
    assert [s["node"] for s in view["steps"]] == [s["node"] for s in data["result"]["explain"]]
    assert view["practice"] is False and view["summary"] is False


def test_the_data_cannot_end_its_script_element(tmp_path):
    program = "x*2  # </script><script>alert(1)</script><!-- & é\n"
    page, _ = write(tmp_path, program, "--x", "3")
    assert page.count("</script>") == 2  # the data block's and the code's own
    assert "<!--" not in page
    assert embedded(page)["result"]["expression"] == program
    assert "&lt;/script&gt;" in page  # the program as shown is escaped too


def test_written_by_the_cli_alongside_the_table_and_json(tmp_path):
    page, out = write(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3")
    assert out == ""  # the page replaces the table (tests/test_written_files.py)
    page, out = write(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3", "--table")
    assert out.startswith("id  label")  # unless --table asks for it
    practice = tmp_path / "practice.html"
    code, out, _ = run_main("(a+b)*b^3", "--a", "7", "--b", "3", "--json",
                            "--html-practice", str(practice))
    assert code == 0 and json.loads(out)["value"] == 270
    assert embedded(practice.read_text())["view"]["practice"] is True


@pytest.mark.parametrize("path, message", [
    ("{tmp}", "is a directory"), ("{tmp}/missing/r.html", "cannot write")])
def test_unwritable_path_exits_2_with_nothing_on_stdout(tmp_path, path, message):
    code, out, err = run_main("x*y", "--x", "1", "--y", "2", "--html",
                              path.format(tmp=tmp_path))
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err


def test_readable_without_javascript():
    result = example()
    page = report_html.report(result)
    # the controls appear only when the script runs; the graph, table and narration are there
    assert re.search(r'<nav id="controls"[^>]*\shidden>', page)
    assert element_text(page, "panel-text") == explain_text(result, 6).rstrip("\n")
    body, _ = rows(result, 6, None)
    for row in body:
        node = row[0]
        svg_node = re.search(rf'<g class="node[^"]*" id="n{node}".*?</g>', page, re.S).group(0)
        if row[2] == "const":  # a constant's box is its number
            assert 'class="heading"' in svg_node and f">{row[4]}</text>" in svg_node
        else:
            assert re.search(rf'class="vv"[^>]*>{re.escape(row[4])}</text>', svg_node)
            assert re.search(rf'class="gv"[^>]*>{re.escape(row[5])}</text>', svg_node)
        table_row = re.search(rf'<tr id="row{node}".*?</tr>', page, re.S).group(0)
        cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table_row)]
        assert cells == list(row)
    for e in result.edges:  # every edge of the backward pass, labelled with its local
        edge = re.search(rf'<g class="edge" id="e{e.node}_{e.position}".*?</g>', page,
                         re.S).group(0)
        assert f"= {format_number(e.local)}</text>" in edge


def test_accessible_names_and_keyboard_reach():
    page = report_html.report(example(), practice=True)
    assert '<html lang="en">' in page
    nodes = re.findall(r'<g class="node [^"]*"[^>]*>', page)
    assert len(nodes) == len(example().graph)
    for tag in nodes:
        assert 'tabindex="0"' in tag and 'role="button"' in tag and "aria-label=" in tag
    for tag in re.findall(r"<input[^>]*>", page):
        assert "aria-label=" in tag or 'id="slider"' in tag
    assert '<label for="slider"' in page
    for tag in re.findall(r"<button[^>]*>[^<]*</button>", page):
        assert re.search(r">\s*\S", tag)  # a visible name
    assert 'aria-live="polite"' in page


def _luminance(colour):
    channels = [int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_meets_wcag_aa():
    css = report_html.asset("report.css")
    colour = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    for text, background in (("text", "panel"), ("muted", "panel"), ("text", "current-bg")):
        assert contrast(colour[text], colour[background]) >= 4.5, (text, background)
    assert contrast(colour["text"], "#ffffff") >= 7
    for mark in ("line", "output", "input", "current", "active", "selected", "right", "wrong"):
        assert contrast(colour[mark], "#ffffff") >= 3, mark  # outlines and highlights
        assert contrast(colour[mark], colour["current-bg"]) >= 3, mark


# ---- practice mode ---------------------------------------------------------------------


def test_practice_page_hides_every_gradient_but_the_seed():
    result = example()
    page = report_html.report(result, practice=True)
    graph = result.graph
    groups = dict(re.findall(r'<g class="node [^"]*" id="n(\d+)"(.*?)</g>', page, re.S))
    assert len(groups) == len(graph)
    for node in range(len(graph)):
        shown = re.findall(r'class="gv"[^>]*>([^<]*)</text>', groups[str(node)])
        assert shown == ([] if result.grads[node] is None  # a constant: no gradient line
                         else ["1"] if node == graph.output else ["?"])
    narration = element_text(page, "panel-text")
    backward = narration.split("Backward pass")[1]
    for node, grad in enumerate(result.grads):
        if grad is not None and node != graph.output:
            assert not re.search(rf"= {re.escape(format_number(grad))}$", backward, re.M)
    assert backward.count("= ?") == len(result.grads) - 2  # all but the seed and the constant
    answers = re.findall(r'<input type="text"[^>]*data-node="(\d+)"', page)
    view = embedded(page)["view"]
    assert sorted(map(int, answers)) == sorted(view["answers"])
    backward_nodes = [s["node"] for s in view["steps"] if s["stage"] == "backward"]
    assert view["answers"] == backward_nodes[1:]  # output first: the seed is given
    assert view["rule"] == {"sig": 2}


def test_practice_knows_the_other_conventions_at_kinks():
    result = bpdiff.differentiate("relu(x)*y + max(y, z)", x=0, y=2, z=2, edges=True)
    view = embedded(report_html.report(result, practice=True))["view"]
    x, y, z = (result.graph.names[n] for n in "xyz")
    # relu'(0) = 1 instead of 0: ∂/∂x = y = 2; the tie all to y or all to z: ∂/∂y, ∂/∂z
    assert view["conventions"] == {str(x): [2], str(y): [1, 0], str(z): [0, 1]}
    assert "conventions" not in embedded(report_html.report(result))["view"]
    assert embedded(report_html.report(example(), practice=True))["view"]["conventions"] == {}


def test_practice_tolerance_follows_the_options(tmp_path):
    path = tmp_path / "p.html"
    run_main("x*y", "--x", "2", "--y", "3", "--rtol", "0.05", "--atol", "0.001",
             "--html-practice", str(path))
    view = embedded(path.read_text())["view"]
    assert view["rule"] == {"rtol": 0.05, "atol": 0.001}


# ---- big graphs -------------------------------------------------------------------------


def big_program(terms):
    return " + ".join(f"sin(x{k % 7} * {k + 1})" for k in range(terms))


def test_big_graph_gets_the_summary_instead_of_the_picture(tmp_path):
    program = big_program(20)
    values = [f"--x{k}={k / 10}" for k in range(7)]
    page, _ = write(tmp_path, program, *values, "--max-nodes", "50")
    result = bpdiff.differentiate(program, {f"x{k}": k / 10 for k in range(7)})
    assert len(result.graph) > 50
    assert "<svg" not in page and 'id="summary-note"' in page
    assert "--all shows every node" in html.unescape(page)
    body, note = rows(result, 6, 50)
    assert note
    assert len(re.findall(r'<tr id="row', page)) == len(body) < len(result.graph)
    data = embedded(page)
    code, out, _ = run_main(program, *values, "--json")
    full = json.loads(out)
    assert [n["id"] for n in data["result"]["nodes"]] == [int(row[0]) for row in body]
    assert all(n in full["nodes"] for n in data["result"]["nodes"])
    assert {k: v for k, v in data["result"].items() if k != "nodes"} == \
        {k: v for k, v in full.items() if k != "nodes"}
    assert data["view"]["summary"] is True and data["view"]["steps"] == []
    page_all, _ = write(tmp_path, program, *values, "--max-nodes", "50", "--all",
                        name="all.html")
    assert "<svg" in page_all and embedded(page_all)["result"]["explain"]


def test_the_default_limit_is_200_nodes(tmp_path):
    program = big_program(60)
    assert len(bpdiff.differentiate(program, {f"x{k}": 1 for k in range(7)}).graph) > 200
    page, _ = write(tmp_path, program, *[f"--x{k}=1" for k in range(7)])
    assert "<svg" not in page and 'id="summary-note"' in page


def test_auto_layout_leaves_big_graphs_to_the_built_in_one(monkeypatch):
    calls = []
    monkeypatch.setattr(layouts, "graphviz_layout", lambda *a, **k: calls.append(a))
    count = layouts.DOT_MAX_NODES + 1
    sizes = {node: (20, 20) for node in range(count)}
    edges = [((node, 0), node - 1, node, None) for node in range(1, count)]
    assert layouts.layout(sizes, edges).engine == "built-in" and calls == []


def test_practice_on_a_summary_asks_for_the_rows_shown(tmp_path):
    program = big_program(120)
    result = bpdiff.differentiate(program, {f"x{k}": 1.0 for k in range(7)}, edges=True)
    page = report_html.report(result, practice=True)
    view = embedded(page)["view"]
    body, _ = rows(result, 6, 200)
    assert set(view["answers"]) == {int(r[0]) for r in body} - {result.graph.output}


# ---- tensors (designed for, not implemented) --------------------------------------------


def test_nodes_with_a_shape_show_it(monkeypatch):
    real = report_html.to_dict

    def with_shapes(result, **sections):
        data = real(result, **sections)
        for node in data["nodes"]:
            node["shape"] = [2, 3] if node["id"] == 5 else []
        return data

    monkeypatch.setattr(report_html, "to_dict", with_shapes)
    page = report_html.report(example())
    assert '<th scope="col">shape</th>' in page
    assert "<td>2×3</td>" in page and "<td>scalar</td>" in page
    assert re.search(r'id="n5".*?class="shape".*?>2×3</text>', page, re.S)


# ---- layout -------------------------------------------------------------------------------


def geometry(result):
    sizes, edges = {}, []
    for node in range(len(result.graph)):
        sizes[node] = (60 + 7 * (node % 4), 40 + 16 * (node % 2))
    for node, sources in enumerate(result.graph.inputs):
        for position, source in enumerate(sources):
            edges.append(((node, position), source, node, (90, 14)))
    return sizes, edges


def on_border(point, box, slack=2):
    dx, dy = abs(point[0] - box.x), abs(point[1] - box.y)
    inside = dx <= box.width / 2 + slack and dy <= box.height / 2 + slack
    return inside and (dx >= box.width / 2 - slack or dy >= box.height / 2 - slack)


def check_layout(found, sizes, edges):
    """Boxes have their sizes and do not overlap; every edge runs upwards from its
    source's box to its user's; labels sit between and clear of the boxes."""
    assert set(found.boxes) == set(sizes)
    for node, box in found.boxes.items():
        assert (round(box.width), round(box.height)) == sizes[node]
        assert box.x - box.width / 2 >= -0.5 and box.x + box.width / 2 <= found.width + 0.5
        assert box.y - box.height / 2 >= -0.5 and box.y + box.height / 2 <= found.height + 0.5
    for (a, box), (b, other) in itertools.combinations(found.boxes.items(), 2):
        apart = (abs(box.x - other.x) >= (box.width + other.width) / 2 - 0.5
                 or abs(box.y - other.y) >= (box.height + other.height) / 2 - 0.5)
        assert apart, (a, b)
    for key, source, target, label in edges:
        route = found.routes[key]
        low, high = found.boxes[source], found.boxes[target]
        assert high.y < low.y  # users above their inputs
        start, end = route.points[0], route.tip or route.points[-1]
        assert on_border(start, low) and on_border(end, high)
        if found.engine == "built-in":  # out of the top, into the bottom
            assert start[1] == low.y - low.height / 2 and end[1] == high.y + high.height / 2
        x, y = route.label
        assert high.y < y < low.y
        for box in found.boxes.values():
            assert not (abs(x - box.x) < box.width / 2 and abs(y - box.y) < box.height / 2)


@pytest.mark.parametrize("name", ["advanced_u1_u4", "dag", "tanh_net_unrolled", "relu_max"])
def test_built_in_layout_is_sound(name):
    sizes, edges = geometry(example(name))
    found = layouts.layout(sizes, edges, engine="built-in")
    assert found.engine == "built-in"
    check_layout(found, sizes, edges)


@needs_dot
@pytest.mark.parametrize("name", ["advanced_u1_u4", "dag", "tanh_net_unrolled"])
def test_graphviz_layout_is_sound(name):
    sizes, edges = geometry(example(name))
    found = layouts.layout(sizes, edges)
    assert found.engine == "dot"
    check_layout(found, sizes, edges)


def test_without_graphviz_the_page_uses_the_built_in_layout(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    page = report_html.report(example())
    assert "layout: built-in" in page
    assert len(re.findall(r'<g class="node ', page)) == len(example().graph)


@needs_dot
def test_with_graphviz_the_page_uses_dot():
    assert "layout: Graphviz dot" in report_html.report(example())


@needs_dot
@pytest.mark.parametrize("failure", ["exit", "timeout", "garbage"])
def test_a_failing_dot_falls_back_to_the_built_in_layout(monkeypatch, failure):
    def broken(*args, **kwargs):
        if failure == "timeout":
            raise subprocess.TimeoutExpired(args[0], 1)
        return subprocess.CompletedProcess(args[0], 1 if failure == "exit" else 0,
                                           b"{not json", b"error")

    monkeypatch.setattr(subprocess, "run", broken)
    sizes, edges = geometry(example())
    assert layouts.layout(sizes, edges).engine == "built-in"


def test_crossing_reduction_untangles_the_seed_example():
    sizes, edges = geometry(example())
    levels = []
    real = layouts._order

    def spy(found):
        real(found)
        levels.extend(found)

    layouts._order = spy
    try:
        layouts.layered_layout(sizes, edges)
    finally:
        layouts._order = real
    assert layouts._crossings(levels) == 0


def brute_crossings(levels):
    total = 0
    for lower, upper in zip(levels, levels[1:]):
        position = {id(v): k for k, v in enumerate(upper)}
        lines = [(k, position[id(n)]) for k, v in enumerate(lower) for n in v.up]
        total += sum(1 for (a, b), (c, d) in itertools.combinations(lines, 2)
                     if (a - c) * (b - d) < 0)
    return total


@settings(max_examples=60)
@given(st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=4), min_size=1, max_size=9),
       st.randoms(use_true_random=False))
def test_crossings_are_counted_exactly(links, rng):
    levels = [[layouts._Vertex(k, level, 1, 1) for k in range(6)] for level in range(3)]
    for k, targets in enumerate(links):
        low = levels[k % 2][k % 6]
        for t in targets:
            high = levels[k % 2 + 1][t]
            low.up.append(high)
            high.down.append(low)
    for level in levels:
        rng.shuffle(level)
    layouts._number(levels)
    assert layouts._crossings(levels) == brute_crossings(levels)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.randoms(use_true_random=False))
def test_built_in_layout_of_random_dags(count, rng):
    sizes = {node: (rng.randint(20, 120), rng.choice((18, 50))) for node in range(count)}
    edges = []
    for node in range(1, count):
        for position, source in enumerate(rng.sample(range(node), min(node, rng.randint(1, 3)))):
            edges.append(((node, position), source, node,
                          rng.choice((None, (rng.randint(10, 150), 14)))))
    found = layouts.layered_layout(sizes, edges)
    labelled = [e for e in edges if e[3] is not None]
    check_layout(found, sizes, labelled)
    for key, *_ in edges:
        assert len(found.routes[key].points) >= 2


def test_deep_graphs_need_no_recursion():
    depth = 20_000
    sizes = {node: (30, 20) for node in range(depth)}
    edges = [((node, 0), node - 1, node, (40, 14)) for node in range(1, depth)]
    edges.append(((depth - 1, 1), 0, depth - 1, (40, 14)))  # one edge across every level
    found = layouts.layered_layout(sizes, edges)
    assert found.boxes[depth - 1].y < found.boxes[0].y
    assert len(found.routes) == depth


def test_layout_of_a_deep_program_page(tmp_path):
    program = "x" + "".join(f"*{1 + k % 3}+x" for k in range(400))
    page, _ = write(tmp_path, program, "--x", "0.5", "--all")
    assert len(re.findall(r'<g class="node ', page)) == len(
        bpdiff.differentiate(program, x=0.5).graph)


def test_layout_is_deterministic():
    sizes, edges = geometry(example("tanh_net_unrolled"))
    first = layouts.layered_layout(sizes, edges)
    assert layouts.layered_layout(sizes, edges) == first
