"""Pictures of the graph: Graphviz DOT, a Mermaid flowchart, a rich tree, and DOT
rendered to SVG/PNG/PDF by Graphviz's `dot` program.

Like every renderer these compute no math: node values and gradients come from the
Result's lists, edge numbers from its backward-pass edges (autodiff.Edge), local
derivative formulas from bpdiff.analyses.symbolic. One node per graph node, one arrow per use of
an input (x*x has two arrows from x), drawn from the input to its user. A use with no
Edge record (its source depends on no input, e.g. a constant) is drawn without a label.
Every loop is over the node or edge lists or an explicit stack: no recursion.
"""

import html
import os
import shutil
import subprocess
from pathlib import Path

from bpdiff.errors import BpdiffError
from bpdiff.engine.graph import CONST, VAR
from bpdiff.render.explain import edge_formula, references
from bpdiff.language.labels import expression, label, op_name
from bpdiff.numbers import DEFAULT_PRECISION, format_number, shape_text

MAX_TREE_DEPTH = 200  # deeper graphs are refused by tree(): rich draws each level 4 columns in
FORMATS = ("svg", "png", "pdf")  # what render_file() accepts, from the file's suffix
INSTALL_HINT = ("install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS), or see https://graphviz.org/download/")


# ---------------------------------------------------------------------------------------
# What every picture shows, read from the Result


def title(graph, node):
    """A node's heading: its label, and for a named intermediate also what it computes
    ('c = a + b'); variables and constants are just their name or number."""
    name = graph.name_of.get(node)
    op = graph.ops[node]
    if name is None or op is VAR or op is CONST:
        return label(graph, node)
    return f"{name} = {expression(graph, node)}"


def edge_label(result, edge, ref, precision):
    """'∂u_4/∂u_2 = 2*u_2 = -4': the local derivative along one Edge, as formula and value.
    The formula is left out when it is just the value (∂e/∂a = 1) or too long to print."""
    formula = edge_formula(result, edge, ref)
    if edge.local is None:  # a tensor op's rule, applied to the upstream gradient
        return f"{formula} = {format_number(edge.contribution, precision)}"
    value = format_number(edge.local, precision)
    text = f"∂{ref(edge.node)}/∂{ref(edge.source)}"
    if formula is not None and formula != value:
        text += f" = {formula}"
    return f"{text} = {value}"


def _edges_by_use(result, view=None):
    """(node, position) -> its Edge, for every use that has one (none needed, and
    result.edges not read, when a collapsed `view` draws no direct use)."""
    if view is not None and not view.uses:
        return {}
    return {(e.node, e.position): e for e in result.edges}


def shape_of(result, node):
    """A tensor-mode node's shape as text: '(2,3)', '()' for a scalar."""
    return shape_text(result.values[node].shape)


def node_kind(result, node):
    """'output', 'input', 'constant' (no gradient: depends on no input) or 'inner'."""
    graph = result.graph
    if node == graph.output:
        return "output"
    if graph.ops[node] is VAR:
        return "input"
    if result.grads[node] is None:
        return "constant"
    return "inner"


# ---------------------------------------------------------------------------------------
# Graphviz DOT


def dot_quote(text):
    """`text` as a DOT double-quoted string. Only `"` and `\\` are special inside one
    (a backslash would start an escape such as \\n or \\N); newlines become \\n."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r\n", "\n").replace("\n", "\\n") + '"'


def _html(text):
    """`text` for a DOT HTML-like label (& < > and quotes as entities)."""
    return html.escape(str(text), quote=True)


_DOT_STYLE = {  # kind -> (node attributes, header background)
    "output": ('color="#b91c1c", penwidth=2.5, fillcolor="#fef3c7"', "#fde68a"),
    "input": ('color="#1d4ed8", fillcolor="#dbeafe"', "#bfdbfe"),
    "inner": ('color="#374151", fillcolor="#ffffff"', "#f3f4f6"),
    "constant": ('color="#9ca3af", fillcolor="#f9fafb", fontcolor="#6b7280", fontsize=9',
                 None),
}


def _dot_node(result, node, precision):
    graph = result.graph
    kind = node_kind(result, node)
    attributes, header = _DOT_STYLE[kind]
    value = _html(format_number(result.values[node], precision))
    grad = _html(format_number(result.grads[node], precision))
    heading = _html(title(graph, node))
    op = _html(op_name(graph, node))
    if kind == "constant" and graph.ops[node] is CONST:  # small: one row
        table = (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
                 f'<TR><TD><B>{heading}</B></TD><TD>  {op}</TD>'
                 f'<TD>  value {value}</TD><TD>  grad {grad}</TD></TR></TABLE>')
    else:
        bg = f' BGCOLOR="{header}"' if header else ""
        note = " (output)" if kind == "output" else " (input)" if kind == "input" else ""
        table = (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
                 f'<TR><TD COLSPAN="2"{bg}><B>{heading}</B></TD></TR>'
                 f'<TR><TD ALIGN="LEFT"><FONT COLOR="#6b7280">#{node}</FONT></TD>'
                 f'<TD ALIGN="RIGHT">{op}{note}</TD></TR>'
                 + (f'<TR><TD ALIGN="LEFT">shape</TD><TD ALIGN="RIGHT">{shape_of(result, node)}'
                    '</TD></TR>' if result.tensor else "")
                 + f'<TR><TD ALIGN="LEFT">value</TD><TD ALIGN="RIGHT">{value}</TD></TR>'
                 f'<TR><TD ALIGN="LEFT">grad</TD><TD ALIGN="RIGHT"><B>{grad}</B></TD></TR>'
                 f'</TABLE>')
    return f'  n{node} [id="n{node}", {attributes}, label=<{table}>];'


def dot(result, precision=DEFAULT_PRECISION, view=None):
    """The graph as Graphviz DOT text (ending in a newline): inputs at the bottom, the
    output at the top. Node `n<id>` shows label, op, value and gradient; each use of an
    input is an edge with id `e<node>_<position>`, labelled with the local derivative
    (formula and value) when the backward pass has an Edge for it, else drawn plainly.
    A collapsed `view` (bpdiff.render.collapse) draws only its nodes, and its groups and
    chains dashed. Render with `dot -Tsvg` or render_file()."""
    graph = result.graph
    ref = references(graph)
    by_use = _edges_by_use(result, view)
    lines = [
        "digraph bpdiff {",
        "  rankdir=BT;",
        '  graph [fontname="Helvetica", nodesep=0.4, ranksep=0.5];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11,'
        " margin=0.05];",
        '  edge [fontname="Helvetica", fontsize=9, color="#4b5563", fontcolor="#1f2937",'
        " arrowsize=0.7];",
    ]
    for node in _drawn_nodes(graph, view):
        lines.append(_dot_node(result, node, precision))
    for node, position, source in _drawn_uses(graph, view):
        edge = by_use.get((node, position))
        attributes = f'id="e{node}_{position}"'
        if edge is None:
            attributes += ', color="#9ca3af", style=dashed'
        else:
            text = edge_label(result, edge, ref, precision)
            tip = (f"upstream {format_number(edge.upstream, precision)}"
                   f" × local {format_number(edge.local, precision)}"
                   f" = {format_number(edge.contribution, precision)}"
                   if edge.local is not None else
                   f"contribution {format_number(edge.contribution, precision)}")
            attributes += f", label={dot_quote(text)}, tooltip={dot_quote(tip)}"
        lines.append(f"  n{source} -> n{node} [{attributes}];")
    if view is not None:
        lines += _dot_collapsed(view)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _drawn_nodes(graph, view):
    return range(len(graph.ops)) if view is None else view.nodes


def _drawn_uses(graph, view):
    """(node, position, source) for every input edge drawn."""
    if view is not None:
        return view.uses
    return ((node, position, source) for node, sources in enumerate(graph.inputs)
            for position, source in enumerate(sources))


def collapsed_label(count):
    """'… 12 nodes': what a collapsed group or chain stands for."""
    return f"… {count:,} node" + ("" if count == 1 else "s")


def _end(end):
    return f"n{end}" if type(end) is int else end


def _dot_collapsed(view):
    lines = [f'  {key} [id="{key}", shape=box, style="rounded,dashed", color="#9ca3af",'
             f' fontcolor="#4b5563", label={dot_quote(collapsed_label(size))}];'
             for key, size in view.groups.items()]
    for k, (source, target, count) in enumerate(view.links):
        label = "" if count is None else f", label={dot_quote(collapsed_label(count))}"
        lines.append(f'  {_end(source)} -> {_end(target)} [id="c{k}", style=dashed,'
                     f' color="#9ca3af"{label}];')
    return lines


# ---------------------------------------------------------------------------------------
# Mermaid


_MERMAID_ENTITIES = {'"': "#quot;", ";": "#59;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
                     "`": "#96;", "|": "#124;"}


def mermaid_quote(text, line_break="<br/>"):
    """`text` as a double-quoted Mermaid label. Characters Mermaid would read become
    entity codes: the quote, `<` `>` `&` (labels are HTML), a backtick (which would start
    a Markdown string), the edge-label delimiter `|`, and `;` (so that no `#word;` in the
    text can be taken for an entity code: `#2 * #4` stays as written). Newlines become
    `line_break`."""
    text = "".join(_MERMAID_ENTITIES.get(c, c) for c in str(text))
    return '"' + text.replace("\r\n", "\n").replace("\n", line_break) + '"'


def mermaid(result, precision=DEFAULT_PRECISION, view=None):
    """The graph as a Mermaid `flowchart BT` (ending in a newline), for a ```mermaid
    block in Markdown. Nodes are `n<id>`; arrows with a local derivative are labelled,
    uses with none (constants) are dotted `-.->` arrows. A collapsed `view` draws its
    groups as `g<k>` boxes and its chains and links as dotted arrows."""
    graph = result.graph
    ref = references(graph)
    by_use = _edges_by_use(result, view)
    lines = ["flowchart BT"]
    for node in _drawn_nodes(graph, view):
        shape = f"\nshape {shape_of(result, node)}" if result.tensor else ""
        text = (f"{title(graph, node)}\n#{node} {op_name(graph, node)}{shape}"
                f"\nvalue {format_number(result.values[node], precision)}"
                f"\ngrad {format_number(result.grads[node], precision)}")
        quoted = mermaid_quote(text)
        lines.append(f"    n{node}[{quoted}]")
    for node, position, source in _drawn_uses(graph, view):
        edge = by_use.get((node, position))
        if edge is None:
            lines.append(f"    n{source} -.-> n{node}")
        else:
            text = mermaid_quote(edge_label(result, edge, ref, precision))
            lines.append(f"    n{source} -->|{text}| n{node}")
    if view is not None:
        lines += [f"    {key}([{mermaid_quote(collapsed_label(size))}])"
                  for key, size in view.groups.items()]
        lines += [f"    {_end(source)} -.->"
                  + ("" if count is None else f"|{mermaid_quote(collapsed_label(count))}|")
                  + f" {_end(target)}" for source, target, count in view.links]
    lines.append("    classDef output stroke:#b91c1c,stroke-width:3px,fill:#fef3c7")
    lines.append("    classDef input stroke:#1d4ed8,fill:#dbeafe")
    lines.append("    classDef constant stroke:#9ca3af,fill:#f9fafb,color:#6b7280,font-size:11px")
    for kind in ("output", "input", "constant"):
        members = [f"n{node}" for node in _drawn_nodes(graph, view)
                   if node_kind(result, node) == kind]
        if members:
            lines.append(f"    class {','.join(members)} {kind}")
    if view is not None and view.groups:
        lines.append("    classDef collapsed stroke:#9ca3af,stroke-dasharray:4,color:#4b5563")
        lines.append(f"    class {','.join(view.groups)} collapsed")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# rich tree


def depth(graph):
    """The number of levels from the output down to its deepest input (1 for a leaf)."""
    levels = [1] * len(graph.ops)
    for node, sources in enumerate(graph.inputs):
        if sources:
            levels[node] = 1 + max(levels[i] for i in sources)
    return levels[graph.output]


def view_children(view):
    """Each drawn item's children in a collapsed tree: a node's drawn inputs (in input
    order), then the groups and chains feeding it; a group's sources; a chain
    ('chain', k) the one node it comes from."""
    children = {node: [] for node in view.nodes}
    for node, _, source in sorted(view.uses):
        children[node].append(source)
    for k, (source, target, count) in enumerate(view.links):
        item = source if count is None else ("chain", k)
        children.setdefault(target, []).append(item)
        if count is not None:
            children[item] = [source]
    return children


def view_depth(view, root):
    """The number of levels of the collapsed tree below and including `root`."""
    children = view_children(view)
    levels = {}
    stack = [root]
    while stack:
        item = stack[-1]
        missing = [c for c in children.get(item, ()) if c not in levels]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        levels[item] = 1 + max((levels[c] for c in children.get(item, ())), default=0)
    return levels[root]


def tree(result, precision=DEFAULT_PRECISION, max_depth=MAX_TREE_DEPTH, view=None):
    """A rich.tree.Tree from the output down to the inputs, one line per node: id, label,
    op, value, grad. A node used more than once is shown in full the first time (reading
    top to bottom) and as a '↺ #id (shared, see above)' line afterwards. A collapsed
    `view` shows its groups and chains as '… 12 nodes' lines. Raises ValueError for a
    graph more than `max_depth` levels deep."""
    from rich.text import Text
    from rich.tree import Tree

    graph = result.graph
    levels = depth(graph) if view is None else view_depth(view, graph.output)
    if levels > max_depth:
        raise ValueError(f"the graph is {levels} levels deep; a tree is drawn for at most"
                         f" {max_depth} levels (use the table or a DOT picture instead)")
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    children = graph.inputs if view is None else view_children(view)

    def line(node):
        if type(node) is not int:
            count = (view.groups[node] if type(node) is str
                     else view.links[node[1]][2])
            return Text(collapsed_label(count), style="dim")
        kind = node_kind(result, node)
        text = Text()
        text.append(f"#{node} ", style="dim")
        text.append(title(graph, node),
                    style={"output": "bold yellow", "input": "bold cyan",
                           "constant": "dim"}.get(kind, "cyan"))
        text.append(f"  {op_name(graph, node)}", style="magenta")
        if result.tensor:
            text.append(f"  shape {shape_of(result, node)}", style="dim")
        text.append(f"  value {fmt(result.values[node])}")
        text.append(f"  grad {fmt(result.grads[node])}",
                    style="dim" if kind == "constant" else "bold green")
        return text

    def reference(node):
        if type(node) is not int:
            return Text(f"↺ {line(node).plain} (shared, see above)", style="dim italic")
        return Text(f"↺ #{node} {label(graph, node)} (shared, see above)", style="dim italic")

    root = Tree(line(graph.output), guide_style="dim")
    shown = {graph.output}
    # Pre-order over an explicit stack; children pushed in reverse so they are added,
    # and so read, in input order. A node's first pop is its first line on screen.
    stack = [(source, root) for source in reversed(children[graph.output])]
    while stack:
        node, parent = stack.pop()
        if node in shown:
            parent.add(reference(node))
            continue
        shown.add(node)
        branch = parent.add(line(node))
        stack.extend((source, branch) for source in reversed(children[node]))
    return root


# ---------------------------------------------------------------------------------------
# Graphviz's dot program


def check_render_path(path):
    """Refuse (BpdiffError) a --render FILE whose suffix is not .svg, .png or .pdf, or
    when Graphviz's `dot` is not installed: before anything is computed or written.
    Returns the format and the `dot` program's path."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BpdiffError(f"cannot draw a picture as '{Path(path).name}': the file name must"
                          f" end in {', '.join('.' + f for f in FORMATS[:-1])} or"
                          f" .{FORMATS[-1]}")
    program = shutil.which("dot")
    if program is None:
        raise BpdiffError("drawing a picture needs Graphviz, whose `dot` program was not"
                          " found on PATH", hint=INSTALL_HINT)
    return fmt, program


def render_file(dot_text, path, timeout=300):
    """Render DOT text to `path` with Graphviz's `dot`, in the format named by the
    suffix (.svg, .png or .pdf). Raises BpdiffError for another suffix, when `dot` is
    not installed, and when it fails (with its message) or runs past `timeout` seconds.
    `dot` writes a new file beside `path` (an absolute name, never read as an option),
    renamed over it once complete (bpdiff.outputs.replacing)."""
    from bpdiff.outputs import replacing

    fmt, program = check_render_path(path)
    if not os.path.isdir(os.path.dirname(os.path.realpath(path))):
        raise BpdiffError(f"Graphviz's dot could not draw '{path}': no such directory")
    with replacing(path) as temporary:
        done = _run_dot(program, fmt, os.path.abspath(temporary), dot_text, timeout, path)
        if done.returncode != 0:
            message = (done.stderr.decode("utf-8", "replace").strip()
                       or f"exit code {done.returncode}")
            raise BpdiffError(f"Graphviz's dot could not draw '{path}': {message}")


def _run_dot(program, fmt, output, dot_text, timeout, path):
    try:
        return subprocess.run([program, f"-T{fmt}", "-o", output],
                              input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise BpdiffError("drawing a picture needs Graphviz, whose `dot` program was not"
                          " found", hint=INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise BpdiffError(f"Graphviz's dot took more than {timeout} seconds to draw"
                          f" '{path}'; the graph is too big to draw") from None
