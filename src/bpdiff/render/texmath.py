"""LaTeX for bpdiff's text: escaping text, and names, references and expressions as math.

Expressions come as structure, never as text to re-read: graph nodes and symbolic
expressions print through bpdiff.language.printer in its LATEX style (`a/b` as
\\frac{a}{b}, `x^(n - 1)` as x^{n - 1}, `*` as \\cdot, sqrt and abs as \\sqrt{} and |.|,
sigmoid as \\sigma, names with a digit or an underscore suffix as subscripts: x1, x_1 ->
x_{1}; w_in -> w_{\\mathit{in}}, Greek names as letters, longer names in \\mathit, #2 as
\\#2). Here: text mode, with specials escaped (`_ ^ # & % $ { } \\ ~`) and the Unicode
bpdiff prints (∂ × · σ ≈ ≥ → …) mapped to LaTeX, so the output is ASCII; ∂ fractions of
references; and math() for a program's text, read by bpdiff's own parser.
"""

import re

from bpdiff.errors import BpdiffError
from bpdiff.language.printer import LATEX, Leaf, graph_view, latex_reference, print_expression
from bpdiff.language.printer import latex_name as name  # noqa: F401 - part of this API
from bpdiff.language.printer import latex_number as number  # noqa: F401

_TEXT_ESCAPES = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&",
                 "%": "\\%", "#": "\\#", "_": "\\_", "^": "\\^{}", "~": "\\~{}",
                 "<": "\\textless{}", ">": "\\textgreater{}", "|": "\\textbar{}"}
_UNICODE_MATH = {"∂": "\\partial", "×": "\\times", "·": "\\cdot", "σ": "\\sigma",
                 "≈": "\\approx", "≥": "\\geq", "≤": "\\leq", "→": "\\to", "÷": "\\div",
                 "∞": "\\infty", "½": "\\frac{1}{2}", "√": "\\surd", "²": "^{2}", "³": "^{3}",
                 "‖": "\\|", "−": "-", "↺": "\\circlearrowleft"}
_UNICODE_TEXT = {"—": "---", "–": "--", "…": "\\ldots{}", "’": "'", "‘": "`", "“": "``",
                 "”": "''", "✓": "\\ensuremath{\\checkmark}", "✗": "\\ensuremath{\\times}"}


def text(value):
    """Plain text for text mode (also inside \\text{...}): specials escaped, `--` kept
    as two hyphens, known Unicode mapped (math symbols through \\ensuremath), any other
    non-ASCII character spelled as its code point, so that every engine compiles it."""
    out = []
    for c in value:
        if c in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[c])
        elif c in _UNICODE_MATH:
            out.append(f"\\ensuremath{{{_UNICODE_MATH[c]}}}")
        elif c in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[c])
        elif ord(c) > 126 or (ord(c) < 32 and c != "\n"):
            out.append(f"[U+{ord(c):04X}]")
        elif c == "-" and out and out[-1].endswith("-"):
            out.append("{}-")  # `--all` stays two hyphens, not an en dash
        else:
            out.append(c)
    return "".join(out)


def partial(of, wrt):
    """∂of/∂wrt as a fraction; `of` and `wrt` are bpdiff references (names, #ids)."""
    return f"\\frac{{\\partial {latex_reference(of)}}}{{\\partial {latex_reference(wrt)}}}"


def math(source):
    """bpdiff expression text as LaTeX math (without $), or the text in \\text{} if it
    is not an expression. `#2` stands for node 2."""
    from bpdiff.language.parse import parse

    try:
        graph = parse(re.sub(r"#([0-9]+)", r"__node\1", source), share=False)
    except BpdiffError:
        return f"\\text{{{text(source)}}}"
    refs = {node: Leaf("ref", "#" + n[6:]) for n, node in graph.variables.items()
            if re.fullmatch(r"__node[0-9]+", n)}
    return print_expression(graph_view(graph, graph.output, "all", refs), graph.output, LATEX)
