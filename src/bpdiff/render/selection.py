"""Which nodes a big graph's table and pictures show.

Up to --max-nodes (default DEFAULT_MAX_NODES) every node is shown. Beyond, or whenever
`--only named` is asked for, a summary: the output, the inputs and the named
intermediates, plus (unless `--only named` without `--top`) the K unnamed nodes with the
largest |gradient| (`--top K`, default DEFAULT_TOP). One pass over the gradient list and
a heap of K: linear in the graph (1e6 nodes in about 0.1 s).
"""

import heapq

DEFAULT_MAX_NODES = 200  # --max-nodes: above, tables are summarised, pictures refused
DEFAULT_TOP = 10
ONLY_CHOICES = ("named",)  # what --only accepts


def named(graph):
    """The nodes every summary keeps: the output, the inputs, the named intermediates."""
    return {graph.output, *graph.name_of}


def largest(result, k, exclude):
    """The ids of the `k` nodes outside `exclude` with the largest |gradient| (nodes
    without a gradient are never chosen); ties go to the lower id."""
    grads = result.grads
    candidates = (i for i in range(len(grads)) if i not in exclude and grads[i] is not None)
    size = (lambda g: abs(g).max()) if result.tensor else abs  # an array: largest |element|
    return heapq.nlargest(k, candidates, key=lambda i: size(grads[i]))


def summarised(result, max_rows, top=None, only=None):
    """(ids, note): the node ids to show, ascending, and a line saying what is hidden;
    (None, '') when every node is shown.

    `max_rows` None means no limit (--all); `top` None means the default K over the
    limit and none with `only`; `only` is None or 'named'."""
    graph = result.graph
    count = len(graph)
    if only is None and (max_rows is None or count <= max_rows):
        return None, ""
    keep = named(graph)
    k = top if top is not None else (0 if only else DEFAULT_TOP)
    picked = largest(result, k, keep) if k else []
    keep.update(picked)
    shown = sorted(keep)
    hidden = count - len(shown)
    if not hidden:
        return shown, ""
    what = "the output, inputs and named intermediates"
    if picked:
        plural = "node" if len(picked) == 1 else f"{len(picked)} nodes"
        what = (f"the output, inputs, named intermediates and the {plural} with the"
                " largest |gradient|")
    return shown, f"{hidden:,} of {count:,} nodes hidden: showing {what} (--all shows every node)"
