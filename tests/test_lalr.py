"""bpdiff.language.lalr, the driver over Lark's tables, against Lark's own parser: the same graph
node for node, and the same error, on the examples and on every kind of generated input;
the table cache; and that a valid program's run never imports Lark."""

import json
import marshal
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpdiff import BpdiffError

from bpdiff.language import grammar, lalr, parse
from bpdiff.language import scanner as scanner_module
from bpdiff.language.builder import KEYWORDS, Builder
from bpdiff.language.latex import looks_like_latex, to_bpdiff
from test_fuzz import any_programs, ci, mutated_programs, random_texts
from test_fuzz_tensor import tensor_programs

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((ROOT / "examples").glob("**/*.bp"))


def lark_parse(text, lib=()):
    """The unpruned graph Lark's own parser builds for `text`, with a Builder of its
    own as the Transformer applied while parsing and the scanner's lex() as its lexer;
    its syntax errors worded as bpdiff words the driver's."""
    from lark import Lark, Token
    from lark.exceptions import UnexpectedToken
    from lark.lexer import Lexer

    if looks_like_latex(text):
        text = to_bpdiff(text)
    definitions = parse.load_library(lib) if lib else {}
    builder = Builder(text, grammar.loaded()[1], True, definitions, None, dict(parse.CONSTANTS))

    class Scanned(Lexer):
        def __init__(self, lexer_conf):
            self.lexer_conf = lexer_conf

        def lex(self, data):
            for token in builder.lexer.lex(data):
                yield Token(token.type, token.value, token.start_pos)

    lark = Lark(Path(grammar.grammar_path()).read_text(encoding="utf-8"), parser="lalr",
                lexer=Scanned, transformer=builder, maybe_placeholders=False)
    try:
        lark.parse(text)
    except UnexpectedToken as error:
        values = error.interactive_parser.parser_state.value_stack
        stuck = lalr.Stuck(error.token, sorted(error.expected), values)
        raise parse._stuck_error(builder, stuck) from None
    except scanner_module.UnexpectedCharacter as error:
        raise parse._character_error(text, error.position) from None
    graph = builder.graph
    graph.definitions = builder.definitions
    if builder.last is None:
        raise parse.BpdiffSyntaxError("the program is empty: write an expression such as"
                                      " (a+b)*b^3")
    graph.positions = {name: parse.line_column(text, offset)
                       for name, offset in builder.used_at.items()}
    graph.output = builder.last
    return graph


def _snapshot(graph):
    ops = [op if isinstance(op, str) else op.name for op in graph.ops]
    payload = [repr(p) if isinstance(p, float) and math.isnan(p) else p for p in graph.payload]
    return (ops, graph.inputs, payload, graph.names, graph.name_of, graph.variables,
            graph.defaults, graph.implicit, graph.call_of, graph.calls, graph.tensor,
            graph.output, sorted(graph.definitions))


def outcome(parser, text, lib=()):
    """The unpruned graph's snapshot, or the error's kind and whole message."""
    try:
        return _snapshot(parser(text, lib=lib))
    except BpdiffError as error:
        return type(error).__name__, str(error)


def both(text, lib=()):
    """(the driver's outcome, Lark's outcome) for `text`."""
    return (outcome(lambda t, lib: parse.parse(t, prune=False, lib=lib), text, lib),
            outcome(lark_parse, text, lib))


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_every_example_builds_the_graph_lark_builds(path):
    mine, theirs = both(path.read_text(encoding="utf-8"))
    assert mine == theirs


DEFS = [
    "def f(x, y) = x*y + sin(x)\nf(a, 2b) + f(b, a)",
    "def sq(x) = x^2; def g(u) = sq(u) + sq(2u); L = g(a) * g(b)",
    "def f(x) = x\ndef f(x) = 2x\nf(a)",
    "def f(x) = g(x); def g(x) = x; f(a)",
    "def f(x, x) = x; f(a, a)",
    "def sin(x) = x; sin(a)",
    "def f(x) = x; f(a, b)",
    "def f(x) = x; f + a",
    "def f(x) = y*x; f(a)",
    "def (x) = x",
    "def f x = x",
    "f = 3; def f(x) = x; f(a)",
    "def f(x) = x; f = 2",
    "def f(x) = sum(x, axis=0); f(W)",
    "def",
    "a def b",
]
SYNTAX = ["a + * b", "a +", "(a", "a)", "sin", "sin x", "sin(,)", "a {b", "x²", "σ(x)",
          "a = 1; a = 2", "b = a; a = 1", "max(a, b, c)", "sum(x, axis=0, keep=1)",
          "[a, 1]", "[[1, 2], [3]]", "W x + b", "x.T.T[0, 1]", "1e999 * a", "", ";;", "#",
          "a\\\n + b", "a;\n\n;b", "dot = a*b; dot + dot(a, b)", "max(a, b) + max(a, b, c)",
          "sin(a)*2 + sum(a, axis=b, axis=c)", "t = 2; u = t + sin(t, t)"]


@pytest.mark.parametrize("text", DEFS + SYNTAX)
def test_definitions_and_errors_come_out_as_with_lark(text):
    mine, theirs = both(text)
    assert mine == theirs


@ci(300)
@given(st.one_of(any_programs, mutated_programs(), random_texts, tensor_programs()))
def test_generated_programs_come_out_as_with_lark(text):
    mine, theirs = both(text)
    assert mine == theirs


def _described(tokens):
    """(type, text, position) of each token; a function's name without its position:
    tokens() shares one FUNC token per name (see bpdiff.language.scanner)."""
    return [(token.type, token.value, None if token.type == "FUNC" else token.start_pos)
            for token in tokens]


def _scanned(text):
    """(tokens(), lex()) for `text`, each as (type, text, position) or the error."""
    results = []
    for way in ("tokens", "lex"):
        scanner = scanner_module.Scanner(grammar.loaded()[1], dict(KEYWORDS))
        way = getattr(scanner, way)
        try:
            results.append(_described(way(text)))
        except scanner_module.UnexpectedCharacter as error:
            results.append(("unexpected", error.position))
    return results


@ci(500)
@given(st.one_of(any_programs, mutated_programs(), random_texts, tensor_programs()))
def test_the_regex_engine_scan_gives_lex_tokens(text):
    fast, careful = _scanned(text)
    assert fast == careful


@pytest.mark.parametrize("text", [
    "t1 = a*b; t2 = t1 + t1; t2*t1", "sin(x) + sin (y) + sin\t(z)", "x = 1\r\ny = x\n",
    "dot = a; dot + dot(a, b)", "sin = 2", "a  # note (\n(b)", "c(a+2b)", "x.T + y",
    "a == b", "= a", "a =", "exp(x)*exp(x)", "# only a comment", "  ", "", "a\fb",
    "sum(x, axis=0)", "max(a, b)=c"])
def test_the_regex_engine_scan_on_corner_cases(text):
    fast, careful = _scanned(text)
    assert fast == careful


@ci(300)
@given(st.one_of(random_texts, st.text(alphabet="0123456789.eE+-_aTxσ²ᵀ^*( \n", max_size=8)))
def test_both_ways_of_telling_a_token_kind_agree(text):
    scanner = scanner_module.Scanner(grammar.loaded()[1], dict(KEYWORDS))
    assert scanner.kind_in_one_match(text) == scanner.kind(text)


def test_both_ways_of_telling_a_token_kind_agree_on_every_terminal():
    scanner = scanner_module.Scanner(grammar.loaded()[1], dict(KEYWORDS))
    texts = [*scanner.literal_kinds, "x", "x1", "σ", "1", "1.5e-3", ".5", "2.", "x²", "²",
             ".T", ".shape", ".relu(", "^T", "**T", "ᵀ", "\n", "\r\n", ";", "1e", "$"]
    kinds = {text: scanner.kind(text) for text in texts}
    assert {text: scanner.kind_in_one_match(text) for text in texts} == kinds
    assert kinds["1.5e-3"] == "NUMBER" and kinds["σ"] == "NAME" and kinds["$"] is None


def test_a_program_with_many_distinct_names_scans_as_lex_does():
    # 600 distinct names and numbers: tokens() tells their kinds with one regex
    text = "\n".join(f"t{k} = {k}.5*x{k} + t{k - 1}" for k in range(1, 300)) + "\nt299"
    fast, careful = _scanned(text)
    assert fast == careful


def test_the_regex_engine_scan_is_what_runs():
    scanner = scanner_module.Scanner(grammar.loaded()[1], dict(KEYWORDS))
    assert isinstance(scanner.tokens("t1 = sin(a)*b; t1 + 2"), list)
    for slow in ("def f(x) = x; f(a)", "[1, 2] + x", "a \\\n+ b", "a $ b", "dot + a",
                 "sin(x) # sin", "sin = 1"):
        assert not isinstance(scanner.tokens(slow), list), slow  # lex(), a generator


def test_a_library_comes_out_as_with_lark():
    lib = [str(ROOT / "examples" / "lib" / "gates.bp")]
    mine, theirs = both("swish(x) + swish(2x)", lib)
    assert mine == theirs and mine[0].count("mul") > 2


def test_the_comparison_catches_a_wrong_reduction(monkeypatch):
    """A test that cannot fail is a defect: swap the operands of one operation rule
    and the driver's graph must differ from Lark's."""
    tables = grammar.loaded()[0]
    wrong = list(tables.reductions)
    for k, (how, size, goal, detail) in enumerate(wrong):
        if how == lalr.OPERATION and detail[0].name == "sub":
            op, kept = detail
            wrong[k] = (how, size, goal, (op, kept[::-1]))
    monkeypatch.setattr(tables, "reductions", wrong)
    mine, theirs = both("a - b")
    assert mine != theirs


def test_every_rule_of_the_grammar_is_reduced_by_the_driver():
    kinds = {how for how, *_ in grammar.loaded()[0].reductions}
    assert kinds == {lalr.UNIT, lalr.PASS, lalr.OPERATION, lalr.METHOD, lalr.GATHER, lalr.NAME}


# ---- the cache and the imports of a run ---------------------------------------------

def _run(code, cache_home):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PROBE = ("import json, sys, bpdiff\n"
         "r = bpdiff.differentiate('(a+b)*b^3', a=7, b=3)\n"
         "try:\n    bpdiff.differentiate(TEXT)\nexcept bpdiff.BpdiffError as e:\n"
         "    error = str(e)\nelse:\n    error = None\n"
         "print(json.dumps([r.value, 'lark' in sys.modules, error]))\n")


def test_no_program_imports_lark_once_the_tables_are_cached(tmp_path):
    first = _run(PROBE.replace("TEXT", "'a = 2; a^2'"), tmp_path)
    assert first[0] == 270 and first[1] is True  # the first run analyses the grammar
    assert len(list((tmp_path / "bpdiff").iterdir())) == 1
    assert _run(PROBE.replace("TEXT", "'a = 2; a^2'"), tmp_path) == [270, False, None]
    value, imported, error = _run(PROBE.replace("TEXT", "'a + * b'"), tmp_path)
    assert imported is False and "expected '('" in error  # the driver's own error


@pytest.mark.parametrize("damage", ["garbage", "other grammar"])
def test_a_bad_or_stale_cache_is_rebuilt(tmp_path, damage):
    _run(PROBE.replace("TEXT", "'a = 2; a^2'"), tmp_path)
    (path,) = (tmp_path / "bpdiff").iterdir()
    if damage == "garbage":
        path.write_bytes(b"\x00not marshal")
    else:
        data = marshal.loads(path.read_bytes()[4:])  # behind its checksum
        data["grammar"] += "\n// changed"
        path.write_bytes(lalr.sealed(marshal.dumps(data)))
    assert _run(PROBE.replace("TEXT", "'a ^'"), tmp_path)[:2] == [270, True]
    assert _run(PROBE.replace("TEXT", "'a = 2; a^2'"), tmp_path) == [270, False, None]


def test_a_cache_that_cannot_be_written_is_done_without(tmp_path):
    home = tmp_path / "a-file"  # not a directory, even for root
    home.write_text("")
    for _ in range(2):
        assert _run(PROBE.replace("TEXT", "'a = 2; a^2'"), home) == [270, True, None]
    assert home.read_text() == ""


def test_no_home_directory_means_no_cache(tmp_path, monkeypatch):
    """The XDG spec: a relative XDG_CACHE_HOME is ignored; without a home ("~" stays
    "~"), nothing is written, least of all into the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)
    data = lalr.cached("grammar text", "0", lambda: {"built": True})
    assert data["built"] and list(tmp_path.iterdir()) == []


def test_a_syntax_error_late_in_a_long_program_is_found_without_a_second_parse(monkeypatch):
    """Issue 15, point 11: the error's position comes from counting the tokens the fast
    scan made; the program is not scanned by lex() or parsed again."""
    text = "t0 = a*b\n" + "".join(f"t{k} = t{k - 1} + {k}*a\n" for k in range(1, 5000))
    text += "t5000 = t4999 + * 3\n"

    def no_second_scan(self, text):
        raise AssertionError("scanned again by lex()")

    monkeypatch.setattr(scanner_module.Scanner, "lex", no_second_scan)
    with pytest.raises(BpdiffError) as error:
        parse.parse(text)
    assert (error.value.line, error.value.column) == (5001, 17)
    assert str(error.value).startswith("line 5001, column 17: unexpected '*'")


def test_a_big_program_with_a_syntax_error_at_its_end_through_the_cli(tmp_path):
    program = tmp_path / "big.bp"
    program.write_text("".join(f"+ x{k % 97}*{k}\n" for k in range(200_000)) + ") + 1\n")
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    done = subprocess.run([*command, "-f", str(program)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert "line 200001, column 1: unexpected ')'" in done.stderr
    assert "Traceback" not in done.stderr
