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
