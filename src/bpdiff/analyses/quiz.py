"""`--quiz N`: random backprop exercises with tidy answers, and their answer key.

Level 1: a couple of gates (+, −, ×, max, min) over three inputs, integer answers.
Level 2: shared subexpressions and several paths (an input or a named intermediate used
twice, (a+b)·b^k, a/(a+b)), answers integers or short decimals.
Level 3: sigmoid and tanh neurons with a squared, log or cross-entropy loss (answers
are not tidy there: they are checked to the default tolerance).

Every draw is computed by bpdiff itself, in exact arithmetic (bpdiff.engine.exact), and drawn
again when an answer is not tidy (a denominator other than a divisor of 1000 at levels
1-2), is large, or sits at a kink. A quiz is a list of problems.Problem whose
expectations are the answers, so the key grades with `--problems`.
"""

import random
from fractions import Fraction

from bpdiff.analyses.expect import expectation_of
from bpdiff.analyses.problems import Problem

LEVELS = (1, 2, 3)
MAX_QUIZ = 1000
MAX_DRAWS = 2000
_NAMES = (("x", "y", "z"), ("a", "b", "c"), ("p", "q", "r"), ("u", "v", "w"))


def _gate(op, left, right):
    if op in ("max", "min"):
        return f"{op}({left}, {right})"
    return f"({left} {op} {right})"


def _strip(text):
    return text[1:-1] if text.startswith("(") and text.endswith(")") and _balanced(
        text[1:-1]) else text


def _balanced(text):
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _level1(rng):
    x, y, z = rng.choice(_NAMES)
    first, second = rng.choice(["+", "-", "*", "max", "min"]), rng.choice(["+", "-", "*"])
    if first in "+-" and second in "+-":
        second = "*"
    if rng.random() < 0.5:
        body = _gate(second, _gate(first, x, y), z)
    else:
        body = _gate(second, z, _gate(first, x, y))
    values = {n: rng.choice([-4, -3, -2, -1, 1, 2, 3, 4, 5]) for n in (x, y, z)}
    return f"f = {_strip(body)}", values


def _level2(rng):
    x, y, z = rng.choice(_NAMES)
    op = rng.choice(["+", "-", "*"])
    k = rng.choice([2, 3])
    templates = [
        f"f = ({x} {op} {y}) * {y}^{k}",
        f"s = {x} * {y}\nf = s * (s + {z})",
        f"s = {x} {op} {y}\nt = s * {z}\nf = t + s * {x}",
        f"f = {x} / ({x} + {y})",
        f"s = {x} * {y}\nt = s + {y}\nf = t * s",
        f"f = ({x} + {y}) * ({x} - {z})",
        f"s = {x}^2\nf = s * {y} + s / {z}",
    ]
    program = rng.choice(templates)
    return program, {n: rng.choice([-3, -2, -1, 1, 2, 3]) for n in _inputs(program)}


def _level3(rng):
    weights = [-2, -1, Fraction(-1, 2), Fraction(1, 2), 1, 2]
    templates = [
        ("z = w*x + b\na = sigmoid(z)\nL = (a - y)^2", {"y": [0, 1]}),
        ("z = w*x + b\nh = tanh(z)\nL = 0.5*(h - y)^2", {"y": [-1, 0, 1]}),
        ("z = w1*x1 + w2*x2 + b\np = sigmoid(z)\nL = -log(p)", {}),
        ("z = w*x + b\np = sigmoid(z)\nL = -(y*log(p) + (1 - y)*log(1 - p))", {"y": [0, 1]}),
        ("h = relu(w1*x + b1)\nz = w2*h + b2\np = sigmoid(z)\nL = (p - y)^2", {"y": [0, 1]}),
        ("f = 1/(1 + exp(-(w0*x0 + w1*x1 + w2)))", {}),
    ]
    program, choices = rng.choice(templates)
    values = {}
    for name in _inputs(program):
        if name in choices:
            values[name] = rng.choice(choices[name])
        elif name.startswith("b"):
            values[name] = rng.choice([-1, 0, 1])
        elif name.startswith("x"):
            values[name] = rng.choice([-1, Fraction(1, 2), 1, 2])
        else:
            values[name] = rng.choice(weights)
    return program, values


def _inputs(program):
    from bpdiff.language.parse import parse

    return list(parse(program).variables)


_DRAW = {1: _level1, 2: _level2, 3: _level3}


def tidy(number, level):
    """Whether an exact answer is fit for a hand exercise at `level`."""
    if number is None:
        return level == 3
    if abs(number) > 1000:
        return False
    return level == 3 or 1000 % number.denominator == 0


def generate(count, seed, level):
    """`count` exercises (a list of problems.Problem, answers as expectations), the same
    for the same seed and level."""
    from bpdiff import api

    rng = random.Random(f"bpdiff-quiz-{level}-{seed}")
    quiz = []
    seen = set()
    for number in range(1, count + 1):
        for _ in range(MAX_DRAWS):
            program, values = _DRAW[level](rng)
            key = (program, tuple(sorted(values.items())))
            if key in seen and len(seen) < 50 * level:
                continue
            values = {k: _text(Fraction(v)) for k, v in values.items()}
            result = api.differentiate(program, values, exact=True)
            answers = _answers(result)
            zeros = sum(f == 0 for k, _, f in answers if k in result.graph.variables)
            zeros += level < 3 and result.value == 0
            if result.kinks or result.nonfinite or zeros > (1 if level == 1 else 0) or any(
                    not tidy(a, level) for _, a, _ in answers):
                continue
            break
        seen.add(key)
        expect = tuple(expectation_of(k, _text(a) if a is not None else repr(f))
                       for k, a, f in answers)
        quiz.append(Problem(f"quiz {number}", program, values, expect))
    return quiz


def _answers(result):
    """(key, exact answer or None, float) for the value, then ∂ for every named node:
    inputs first, then named intermediates."""
    graph, exact = result.graph, result.exact
    out = graph.output
    answers = [("value", exact.values[out], result.values[out])]
    names = [*graph.variables, *(n for n, i in graph.names.items()
                                 if n not in graph.variables and i != out)]
    for name in names:
        node = graph.names[name]
        answers.append((name, exact.grads[node], result.grads[node]))
    return answers


def _text(number):
    """A Fraction as an integer, a terminating decimal (0.25) or a fraction (1/3)."""
    if number.denominator == 1:
        return str(number.numerator)
    scaled = number * 10**6
    if scaled.denominator == 1:
        sign = "-" if number < 0 else ""
        whole, part = divmod(abs(scaled.numerator), 10**6)
        return f"{sign}{whole}.{part:06d}".rstrip("0")
    return str(number)
