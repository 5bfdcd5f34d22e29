"""The command's standard streams: made safe to write to at start (a closed stream
discarded, an encoding without ∂ or → given ASCII spellings of them), messages to
stderr with user text escaped, and whether the rich layout fits the terminal.
Imports only bpdiff.errors.
"""

import codecs
import os
import sys

from bpdiff.errors import printable

MESSAGE_LIMIT = 1000  # a longer line of a message is cut in the middle
MIN_RICH_WIDTH = 20  # a narrower terminal (COLUMNS=3) gets the plain layout
ERROR_HANDLER = "bpdiff-ascii"

ASCII_SPELLINGS = {
    "∂": "d", "×": "x", "·": "*", "−": "-", "…": "...", "≈": "~", "→": "->", "←": "<-",
    "²": "^2", "³": "^3", "‖": "||", "—": "--", "–": "-", "ᵀ": "^T", "±": "+/-",
    "↺": "(loop)", "σ": "sigma", "✗": "x", "✓": "ok", "⊙": "(*)", "≥": ">=",
    "≤": "<=", "÷": "/", "ε": "eps", "◀": "<", "▶": ">", "∞": "inf", "√": "sqrt",
    "“": '"', "”": '"', "‘": "'", "’": "'", "Σ": "sum", "½": "1/2", "»": ">>", "«": "<<",
}


def spell_ascii(error):
    """A codec error handler: the characters an encoding lacks, in ASCII spellings
    (∂ as d, → as ->), others as \\u escapes; never an error."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    text = "".join(ASCII_SPELLINGS.get(c) or c.encode("ascii", "backslashreplace").decode()
                   for c in bad)
    return text, error.end


def prepare_streams():
    """Make stdout and stderr safe for the whole run: a stream the process started
    without (`>&-`) writes to /dev/null; text the encoding cannot hold (ASCII,
    latin-1, cp1252) is spelled in ASCII instead of raising UnicodeEncodeError."""
    codecs.register_error(ERROR_HANDLER, spell_ascii)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
        elif hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors=ERROR_HANDLER)
            except (ValueError, OSError):  # closed, or not reconfigurable after writes
                pass


def say(message):
    """Write `message` as lines on stderr: control characters escaped, each line cut to
    MESSAGE_LIMIT characters. A failing stderr is ignored: there is nowhere to say it."""
    text = "\n".join(printable(line, MESSAGE_LIMIT) for line in str(message).split("\n"))
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def rich_fits():
    """Whether the terminal is wide enough for rich's tables (COLUMNS=0 or 3: not)."""
    from rich.console import Console

    return Console().width >= MIN_RICH_WIDTH
