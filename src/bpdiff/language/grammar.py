"""The analysed grammar: grammars/bpdiff.lark as the driver's tables and the scanner's
patterns. Lark analyses the grammar once per grammar text and bpdiff version (the result
is cached by bpdiff.language.lalr); a process loads it once, and nothing changes it
after: every parse, in every thread, reads the same Tables.
"""

from __future__ import annotations

import functools
import os
import re

from bpdiff.engine.ops import BY_NAME
from bpdiff.language import lalr, scanner
from bpdiff.language.builder import KEYWORDS, Builder, SplittingBuilder
from bpdiff.version import __version__


def grammar_path() -> str:
    """The grammar shipped in the package, else the repository's (editable installs)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packaged = os.path.join(package, "grammars", "bpdiff.lark")
    if os.path.exists(packaged):
        return packaged
    return os.path.join(package, os.pardir, os.pardir, "grammars", "bpdiff.lark")


@functools.cache
def loaded() -> tuple[lalr.Tables, dict]:
    """(tables, patterns): the driver's lalr.Tables and the scanner's patterns, from the
    cache when it holds them for this grammar, else from Lark's analysis."""
    with open(grammar_path(), encoding="utf-8") as grammar:
        text = grammar.read()
    data = lalr.cached(text, __version__, lambda: _analyse(text))
    try:
        return _load(data)
    except (KeyError, TypeError, ValueError, IndexError, re.error):  # a damaged cache
        return _load(dict(_analyse(text), grammar=text, format=lalr.FORMAT))


@functools.cache
def splitting() -> lalr.Tables:
    """The driver's tables calling SplittingBuilder's methods: for a parse that reads
    names as products of their letters."""
    return loaded()[0].rebound(SplittingBuilder, BY_NAME)


def _load(data: dict) -> tuple[lalr.Tables, dict]:
    patterns = data["scanner"]
    scanner.Scanner(patterns, KEYWORDS)  # its regexes compile
    if any(type(text) is not str or type(kind) is not str
           for text, kind in patterns["literal_kinds"].items()) \
            or any(type(kind) is not str or type(regex) is not str
                   for kind, regex in patterns["open_kinds"]):
        raise TypeError("a damaged cache")
    return lalr.Tables(data, Builder, BY_NAME), patterns


def _analyse(text: str) -> dict:
    """What bpdiff.language.lalr and bpdiff.language.scanner need of the grammar `text`,
    from Lark's parser (Lark is imported only now: a run on warm tables never needs it)."""
    from bpdiff.language.lark_parser import parser

    data = lalr.analyse(parser(text))
    data["scanner"] = scanner.patterns(data["terminals"], data["ignore"])
    return data
