"""The computation graph as an inline SVG for the HTML report.

Each node is a box with its heading (label, or `name = expression`), id and op, value
and gradient; each use of an input is an arrow from the input up to its user, labelled
with the local derivative (formula and value, from pictures.edge_label). Where things go
comes from bpdiff.render.layout (Graphviz or the built-in layered layout); what they
say from the Result and the table's formatted rows. Nothing is computed here.

Element ids and data attributes are what the page's script and tests address: node
`n<id>` (data-node), edge `e<node>_<position>` (data-node, data-source). In practice
mode the gradient reads `?` (the script fills it in once it is answered).
"""

from html import escape

from bpdiff.engine.graph import CONST, VAR
from bpdiff.render.explain import references
from bpdiff.language.labels import op_name
from bpdiff.render.layout import layout
from bpdiff.numbers import format_number
from bpdiff.render.pictures import edge_label, node_kind, title

NODE_FONT, EDGE_FONT = 12, 11  # px, monospace
CHAR_WIDTH = 0.61  # of the font size: DejaVu Sans Mono, Menlo and Consolas are 0.6
LINE = 16  # px per line of a node's text
PAD = 8
MAX_HEADING = 40  # characters; longer headings are cut with … (the full one is the tooltip)
MAX_EDGE_LABEL = 56


def _width(text, font):
    return len(text) * font * CHAR_WIDTH


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit - 1] + "…"


def node_lines(result, node, shown, practice=False, shape=None):
    """What a node's box says, line by line: [(css class, text, value text)]; the value
    part is what the script may hide or fill in."""
    graph = result.graph
    heading = _cut(title(graph, node), MAX_HEADING)
    if graph.ops[node] is CONST:
        return [("heading", heading, None)]
    op = op_name(graph, node)
    role = " (output)" if node == graph.output else " (input)" if graph.ops[node] is VAR else ""
    lines = [("heading", heading, None), ("op", f"#{node} {op}{role}", None)]
    if shape is not None:
        lines.append(("shape", "shape", "×".join(str(n) for n in shape) or "scalar"))
    lines.append(("v", "value", shown["value"]))
    lines.append(("g", "grad", _grad_shown(result, node, shown, practice)))
    return lines


def _grad_shown(result, node, shown, practice):
    """The gradient as the page first shows it: '?' when the student is to find it."""
    hidden = practice and node != result.graph.output and result.grads[node] is not None
    return "?" if hidden else shown["grad"]


def _edge_text(result, edge, ref, precision):
    text = edge_label(result, edge, ref, precision)
    if len(text) > MAX_EDGE_LABEL:  # the formula is too long to print: the value only
        if edge.local is None:  # a tensor op's rule: its contribution
            return f"→ {format_number(edge.contribution, precision)}"
        text = f"∂{ref(edge.node)}/∂{ref(edge.source)} = {format_number(edge.local, precision)}"
    return text


def graph_svg(result, shown, precision, practice=False, shapes=None, engine="auto"):
    """The SVG element (text) and the Layout's engine name. `shown`: node id ->
    {"value", "grad"} as formatted for the table; `shapes`: node id -> shape, if any."""
    graph = result.graph
    ref = references(graph)
    shapes = shapes or {}
    by_use = {(e.node, e.position): e for e in result.edges}
    boxes, sizes = {}, {}
    for node in range(len(graph)):
        lines = node_lines(result, node, shown[node], practice, shapes.get(node))
        width = max(_width(f"{text}  {value or ''}", NODE_FONT) for _, text, value in lines)
        boxes[node] = lines
        sizes[node] = (round(width + 2 * PAD), len(lines) * LINE + PAD)
    edges, labels = [], {}
    for node, sources in enumerate(graph.inputs):
        for position, source in enumerate(sources):
            edge = by_use.get((node, position))
            size = None
            if edge is not None:
                labels[(node, position)] = text = _edge_text(result, edge, ref, precision)
                size = (round(_width(text, EDGE_FONT) + 8), EDGE_FONT + 6)
            edges.append(((node, position), source, node, size))
    placed = layout(sizes, edges, engine=engine)
    parts = [f'<svg id="graph" class="graph fit"'
             f' viewBox="0 0 {placed.width:.0f} {placed.height:.0f}"'
             f' width="{placed.width:.0f}" height="{placed.height:.0f}" role="group"'
             f' aria-label="computation graph: {len(graph)} nodes; arrows go from each'
             f' input up to its user, the output at the top">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9"'
             ' markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
             '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>'
             '<marker id="arrow-active" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="12"'
             ' markerHeight="12" markerUnits="userSpaceOnUse" orient="auto">'
             '<path d="M0,0 L10,5 L0,10 z" class="arrowhead active"/></marker></defs>',
             '<g class="edges">']
    for (node, position), source, _, _ in edges:
        parts.append(_edge_svg(result, node, position, source, placed.routes[(node, position)],
                               labels.get((node, position)), by_use.get((node, position)),
                               ref, precision))
    parts.append('</g><g class="nodes">')
    for node in range(len(graph) - 1, -1, -1):
        parts.append(_node_svg(result, node, boxes[node], placed.boxes[node], shown[node],
                               practice))
    parts.append("</g></svg>")
    return "".join(parts), placed.engine


def _path(route):
    points = [f"{x:.1f},{y:.1f}" for x, y in route.points]
    if route.curved:
        text = f"M{points[0]}" + "".join(f" C{' '.join(points[k:k + 3])}"
                                         for k in range(1, len(points) - 2, 3))
    else:
        text = f"M{points[0]}" + "".join(f" L{p}" for p in points[1:])
    if route.tip is not None:
        text += f" L{route.tip[0]:.1f},{route.tip[1]:.1f}"
    return text


def _edge_svg(result, node, position, source, route, text, edge, ref, precision):
    kind = "edge" if edge is not None else "edge plain"
    head = (f'<g class="{kind}" id="e{node}_{position}" data-node="{node}"'
            f' data-source="{source}"><path d="{_path(route)}"/>')
    if edge is None:
        return head + "</g>"
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    tip = (f"{ref(source)} → {ref(node)}: upstream {fmt(edge.upstream)} × local"
           f" {fmt(edge.local)} = {fmt(edge.contribution)}")
    x, y = route.label
    width = _width(text, EDGE_FONT) + 6
    return (head + f'<title>{escape(tip)}</title>'
            f'<rect class="label-bg" x="{x - width / 2:.1f}" y="{y - EDGE_FONT / 2 - 3:.1f}"'
            f' width="{width:.1f}" height="{EDGE_FONT + 6}" rx="3"/>'
            f'<text class="elabel" x="{x:.1f}" y="{y:.1f}">{escape(text)}</text></g>')


def _node_svg(result, node, lines, box, shown, practice):
    graph = result.graph
    kind = node_kind(result, node)
    full = title(graph, node)
    grad = _grad_shown(result, node, shown, practice)
    spoken = (f"node #{node} {full}, {op_name(graph, node)}, value {shown['value']},"
              f" gradient {grad}")
    left, top = box.x - box.width / 2, box.y - box.height / 2
    parts = [f'<g class="node {kind}" id="n{node}" data-node="{node}" tabindex="0"'
             f' role="button" aria-label="{escape(spoken)}"><title>{escape(full)}</title>'
             f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}"'
             f' height="{box.height:.1f}" rx="6"/>']
    for k, (css, text, value) in enumerate(lines):
        y = top + PAD / 2 + LINE * k + LINE * 0.72
        if css == "heading":
            parts.append(f'<text class="heading" x="{box.x:.1f}" y="{y:.1f}">'
                         f'{escape(text)}</text>')
        elif value is None:
            parts.append(f'<text class="{css}" x="{box.x:.1f}" y="{y:.1f}">{escape(text)}</text>')
        else:
            parts.append(f'<text class="{css}" x="{left + PAD:.1f}" y="{y:.1f}">{escape(text)}'
                         f'</text><text class="{css}v" x="{left + box.width - PAD:.1f}"'
                         f' y="{y:.1f}">{escape(value)}</text>')
    parts.append("</g>")
    return "".join(parts)
