"""Program text -> tokens for the parser, from the grammar's terminals (as Lark lists
them, in its order of priority; see bpdiff.language.lalr).

A token is a type (the terminal's name), its text and where it starts. A token whose
position nobody reads is shared between equal occurrences: a long program makes one
Token per distinct name, number and operator, not one per occurrence. Fresh tokens,
with their own position, are made for the names of calls and assignments and for every
token of a `def` statement (their errors point at them). A function's name is a FUNC
token only when a '(' follows (otherwise it is a name like any other: the seeds call an
intermediate `dot`); `def` is a DEF token, and the name after it becomes a function.

Two ways to the same tokens: `lex` goes match by match and knows where the token last
handed to the parser starts (`offset`, where a syntax error is); `tokens` lets the
regex engine find every token at once and falls back to `lex` for what it does not
handle (a `def`, an array literal, a line continuation, a character no token starts
with). tests/test_lalr.py checks they agree.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
import re
from array import array
from itertools import accumulate, islice

from bpdiff.language import defs

ASSIGNMENT = re.compile(r"[ \t\f\r]*=")  # after a name: it is being assigned
_LISTED = r"[A-Za-z_α-ωΑ-Ω][A-Za-z0-9_α-ωΑ-Ω]*"
HEAD = (rf"[ \t\f\r]*\([ \t\f\r]*{_LISTED}(?:[ \t\f\r]*,[ \t\f\r]*{_LISTED})*"
        r"[ \t\f\r]*\)[ \t\f\r]*=(?!=)")
"""After a name: `(x, y) =`, so the name heads a function-style left-hand side."""
_NAMES = frozenset(["NAME", "_CALLED", "_ASSIGNED", "_HEAD"])
RARE = frozenset(["SUP_T"])
"""Terminals tokens() leaves to lex(), sending it the texts that may hold them
(_may_have_rare): x^T is rare, and one more alternative in tokens()' regex slows the
scan of every program (by 4 to 12 % for the 1e6 benchmark workloads)."""
_SUP_T = r"(?:\^|\*\*)[ \t]?T"  # compiled when first used (re caches it)
_SLOW = frozenset(["def", "[", "\\"])  # texts that send a program to lex()


def _without_groups(regex: str) -> str | None:
    """`regex` with its capturing groups made non-capturing (so that split() gives
    blanks and tokens only), or None where that is not plainly safe."""
    if re.search(r"\[[^\]]*\(", regex) or "\\\\(" in regex:
        return None  # a '(' in a character class, or after an escaped backslash
    plain = re.sub(r"(?<!\\)\((?!\?)", "(?:", regex)
    return plain if re.compile(plain).groups == 0 else None


class Token:
    """A token: its terminal's name (`type`), its text and where it starts."""

    __slots__ = ("type", "value", "start_pos")

    def __init__(self, type: str, value: str, start_pos: int) -> None:
        self.type, self.value, self.start_pos = type, value, start_pos

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r}, {self.start_pos})"


class UnexpectedCharacter(Exception):
    """No terminal matches the text at `position`."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def patterns(terminals: list[tuple[str, str]], ignore: list[str]) -> dict:
    """The scanner's regexes, as text, for the grammar's terminals ((name, regex) in
    Lark's order of priority) and the names of those it ignores: worked out once, with
    the analysis of the grammar, and cached with it (bpdiff.language.parse)."""
    blanks = "|".join(regex for name, regex in terminals if name in ignore)
    name = dict(terminals)["NAME"]
    kinds = [(kind, regex) for kind, regex in terminals if kind not in ignore]
    tokens = "|".join(f"(?P<{kind}>{regex})" for kind, regex in kinds)
    plain = [_without_groups(regex) for kind, regex in kinds if kind not in RARE] \
        + [_without_groups(blanks)]
    every_token = None
    if None not in plain:  # (blanks, token): a bad character is a token, '' the end
        *token_patterns, blank_pattern = [text for text in plain if text is not None]
        every_token = f"((?:{blank_pattern})*+)({'|'.join(token_patterns)}|[\\s\\S]|\\Z)"
    literal_kinds, open_kinds = _kinds(kinds)
    return {
        "lex": (  # a name before '=' or '(' has a group of its own
            f"(?:{blanks})*+(?:(?P<_ASSIGNED>{name})(?={ASSIGNMENT.pattern})"
            f"|(?P<_HEAD>{name})(?={HEAD})"
            f"|(?P<_CALLED>{name})(?={defs.CALLED.pattern})|{tokens}|(?P<_BAD>[\\s\\S])|\\Z)"),
        "every_token": every_token,
        "literal_kinds": literal_kinds,
        "open_kinds": open_kinds,
    }


def _kinds(kinds: list[tuple[str, str]]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """How tokens() tells a token's kind from its text without one regex of every
    terminal (compiling that costs more than a small program's whole run): (text ->
    kind for every text of a terminal that matches a few fixed texts, such as `*`, `·`
    and `×`; (kind, regex) of the others, in order of priority). A text in the first is
    of that kind whatever the others match; a text not in it is of the first of the
    others that matches it whole."""
    literal_kinds: dict[str, str] = {}
    open_kinds = []
    for kind, regex in kinds:
        texts = _fixed_texts(regex)
        if texts is None:
            open_kinds.append((kind, regex))
            continue
        for text in texts:
            if text in literal_kinds:
                continue
            literal_kinds[text] = next(k for k, r in kinds if re.fullmatch(r, text))
    return literal_kinds, open_kinds


def _fixed_texts(regex: str) -> list[str] | None:
    """The texts `regex` matches when they are a few fixed ones (literals, sets of
    characters, alternatives of those, in non-capturing groups), else None."""
    from re import _constants as op, _parser  # type: ignore[attr-defined]

    def texts(items: list) -> list[str] | None:  # nested only as deep as the regex's groups
        found = [""]
        for code, argument in items:
            if code is op.LITERAL:
                options = [chr(argument)]
            elif code is op.IN and all(c is op.LITERAL for c, _ in argument):
                options = [chr(a) for _, a in argument]
            elif code is op.BRANCH:
                branches = [texts(list(branch)) for branch in argument[1]]
                if None in branches:
                    return None
                options = [text for branch in branches for text in branch or ()]
            elif code is op.SUBPATTERN and argument[0] is None:
                inner = texts(list(argument[3]))
                if inner is None:
                    return None
                options = inner
            else:
                return None
            found = [a + b for a in found for b in options]
            if len(found) > 64:
                return None
        return found

    try:
        return texts(list(_parser.parse(regex)))
    except (re.error, AttributeError, TypeError, ValueError, IndexError):  # other re versions
        return None


class Scanner:
    """The tokens of a program, with the regexes patterns() wrote; `functions` (name ->
    DEF or FUNC) is set for each program, and the name after `def` joins it."""

    def __init__(self, patterns: dict, functions: dict[str, str]) -> None:
        self.lex_pattern = patterns["lex"]
        every = patterns["every_token"]
        self.every_token = None if every is None else re.compile(every)
        self.literal_kinds: dict[str, str] = patterns["literal_kinds"]
        self.open_kinds: list[tuple[str, str]] = [tuple(k) for k in patterns["open_kinds"]]
        self.matchers: list[re.Pattern] = []  # open_kinds' regexes, compiled as needed
        self.match: re.Match | None = None  # lex(): the match last handed to the parser
        self.functions = functions

    @functools.cached_property
    def pattern(self) -> re.Pattern:
        """lex()'s regex, compiled when first needed (tokens() mostly does without)."""
        return re.compile(self.lex_pattern)

    @property
    def offset(self) -> int:
        """Where the token last handed to the parser by lex() starts."""
        match = self.match
        return 0 if match is None else match.start(match.lastgroup or 0)

    def kind(self, text: str) -> str | None:
        """The terminal `text` is a whole token of (the first in order of priority),
        or None."""
        kind = self.literal_kinds.get(text)
        if kind is not None:
            return kind
        matchers = self.matchers
        for k, (name, regex) in enumerate(self.open_kinds):
            if k == len(matchers):
                matchers.append(re.compile(regex))
            if matchers[k].fullmatch(text):
                return name
        return None

    def kind_in_one_match(self, text: str) -> str | None:
        """What kind() gives, from one regex of every open kind: for programs with
        thousands of distinct names and numbers (compiling it costs what a few hundred
        kind() calls do)."""
        kind = self.literal_kinds.get(text)
        if kind is not None:
            return kind
        match = self.open_alternation.fullmatch(text)
        return None if match is None else match.lastgroup

    @functools.cached_property
    def open_alternation(self) -> re.Pattern:
        """The open kinds' regexes as one, each a named group. A text several kinds
        match whole is of the first: fullmatch() tries the kinds in order and goes on
        to the next when one matches a prefix only; a kind's own groups close before
        its named group, so lastgroup is the kind."""
        return re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in self.open_kinds))

    def lex(self, text: str) -> Iterator[Token]:
        """The tokens of `text`, one match at a time; raises UnexpectedCharacter where
        none matches."""
        functions = self.functions
        shared: dict[str, Token] = {}
        self.match = None
        matches = self.pattern.finditer(text)
        for match in matches:
            group = match.lastgroup
            if group is None:  # the end
                return
            kind = group
            value = match.group(group)
            self.match = match
            if kind == "NAME" or kind == "_CALLED":
                special = functions.get(value)
                if special is None:
                    kind = "NAME"
                else:  # a function's name is a call only before '('
                    kind = "NAME" if special == "FUNC" and kind == "NAME" else special
                    yield Token(kind, value, match.start(group))
                    if kind == "DEF":
                        yield from self._definition(matches)
                    continue
            elif kind == "_HEAD":  # f(x, y) = ...: the output f of inputs x and y
                yield Token("HEAD", value, match.start(group))
                continue
            elif kind == "_ASSIGNED":
                kind = functions.get(value, "NAME")
                kind = "NAME" if kind == "FUNC" else kind
                yield Token(kind, value, match.start(group))
                if kind == "DEF":
                    yield from self._definition(matches)
                continue
            elif kind == "_BAD":
                raise UnexpectedCharacter(match.start(kind))
            token = shared.get(value)
            if token is None:
                token = shared[value] = Token(kind, value, match.start(group))
            yield token

    def _definition(self, matches: Iterator[re.Match]) -> Iterator[Token]:
        """The rest of a `def` statement, up to its separator, as fresh tokens; the name
        after `def` is a FUNC token and a function from here on, and other functions'
        names are FUNC only where called (a parameter or a body may misuse one, and is
        told so)."""
        functions = self.functions
        first = True
        for match in matches:
            group = match.lastgroup
            if group is None:
                return
            if group == "_BAD":
                raise UnexpectedCharacter(match.start(group))
            kind = group
            value = match.group(group)
            self.match = match
            if kind in _NAMES:
                if first and value != "def":
                    functions[value] = "FUNC"
                    kind = "FUNC"
                elif functions.get(value) == "FUNC" and kind == "_CALLED":
                    kind = "FUNC"
                else:
                    kind = "DEF" if value == "def" else "NAME"
            first = False
            yield Token(kind, value, match.start(group))
            if kind == "_SEP":
                return

    def tokens(self, text: str) -> list[Token] | Iterator[Token]:
        """The tokens lex() gives for `text`, but for one thing, as a list made mostly
        by the regex engine; or lex() itself where this does not apply. The one thing:
        a function's name is one shared FUNC token, positioned at its first call, so a
        caller that meets an error in a call must scan again with lex() for the
        position (bpdiff.language.parse does)."""
        if "\\" in text or self.every_token is None or _may_have_heads(text) \
                or _may_have_rare(text):
            return self.lex(text)
        # split() gives ['', blanks, token] per token, then ['']: one flat list (findall
        # would make a tuple per token). The last token is the end, ''.
        parts = self.every_token.split(text)
        texts = parts[2::3]
        texts.pop()
        starts = array("q", accumulate(map(len, parts)))[1::3]  # where each token starts
        del parts
        assigned = _assigned(texts)
        plain: list[str | None] = list(texts)  # where each text first occurs, not
        # counting fresh tokens
        for k in assigned:
            plain[k] = None
        first: dict = dict(zip(reversed(plain), range(len(plain) - 1, -1, -1)))
        first.pop(None, None)
        kinds: dict[str, str] = {}
        values = set(first).union([texts[k] for k in assigned])
        kind_of = self.kind if len(values) < 500 else self.kind_in_one_match
        for value in values:
            kind = kind_of(value)
            if kind is None or value in _SLOW:
                return self.lex(text)
            kinds[value] = kind
        called = [value for value, kind in kinds.items()
                  if kind == "NAME" and self.functions.get(value) == "FUNC"]
        if called and self._not_called(called, text):
            return self.lex(text)
        for value in called:
            kinds[value] = "FUNC"
        shared = {value: Token(kinds[value], value, starts[k]) for value, k in first.items()}
        tokens: list = list(map(shared.get, plain))  # a Token at each place, below
        for k in assigned:
            if kinds[texts[k]] != "NAME":  # e.g. `3 = x`: lex() sorts that out
                return self.lex(text)
            tokens[k] = Token("NAME", texts[k], starts[k])
        self.match = None
        return tokens

    def start_of(self, text: str, index: int) -> int:
        """Where the `index`-th token of tokens(text) starts (a shared token's own
        position is its first occurrence's)."""
        assert self.every_token is not None  # tokens() gave a list, so it has one
        matches = self.every_token.finditer(text)
        return next(islice(matches, index, None)).start(2)

    @staticmethod
    def _not_called(names: list[str], text: str) -> re.Match | None:
        """Whether one of the functions `names` may occur in `text` other than before
        '(' (as a name, in a longer name or a comment: any of these sends the program
        to lex())."""
        either = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
        return re.search(f"(?:{either})(?![A-Za-z0-9_])(?!{defs.CALLED.pattern})", text)


def _may_have_heads(text: str) -> bool:
    """Whether `text` may have a function-style left-hand side, `f(x, y) = ...` (lex()
    tells them: rare, so a quick look for `)=` comes first)."""
    if ")=" not in text and ") =" not in text and ")\t=" not in text:
        return False
    # a name is tried from its first character only: from each of a long name's
    # characters, the search took time quadratic in its length (a hang, found by fuzzing)
    return re.search(f"(?<![A-Za-z0-9_α-ωΑ-Ω]){_LISTED}{HEAD}", text) is not None


def _may_have_rare(text: str) -> bool:
    """Whether `text` may hold a token of a RARE terminal: x^T, x**T or xᵀ."""
    return "ᵀ" in text or ("T" in text and re.search(_SUP_T, text) is not None)


def _assigned(texts: list[str]) -> list[int]:
    """The positions of the texts before '=' (a name being assigned, as a rule)."""
    assigned: list[int] = []
    k = -1
    while True:
        try:
            k = texts.index("=", k + 1)
        except ValueError:
            return assigned
        if k:
            assigned.append(k - 1)
