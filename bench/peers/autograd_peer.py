"""HIPS autograd peer: autograd.value_and_grad of a Python function that walks the
translated text (peers/_common.py) with autograd.numpy operations, taking the inputs as
a dict of scalars.

    python bench/peers/autograd_peer.py PROGRAM.bp VALUES.json

autograd.numpy has no sigmoid, relu or softplus; they are written from its primitives
as a user would (sigmoid as 0.5*(tanh(x/2) + 1), which is stable for large |x|).
"""

import autograd.numpy as anp
from _common import (Backend, emit, load, main_guard, parse_ast, program_function,
                     translate)
from autograd import value_and_grad


class AutogradBackend(Backend):
    functions = {
        "sin": anp.sin, "cos": anp.cos, "tan": anp.tan, "exp": anp.exp, "log": anp.log,
        "sqrt": anp.sqrt, "abs": anp.abs, "tanh": anp.tanh,
        "sigmoid": lambda a: 0.5 * (anp.tanh(0.5 * a) + 1.0),
        "relu": lambda a: anp.maximum(a, 0.0),
        "softplus": lambda a: anp.logaddexp(0.0, a),
        "max": anp.maximum, "min": anp.minimum, "pow": anp.power}


def main():
    text, values = load()
    pytext = translate(text)
    statements = parse_ast(pytext)
    backend = AutogradBackend()
    program = program_function(pytext, statements, backend)
    value, grads = value_and_grad(program)(values)
    emit(value, {name: float(g) for name, g in grads.items()},
         "ast" if statements is not None else "fallback")


if __name__ == "__main__":
    main_guard(main)
