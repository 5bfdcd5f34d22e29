"""Number text in and out. In: an input's value given as a number or its text
(`to_number`). Out: integral values without `.0`, a chosen number of significant digits,
and non-finite values as `nan`, `inf`, `-inf` (also in JSON, where they are strings).
"""

import math
import re

from bpdiff.errors import BpdiffValueError

DEFAULT_PRECISION = 6
MAX_PRECISION = 17  # significant digits that tell any two float64 numbers apart


SMALL_ARRAY = 12  # arrays with at most this many elements print in full


def format_number(x, precision=DEFAULT_PRECISION, full=False):
    """`x` with `precision` significant digits; 270.0 -> '270', 0.19661193 -> '0.196612'.
    An array prints as nested lists when small (or `full`), else as a summary."""
    if x is None:
        return "—"
    if type(x) is not float and hasattr(x, "shape"):
        return format_array(x, precision, full)
    if type(x) is tuple:  # an array literal's payload
        return format_array_literal(x, precision)
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


def format_array(x, precision=DEFAULT_PRECISION, full=False):
    """'[[1, 2], [3, 4]]' for a small array (or any, with `full`); for a larger one its
    shape and range: '(3,5) min -1.2 max 3 mean 0.4'. A 0-d array prints as a number."""
    import numpy as np

    if x.ndim == 0:
        return format_number(float(x), precision)
    if x.size <= SMALL_ARRAY or full:
        text = np.array2string(x, separator=", ", max_line_width=10**9, threshold=x.size + 1,
                               formatter={"all": lambda v: format_number(float(v), precision)})
        return text.replace("\n", "")
    with np.errstate(all="ignore"):  # -inf and inf average to nan, huge numbers to inf
        mean = x.mean() if x.size else float("nan")
    return (f"{shape_text(x.shape)} min {format_number(float(x.min()), precision)}"
            f" max {format_number(float(x.max()), precision)}"
            f" mean {format_number(float(mean), precision)}")


def format_array_literal(items, precision=DEFAULT_PRECISION, number=None):
    """Nested tuples of floats as the literal a program writes: '[1, -2]'; each float
    with `precision` digits, or as `number(float)` gives it."""
    number = number or (lambda v: format_number(v, precision))
    return str(_nested_map(items, lambda v: _Raw(number(v))))


class _Raw(str):
    __repr__ = str.__str__


def _nested_map(items, convert):
    """`items` (nested tuples or lists of floats) as nested lists of convert(float)."""
    root = []
    pending = [(items, root)]
    while pending:
        source, target = pending.pop()
        for item in source:
            if isinstance(item, (tuple, list)):
                inner = []
                target.append(inner)
                pending.append((item, inner))
            else:
                target.append(convert(item))
    return root


def shape_text(shape):
    """(3, 2) -> '(3,2)', (3,) -> '(3,)', () -> '()'."""
    return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def json_number(x):
    """`x` as a strict-JSON value: ints for integral floats (but -0.0), strings for
    nan/inf; an array as nested lists of those."""
    if x is None:
        return None
    if type(x) is not float and hasattr(x, "shape"):
        if x.ndim == 0:
            return json_number(float(x))
        import numpy as np

        if np.isfinite(x).all():  # JSON's own floats
            return x.tolist()
        return _nested_map(x.tolist(), json_number)
    if x.is_integer():
        if x == 0 and math.copysign(1.0, x) < 0:
            return x  # -0.0: the sign matters (1/x is -inf)
        return int(x) if -2**53 < x < 2**53 else x
    if x - x == 0:  # finite
        return x
    if x != x:
        return "nan"
    return "inf" if x > 0 else "-inf"


MAX_FRACTION_CHARS = 40  # longer exact numbers show rounded in tables (JSON has them all)


def format_fraction(q):
    """An exact number as text: 270 -> '270', -1/4 -> '-1/4'."""
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def format_exact(fraction, number, precision=DEFAULT_PRECISION):
    """A number of an --exact run for a table: the fraction, or '≈' and `number`
    rounded when there is no fraction (an approximation) or it is too long to show."""
    if number is None:
        return "—"
    if fraction is not None:
        text = format_fraction(fraction)
        if len(text) <= MAX_FRACTION_CHARS:
            return text
    text = format_number(number, precision)
    return text if text in ("nan", "inf", "-inf") else "≈" + text


def to_number(name, value):
    """`value` (a number or its text, fractions like -1/4 allowed) as a float; `name`
    says whose value it is in the error."""
    if isinstance(value, bool):
        raise BpdiffValueError(f"the value for '{name}' must be a number, not {value}")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise BpdiffValueError(f"the value for '{name}' is too large for a float") from None
    text = str(value).strip()
    try:
        if "/" in text:
            numerator, denominator = text.split("/")
            return float(numerator) / float(denominator)
        return float(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise BpdiffValueError(f"the value for '{name}' is not a number: {text!r}") from None


# ---- answers as written (the grading rule of --expect, --problems and practice pages) ----

_WRITTEN = r"\s*[+-]?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,6}))?\s*\Z"


def written(text):
    """How precisely `text` is written, as (digits, last): its significant digits (0 for
    a zero, None for a fraction, which claims every digit) and the power of ten of its
    last written digit (None for a fraction); None when it is no plain number.
    '-0.20' -> (2, -2); '1.2e-3' -> (2, -4); '270' -> (3, 0) (an integer claims every
    digit it writes: 2.7e2 is the way to write two); '0.0' -> (0, -1); '-1/4' ->
    (None, None)."""
    text = str(text).replace("\u2212", "-").strip()
    if "/" in text:
        return None, None
    match = re.match(_WRITTEN, text)  # re caches the compiled pattern
    if match is None or not (match.group(1) or match.group(2)):
        return None
    whole, fraction, exponent = match.group(1), match.group(2) or "", match.group(3)
    return len((whole + fraction).lstrip("0")), int(exponent or 0) - len(fraction)


def rounded_text(x, digits):
    """`x` rounded to `digits` significant digits, trailing zeros kept: -0.19661, 2 ->
    '-0.20'; 297, 2 -> '3.0e2'."""
    text = f"{x:#.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa.rstrip('.')}e{int(exponent)}"
    return text.rstrip(".")
