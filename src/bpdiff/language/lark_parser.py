"""Lark's own LALR parser for grammars/bpdiff.lark, for what bpdiff.language.lalr leaves to it:
the first analysis of the grammar, and parsing a program again after a syntax error so
that the error says what was expected.

It uses bpdiff.language.parse's scanner (its tokens turned into Lark's) and builder (as the
Transformer applied while parsing). Lark's own cache is never used: it unpickles a
file in the shared temporary directory, whose name anyone can compute. Building the
parser takes about 40 ms, and is needed only at a syntax error or on a cold table cache.
"""

import functools

from lark import Lark, Token
from lark.lexer import Lexer

from bpdiff.language import parse


class ScannerForLark(Lexer):
    """bpdiff.language.parse's scanner behind Lark's lexer interface."""

    def __init__(self, lexer_conf):
        self.lexer_conf = lexer_conf

    def lex(self, text):
        for token in parse.shared_builder().lexer.lex(text):
            yield Token(token.type, token.value, token.start_pos)


@functools.cache
def parser():
    """The Lark parser (built once per process, never from a cache)."""
    with open(parse.grammar_path(), encoding="utf-8") as grammar:
        return Lark(grammar.read(), parser="lalr", lexer=ScannerForLark,
                    transformer=parse.shared_builder(), maybe_placeholders=False)
