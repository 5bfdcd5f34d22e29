"""`--html` and `--html-practice`: the result as one self-contained, interactive page.

The page holds everything inline: CSS and JavaScript (package files in
bpdiff/render/assets/, read with importlib.resources), the graph as SVG (svg.py), the
node table, the narration, and the data as JSON in a <script type="application/json">
block. That data is `--json --explain --locals`'s object ("result") plus what the script
needs to show it ("view": formatted numbers, each step's narration lines and highlighted
edges, the order of the answers); the script computes nothing but the answer check
(`--expect`'s grading rule: assets/grading.js, tested against the same cases as
bpdiff.analyses.expect.passes). Without JavaScript the page still shows the
graph, the table and the whole narration.

Over `max_nodes` nodes the page is a summary instead (the table's rows for big graphs:
output, inputs, named intermediates, the largest gradients), with a note and no graph.

A node's value and gradient may one day be nested lists and a node may carry a "shape"
(tensor programs): the table's formatted text is shown as it is and a shape gets a line
and a column; answers to a tensor gradient are its numbers in order.
"""

import json
from html import escape
from importlib import resources

from bpdiff.version import __version__
from bpdiff.analyses.expect import Rule, kink_gradients, within
from bpdiff.engine.graph import CONST
from bpdiff.render.explain import backward_lines, explain_steps, forward_line, references, \
    tensor_backward_lines
from bpdiff.render.json import to_dict
from bpdiff.numbers import DEFAULT_PRECISION, format_number, json_number
from bpdiff.render.selection import DEFAULT_MAX_NODES
from bpdiff.render.table import COLUMNS, rows, summary

MAX_NUMBERS = 1_000_000  # values in all nodes (array elements counted) the CLI writes
# a page for without --force: each shows in the data, the narration and the table


def asset(name):
    """The text of a file in bpdiff/render/assets/."""
    return resources.files("bpdiff.render").joinpath("assets", name).read_text("utf-8")


def script_json(data):
    """`data` as JSON that is safe inside a <script> element: `<`, `>` and `&` are
    written as \\u escapes (they only occur inside strings), so no `</script>` or
    `<!--` can end or confuse the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def report(result, practice=False, precision=DEFAULT_PRECISION, max_nodes=DEFAULT_MAX_NODES,
           rule=None, engine="auto"):
    """The HTML page for a Result, as text. `practice`: gradients hidden, for the
    student to type and the page to check by `rule` (an expect.Rule); `max_nodes`
    (None: no limit): above it, the summary; `engine`: the layout's (see layout.layout)."""
    graph = result.graph
    body, note = rows(result, precision, max_nodes)
    # value and gradient are the last two cells (a shape column comes before them)
    shown = {int(row[0]): {"value": row[-2], "grad": row[-1]} for row in body}
    if note:
        data = to_dict(result)
        data["nodes"] = [node for node in data["nodes"] if node["id"] in shown]
    else:
        data = to_dict(result, explain=True, locals_=True)
    shapes = {node["id"]: node["shape"] for node in data["nodes"] if "shape" in node}
    out = graph.name_of.get(graph.output, "out")
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    rule = rule or Rule()
    view = {"practice": practice, "summary": bool(note), "out": out,
            "rule": {"sig": rule.sig} if not rule.tolerance else
            {"rtol": rule.rtol, "atol": rule.atol},
            "nodes": {str(node): dict(text) for node, text in shown.items()}}
    if note:
        view["steps"] = []
        view["answers"] = [node for node in shown
                           if node != graph.output and result.grads[node] is not None]
        drawing = f'<p class="note" id="summary-note">{escape(note)}.</p>'
        narration, engine_used = _SUMMARY_NARRATION, None
    else:
        view["steps"] = _steps(result, out, fmt, practice)
        view["answers"] = [s["node"] for s in view["steps"]
                           if s["stage"] == "backward" and s["node"] != graph.output]
        _step_numbers(view)
        from bpdiff.render.svg import graph_svg
        drawing, engine_used = graph_svg(result, shown, precision, practice, shapes, engine)
        narration = _narration(result, out, fmt, practice)
    if practice:
        view["conventions"] = _conventions(result, view["answers"])
    page = _PAGE.format(
        title=escape(_short(result.text)), css=asset("report.css"), js=asset("grading.js") + asset("report.js"),
        program=escape(result.text), version=escape(__version__),
        headline=escape(_headline(result, out, precision, practice)),
        meta=escape(_meta(graph, engine_used, practice, note)),
        drawing=drawing, narration=escape(narration),
        table=_table(result, body, shapes, out, practice),
        practice=_PRACTICE.replace("{rule}", escape(_rule_text(rule))).replace(
            "<noscript>", (_ARRAYS if result.tensor else "") + "<noscript>")
        if practice else "",
        data=script_json({"result": data, "view": view}))
    return page


def _rule_text(rule):
    if rule.tolerance:
        return f"an answer passes {rule.describe()}"
    return (f"an answer passes when it is the true value rounded at the precision you write"
            f" (-0.20 for -0.19661), with at least {rule.sig} significant digit"
            f"{'s' if rule.sig != 1 else ''}; fewer digits, such as 0.2 or 3, must be exact")


def _conventions(result, nodes):
    """What other valid conventions at kinks make of each node's gradient, as --expect
    accepts them (bpdiff.analyses.expect.kink_gradients): node id -> JSON numbers, only for nodes
    where they differ from bpdiff's."""
    if not result.kinks or result.tensor:  # arrays: one convention, bpdiff's
        return {}
    others = {}
    for _choice, grads in kink_gradients(result):
        for node in nodes:
            value = grads[node]
            if value is not None and not within(result.grads[node], value, 1e-12, 1e-12):
                found = others.setdefault(str(node), [])
                if json_number(value) not in found:
                    found.append(json_number(value))
    return others


def _short(text, limit=60):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _headline(result, out, precision, practice):
    if not practice:
        return summary(result, precision)
    head = f"{out} = {format_number(result.value, precision)}"
    return (f"{head};  find ∂{out}/∂node for every node, output first"
            " (type each one in the table)")


def _meta(graph, engine, practice, note):
    parts = [f"{len(graph):,} nodes", "practice: gradients hidden" if practice else None,
             f"layout: {'Graphviz dot' if engine == 'dot' else 'built-in'}" if engine else
             "summary (graph not drawn)" if note else None, f"bpdiff {__version__}"]
    return " · ".join(p for p in parts if p)


def _steps(result, out, fmt, practice):
    """Each step of the passes as the page shows it: the node, the narration lines
    (and, in practice mode, the lines with gradients hidden), the edges to highlight:
    a forward step's operands, a backward step's uses (whose contributions it adds)."""
    graph = result.graph
    uses = {}
    for e in result.edges:
        uses.setdefault(e.source, []).append(f"e{e.node}_{e.position}")
    ref = references(graph)
    narrate = tensor_backward_lines if result.tensor else backward_lines
    steps = []
    for step in explain_steps(result):
        node = step["node"]
        item = {"stage": step["stage"], "node": node, "ref": ref(node)}
        if step["stage"] == "forward":
            item["lines"] = [forward_line(graph, step, fmt).strip()]
            item["edges"] = [f"e{node}_{p}" for p in range(len(graph.inputs[node]))]
        else:
            item["lines"] = _dedent(narrate(out, step, fmt))
            item["terms"] = [[t["via_ref"], fmt(t["upstream"]), fmt(t["local"]),
                              fmt(t["contribution"])] for t in step["terms"]]
            if practice and node != graph.output:
                item["hidden"] = _dedent(narrate(out, step, fmt, hide_gradients=True))
            item["edges"] = uses.get(node, [])
        steps.append(item)
    return steps


def _dedent(lines):
    return [line[2:] if line.startswith("  ") else line for line in lines]


def _step_numbers(view):
    """When each node's value and gradient appear: the step that computes it (1-based;
    0: from the start, as a constant's value and its absent gradient)."""
    for node in view["nodes"].values():
        node["valueStep"] = node["gradStep"] = 0
    for number, step in enumerate(view["steps"], 1):
        key = "valueStep" if step["stage"] == "forward" else "gradStep"
        view["nodes"][str(step["node"])][key] = number


def _narration(result, out, fmt, practice):
    graph = result.graph
    lines = ["Forward pass (inputs first; each node from its operands):"]
    steps = explain_steps(result)
    lines.extend(forward_line(graph, s, fmt) for s in steps if s["stage"] == "forward")
    lines.append("")
    lines.append(f"Backward pass (∂{out}/∂node, output first; upstream × local, summed"
                 " over uses):")
    narrate = tensor_backward_lines if result.tensor else backward_lines
    for s in steps:
        if s["stage"] == "backward":
            lines.extend(narrate(out, s, fmt, practice and s["node"] != graph.output))
    return "\n".join(lines)


def _table(result, body, shapes, out, practice):
    graph = result.graph
    columns = [*COLUMNS[:4], *(["shape"] if shapes else []), *COLUMNS[4:],
               *(["check"] if practice else [])]
    head = "".join(f'<th scope="col">{"∂" + escape(out) + "/∂node" if c == "gradient" else c}'
                   "</th>" for c in columns)
    lines = [f"<thead><tr>{head}</tr></thead><tbody>"]
    for row in body:
        node = int(row[0])
        kind = ("output" if node == graph.output else "constant" if graph.ops[node] is CONST
                else "")
        cells = [f"<td>{escape(cell)}</td>" for cell in row[:4]]
        if shapes:
            shape = shapes.get(node)
            cells.append("<td>" + ("×".join(map(str, shape)) or "scalar" if shape is not None
                                   else "") + "</td>")
        cells.append(f'<td class="num vv">{escape(row[-2])}</td>')
        if practice and node != graph.output and result.grads[node] is not None:
            who = graph.name_of.get(node, f"#{node}")
            cells.append(f'<td class="num answer"><input type="text" inputmode="decimal"'
                         f' autocomplete="off" spellcheck="false" data-node="{node}"'
                         f' id="answer{node}" aria-label="your ∂{escape(out)}/∂{escape(who)}'
                         f' (node #{node})" placeholder="?"></td>'
                         f'<td class="mark" id="mark{node}" aria-live="polite"></td>')
        else:
            cells.append(f'<td class="num gv">{escape(row[-1])}</td>')
            if practice:
                cells.append('<td class="mark"></td>')
        lines.append(f'<tr id="row{node}" data-node="{node}" class="{kind}" tabindex="0">'
                     + "".join(cells) + "</tr>")
    lines.append("</tbody>")
    return "".join(lines)


_SUMMARY_NARRATION = ("The graph is over --max-nodes, so this page shows the summary above and"
                      " no step-by-step narration; bpdiff --all draws and narrates a graph of"
                      " any size.")

_PRACTICE = """<section id="practice" class="practice" aria-labelledby="practice-title">
<h2 id="practice-title">Practice</h2>
<p>Type ∂(output)/∂node for each node in the table's last column, output first (its
gradient is the seed, 1). Each answer is checked when you press Enter or leave the box,
by the same rule as <code>bpdiff --expect</code>: {rule}. The first node, in backward order,
whose answer is wrong is marked: that is where your chain rule went off course. In the
graph and the table, green marks a right answer, red a wrong one, and a thick red box with
a red row the node where your chain diverges.</p>
<noscript><p class="note">Checking answers needs JavaScript.</p></noscript>
<p id="practice-status" class="status" role="status" aria-live="polite"></p>
<p class="buttons" id="practice-buttons" hidden><button type="button" id="reveal">Show the
answer for the current step</button> <button type="button" id="clear">Clear my
answers</button></p>
</section>
"""

_ARRAYS = """<p>For an array, type all its numbers row by row, separated by commas or spaces
(brackets are optional): each element is checked on its own, and the wrong ones are
named by their index, [row,column].</p>
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bpdiff {version}">
<title>bpdiff: {title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>bpdiff report</h1>
<pre class="program" aria-label="the program">{program}</pre>
<p class="headline" id="headline">{headline}</p>
<p class="meta">{meta}</p>
</header>
<nav id="controls" class="controls" aria-label="step through the forward and backward pass"
 hidden>
<button type="button" id="first" aria-label="overview (Home key)" title="Home">« overview</button>
<button type="button" id="prev" aria-label="back (left arrow key)" title="←">◀ back</button>
<button type="button" id="next" aria-label="next (right arrow key)" title="→">next ▶</button>
<button type="button" id="last" aria-label="end (End key)" title="End">end »</button>
<label for="slider" class="slider-label">step</label>
<input type="range" id="slider" min="0" max="0" value="0">
<output id="step-label" for="slider">overview</output>
<span class="hint">keys: ← → Home End</span>
</nav>
<main>
<div class="panes">
<section class="graph-pane" aria-label="the computation graph">
<p class="zoom" hidden><button type="button" id="zoom">actual size</button></p>
{drawing}
<p class="legend" aria-hidden="true"><span class="key key-output">output</span>
<span class="key key-input">input</span> <span class="key key-current">current step</span>
<span class="key key-active">edges adding contributions</span>
<span class="key key-selected">selected</span></p>
</section>
<section id="panel" class="panel" aria-labelledby="panel-title">
<h2 id="panel-title">The chain rule, written out</h2>
<pre id="panel-text" aria-live="polite">{narration}</pre>
<table id="terms" class="terms" hidden><caption>This step's paths: upstream × local =
contribution, summed</caption><thead><tr><th scope="col">via</th><th scope="col">upstream</th>
<th scope="col">× local</th><th scope="col">= contribution</th></tr></thead><tbody></tbody>
</table>
</section>
</div>
{practice}
<section class="table-pane" aria-labelledby="table-title">
<h2 id="table-title">Nodes (output first)</h2>
<div class="table-scroll"><table id="nodes">{table}</table></div>
</section>
</main>
<script type="application/json" id="bpdiff-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
