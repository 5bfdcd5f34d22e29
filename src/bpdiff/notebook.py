"""bpdiff in notebooks: the Result that `bpdiff.differentiate` returns, which Jupyter
shows as a table with the interactive report (and as Markdown or LaTeX in other front
ends), with text methods (`table`, `explain`, `to_json`, `to_dot`) and `show()`; and
the `%bpdiff` / `%%bpdiff` magics that `%load_ext bpdiff` registers.

The top layer: it may import every other (api below it computes, render formats, cli
parses the magics' arguments). Renderers are imported inside the methods, IPython only
by load_ipython_extension, so `import bpdiff` stays as fast as before.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from bpdiff import api
from bpdiff.numbers import DEFAULT_PRECISION
from bpdiff.render.selection import DEFAULT_MAX_NODES


class NotebookResult(api.Result):
    """An api.Result that shows itself in notebooks. `call` holds differentiate's
    arguments, to run the passes again with edges recorded when a view needs them
    (the narration, the report, the DOT picture) and the first run did not."""

    __slots__ = ("call",)
    call: tuple | None

    def __init__(self, result: api.Result, call: tuple | None = None) -> None:
        super().__init__(*(getattr(result, name) for name in api.Result.__slots__))
        self.call = call

    def _with_edges(self) -> api.Result:
        if self.recorded_edges is not None or self.call is None:
            return self
        text, values, options = self.call
        return api.differentiate(text, values, **{**options, "edges": True})

    def table(self, precision: int = DEFAULT_PRECISION, max_rows: int | None = DEFAULT_MAX_NODES,
              full: bool = False) -> str:
        """The node table and summary line as plain text (what `bpdiff` prints to a pipe);
        `max_rows` None shows every node, `full` every element of arrays."""
        from bpdiff.render.table import plain

        return plain(self, precision, max_rows, full=full)

    def explain(self, precision: int = DEFAULT_PRECISION) -> str:
        """The forward and backward passes narrated edge by edge (`bpdiff --explain`)."""
        from bpdiff.render.explain import explain_text

        return explain_text(self._with_edges(), precision)

    def to_json(self, explain: bool = False, locals: bool = False) -> str:
        """The result as `bpdiff --json` prints it (with `explain`, `locals`: those
        sections too), one JSON object as text."""
        from bpdiff.render.json import render

        result = self._with_edges() if explain or locals else self
        return render(result, explain=explain, locals_=locals)

    def to_dot(self, precision: int = DEFAULT_PRECISION) -> str:
        """The graph as Graphviz DOT text (`bpdiff --dot`), every node drawn."""
        from bpdiff.render.pictures import dot

        return dot(self._with_edges(), precision)

    def show(self, precision: int = DEFAULT_PRECISION,
             max_rows: int | None = DEFAULT_MAX_NODES) -> None:
        """Print the table with rich (colours and boxes in a terminal or a notebook)."""
        from rich.console import Console

        from bpdiff.render.table import rich_table

        console = Console()
        for renderable in rich_table(self, precision, max_rows):
            console.print(renderable)

    def _repr_html_(self) -> str:
        from bpdiff.render.notebook import html_fragment

        return html_fragment(self._with_edges())

    def _repr_markdown_(self) -> str:
        from bpdiff.render.markdown import table

        return table(self, DEFAULT_PRECISION, (DEFAULT_MAX_NODES, None, None))

    def _repr_latex_(self) -> str | None:
        from bpdiff.render.notebook import latex_display

        return latex_display(self)


@functools.wraps(api.differentiate)
def differentiate(text: str, /, values: Any = None, **options: Any) -> NotebookResult:
    return NotebookResult(api.differentiate(text, values, **options), (text, values, options))


def run_magic(line: str, cell: str | None = None) -> int:
    """Run the `bpdiff` command on the magic's line (`"(a+b)*b^3" --a 7`, split as a
    shell would) and, for `%%bpdiff`, the cell as the program. Prints what the command
    prints, errors included (never a traceback); returns its exit code."""
    import shlex

    from bpdiff.cli import main

    try:
        argv = shlex.split(line)
    except ValueError as error:  # an unclosed quote
        print(f"bpdiff: error: the magic's line: {error}", file=sys.stderr)
        return 2
    if cell is not None:
        argv += ["--", cell]
    try:
        main(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


def _line_magic(line: str) -> None:
    run_magic(line)


def _cell_magic(line: str, cell: str) -> None:
    run_magic(line, cell)


def load_ipython_extension(ipython: Any) -> None:
    """Register %bpdiff (the program on the line) and %%bpdiff (the cell is the program,
    the line its options and input values)."""
    ipython.register_magic_function(_line_magic, "line", "bpdiff")
    ipython.register_magic_function(_cell_magic, "cell", "bpdiff")
