"""micrograd peer: build the program from micrograd.engine.Value objects by walking the
translated text (peers/_common.py), call .backward() on the output, print the value and
every input's .grad as JSON.

    python bench/peers/micrograd_peer.py PROGRAM.bp VALUES.json

micrograd 0.1.0 (PyPI) has only + - * / ** (numeric exponent) and relu: no sin, tanh,
sigmoid, exp or log, so the unary and mlp workloads are skipped for it (exit code 3,
"unsupported"). Value.backward() sorts the graph with a recursive function, one Python
frame per level of the graph, so the recursion limit is raised before it, as a user would
after the first RecursionError (Python 3.11 keeps pure-Python recursion off the C stack).
"""

import sys

from _common import Backend, Unsupported, emit, load, main_guard, run_program
from micrograd.engine import Value


class MicrogradBackend(Backend):
    functions = {"relu": lambda a: a.relu() if isinstance(a, Value) else max(a, 0.0)}

    def pow(self, a, b):
        if isinstance(b, Value):
            raise Unsupported("a ** b with a variable exponent")
        return a ** b


def main():
    text, values = load()
    inputs = {name: Value(v) for name, v in values.items()}
    out, frontend = run_program(text, dict(inputs), MicrogradBackend())
    # Raised only now: a high limit would let Python's parser (ast.parse, above) recurse
    # until the C stack overflows on a long sum, instead of raising RecursionError.
    sys.setrecursionlimit(10_000_000)
    out.backward()
    emit(out.data, {name: v.grad for name, v in inputs.items()}, frontend)


if __name__ == "__main__":
    main_guard(main)
