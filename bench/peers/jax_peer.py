"""JAX peer: jax.value_and_grad of a Python function that walks the translated text
(peers/_common.py) with jax.numpy operations, taking the inputs as a dict of scalars.

    python bench/peers/jax_peer.py PROGRAM.bp VALUES.json

64-bit mode is switched on (jax_enable_x64): JAX computes in float32 by default, which
would not agree with bpdiff to 1e-6. No jax.jit: for a one-shot evaluation of an
unrolled scalar program, XLA compilation costs far more than it saves. The text is
parsed once, outside the traced function; the walk happens while JAX traces.
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
from _common import (Backend, emit, load, main_guard, parse_ast, program_function,  # noqa: E402
                     translate)


class JaxBackend(Backend):
    functions = {
        "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "exp": jnp.exp, "log": jnp.log,
        "sqrt": jnp.sqrt, "abs": jnp.abs, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid,
        "relu": jax.nn.relu, "softplus": jax.nn.softplus, "max": jnp.maximum,
        "min": jnp.minimum, "pow": jnp.power}


def main():
    text, values = load()
    pytext = translate(text)
    statements = parse_ast(pytext)
    backend = JaxBackend()
    program = program_function(pytext, statements, backend)
    value, grads = jax.value_and_grad(program)(values)
    emit(value, {name: float(g) for name, g in grads.items()},
         "ast" if statements is not None else "fallback")


if __name__ == "__main__":
    main_guard(main)
