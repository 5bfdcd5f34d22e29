"""How numbers print: integral values without `.0`, a chosen number of significant digits,
and non-finite values as `nan`, `inf`, `-inf` (also in JSON, where they are strings).

May import: the standard library.
"""

import math

DEFAULT_PRECISION = 6


def format_number(x, precision=DEFAULT_PRECISION):
    """`x` with `precision` significant digits; 270.0 -> '270', 0.19661193 -> '0.196612'."""
    if x is None:
        return "—"
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


def json_number(x):
    """`x` as a strict-JSON value: ints for integral floats, strings for nan/inf."""
    if x is None:
        return None
    if x.is_integer():
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
