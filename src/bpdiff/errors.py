"""User-facing errors: a message, an optional source position, and an exit code.

Raised anywhere in the pipeline, printed once at the edge (the CLI), never as a traceback.
Exit codes: 2 for bad input or usage, 1 for a requested check that failed.
"""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")  # CSV's \r\n stays


class BpdiffError(Exception):
    """An error meant for the user. `str()` gives the full message, with the source
    line and a caret under the column when a position is known."""

    exit_code = 2

    def __init__(self, message, source=None, line=None, column=None, hint=None, where=None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.hint = hint
        self.where = where  # the file `source` is, when not the program (a --lib file)

    def __str__(self):
        parts = []
        if self.line is not None:
            place = f"line {self.line}, column {self.column}"
            parts.append(f"{self.where + ', ' if self.where else ''}{place}: {self.message}")
            if self.source is not None:
                lines = self.source.split("\n")
                if 1 <= self.line <= len(lines):
                    text = lines[self.line - 1]
                    if len(text) > 200:  # keep the caret visible on huge one-liners
                        start = max(0, self.column - 100)
                        text = ("…" if start else "") + text[start:start + 200]
                        caret = self.column - start + (1 if start else 0)
                    else:
                        caret = self.column
                    text = text.expandtabs(1)  # as wide as the caret line counts
                    caret = len(printable(text[:caret - 1])) + 1
                    parts.append("  " + printable(text))
                    parts.append("  " + " " * (caret - 1) + "^")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class BpdiffSyntaxError(BpdiffError):
    """The program text does not follow the grammar."""


class BpdiffNameError(BpdiffError):
    """A name is unknown, missing a value, redefined or used before it is defined."""


class BpdiffValueError(BpdiffError):
    """A value given for an input is not a number or names no input."""


def printable(text, limit=None):
    """`text` safe to show on a terminal: control characters but newline, tab and
    CR LF as escapes (ESC as \\x1b), so that echoed user text cannot retitle or recolour it;
    longer than `limit` characters, cut in the middle with a note of its length."""
    text = _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)
    if limit is not None and len(text) > limit:
        keep = max(limit // 2 - 15, 1)
        text = f"{text[:keep]}…({len(text):,} characters)…{text[-keep:]}"
    return text


def did_you_mean(name, candidates):
    """' (did you mean 'x'?)' for the closest candidate, or '' if none is close."""
    import difflib  # only on the error path

    same_letters = [c for c in candidates if c.lower() == name.lower()]
    if same_letters:
        return f" (did you mean '{same_letters[0]}'?)"
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
