"""Where to draw a graph: boxes for nodes and routes for edges, bottom to top.

Two engines give the same kind of answer (a Layout, in pixels, y pointing down, the
last node at the top): Graphviz's `dot` program when it is installed, and a layered
layout of our own for when it is not (or fails), so that a picture never needs the
system package. The built-in one is the classic Sugiyama scheme:

1. ranks: every node sits one rank below its lowest user (the longest path from the
   top), so edges from inputs and constants run no further than they must;
2. levels: rank r is level 2r; an edge gets a dummy vertex on every level it crosses,
   and the one just below its user carries its label (so labels get room of their own,
   as in `dot`);
3. order: barycentre sweeps up and down, keeping the order with the fewest crossings;
4. x: each vertex is pulled towards the mean of its neighbours, then the level is
   packed (the mean of a left- and a right-packed placement keeps every gap).

Everything is a loop over lists: no recursion, whatever the graph's depth. Sizes and
coordinates are pixels (1 px = 1 Graphviz point). This module knows nothing of bpdiff
results: it takes sizes and edges.
"""

import json
import shutil
import subprocess
from typing import NamedTuple

NODE_GAP = 24  # px between neighbours on a level
LEVEL_GAP = 14  # px between levels (a rank is two levels: nodes, then edge labels)
MARGIN = 8
LABEL_GAP = 10  # px between edge labels side by side
DUMMY_WIDTH = 6  # room for an edge passing a level without a label
ORDER_SWEEPS = 12
PLACE_SWEEPS = 8
DOT_MAX_NODES = 300  # dot took 6 s on a 241-node sum sharing one input, minutes on 486
DUMMY_BUDGET = 20_000  # beyond 4 per node plus this, long edges skip the levels between


class Box(NamedTuple):
    """A node's rectangle: centre and size."""

    x: float
    y: float
    width: float
    height: float


class Route(NamedTuple):
    """An edge's path from its source's box to its user's. `curved`: `points` are a
    cubic Bézier spline (start, then three points per piece), else a polyline; `tip`:
    where the arrowhead ends, when it is not the last point; `label`: the centre of the
    edge's label, if it has one."""

    points: list
    curved: bool
    tip: tuple | None
    label: tuple | None


class Layout(NamedTuple):
    """Boxes by node id, routes by edge key, the drawing's size, and which engine."""

    width: float
    height: float
    boxes: dict
    routes: dict
    engine: str  # "dot" or "built-in"


def layout(sizes, edges, engine="auto", timeout=30):
    """Lay out a DAG for drawing: edges point up, the last node is at the top.

    `sizes`: node id -> (width, height), ids in topological order (every edge's source
    before its target); `edges`: (key, source, target, label size or None) for each
    edge, drawn from source up to target.
    `engine`: "dot" (Graphviz, falling back to the built-in layout when `dot` is missing,
    fails or takes longer than `timeout` seconds), "built-in", or "auto": "dot" up to
    DOT_MAX_NODES nodes, beyond which `dot` can take minutes, the built-in one above."""
    if engine == "auto" and len(sizes) > DOT_MAX_NODES:
        engine = "built-in"
    if engine in ("auto", "dot") and shutil.which("dot") is not None:
        found = graphviz_layout(sizes, edges, timeout)
        if found is not None:
            return found
    return layered_layout(sizes, edges)


# ---------------------------------------------------------------------------------------
# Graphviz


def graphviz_dot(sizes, edges):
    """DOT text that asks `dot` for positions only: fixed-size empty boxes and
    fixed-size empty labels, the sizes ours, so fonts play no part."""
    lines = ["digraph layout {", "  rankdir=BT; nodesep=0.3; ranksep=0.3;",
             '  node [shape=box, fixedsize=true, label=""];']
    for node, (width, height) in sizes.items():
        lines.append(f"  n{node} [width={width / 72:.4f}, height={height / 72:.4f}];")
    for number, (_key, source, target, label) in enumerate(edges):
        attributes = f'id="{number}"'
        if label is not None:
            w, h = (max(1, min(65535, round(v))) for v in label)
            attributes += (f', label=<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"'
                           f' FIXEDSIZE="TRUE" WIDTH="{w}" HEIGHT="{h}"><TR><TD></TD></TR>'
                           f'</TABLE>>')
        lines.append(f"  n{source} -> n{target} [{attributes}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_layout(sizes, edges, timeout=60):
    """The Layout `dot -Tjson0` gives, or None when `dot` is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        return None
    try:
        done = subprocess.run([program, "-Tjson0"], capture_output=True, timeout=timeout,
                              input=graphviz_dot(sizes, edges).encode("utf-8"),
                              check=False)
        if done.returncode != 0:
            return None
        return _from_graphviz(json.loads(done.stdout), edges)
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, IndexError):
        return None


def _points(text):
    return [tuple(float(v) for v in pair.split(",")) for pair in text.split()]


def _from_graphviz(data, edges):
    _, _, width, height = (float(v) for v in data["bb"].split(","))

    def flip(point):
        return (point[0], height - point[1])

    boxes = {}
    for item in data.get("objects", []):
        if "pos" in item and item["name"].startswith("n"):
            x, y = _points(item["pos"])[0]
            boxes[int(item["name"][1:])] = Box(x, height - y, float(item["width"]) * 72,
                                               float(item["height"]) * 72)
    routes = {}
    for item in data.get("edges", []):
        key = edges[int(item["id"])][0]
        tip = None
        spline = []
        for part in item["pos"].split():
            if part.startswith("e,"):
                tip = flip(_points(part[2:])[0])
            elif not part.startswith("s,"):
                spline.append(flip(_points(part)[0]))
        label = flip(_points(item["lp"])[0]) if "lp" in item else None
        routes[key] = Route(spline, True, tip, label)
    return Layout(width, height, boxes, routes, "dot")


# ---------------------------------------------------------------------------------------
# The built-in layered layout


def ranks(sizes, edges):
    """Each node's rank, 0 at the bottom: every node sits just below its lowest user
    (the longest path down from the top decides), so no edge from an input or a
    constant runs further than it must."""
    users = {node: [] for node in sizes}
    for _key, source, target, _label in edges:
        users[source].append(target)
    down = {}
    for node in reversed(list(sizes)):  # users come later in topological order
        down[node] = 1 + max((down[u] for u in users[node]), default=-1)
    top = max(down.values(), default=0)
    return {node: top - down[node] for node in sizes}


class _Vertex:
    __slots__ = ("node", "level", "width", "height", "down", "up", "x", "y", "pos")

    def __init__(self, node, level, width, height):
        self.node = node  # node id, or None for a dummy
        self.level = level
        self.width, self.height = width, height
        self.down, self.up = [], []  # neighbours on lower and higher levels
        self.x = self.y = 0.0
        self.pos = 0  # index on its level, while ordering


def layered_layout(sizes, edges):
    """The built-in Sugiyama-style Layout (see the module docstring)."""
    rank = ranks(sizes, edges)
    vertices = {node: _Vertex(node, 2 * rank[node], *sizes[node]) for node in sizes}
    chains = []  # per edge: its key, source vertex, dummies bottom to top, label dummy
    budget = DUMMY_BUDGET + 4 * len(sizes)
    extra = []
    for key, source, target, label in edges:
        low, high = vertices[source], vertices[target]
        levels = range(low.level + 1, high.level)
        if len(levels) > 1 and len(levels) > budget:
            levels = range(high.level - 1, high.level)  # over budget: the label level only
        budget -= len(levels)
        chain = []
        for level in levels:
            carries = level == high.level - 1 and label is not None
            width, height = label if carries else (DUMMY_WIDTH, 0)
            chain.append(_Vertex(None, level, width, height))
        extra.extend(chain)
        path = [low, *chain, high]
        for below, above in zip(path, path[1:]):
            below.up.append(above)
            above.down.append(below)
        chains.append((key, low, chain, high, label is not None))
    every = [*vertices.values(), *extra]
    levels = [[] for _ in range(1 + max(v.level for v in every))]
    for vertex in every:  # nodes in id order, then dummies in edge order
        levels[vertex.level].append(vertex)
    _order(levels)
    _place(levels)
    width, height = _size(levels)
    boxes = {node: Box(v.x, v.y, v.width, v.height) for node, v in vertices.items()}
    routes = {}
    ends = _ports(chains)
    for key, low, chain, high, labelled in chains:
        start, end = ends[key]
        points = [start, *((v.x, v.y) for v in chain), end]
        label = (chain[-1].x, chain[-1].y) if labelled else None
        routes[key] = Route(points, False, None, label)
    return Layout(width, height, boxes, routes, "built-in")


def _order(levels):
    """Barycentre sweeps, keeping the order with the fewest crossings, then swaps of
    neighbours that remove more. A vertex's `pos` is its index on its level."""
    _number(levels)
    best, best_crossings = [list(level) for level in levels], _crossings(levels)
    for sweep in range(ORDER_SWEEPS):
        if best_crossings == 0:
            break
        upward = sweep % 2 == 1  # downward first: operands in the order written
        span = range(1, len(levels)) if upward else range(len(levels) - 2, -1, -1)
        for index in span:
            level = levels[index]
            moving, slots = [], []
            for k, vertex in enumerate(level):
                near = vertex.down if upward else vertex.up
                if near:  # a vertex with no neighbours that way keeps its place
                    moving.append((sum(n.pos for n in near) / len(near), k, vertex))
                    slots.append(k)
            moving.sort(key=lambda item: item[:2])
            for k, (_, _, vertex) in zip(slots, moving):
                level[k] = vertex
                vertex.pos = k
        crossings = _crossings(levels)
        if crossings < best_crossings:
            best, best_crossings = [list(level) for level in levels], crossings
    levels[:] = best
    _number(levels)
    if best_crossings:
        _transpose(levels)


def _number(levels):
    for level in levels:
        for k, vertex in enumerate(level):
            vertex.pos = k


def _transpose(levels, rounds=4):
    """Swap neighbours on a level wherever that removes crossings (a few rounds)."""
    for _ in range(rounds):
        improved = False
        for level in levels:
            for k in range(len(level) - 1):
                left, right = level[k], level[k + 1]
                if _pair(left, right) > _pair(right, left):
                    level[k], level[k + 1] = right, left
                    left.pos, right.pos = k + 1, k
                    improved = True
        if not improved:
            return


def _pair(left, right):
    """Crossings between the edges of two neighbours on a level, `left` left of
    `right`, with the levels just below and above."""
    count = 0
    for ours, theirs, step in ((left.down, right.down, -1), (left.up, right.up, 1)):
        if ours and theirs:
            level = left.level + step
            mine = [n.pos for n in ours if n.level == level]
            count += sum(1 for n in theirs if n.level == level for a in mine if a > n.pos)
    return count


def _crossings(levels):
    """How many pairs of edges cross between adjacent levels (inversions, counted with
    a Fenwick tree: Barth, Jünger and Mutzel's method)."""
    total = 0
    for lower, upper in zip(levels, levels[1:]):
        targets = sorted((v.pos, n.pos) for v in lower for n in v.up if n.level == v.level + 1)
        tree = [0] * (len(upper) + 1)
        seen = 0
        for _, target in targets:
            i = target + 1  # edges already seen that end to the right of this one cross it
            below = 0
            while i > 0:
                below += tree[i]
                i -= i & -i
            total += seen - below
            seen += 1
            i = target + 1
            while i <= len(upper):
                tree[i] += 1
                i += i & -i
    return total


def _gap(left, right):
    return (left.width + right.width) / 2 + (NODE_GAP if left.node is not None
                                             or right.node is not None else LABEL_GAP)


def _pack(level, desired):
    """Positions as near `desired` as the gaps allow, in the level's order."""
    n = len(level)
    left, right = desired[:], desired[:]
    for k in range(1, n):
        left[k] = max(desired[k], left[k - 1] + _gap(level[k - 1], level[k]))
    for k in range(n - 2, -1, -1):
        right[k] = min(desired[k], right[k + 1] - _gap(level[k], level[k + 1]))
    for k, vertex in enumerate(level):
        vertex.x = (left[k] + right[k]) / 2


def _place(levels):
    for level in levels:
        _pack(level, [0.0] * len(level))
    for sweep in range(PLACE_SWEEPS):
        upward = sweep % 2 == 0
        span = range(1, len(levels)) if upward else range(len(levels) - 2, -1, -1)
        for index in span:
            level = levels[index]
            desired = []
            for vertex in level:
                near = vertex.down if upward else vertex.up
                desired.append(sum(n.x for n in near) / len(near) if near else vertex.x)
            _pack(level, desired)
    y = MARGIN
    for level in reversed(levels):  # the top level is the highest
        height = max((v.height for v in level), default=0)
        for vertex in level:
            vertex.y = y + height / 2
        y += height + LEVEL_GAP


def _size(levels):
    every = [v for level in levels for v in level]
    left = min(v.x - v.width / 2 for v in every)
    for vertex in every:
        vertex.x += MARGIN - left
    width = max(v.x + v.width / 2 for v in every) + MARGIN
    height = max(v.y + v.height / 2 for v in every) + MARGIN
    return width, height


def _ports(chains):
    """Where each edge leaves its source's top and enters its user's bottom: spread
    along the side, in the order of where the edge comes from or goes to."""
    leaving, entering = {}, {}
    for key, low, chain, high, _ in chains:
        after = chain[0] if chain else high
        before = chain[-1] if chain else low
        leaving.setdefault(id(low), []).append((after.x, key, low))
        entering.setdefault(id(high), []).append((before.x, key, high))
    starts, ends = {}, {}
    for group, found, side in ((leaving, starts, 1), (entering, ends, -1)):
        for uses in group.values():
            uses.sort(key=lambda use: use[0])
            for k, (_, key, vertex) in enumerate(uses):
                offset = ((k + 1) / (len(uses) + 1) - 0.5) * vertex.width * 0.6
                found[key] = (vertex.x + offset, vertex.y - side * vertex.height / 2)
    return {key: (starts[key], ends[key]) for key in starts}
