"""Pictures of big graphs: which nodes are drawn, and how the hidden ones are collapsed.

A picture is drawn in full up to --max-nodes (or with --all/--force). With `--only
named`, or over the limit with `--top K`, it shows the nodes a table summary keeps (the
output, the inputs, the named intermediates, and with --top the K unnamed nodes with the
largest |gradient|), plus the constants a shown node uses directly; over the limit
without either option it is refused. The hidden nodes are collapsed:

- hidden nodes that feed the same shown nodes (those they reach through hidden nodes
  only) form one group, drawn as a dashed box '… 12 nodes': everything computed on the
  way to `h1` in `h1 = sigmoid(w1*x1 + w2*x2 + b)` is one box between the five inputs
  and h1;
- a group fed by one shown node and feeding one shown node is a chain, drawn as a single
  dashed edge between the two, labelled '… 12 nodes';
- arrows between shown nodes are drawn as in the full picture.

The collapsed picture is acyclic and keeps reachability: there is a path from one shown
node to another in the picture exactly when there is one in the graph, because every
node of a group reaches the same shown nodes. Hidden constants are dropped (they carry
no gradient) and are not counted. The sets of shown nodes reached are bitsets over the
shown nodes, built in one backward loop over the node list: linear in the graph, no
recursion.
"""

from typing import NamedTuple

from bpdiff.errors import BpdiffError
from bpdiff.engine.graph import CONST
from bpdiff.render.selection import largest, named


class View(NamedTuple):
    """What a collapsed picture draws."""

    nodes: list  # graph node ids drawn, ascending
    uses: list  # (node, position, source): an input edge between two drawn nodes
    groups: dict  # 'g<k>' -> number of hidden nodes it stands for, for each group box
    links: list  # (source, target, count): dashed arrows; source and target are node ids
    # or group keys; count is the hidden nodes a chain edge stands for, None to/from a box


def picture_view(result, max_nodes, top=None, only=None):
    """None for a full picture, else the View of a collapsed one (see the module doc).
    `max_nodes` None means no limit (--all). Raises BpdiffError when the graph is over
    the limit and neither `top` nor `only` is given, or the collapsed picture still has
    more than `max_nodes` nodes."""
    graph = result.graph
    count = len(graph)
    if only is None and (max_nodes is None or count <= max_nodes):
        return None
    if only is None and top is None:
        raise BpdiffError(f"the graph has {count:,} nodes, more than --max-nodes {max_nodes}:"
                          " a picture of every node would be unreadable",
                          hint="add --only named or --top K to collapse unnamed nodes,"
                               " or --force to draw them all")
    keep = named(graph)
    if top:
        keep.update(largest(result, top, keep))
    if max_nodes is not None and len(keep) > max_nodes:
        raise BpdiffError(f"the collapsed picture would still have {len(keep):,} nodes,"
                          f" more than --max-nodes {max_nodes}",
                          hint="raise --max-nodes, or use the table")
    return collapse(graph, keep)


def collapse(graph, keep):
    """The View drawing the nodes `keep` (and the constants they use) of `graph`."""
    ops, inputs = graph.ops, graph.inputs
    count = len(ops)
    shown = sorted(keep)
    bit = {node: 1 << k for k, node in enumerate(shown)}
    hidden = bytearray(count)
    for node in range(count):
        if node not in bit and ops[node] is not CONST:
            hidden[node] = 1
    downstream = [0] * count  # bitset of shown nodes the node reaches through hidden ones
    for node in range(count - 1, -1, -1):
        if node in bit:
            mine = bit[node]
        elif hidden[node]:
            mine = downstream[node]
        else:
            continue
        for source in inputs[node]:
            if hidden[source]:
                downstream[source] |= mine
    group_of, sizes, keys = {}, [], {}
    for node in range(count):
        if hidden[node]:
            signature = downstream[node]
            index = keys.get(signature)
            if index is None:
                index = keys[signature] = len(sizes)
                sizes.append(0)
            group_of[node] = index
            sizes[index] += 1
    drawn = set(shown)
    uses, arrows = [], set()
    for node in range(count):
        if node in bit:
            for position, source in enumerate(inputs[node]):
                if hidden[source]:
                    arrows.add((("g", group_of[source]), node))
                else:
                    drawn.add(source)  # a shown node's constant operands are drawn too
                    uses.append((node, position, source))
        elif hidden[node]:
            mine = ("g", group_of[node])
            for source in inputs[node]:
                if hidden[source]:
                    if group_of[source] != mine[1]:
                        arrows.add((("g", group_of[source]), mine))
                elif source in bit:
                    arrows.add((source, mine))
    return _chains(sorted(drawn), uses, sizes, arrows)


def _chains(nodes, uses, sizes, arrows):
    """The View, with each group between exactly one shown source and one shown target
    drawn as a labelled edge instead of a box."""
    into, out_of = {}, {}
    for source, target in arrows:
        if type(target) is tuple:
            into.setdefault(target[1], []).append(source)
        if type(source) is tuple:
            out_of.setdefault(source[1], []).append(target)
    links, groups = [], {}
    chained = set()
    for index, size in enumerate(sizes):
        sources, targets = into.get(index, []), out_of.get(index, [])
        if (len(sources) == 1 and len(targets) == 1 and type(sources[0]) is int
                and type(targets[0]) is int):
            links.append((sources[0], targets[0], size))
            chained.add(index)
        else:
            groups[f"g{index}"] = size

    def key(end):
        return f"g{end[1]}" if type(end) is tuple else end

    links += sorted(((key(s), key(t), None) for s, t in arrows
                     if not ((type(s) is tuple and s[1] in chained)
                             or (type(t) is tuple and t[1] in chained))), key=_order)
    links.sort(key=_order)
    return View(nodes, uses, groups, links)


def _order(link):
    """Links in a stable order: by target, then source (ids before group keys)."""
    source, target, _ = link
    return (_rank(target), _rank(source))


def _rank(end):
    return (0, end, "") if type(end) is int else (1, int(end[1:]), end)
