"""SymPy peer: parse_expr each statement (named intermediates substituted through
local_dict, in order), diff the output by each input, lambdify the value and the
gradient, evaluate at the inputs, print JSON.

    python bench/peers/sympy_peer.py PROGRAM.bp VALUES.json

This is the textbook symbolic route; it uses Python's parser (through parse_expr), so
it inherits its limits: more than 200 nested parentheses is a SyntaxError and a very
long sum a RecursionError. These are reported as crashes, not worked around.
sigmoid, relu and softplus, which SymPy lacks, are given to parse_expr as functions.
"""

import re

import sympy
from _common import emit, load, translate
from sympy.parsing.sympy_parser import parse_expr

_ASSIGN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)", re.S)

EXTRA = {"sigmoid": lambda z: 1 / (1 + sympy.exp(-z)),
         "relu": lambda z: sympy.Max(z, 0),
         "softplus": lambda z: sympy.log(1 + sympy.exp(z)),
         "max": sympy.Max, "min": sympy.Min}


def main():
    text, values = load()
    names = list(values)
    symbols = [sympy.Symbol(name) for name in names]
    env = dict(zip(names, symbols))
    env.update(EXTRA)
    out = None
    for line in translate(text).split("\n"):
        line = line.split("#", 1)[0]
        if not line.strip():
            continue
        match = _ASSIGN.match(line)
        if match:
            out = env[match.group(1)] = parse_expr(match.group(2), local_dict=env)
        else:
            out = parse_expr(line, local_dict=env)
    grads = [sympy.diff(out, s) for s in symbols]
    evaluate = sympy.lambdify(symbols, [out, *grads])
    result = evaluate(*[values[name] for name in names])
    emit(result[0], dict(zip(names, result[1:])), "parse_expr")


if __name__ == "__main__":
    main()
