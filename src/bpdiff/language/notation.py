"""How lecture notes spell what bpdiff spells otherwise: one table, read by the scanner
(through the builder's keywords) and the builder.

- Function names as people capitalise them (`ReLU`, `Relu`, `Sigmoid`, `Tanh`, `Exp`,
  `Log`, `Arctan`, `ATan`, ...) and the Greek `σ` for sigmoid: the function itself, when called.
- Superscripts, `x²`, `x⁻¹`, `e⁻ˣ`: a power whose exponent is the superscript read as
  plain text (a sign, then digits or one letter).
- Vulgar fractions, `½x²`: the number.
"""

from bpdiff.engine.ops import FUNCTIONS

SPELLINGS = {
    "σ": "sigmoid", "ReLU": "relu", "maximum": "max", "minimum": "min", "power": "pow",
    "ATan": "arctan", "ASin": "arcsin", "ACos": "arccos", "ArcTan": "arctan",
    "ArcSin": "arcsin", "ArcCos": "arccos",
    **{name.capitalize(): name for name in FUNCTIONS if name.capitalize() != name},
}
"""Another spelling of a function -> its name in the primitive table."""

SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ˣʸⁿᵃᵇᶜᵏⁱʲᵗ", "0123456789-+xynabckijt")
"""Superscript characters -> the plain ones."""

FRACTIONS = {"½": 1 / 2, "⅓": 1 / 3, "⅔": 2 / 3, "¼": 1 / 4, "¾": 3 / 4, "⅕": 1 / 5,
             "⅖": 2 / 5, "⅗": 3 / 5, "⅘": 4 / 5, "⅙": 1 / 6, "⅚": 5 / 6, "⅛": 1 / 8,
             "⅜": 3 / 8, "⅝": 5 / 8, "⅞": 7 / 8}
"""Vulgar fractions -> their values."""


CALLABLE = {**FUNCTIONS, **{spelling: FUNCTIONS[name] for spelling, name in SPELLINGS.items()}}
"""A function as it may be spelt in a call -> its primitive."""
