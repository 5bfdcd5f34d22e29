"""Lark's LALR parser for grammars/bpdiff.lark, built only to analyse the grammar (its
parse table and terminals, read by bpdiff.language.lalr.analyse): the first run after an
install, or after the table cache was found damaged. Parsing is never Lark's.

Lark's own cache is never used: it unpickles a file in the shared temporary directory,
whose name anyone can compute. Building the parser takes about 40 ms.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Lark, Token
from lark.common import LexerConf
from lark.lexer import Lexer


class TerminalsOnly(Lexer):
    """The lexer class Lark is given: the analysis reads the terminals Lark hands it,
    and bpdiff.language.scanner does the scanning."""

    def __init__(self, lexer_conf: LexerConf) -> None:
        self.lexer_conf = lexer_conf

    def lex(self, lexer_state: object, parser_state: object) -> Iterator[Token]:
        raise NotImplementedError("bpdiff.language.scanner scans programs")


def parser(grammar: str) -> Lark:
    """Lark's parser for the grammar text `grammar` (never from a cache)."""
    return Lark(grammar, parser="lalr", lexer=TerminalsOnly, maybe_placeholders=False)
