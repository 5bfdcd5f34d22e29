"""`--symbolic`: ∂out/∂v as expressions, printed in bpdiff syntax.
"""

from bpdiff.errors import BpdiffValueError, did_you_mean
from bpdiff.analyses.symbolic import DEFAULT_MAX_CHARS, gradient_expressions, to_text

MAX_SYMBOLIC_NODES = 20_000  # expressions grow with the graph; bigger ones are refused


def symbolic_gradients(result, wrt=None, max_chars=DEFAULT_MAX_CHARS):
    """Gradients {name: expression text, or None when over `max_chars`} for each input,
    or for the inputs and named intermediates listed in `wrt`."""
    graph = result.graph
    if len(graph) > MAX_SYMBOLIC_NODES:
        raise BpdiffValueError(f"--symbolic works on graphs of up to {MAX_SYMBOLIC_NODES:,}"
                               f" nodes; this one has {len(graph):,}")
    names = list(graph.variables) if not wrt else wrt
    for name in names:
        if name not in graph.names:
            raise BpdiffValueError(f"--wrt {name}: no such input or named intermediate"
                                   + did_you_mean(name, graph.names))
    algebra, grads = gradient_expressions(graph)
    expressions = {name: grads[graph.names[name]] for name in names}
    return Gradients({name: to_text(algebra, e, max_chars) for name, e in expressions.items()},
                     algebra, expressions)


class Gradients(dict):
    """{name: the gradient in bpdiff syntax, or None when over the limit}, which can
    print each gradient again in another style of bpdiff.language.printer."""

    def __init__(self, texts, algebra, expressions):
        super().__init__(texts)
        self.algebra, self.expressions = algebra, expressions

    def printed(self, name, style):
        """The gradient with respect to `name` in `style`, however long."""
        return to_text(self.algebra, self.expressions[name], None, style)


def symbolic_text(result, gradients, max_chars):
    """The gradients as lines `∂out/∂a = ...`, ending in a newline."""
    out = result.graph.name_of.get(result.graph.output, "out")
    lines = [f"∂{out}/∂{name} = {text}" if text is not None else
             f"∂{out}/∂{name}: the expression is over {max_chars:,} characters"
             " (raise --symbolic-max to print it)"
             for name, text in gradients.items()]
    return "\n".join(lines) + "\n"
