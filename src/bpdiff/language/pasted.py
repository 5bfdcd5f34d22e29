"""Code pasted from notebooks: lines that only drive a framework are skipped (with a
note), and Python that bpdiff cannot read is named, with the nearest form it can.

Skipped, each line whole: `import ...` and `from ... import ...`, `print(...)`,
`L.backward()`, `x.grad` (alone on its line), `opt.zero_grad()`, `opt.step()`. A
skipped line leaves an empty line, so that positions in errors stay those of the text.
"""

import re

_DRIVING = (  # compiled when first used (re caches it): not at every start-up
    r"(?m)^[ \t]*(?:import[ \t]+[\w.]+.*|from[ \t]+[\w.]+[ \t]+import[ \t].*"
    r"|print[ \t]*\(.*\)|[\w.\[\]]+\.(?:backward|zero_grad|step)[ \t]*\(.*\)"
    r"|[\w.\[\]]+\.grad(?:\.\w+)?(?:\.item\(\))?)[ \t]*(?:#.*)?$")
_MARKS = ("import", "print", ".backward", ".grad", "zero_grad", ".step(")

PYTHON = {
    "lambda": "bpdiff has no lambda: write the expression itself, or def f(x) = x^2",
    "for": "bpdiff has no loops: write each step as a statement, d = 2b; e = a + d",
    "while": "bpdiff has no loops: write each step as a statement, d = 2b; e = a + d",
    "if": "bpdiff has no if: relu(x), step(x), max(a, b) and abs(x) choose by value",
    "elif": "bpdiff has no if: relu(x), step(x), max(a, b) and abs(x) choose by value",
    "else": "bpdiff has no if: relu(x), step(x), max(a, b) and abs(x) choose by value",
    "return": "drop 'return': a program's last statement is its output",
    "class": "bpdiff has no classes: write the formulas as statements",
    "with": "bpdiff has no 'with' blocks: write the formulas as statements",
    "yield": "drop 'yield': a program's last statement is its output",
}
"""Python's words that start a statement bpdiff cannot read -> what to write instead."""

_INPUT = (r"\b(?:Value|tensor|torch\.tensor|np\.float64|float)[ \t]*\([ \t]*"
                    r"([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)[ \t]*"
                    r"(?:,[^()\n]*)?\)")

_FIRST_WORD = r"[ \t]*([A-Za-z_]\w*)"


def skip_driving_lines(text: str) -> tuple[str, list[str]]:
    """`text` with the lines that only drive a framework emptied, and a note for each;
    `Value(2.0, label='a')` and `torch.tensor(2.0, requires_grad=True)` read as the
    number, which on the right of `a = ...` makes `a` an input with that default."""
    notes: list[str] = []
    if "Value(" in text or "tensor(" in text or "float" in text:  # float(, np.float64(
        text, count = re.subn(_INPUT, r"\1", text)
        if count:
            notes.append(f"read {count} framework value(s), Value(2.0) and the like, as"
                         " their numbers: inputs with those defaults")
    if not any(mark in text for mark in _MARKS):  # the common case, at C speed
        return text, notes

    def skip(match: re.Match) -> str:
        line = text.count("\n", 0, match.start()) + 1
        notes.append(f"skipped line {line}, which only drives a framework:"
                     f" {match.group().strip()[:60]}")
        return ""

    return re.sub(_DRIVING, skip, text), notes


def python_hint(text: str, line: int | None) -> str | None:
    """What to write instead, when line `line` of `text` starts with a Python word
    bpdiff cannot read (`lambda`, `for`, `if`, `return`, ...); else None."""
    if line is None:
        return None
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    word = re.match(_FIRST_WORD, lines[line - 1])
    found = word.group(1) if word is not None and word.group(1) in PYTHON else None
    if found is None and re.search(r"\blambda\b", lines[line - 1]):
        found = "lambda"
    if found is None:
        return None
    return f"'{found}' is Python: {PYTHON[found]}"
