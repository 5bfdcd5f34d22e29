"""Fuzzing bpdiff's two entry points against their contract, with a small CI sample.

The contract:

* `bpdiff.differentiate(text, values, output=..., share=...)` returns a Result or raises
  `bpdiff.BpdiffError` -- never another exception type (RecursionError and
  MemoryError included), and never hangs;
* `bpdiff.cli.main(argv)` always ends in SystemExit with code 0, 1 or 2; on an error it
  writes a message to stderr and nothing to stdout; it never shows a traceback; with
  --json (exit 0) stdout is strict JSON (no NaN/Infinity tokens) in which every
  non-finite number is one of the strings "nan", "inf", "-inf".

Inputs come from four families of strategies, shared with the long run in
fuzz/run_fuzz.py (which imports this module):

(a) grammar-aware programs, valid and nearly valid: `programs()`, `library_cases()`;
(b) random text and bytes: `random_texts`;
(c) mutations of valid programs: `mutated_programs()`;
(d) random command lines for main(): `invocations()`.

main() runs in-process with stdin, stdout and stderr replaced by UTF-8 streams that
behave like a real process's under a UTF-8 locale such as en_US.UTF-8: stdout is
strict (an unencodable character is an error), stderr uses backslashreplace.

A bug found but not yet fixed may be listed in KNOWN_BUGS, matched narrowly (exception
type, message and the function it passes through), with a strict-xfail regression test.
A property test that hits one does not fail, but never silently: it emits a
KnownBugWarning (shown in pytest's warnings summary) and a hypothesis event. Any other
violation fails the test. The bugs found so far (B1-B7) are fixed; their regression
tests, test_fixed_bug_*, must keep passing.
"""

import atexit
import contextlib
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bpdiff import BpdiffError, Result, differentiate
from bpdiff.engine.ops import FUNCTIONS

# ---------------------------------------------------------------------------------------
# Hypothesis profile: fixed and small, so the whole file runs in well under 30 s.

settings.register_profile(
    "bpdiff-fuzz-ci", derandomize=True, deadline=None, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much])
CI = settings.get_profile("bpdiff-fuzz-ci")
CI_TIME_LIMIT = 20  # seconds per input before it counts as a hang


def ci(max_examples):
    """The CI profile with its own example count (applied per test, so the other test
    files keep their profile)."""
    return settings(CI, max_examples=max_examples)


# ---------------------------------------------------------------------------------------
# (a) Grammar-aware generation

FUNCTION_NAMES = sorted(FUNCTIONS)
BINARY_OPERATORS = ["+", "-", "*", "/", "^", "**", "·", "×", "÷", "−"]
UNARY_OPERATORS = ["-", "+", "−"]
NUMBER_TEXTS = [
    "0", "1", "2", "3", "7", "10", "0.5", "3.5", ".5", "3.", "1e-3", "1E+3", "2.5e-3",
    "1e308", "1.7976931348623157e308", "1e309", "1e-320", "4.9e-324", "1e-400", "007",
    "0.0", "00.000e-0", "9" * 400, "1." + "0" * 40 + "1", "٣", "３.５", "1.e5",
]
NAME_TEXTS = [
    "a", "b", "c", "x", "y", "z", "w_1", "u2", "_", "_x", "e", "E", "L", "out", "json",
    "output", "set", "vars", "all", "file", "f", "precision", "no_share", "help",
    "version", "h", "V", "sinx", "sin_", "lnx", "x1e5", "e5", "sigma2", "inf", "nan",
]
WHITESPACE = ["", "", "", " ", "  ", "\t", " \\\n", "\f"]
SEPARATORS = [";", "; ", "\n", "\r\n", ";\n", "\n\n", " ;; ", ";\r\n"]
COMMENTS = [" # note", "# x = 1; y", "  #∂L/∂a ×÷", "#", " # (((("]
BROKEN = [
    "", "(", ")", "()", "(a", "a)", "a +", "+", "* a", "a * * b", "a ^", "^ 2",
    "a ** ** b", "a = ", "= 3", "3 = a", "a = b = c", "x 2", "a,b", ",", "sin", "sin x",
    "sin()", "sin(,)", "max(a,)", "pow(a b)", ")(", "1..2", "1e", "1e+", ".", "..5",
    "--", "a -- b", "a == b", "#", "\\", "\\x", "a\\\n+b", "a ; ; b", "a\n\n\nb", "𝑥",
    "x²", "σ(x)", "[a]", "{a}", "‖x‖", "a = 1; a = 2", "a; a = 2", "b = a; a = 1",
    "_ = _", "e = e", "f(x)", "x(", "2(", "(a)(", "3 4", "a 3", "3a3", "1.2.3",
    "1e5e5", "0x10", "1_000", "١٢", "∂L/∂a", "a·b×c÷d−e", "a⋅b", "a−−b", "sin = 1",
    "ln(x) = 2", "x = sin", "d = 2b; d", "a = -7", "a = --7", "a = +7", "a = 1e999",
    "exp(1e3)", "0/0", "log(0)", "sqrt(-1)", "(-8)^(1/3)", "0^-1", "(-0)^-1",
]
NUMBER_PATTERN = r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"  # the grammar's NUMBER

_DIGITS = st.text(st.sampled_from("0123456789" * 6 + "٣３۷߉"), min_size=1, max_size=4)
numbers = st.one_of(
    st.sampled_from(NUMBER_TEXTS),
    st.integers(0, 10**6).map(str),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(repr),
    # any text NUMBER matches: \d there includes non-ASCII digits such as ٣ and ３
    st.tuples(_DIGITS, st.sampled_from(["", ".", "."]), st.sampled_from(["", "0", "5", "25"]),
              st.sampled_from(["", "", "e3", "E-7", "e+308", "e-99999"])).map("".join),
    _DIGITS.map(lambda d: "." + d),
)
_NAME_START = "abcxyzwLEeABC_"
_NAME_REST = _NAME_START + "0123456789"
names = st.one_of(
    st.sampled_from(NAME_TEXTS),
    st.tuples(st.sampled_from(_NAME_START), st.text(st.sampled_from(_NAME_REST), max_size=8))
    .map("".join),
)
spaces = st.sampled_from(WHITESPACE)


def _weighted(*pairs):
    """One of the strategies, chosen with the given integer weights."""
    table = [s for weight, s in pairs for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda k: table[k])


def _paren(inner):
    return inner.map(lambda e: f"({e})")


@st.composite
def _calls(draw, inner):
    """A call of any known function, with its arity or a wrong one."""
    name = draw(st.sampled_from(FUNCTION_NAMES))
    arity = FUNCTIONS[name].arity
    count = draw(_weighted((6, st.just(arity)), (1, st.integers(0, 3))))
    args = draw(st.lists(inner, min_size=count, max_size=count))
    comma = draw(st.sampled_from([",", ", ", " , "]))
    return f"{name}{draw(st.sampled_from(['', ' ']))}({comma.join(args)})"


def _extend(inner, names=names):
    name_operand = st.one_of(names, _paren(inner), _calls(inner))
    return st.one_of(
        st.tuples(inner, spaces, st.sampled_from(BINARY_OPERATORS), spaces, inner).map("".join),
        st.tuples(st.sampled_from(UNARY_OPERATORS), spaces, inner).map("".join),
        _paren(inner),
        _calls(inner),
        # implicit products: 2b, 2(a+b), c(a+2b), (a+b)(c+d), (a)b, a b, 2x^2
        st.tuples(st.one_of(numbers, names, _paren(inner)), st.sampled_from(["", " "]),
                  name_operand).map("".join),
        st.tuples(numbers, names, st.sampled_from(["^", "**"]),
                  st.one_of(numbers, names)).map("".join),
    )


expressions = st.recursive(st.one_of(numbers, names), _extend, max_leaves=10)
INPUT_POOL = ["a", "b", "c", "x", "y"]
_pool = st.sampled_from(INPUT_POOL)
pool_expressions = st.recursive(st.one_of(numbers, _pool, _pool),
                                lambda inner: _extend(inner, _pool), max_leaves=8)

statements = st.one_of(
    expressions,
    expressions,
    st.tuples(names, spaces, st.just("="), spaces, expressions).map("".join),
    st.tuples(names, st.sampled_from(["=", " = "]), st.sampled_from(["", "-", "−", "+"]),
              numbers).map("".join),  # `a = 7` declares an input with a default
)


@st.composite
def programs(draw, nearly=False):
    """A program of 1-5 statements. With `nearly`, one grammar-level glitch is spliced in
    (a dangling operator, wrong arity, a bad assignment, a stray character, ...)."""
    parts = draw(st.lists(statements, min_size=1, max_size=5))
    if nearly:
        glitch = draw(st.sampled_from(BROKEN))
        how = draw(st.sampled_from(["statement", "replace", "splice"]))
        if how == "statement":
            parts.insert(draw(st.integers(0, len(parts))), glitch)
        elif how == "replace":
            parts[draw(st.integers(0, len(parts) - 1))] = glitch
        else:
            k = draw(st.integers(0, len(parts) - 1))
            at = draw(st.integers(0, len(parts[k])))
            parts[k] = parts[k][:at] + glitch + parts[k][at:]
    text = draw(st.sampled_from(["", "", "", "\n", ";", "# header\n"]))
    for k, statement in enumerate(parts):
        text += statement
        if k < len(parts) - 1:
            separator = draw(st.sampled_from(SEPARATORS))
            if "\n" in separator and draw(st.integers(0, 3)) == 0:
                text += draw(st.sampled_from(COMMENTS))
            text += separator
    text += draw(st.sampled_from(["", "", "", "\n", ";", " # end", "\n# end\n"]))
    return text


@st.composite
def coherent_programs(draw):
    """A program that is usually valid: inputs from a small pool (some declared with a
    default), intermediates t0, t1, ... each defined once before use, then the output."""
    lines = [f"{name} = {draw(st.sampled_from(['', '-']))}{draw(numbers)}"
             for name in draw(st.lists(_pool, max_size=2, unique=True))]
    count = draw(st.integers(0, 3))
    for k in range(count + 1):
        expression = draw(pool_expressions)
        if k and draw(st.booleans()):
            glue = draw(st.sampled_from([" + ", " * ", "·", " - ", " / ", " ", "^"]))
            expression = f"({expression}){glue}t{draw(st.integers(0, k - 1))}"
        lines.append(expression if k == count else f"t{k} = {expression}")
    text = ""
    for k, line in enumerate(lines):
        text += line + (draw(st.sampled_from(SEPARATORS)) if k < len(lines) - 1 else "")
    return text


any_programs = st.one_of(coherent_programs(), coherent_programs(), programs(),
                         programs(nearly=True))

# Values as the API and the CLI accept them: numbers, their text, fractions, and odd ones.
VALUE_TEXTS = [
    "0", "1", "-1", "3", "-0", "0.5", "-1/4", "1/3", "1/0", "0/0", "-1/0", "nan", "NaN",
    "-nan", "inf", "-inf", "Infinity", "1e308", "1e309", "-1e999", "1e-320", "", " ",
    "--", "-", "+", "1/2/3", "/", "1/", "/1", " 7 ", "1_000", "0x10", "١٢", "1e308/1e-308",
    "inf/inf", "9" * 400, "abc", "None", "True", "huge", "1e", "--1", "3,5",
]
HUGE_INTS = [10**400, -(10**400), 2**1024, 2**1023 * 3]
input_values = _weighted(
    (6, st.one_of(st.integers(-10, 10), st.floats(-1e3, 1e3), st.sampled_from(VALUE_TEXTS[:8]))),
    (2, st.floats()),  # nan, ±inf, -0.0, subnormals, ±1.8e308
    (2, st.sampled_from(VALUE_TEXTS)),
    (1, st.text(max_size=8)),
    (1, st.one_of(st.sampled_from(HUGE_INTS), st.integers(), st.booleans(), st.none(),
                  st.fractions(), st.decimals(), st.complex_numbers(max_magnitude=1e3),
                  st.just([1]), st.just({"a": 1}), st.just(b"1"))),
)

_TOKENS = re.compile(r"#[^\n]*|" + NUMBER_PATTERN + r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|.",
                     re.S)
_ASSIGNED = re.compile(r"(?:^|[;\n])[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(?![ \t]*[-−+]?[\d.])")


def names_in(text):
    """The names a program uses (not functions), in order, as the lexer splits them."""
    found = (m["name"] for m in _TOKENS.finditer(text) if m["name"])
    return list(dict.fromkeys(n for n in found if n not in FUNCTIONS))


@dataclass(frozen=True)
class LibraryCase:
    """One call of differentiate()."""

    text: str
    values: dict = field(default_factory=dict)
    output: str | None = None
    share: bool = True


@st.composite
def library_cases(draw, texts=any_programs):
    """A program and values for (almost) every name it uses, plus odd extras."""
    text = draw(texts)
    used = names_in(text)
    assigned = set(_ASSIGNED.findall(text))
    values = {}
    for name in used:
        if draw(st.integers(0, 9)) > (7 if name in assigned else 0):
            values[name] = draw(input_values)
    for _ in range(draw(st.integers(0, 4)) // 3):  # sometimes a name that is no input
        base = draw(st.sampled_from(used)) if used and draw(st.booleans()) else ""
        values[base + draw(st.one_of(names, st.text(max_size=4)))] = draw(input_values)
    output = draw(st.one_of(st.none(), st.none(), st.none(),
                            st.sampled_from(used) if used else st.none(),
                            names, st.text(max_size=4)))
    return LibraryCase(text, values, output, draw(st.booleans()))


# ---------------------------------------------------------------------------------------
# (b) Random text and bytes

random_texts = st.one_of(
    st.text(),
    st.binary().map(lambda data: data.decode("utf-8", errors="replace")),
    st.lists(st.sampled_from(list("ab2.e+-*/^()=,;# \n\\·×÷−") + FUNCTION_NAMES))
    .map("".join),  # random token soup
)

# ---------------------------------------------------------------------------------------
# (c) Mutations of valid programs

MUTATION_CHARACTERS = st.one_of(
    st.sampled_from(list("+-*/^()=,;#.eE0123456789 \t\n\r\\·×÷−_aAzx") +
                    ["\0", "\u2028", "\x0b", "\x85", "\ufeff", "\udcff", "\ud800", "∂", "²",
                     "٣", "𝑥", "σ", "‖", "\x1b", "é", "ﬁ"]),
    st.characters(),
)
LONG_NAME_LENGTHS = [255, 1_000, 10_000, 100_000]


@st.composite
def mutated_programs(draw, base=st.one_of(coherent_programs(), programs())):
    """A (mostly) valid program with 1-4 character-level edits."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "replace",
                                     "unicode", "nul", "long name"]))
        at = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
        elif kind in ("insert", "replace"):
            piece = draw(st.one_of(st.text(MUTATION_CHARACTERS, min_size=1, max_size=3),
                                   st.sampled_from(BROKEN)))
            cut = draw(st.integers(1, 2)) if kind == "replace" else 0
            text = text[:at] + piece + text[at + cut:]
        elif kind == "duplicate":
            end = draw(st.integers(at, min(len(text), at + 20)))
            text = text[:end] + text[at:end] * draw(st.integers(1, 50)) + text[end:]
        elif kind == "swap" and len(text) >= 2:
            at = min(at, len(text) - 2)
            text = text[:at] + text[at + 1] + text[at] + text[at + 2:]
        elif kind == "unicode":
            text = text[:at] + draw(st.characters()) + text[at:]
        elif kind == "nul":
            text = text[:at] + "\0" + text[at:]
        elif kind == "long name":
            length = draw(st.sampled_from(LONG_NAME_LENGTHS))
            name = draw(st.sampled_from(["x", "a_", "q9"])) * (length // 2)
            text = text[:at] + name[:length] + text[at:]
    return text


# ---------------------------------------------------------------------------------------
# (d) Command lines for main()

ODD_VALUES = ["nan", "inf", "-inf", "-0", "1/0", "0/0", "", "--", "-", "1e999", "-1e999",
              "9" * 400, "1e-320", " 2 ", "-1/4", "abc", "1/2/3", "0x1p3", "١", "\udcff",
              "=", "a=1", "--json", "-f"]
ODD_OPTION_VALUES = ["0", "1", "2", "6", "17", "18", "-1", "nan", "inf", "-inf", "-0",
                     "1e300", "1e-300", "", "--", "-", "x", "a,b", ",", "9" * 30, "0.5"]
ODD_PATHS = ["", ".", "/", "dir", "missing.bp", "-", "--", "dir/", "nul\0l"]
BRIEF_OPTIONS = ["--json", "--output", "--precision", "--set", "--vars", "-f", "--file",
                 "--no-share", "--all", "--help", "-h", "--version", "-V"]


def _command_options():
    """Every option of the click command, as (option string, takes a value): the options
    the brief lists plus any the command has grown since."""
    try:
        import click

        from bpdiff.cli import command
        params = command.params
    except (ImportError, AttributeError):
        return []
    found = []
    for param in params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                if name not in UNENDING_OPTIONS:
                    found.append((name, not (param.is_flag or param.count)))
    return sorted(found)


UNENDING_OPTIONS = {"--watch"}  # runs until Ctrl-C: test_watch.py drives it


COMMAND_OPTIONS = _command_options()
VARS_FILES = [
    b'{"a": 7, "b": 3}', b'{"a": NaN, "b": Infinity, "x": -Infinity}', b'{"a": 1e999}',
    b'{"a": ' + b"1" * 400 + b"}",  # an integer too big for a float
    b'{"a": ' + b"1" * 5000 + b"}",  # over Python's int-from-text digit limit
    b"[" * 100_000 + b"]" * 100_000,  # deeper than the recursion limit
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'\xef\xbb\xbf{"a": 1}', b'{"a": 1', b"", b"null", b"[1, 2]", b'"a"',
    b'{"a": 1, "a": 2}', b'{"a\\u0000": 1}', b'{"\\ud800": 1}', b'{"a": "1/0"}',
    b'{"a": true, "b": null, "c": [1], "x y": 1, "": 2}', b"\xff\xfe{}", b"{}\0",
]
PROGRAM_FILES = [b"", b"\0", b"x \xff", b"\xef\xbb\xbfx", b"a = 7\r\nb = 3\r\n(a+b)*b^3\r\n",
                 b"x # \xc3", b"(a+b)*b^3", b"\n\n", b"#"]

json_scalars = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                         st.text(max_size=6), st.booleans(), st.none(),
                         st.sampled_from(VALUE_TEXTS), st.sampled_from(HUGE_INTS))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6)
vars_contents = _weighted(
    (4, st.dictionaries(st.one_of(names, st.text(max_size=5)), json_values, max_size=5)
     .map(lambda d: json.dumps(d, allow_nan=True).encode("utf-8", "surrogatepass"))),
    (1, json_values.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass"))),
    (2, st.sampled_from(VARS_FILES)),
    (1, st.binary(max_size=40)),
)
program_contents = _weighted(
    (4, any_programs.map(lambda s: s.encode("utf-8", "surrogatepass"))),
    (1, mutated_programs().map(lambda s: s.encode("utf-8", "surrogatepass"))),
    (1, st.sampled_from(PROGRAM_FILES)),
    (1, st.binary(max_size=40)),
)


@dataclass(frozen=True)
class Invocation:
    """One run of main(): its arguments, files to create in the working directory
    first (relative name -> bytes), and standard input."""

    argv: tuple
    files: tuple = ()
    stdin: bytes = b""


@st.composite
def invocations(draw):
    """A command line mixing a program, real options with good and odd values, and
    --NAME VALUE pairs, in any order."""
    files = {}

    def a_file(kind, contents):
        if draw(st.integers(0, 5)) == 0:
            return draw(st.sampled_from(ODD_PATHS))
        name = f"{kind}{len(files)}.{'json' if kind == 'vars' else 'bp'}"
        files[name] = draw(contents)
        return name

    program = draw(_weighted((5, any_programs), (2, mutated_programs()), (2, random_texts),
                             (1, st.sampled_from(["-", "", "--", "-x^2", "-h"]))))
    used = names_in(program) or ["x"]
    chunks = [[program]] if draw(st.integers(0, 9)) else []
    assigned = set(_ASSIGNED.findall(program))
    for name in used:  # mostly a plain value for each input, so some runs succeed
        if name not in assigned and draw(st.integers(0, 4)):
            value = draw(st.one_of(st.integers(-9, 9).map(str), st.sampled_from(VALUE_TEXTS)))
            form = draw(st.sampled_from(["pair", "pair", "pair=", "set"]))
            chunks.append([f"--{name}", value] if form == "pair" else
                          [f"--{name}={value}"] if form == "pair=" else
                          ["--set", f"{name}={value}"])
    for _ in range(draw(st.integers(0, 6)) // 2 + draw(st.integers(0, 1))):
        kind = draw(st.sampled_from(
            ["pair", "pair", "pair", "pair=", "set", "output", "json", "precision", "vars",
             "file", "flag", "option", "stray"]))
        if kind in ("pair", "pair="):
            name = draw(st.one_of(st.sampled_from(used), st.sampled_from(used), names,
                                  st.text(max_size=4)))
            value = draw(st.one_of(st.sampled_from(ODD_VALUES), input_values.map(str),
                                   st.text(max_size=6)))
            chunks.append([f"--{name}={value}"] if kind == "pair=" else [f"--{name}", value])
        elif kind == "set":
            name = draw(st.one_of(st.sampled_from(used), names, st.text(max_size=3)))
            separator = draw(st.sampled_from(["=", "=", " = ", "", "=="]))
            chunks.append(["--set", name + separator + draw(st.sampled_from(ODD_VALUES))])
        elif kind == "output":
            chunks.append(["--output", draw(st.one_of(st.sampled_from(used), names,
                                                      st.sampled_from(ODD_VALUES)))])
        elif kind == "json":
            chunks.append(["--json"])
        elif kind == "precision":
            chunks.append(["--precision", draw(st.one_of(st.integers(-2, 20).map(str),
                                                         st.sampled_from(ODD_OPTION_VALUES)))])
        elif kind == "vars":
            chunks.append(["--vars", a_file("vars", vars_contents)])
        elif kind == "file":
            option = draw(st.sampled_from(["-f", "--file", "--file="]))
            path = a_file("program", program_contents)
            chunks.append([option + path] if option.endswith("=") else [option, path])
        elif kind == "flag":
            chunks.append([draw(st.sampled_from(["--no-share", "--all", "--json", "--help",
                                                 "-h", "--version", "-V", "--"]))])
        elif kind == "option" and COMMAND_OPTIONS:
            option, takes_value = draw(st.sampled_from(COMMAND_OPTIONS))
            if takes_value and draw(st.integers(0, 9)):
                chunks.append([option, draw(st.sampled_from(ODD_OPTION_VALUES + used))])
            else:
                chunks.append([option])
        else:
            chunks.append([draw(st.one_of(st.sampled_from(["-", "--", "-x", "--x", "---",
                                                           "--=1", "-fx", "--unknown"]),
                                          st.text(max_size=5)))])
    ordered = draw(st.permutations(chunks))
    argv = tuple(arg for chunk in ordered for arg in chunk)
    stdin = draw(program_contents) if "-" in argv else b""
    return Invocation(argv, tuple(sorted(files.items())), stdin)


@st.composite
def json_invocations(draw):
    """A valid program, a value for each input given with --set (so no name clashes
    with an option), and --json: the output is JSON whenever the exit code is 0."""
    text = draw(st.one_of(coherent_programs(), programs()))
    argv = ["--json", "--", text] if text.startswith("-") else [text, "--json"]  # "--x" too
    for name in names_in(text):
        if name not in set(_ASSIGNED.findall(text)):
            value = draw(st.one_of(st.sampled_from(["nan", "inf", "-inf", "-0", "0", "1e308",
                                                    "-1/4", "1/0", "0/0", "1e-320"]),
                                   st.floats(allow_nan=False).map(repr)))
            argv += ["--set", f"{name}={value}"]
    extra = draw(st.lists(st.sampled_from([["--no-share"], ["--all"], ["--precision", "3"]]),
                          max_size=2))
    return Invocation(tuple([a for chunk in extra for a in chunk] + argv))


# ---------------------------------------------------------------------------------------
# Checking the contract


class InputTimeout(BaseException):
    """Raised by the SIGALRM handler when one input runs past its time limit (a
    BaseException, so no `except Exception` in the code under test can swallow it)."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise InputTimeout in the main thread after `seconds` (signal.alarm)."""
    if (not seconds or not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def on_alarm(signum, frame):
        raise InputTimeout(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, math.ceil(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Violation:
    """One way an input broke the contract."""

    kind: str  # exception, traceback, exit-code, stdout-on-error, no-message, json, hang, ...
    detail: str
    exception: str = ""  # the exception's type name, when one escaped
    message: str = ""
    frames: tuple = ()  # function names of the traceback, outermost first
    traceback: str = ""

    def signature(self):
        """What identifies the bug: the kind, exception, and innermost bpdiff function."""
        where = next((f for f in reversed(self.frames) if not f.startswith("<")), "")
        return f"{self.kind}:{self.exception}:{where}" if self.exception else self.kind


def violation_from(kind, error):
    frames = traceback.extract_tb(error.__traceback__)
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    message = _safe_str(error)
    return Violation(kind, f"{type(error).__name__}: {message}"[:500], type(error).__name__,
                     message[:2000], tuple(f.name for f in frames), text[-6000:])


def _safe_str(error):
    try:
        return str(error)
    except Exception as inner:  # noqa: BLE001 - a broken __str__ is itself a finding
        return f"<str() raised {type(inner).__name__}>"


_TRACEBACK_FRAME = re.compile(r'^  File "[^"]*", line \d+, in (\S+)$', re.M)
_TRACEBACK_LAST = re.compile(r"^([A-Za-z_][\w.]*)(?:: (.*))?$")


def violation_from_traceback(text):
    """A Violation from a traceback printed by a real process."""
    start = text.find("Traceback (most recent call last)")
    body = text[start:]
    lines = [line for line in body.splitlines() if line and not line.startswith(" ")]
    last = lines[-1] if lines else ""
    match = _TRACEBACK_LAST.match(last)
    exception, message = (match[1].rsplit(".", 1)[-1], match[2] or "") if match else ("", last)
    return Violation("traceback", last[:500], exception, message[:2000],
                     tuple(_TRACEBACK_FRAME.findall(body)), body[-6000:])


@dataclass(frozen=True)
class KnownBug:
    """A bug found by this fuzzer and not fixed yet, matched narrowly."""

    id: str
    summary: str
    exception: str  # type name of the exception that escapes
    message: str  # regular expression searched in its message
    where: str  # a function the traceback passes through

    def matches(self, violation):
        return (violation.exception == self.exception and self.where in violation.frames
                and re.search(self.message, violation.message) is not None)


KNOWN_BUGS = ()  # B1-B7, found by this fuzzer, are fixed: see the regression tests below


def known_bug(violation):
    """The KNOWN_BUGS entry `violation` is an instance of, or None."""
    return next((bug for bug in KNOWN_BUGS if bug.matches(violation)), None)


def check_library(case):
    """The contract of differentiate() on one case: (violations, what happened), where
    what happened is 'result', 'BpdiffError' or 'exception'."""
    try:
        result = differentiate(case.text, case.values, output=case.output, share=case.share)
    except BpdiffError as error:
        message = _safe_str(error)
        problems = []
        if message.startswith("<str() raised"):
            problems.append(Violation("error-message", message))
        elif not message.strip():
            problems.append(Violation("error-message", "a BpdiffError with an empty message"))
        if getattr(error, "exit_code", None) not in (1, 2):
            problems.append(Violation("error-exit-code", f"exit_code {error.exit_code!r}"))
        return problems, "BpdiffError"
    except (InputTimeout, KeyboardInterrupt):
        raise
    except BaseException as error:  # noqa: BLE001 - RecursionError, MemoryError, SystemExit...
        return [violation_from("exception", error)], "exception"
    if not isinstance(result, Result):
        return [Violation("result", f"returned {type(result).__name__}, not a Result")], "result"
    try:
        value, gradient, nodes = result.value, result.gradient, result.nodes
    except (InputTimeout, KeyboardInterrupt):
        raise
    except BaseException as error:  # noqa: BLE001
        return [violation_from("result", error)], "result"
    problems = []
    if not _is_number(value):
        problems.append(Violation("result", f"value is {type(value).__name__}, not a float"))
    if not all(isinstance(k, str) and (g is None or _is_number(g)) for k, g in gradient.items()):
        problems.append(Violation("result", f"odd gradient {gradient!r}"[:300]))
    if not nodes or nodes[0].id != result.graph.output:
        problems.append(Violation("result", "the first node is not the output"))
    return problems, "result"


def _is_number(x):
    """A float, or in tensor mode (a tensor function, an array value) a float64 NumPy
    array: 0-d for a number."""
    return isinstance(x, float) or getattr(getattr(x, "dtype", None), "kind", None) == "f"


class _Streams:
    """stdin/stdout/stderr of a process under a UTF-8 locale, in memory."""

    def __init__(self, stdin):
        self.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        self.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict",
                                       write_through=True)
        self.stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8",
                                       errors="backslashreplace", write_through=True)

    def text(self, stream):
        stream.flush()
        return stream.buffer.getvalue().decode("utf-8", "surrogateescape")


_WORKDIR = []


def workdir():
    """A private working directory for main()'s files, with an empty subdirectory 'dir'."""
    if not _WORKDIR:
        path = tempfile.mkdtemp(prefix="bpdiff-fuzz-")
        os.mkdir(os.path.join(path, "dir"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _WORKDIR.append(path)
    return _WORKDIR[0]


@contextlib.contextmanager
def files_in(directory, files):
    """Create `files` (name -> bytes) in `directory` for the duration of the block."""
    written = []
    try:
        for name, data in files:
            path = os.path.join(directory, name)
            with open(path, "wb") as handle:
                handle.write(data)
            written.append(path)
        yield
    finally:
        for path in written:
            with contextlib.suppress(OSError):
                os.unlink(path)


@dataclass
class Outcome:
    """What main() did: its exit code, what it wrote, and an exception that escaped."""

    code: object = None
    stdout: str = ""
    stderr: str = ""
    error: BaseException | None = None


def run_main(invocation, directory=None):
    """main(argv) in-process, in `directory`, with in-memory standard streams."""
    from bpdiff.cli import main

    directory = directory or workdir()
    streams = _Streams(invocation.stdin)
    outcome = Outcome()
    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd()
    with files_in(directory, invocation.files):
        try:
            os.chdir(directory)
            sys.stdin, sys.stdout, sys.stderr = streams.stdin, streams.stdout, streams.stderr
            try:
                main(list(invocation.argv))
            except SystemExit as done:
                outcome.code = done.code
            except (InputTimeout, KeyboardInterrupt):
                raise
            except BaseException as error:  # noqa: BLE001 - that is the finding
                outcome.error = error
            else:
                outcome.error = AssertionError("main() returned instead of exiting")
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved[:3]
            os.chdir(saved[3])
    outcome.stdout = streams.text(streams.stdout)
    outcome.stderr = streams.text(streams.stderr)
    return outcome


NON_FINITE = ("nan", "inf", "-inf")


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _finite_float(text):
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text} overflows to {number}")
    return number


def json_problems(text):
    """Violations of strict JSON with non-finite numbers as strings, in one output."""
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as error:
        return [Violation("json", f"not strict JSON: {error}"[:500])]
    problems = []
    if not text.endswith("\n"):
        problems.append(Violation("json", "the JSON output does not end in a newline"))
    if not isinstance(data, dict):
        return problems + [Violation("json", f"a JSON {type(data).__name__}, not an object")]

    def number(where, x, nullable=False):
        if x is None and nullable:
            return
        if isinstance(x, list) and x:  # an array in tensor mode: nested lists of numbers
            for item in x:
                number(where, item)
        elif isinstance(x, str):
            if x not in NON_FINITE:
                problems.append(Violation("json", f"{where} is the string {x!r}"))
        elif isinstance(x, bool) or not isinstance(x, (int, float)):
            problems.append(Violation("json", f"{where} is {x!r}, not a number"))

    if "statements" in data:  # --parse --json: the program as read, no values
        for name, x in (data.get("defaults") or {}).items():
            number(f"defaults[{name!r}]", x)
        return problems
    if "problems" in data and "value" not in data:  # --problems --json: its own schema
        return problems
    number("value", data.get("value"))
    for key in ("gradient", "inputs"):
        section = data.get(key)
        if not isinstance(section, dict):
            problems.append(Violation("json", f"{key} is not an object"))
            continue
        for name, x in section.items():
            number(f"{key}[{name!r}]", x)
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        problems.append(Violation("json", "nodes is not a non-empty list"))
    else:
        for node in nodes:
            if not isinstance(node, dict):
                problems.append(Violation("json", f"a node is {node!r}, not an object"))
                continue
            number(f"node {node.get('id')} value", node.get("value"))
            number(f"node {node.get('id')} grad", node.get("grad"), nullable=True)
    return problems


def cli_problems(code, stdout, stderr):
    """Violations of the command line's contract, from what a run printed."""
    problems = []
    if "Traceback (most recent call last)" in stderr:
        problems.append(violation_from_traceback(stderr))
    if type(code) is not int or code not in (0, 1, 2):
        problems.append(Violation("exit-code", f"exit code {code!r}"))
    elif code != 0:
        if stdout and code == 2:  # exit 1 (a check failed) prints its report on stdout
            problems.append(Violation("stdout-on-error",
                                      f"exit {code} with stdout {stdout[:200]!r}"))
        if not stderr.strip():
            problems.append(Violation("no-message", f"exit {code} with nothing on stderr"))
    elif stdout.startswith("{"):
        problems.extend(json_problems(stdout))
    return problems


def check_main(invocation, directory=None):
    """The contract of main() on one invocation: (violations, Outcome)."""
    outcome = run_main(invocation, directory)
    if outcome.error is not None:
        return [violation_from("exception", outcome.error)], outcome
    return cli_problems(outcome.code, outcome.stdout, outcome.stderr), outcome


def subprocess_argv(invocation):
    """The arguments as bytes for a real process, or None when no real command line can
    carry them (a NUL, a lone surrogate outside surrogateescape's range, over 100 kB)."""
    try:
        argv = [os.fsencode(arg) for arg in invocation.argv]
    except UnicodeEncodeError:
        return None
    if any(b"\0" in arg or len(arg) > 100_000 for arg in argv) or sum(map(len, argv)) > 1e6:
        return None
    return argv


def check_subprocess(invocation, directory=None, strict_stdout=True, timeout=60):
    """The contract of `python -m bpdiff` in a real process: violations, or None when
    the invocation cannot be a real command line. With `strict_stdout`,
    PYTHONIOENCODING=utf-8 gives stdout the strict errors of an en_US.UTF-8 locale."""
    argv = subprocess_argv(invocation)
    if argv is None:
        return None
    directory = directory or workdir()
    env = dict(os.environ)
    env.pop("PYTHONIOENCODING", None)
    if strict_stdout:
        env["PYTHONIOENCODING"] = "utf-8"
    with files_in(directory, invocation.files):
        try:
            process = subprocess.run([sys.executable, "-m", "bpdiff", *argv],
                                     input=invocation.stdin, capture_output=True,
                                     cwd=directory, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return [Violation("hang", f"python -m bpdiff ran over {timeout} s")]
    stdout = process.stdout.decode("utf-8", "surrogateescape")
    stderr = process.stderr.decode("utf-8", "surrogateescape")
    return cli_problems(process.returncode, stdout, stderr)


class KnownBugWarning(UserWarning):
    """A property test met a known (listed, xfail-tested) bug: reported, not failed."""


def describe(item):
    text = repr(item)
    return text if len(text) <= 600 else text[:500] + f"... ({len(text)} characters)"


def assert_contract(violations, item):
    """Fail on any violation that is not a known bug; report known ones loudly."""
    unknown = []
    for violation in violations:
        bug = known_bug(violation)
        if bug is None:
            unknown.append(violation)
        else:
            with contextlib.suppress(Exception):  # event() only works inside @given
                event(f"known bug {bug.id}")
            warnings.warn(KnownBugWarning(f"known bug {bug.id} ({bug.summary}) on "
                                          f"{describe(item)}"), stacklevel=2)
    if unknown:
        details = "\n".join(f"- {v.kind}: {v.detail}\n{v.traceback}" for v in unknown)
        raise AssertionError(f"contract broken by {describe(item)}:\n{details}")


def checked(function, item, seconds=CI_TIME_LIMIT):
    """Run a checker (check_library or check_main) under a time limit: (violations,
    what happened); a timeout is a 'hang' violation."""
    try:
        with time_limit(seconds):
            return function(item)
    except InputTimeout as error:
        return [Violation("hang", str(error))], "hang"


# ---------------------------------------------------------------------------------------
# Property tests (CI sample)


@ci(200)
@given(library_cases())
def test_differentiate_on_grammar_programs(case):
    violations, happened = checked(check_library, case)
    event(happened)
    assert_contract(violations, case)


@ci(60)
@given(library_cases(random_texts))
def test_differentiate_on_random_text(case):
    assert_contract(checked(check_library, case)[0], case)


@ci(40)
@given(st.binary())
def test_differentiate_on_random_bytes(data):
    case = LibraryCase(data.decode("utf-8", errors="replace"))
    assert_contract(checked(check_library, case)[0], case)


@ci(120)
@given(library_cases(mutated_programs()))
def test_differentiate_on_mutated_programs(case):
    assert_contract(checked(check_library, case)[0], case)


@ci(150)
@given(invocations())
def test_main_on_random_command_lines(invocation):
    violations, outcome = checked(check_main, invocation)
    event(f"exit {getattr(outcome, 'code', outcome)}")
    assert_contract(violations, invocation)


@ci(60)
@given(json_invocations())
def test_main_json_is_strict(invocation):
    violations, outcome = checked(check_main, invocation)
    event(f"exit {getattr(outcome, 'code', outcome)}")
    if getattr(outcome, "code", None) == 0:
        assert outcome.stdout.startswith("{"), outcome.stdout[:200]
    assert_contract(violations, invocation)


# ---------------------------------------------------------------------------------------
# Fixed cases: each family's corner inputs, and one regression test per known bug.

EDGE_PROGRAMS = ["1e308*10", "1e-320", "1e-320/1e-320", ".5", "3.", "x^1e308", "2^3^2",
                 "-x^2", "a/2b", "c(a+2b)", "(a+b)(c+d)", "2x^2", "a·b×c÷d−e",
                 "x = 1; y = x; z = y; z", "max(x, x)", "pow(x, 0.5)", "sqrt(0*x)",
                 "log(x - x)", "0^x", "x^-1", "(" * 5000 + "x" + ")" * 5000, "-" * 5001 + "x"]


@pytest.mark.parametrize("text", EDGE_PROGRAMS)
def test_edge_programs(text):
    case = LibraryCase(text, {n: 0.0 for n in names_in(text)})
    assert_contract(checked(check_library, case)[0], case)


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["--version"], ["-"], ["--"], ["x"], ["x", "--x"],
    ["x", "--x", "nan", "--json"],
    ["x", "--x", "inf", "--json"], ["1/x", "--x", "-0", "--json"], ["x", "--x", "1/0"],
    ["x", "--set", "x=", "--json"], ["x", "--x", "", "--json"], ["x", "--vars", "missing.bp"],
    ["-f", "dir"], ["x", "--precision", "0"], ["x", "--x", "1", "--output", "--"],
    ["x", "--x", "1", "--json", "--json"], ["x\0", "--x", "1"], ["x # \udcff", "--x", "1"],
])
def test_edge_command_lines(argv):
    assert_contract(checked(check_main, Invocation(tuple(argv)))[0], argv)


def test_every_known_bug_has_a_regression_test():
    tests = [name for name in globals() if name.startswith("test_known_bug_")]
    for bug_id in {bug.id for bug in KNOWN_BUGS}:
        assert any(name.startswith(f"test_known_bug_{bug_id}_") for name in tests), bug_id


def test_fixed_bug_B1_integer_beyond_float_range_in_the_api():
    assert not checked(check_library, LibraryCase("x", {"x": 10**400}))[0]


def test_fixed_bug_B1_integer_beyond_float_range_in_vars_file():
    invocation = Invocation(("a", "--vars", "v.json"),
                            (("v.json", b'{"a": 1' + b"0" * 400 + b"}"),))
    assert not checked(check_main, invocation)[0]


def test_fixed_bug_B2_vars_integer_over_4300_digits():
    invocation = Invocation(("a", "--vars", "v.json"),
                            (("v.json", b'{"a": ' + b"1" * 4301 + b"}"),))
    assert not checked(check_main, invocation)[0]


def test_fixed_bug_B3_deeply_nested_vars_file():
    invocation = Invocation(("a", "--vars", "v.json"), (("v.json", b"[" * 100_000),))
    assert not checked(check_main, invocation)[0]


def test_fixed_bug_B4_surrogate_in_a_comment_with_json():
    # `bpdiff $'x #\xff' --x 1 --json` under en_US.UTF-8: argv holds '\udcff'.
    assert not checked(check_main, Invocation(("x #\udcff", "--x", "1", "--json")))[0]


def test_fixed_bug_B4_in_a_real_process():
    assert not check_subprocess(Invocation(("x #\udcff", "--x", "1", "--json"))) or []


def test_fixed_bug_B5_max_size_inf():
    assert not checked(check_main, Invocation(("x", "--x", "1", "--max-size", "inf")))[0]


def test_fixed_bug_B5_max_size_nan():
    assert not checked(check_main, Invocation(("x", "--x", "1", "--max-size", "nan")))[0]


def test_fixed_bug_B6_huge_max_size_with_a_file():
    invocation = Invocation(("-f", "p.bp", "--x", "1", "--max-size", "1e300"), (("p.bp", b"x"),))
    assert not checked(check_main, invocation)[0]


def test_fixed_bug_B7_nul_in_a_vars_path():
    assert not checked(check_main, Invocation(("x", "--vars", "a\0b")))[0]


def test_fixed_bug_B7_nul_in_a_program_path():
    assert not checked(check_main, Invocation(("-f", "a\0b")))[0]


def test_the_json_contract_knows_the_parse_echo():
    """Found by the long fuzz run: `--parse --json` prints the program as read (its own
    schema, no values), which the contract took for a result without a value."""
    for argv in (("--json", "x", "--parse"), ("--json", "--set", "x=4", "-x^2", "--parse")):
        assert check_main(Invocation(argv=argv, files=(), stdin=b""))[0] == []
    assert json_problems('{"statements": [], "defaults": {"a": "x"}}\n')  # still checked
