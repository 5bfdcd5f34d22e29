"""What every graph-building peer shares: reading the program and its values, translating
bpdiff syntax to Python syntax, and walking the translated text statement by statement,
calling the peer's own operations (a "backend") for each node. Nothing is eval'd or
exec'd.

Translation covers the syntax bench/workloads.py writes (and a little more): `^` -> `**`,
`;` -> new line, the pasted-from-notes operators `· × ÷ −`, and the aliases ln -> log,
sigma -> sigmoid. Implicit products (`2b`) are not translated: Python's parser rejects
them and the peer reports it.

Front-ends, in order:
  ast       ast.parse() of the whole translated text, then an iterative post-order walk
            of each statement (no recursion in our code, so any depth the parser accepts
            works). This is what a user would write.
  fallback  Python's parser refuses deep programs: more than 200 nested parentheses
            ("too many nested parentheses"), a ~1,000-term sum ("maximum recursion
            depth exceeded during ast construction"), thousands of unary minuses
            (MemoryError, "parser stack overflowed"). Only then the whole text is read by
            the small iterative operator-precedence reader below, which has Python's
            precedence rules for this subset and calls the same backend. The peer's
            output says which front-end ran (run.py marks fallback runs with †); the
            failed ast.parse attempt is part of the measured time.
"""

import ast
import json
import math
import re
import sys

# Exit code for "this peer lacks an operation the program uses" (run.py: unsupported).
UNSUPPORTED = 3


class Unsupported(Exception):
    """The peer has no such operation."""


def load(argv=None):
    """(program text, {input: float}) from the command line: PROGRAM.bp VALUES.json."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PROGRAM.bp VALUES.json")
    with open(argv[0], encoding="utf-8") as handle:
        text = handle.read()
    with open(argv[1], encoding="utf-8") as handle:
        values = {name: float(v) for name, v in json.load(handle).items()}
    return text, values


_FUNC_ALIASES = re.compile(r"\b(ln|sigma)(\s*\()")


def translate(text):
    """bpdiff syntax -> Python syntax (for the explicit-operator subset)."""
    text = text.replace("^", "**").replace(";", "\n")
    text = text.replace("·", "*").replace("×", "*").replace("÷", "/").replace("−", "-")
    return _FUNC_ALIASES.sub(lambda m: {"ln": "log", "sigma": "sigmoid"}[m.group(1)]
                             + m.group(2), text)


def number(value):
    """JSON-safe number, as bpdiff writes it: nan and ±inf as strings."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def emit(value, gradient, frontend, **extra):
    """Print the result as one JSON object (value, gradient per input, front-end)."""
    data = {"value": number(value), "gradient": {k: number(v) for k, v in gradient.items()},
            "frontend": frontend, **extra}
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main_guard(body):
    """Run body(); an Unsupported operation exits with UNSUPPORTED and a message."""
    try:
        body()
    except Unsupported as error:
        sys.stderr.write(f"unsupported: {error}\n")
        sys.exit(UNSUPPORTED)


class Backend:
    """A peer's operations. Subclasses override what differs; `functions` maps a
    function name to a callable taking the argument values."""

    functions = {}

    def const(self, value):
        return float(value)

    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def mul(self, a, b):
        return a * b

    def div(self, a, b):
        return a / b

    def pow(self, a, b):
        return a ** b

    def neg(self, a):
        return -a

    def pos(self, a):
        return a

    def call(self, name, args):
        function = self.functions.get(name)
        if function is None:
            raise Unsupported(f"function {name}()")
        return function(*args)


# ------------------------------------------------------------------ the ast front-end
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_UNARY = {ast.USub: "neg", ast.UAdd: "pos"}


def parse_ast(pytext):
    """The statements as (name or None, expression ast), or None if Python's parser
    refuses the text (too deep, too long)."""
    try:
        module = ast.parse(pytext, mode="exec")
    except (SyntaxError, RecursionError, MemoryError) as error:
        if isinstance(error, SyntaxError) and "nested" not in str(error):
            raise  # a real syntax error, not a depth limit
        return None
    statements = []
    for stmt in module.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            statements.append((stmt.targets[0].id, stmt.value))
        elif isinstance(stmt, ast.Expr):
            statements.append((None, stmt.value))
        else:
            raise SyntaxError(f"unsupported statement at line {stmt.lineno}")
    return statements


def eval_ast(node, env, backend):
    """The value of expression `node`, walking it in post-order with an explicit stack."""
    values = []
    stack = [(node, False)]
    push, pop = stack.append, stack.pop
    while stack:
        item, ready = pop()
        kind = type(item)
        if kind is ast.Name:
            try:
                values.append(env[item.id])
            except KeyError:
                raise NameError(f"no value for {item.id!r}") from None
        elif kind is ast.Constant:
            values.append(backend.const(item.value))
        elif kind is ast.BinOp:
            if ready:
                b = values.pop()
                a = values.pop()
                values.append(getattr(backend, _BINARY[type(item.op)])(a, b))
            else:
                if type(item.op) not in _BINARY:
                    raise Unsupported(type(item.op).__name__)
                push((item, True))
                push((item.right, False))
                push((item.left, False))
        elif kind is ast.UnaryOp:
            if ready:
                values.append(getattr(backend, _UNARY[type(item.op)])(values.pop()))
            else:
                if type(item.op) not in _UNARY:
                    raise Unsupported(type(item.op).__name__)
                push((item, True))
                push((item.operand, False))
        elif kind is ast.Call:
            if ready:
                count = len(item.args)
                args = values[-count:]
                del values[-count:]
                values.append(backend.call(item.func.id, args))
            else:
                if not isinstance(item.func, ast.Name) or item.keywords or not item.args:
                    raise SyntaxError("unsupported call")
                push((item, True))
                for arg in reversed(item.args):
                    push((arg, False))
        else:
            raise SyntaxError(f"unsupported syntax: {kind.__name__}")
    return values[0]


# ------------------------------------------------------------- the fallback front-end
_TOKEN = re.compile(r"""
    [ \t\r\f]+ | \\\n | \#[^\n]*                                  # skipped
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/(),=\n])
  | (?P<bad>.)
""", re.VERBOSE)

# Binary operators: precedence, right-associative. Prefix + and - are precedence 3.
_BINARY_PREC = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False),
                "**": (4, True)}
_BINARY_NAME = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}
_PREFIX = 3


def program_function(pytext, statements, backend):
    """f(inputs) -> the program's output, for tools that differentiate a Python function
    (JAX, autograd): statements from parse_ast(), or the fallback reader when None."""
    def program(inputs):
        env = dict(inputs)
        if statements is None:
            return run_fallback(pytext, env, backend)
        last = None
        for name, expression in statements:
            last = eval_ast(expression, env, backend)
            if name is not None:
                env[name] = last
        return last
    return program


def run_fallback(pytext, env, backend):
    """Read and evaluate every statement of `pytext` with an operator-precedence
    (shunting-yard) reader: no recursion, any depth. Returns the last value."""
    last = None
    for line_number, line in enumerate(pytext.split("\n"), 1):
        tokens = _tokens(line, line_number)
        if not tokens:
            continue
        target = None
        if len(tokens) > 2 and tokens[0][0] == "name" and tokens[1] == ("op", "="):
            target = tokens[0][1]
            tokens = tokens[2:]
        value = _shunting_yard(tokens, env, backend, line_number)
        if target is not None:
            env[target] = value
        last = value
    return last


def _tokens(line, line_number):
    tokens = []
    for match in _TOKEN.finditer(line):
        kind = match.lastgroup
        if kind is None:
            continue
        if kind == "bad":
            raise SyntaxError(f"line {line_number}: unexpected {match.group()!r}")
        tokens.append((kind, match.group()))
    return tokens


def _shunting_yard(tokens, env, backend, line_number):
    values = []  # evaluated operands
    ops = []  # pending: ("bin", symbol) / ("pre", symbol) / ("(", None) / ("call", name)
    counts = []  # argument counts of the open calls and parentheses
    expect_operand = True

    def reduce_top():
        kind, symbol = ops.pop()
        if kind == "bin":
            b = values.pop()
            a = values.pop()
            values.append(getattr(backend, _BINARY_NAME[symbol])(a, b))
        else:  # prefix
            a = values.pop()
            values.append(backend.neg(a) if symbol == "-" else backend.pos(a))

    position = 0
    count = len(tokens)
    while position < count:
        kind, text = tokens[position]
        if expect_operand:
            if kind == "num":
                values.append(backend.const(float(text)))
                expect_operand = False
            elif kind == "name":
                if position + 1 < count and tokens[position + 1] == ("op", "("):
                    ops.append(("call", text))
                    counts.append(1)
                    position += 1  # the '('
                else:
                    try:
                        values.append(env[text])
                    except KeyError:
                        raise NameError(f"no value for {text!r}") from None
                    expect_operand = False
            elif text in ("-", "+"):
                ops.append(("pre", text))
            elif text == "(":
                ops.append(("(", None))
                counts.append(1)
            else:
                raise SyntaxError(f"line {line_number}: unexpected {text!r}")
        else:
            if text in _BINARY_PREC:
                precedence, right = _BINARY_PREC[text]
                while ops and ops[-1][0] in ("bin", "pre"):
                    top_kind, top = ops[-1]
                    top_precedence = _PREFIX if top_kind == "pre" else _BINARY_PREC[top][0]
                    if top_precedence > precedence or (top_precedence == precedence
                                                       and not right):
                        reduce_top()
                    else:
                        break
                ops.append(("bin", text))
                expect_operand = True
            elif text in (")", ","):
                while ops and ops[-1][0] in ("bin", "pre"):
                    reduce_top()
                if not ops:
                    raise SyntaxError(f"line {line_number}: unbalanced {text!r}")
                if text == ",":
                    if ops[-1][0] != "call":
                        raise SyntaxError(f"line {line_number}: ',' outside a call")
                    counts[-1] += 1
                    expect_operand = True
                else:
                    opener, name = ops.pop()
                    arguments = counts.pop()
                    if opener == "call":
                        args = values[-arguments:]
                        del values[-arguments:]
                        values.append(backend.call(name, args))
            else:
                raise SyntaxError(f"line {line_number}: unexpected {text!r}")
        position += 1
    if expect_operand:
        raise SyntaxError(f"line {line_number}: unexpected end of statement")
    while ops:
        if ops[-1][0] not in ("bin", "pre"):
            raise SyntaxError(f"line {line_number}: unclosed '('")
        reduce_top()
    return values[0]


def run_program(text, env, backend):
    """Translate bpdiff `text`, then evaluate its statements in order with `backend`,
    binding each named intermediate in `env` (which starts with the inputs).
    Returns (value of the last statement, front-end used)."""
    pytext = translate(text)
    statements = parse_ast(pytext)
    if statements is None:
        return run_fallback(pytext, env, backend), "fallback"
    last = None
    for name, expression in statements:
        last = eval_ast(expression, env, backend)
        if name is not None:
            env[name] = last
    return last, "ast"
