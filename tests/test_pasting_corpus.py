"""A catalogue of formulas pasted as written (issue 17): one row a formula, in the forms
people copy from notes, slides, LaTeX and notebooks. Each row gives the text, the input
values, the `--parse` reading (the lines under "read as:", joined by "; ") and the same
function in SymPy; the test checks the reading exactly, and the value and every
gradient against SymPy at that point. Tensor rows (the transpose) are checked against
NumPy and central differences instead. tests/test_pasting.py holds the micrograd README
program and the hint tests; this module reuses its text, not its checks.

A row is read as bpdiff's CLI reads it (bpdiff.cli._parse_echo: the names split into
letters as `differentiate` splits them); a few rows go through the installed CLI.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from test_pasting import MICROGRAD_README

import bpdiff
from bpdiff.api import split_names
from bpdiff.language.parse import parse
from bpdiff.render.echo import statements
from bpdiff.render.echo import _statement_lines


def sigmoid(t):
    return 1 / (1 + sp.exp(-t))


def relu(t):
    return sp.Max(t, 0)


def micrograd(a, b):
    """The micrograd README program, step by step in SymPy."""
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + relu(b + a)
    d = d + 3 * d + relu(b - a)
    f = (c - d) ** 2
    g = f / 2
    return g + 10 / f


E, PI = sp.E, sp.pi

# (text, input values, the reading, the function in SymPy: its parameters are the inputs)
ROWS = [
    # ---- function-style left-hand sides ----
    ("f(x, y, z) = (x + y) z", dict(x=-2.0, y=5.0, z=-4.0), "f = (x + y) * z",
     lambda x, y, z: (x + y) * z),
    ("L(a, b, c) = c(a + 2b)", dict(a=3.0, b=1.0, c=-2.0), "L = c * (a + (2 * b))",
     lambda a, b, c: c * (a + 2 * b)),
    ("z(x) = sin(x^2)", dict(x=0.8), "z = sin(x ^ 2)", lambda x: sp.sin(x ** 2)),
    ("y = f(x_1, x_2, x_3) = (x_1 + x_2) x_3", dict(x_1=1.0, x_2=2.0, x_3=-3.0),
     "f = (x_1 + x_2) * x_3; y = f   (output)", lambda x_1, x_2, x_3: (x_1 + x_2) * x_3),
    ("g(w, x, b) = w x + b", dict(w=0.5, x=2.0, b=-1.0), "g = (w * x) + b",
     lambda w, x, b: w * x + b),
    ("h(x) = x^3 - 2x", dict(x=1.5), "h = (x ^ 3) - (2 * x)", lambda x: x ** 3 - 2 * x),
    ("q(u, v) = u/v + v/u", dict(u=2.0, v=3.0), "q = (u / v) + (v / u)",
     lambda u, v: u / v + v / u),
    ("loss(y, t) = (y - t)^2 / 2", dict(y=3.0, t=1.0), "loss = ((y - t) ^ 2) / 2",
     lambda y, t: (y - t) ** 2 / 2),
    ("f(x, y) = x^2 y + y^2", dict(x=1.5, y=-2.0), "f = ((x ^ 2) * y) + (y ^ 2)",
     lambda x, y: x ** 2 * y + y ** 2),
    ("out = f(a, b) = a b + sin(a)", dict(a=0.7, b=2.0),
     "f = (a * b) + sin(a); out = f   (output)", lambda a, b: a * b + sp.sin(a)),
    ("F(x) = exp(-x^2)", dict(x=0.6), "F = exp(-(x ^ 2))", lambda x: sp.exp(-x ** 2)),
    ("z(x, y) = σ(x y)", dict(x=0.5, y=-1.5), "z = sigmoid(x * y)",
     lambda x, y: sigmoid(x * y)),
    # ---- reassignment, as in Python ----
    ("c = a + b; c += c + 1; c", dict(a=1.0, b=2.0), "c = a + b; c' = c + (c + 1)   (output)",
     lambda a, b: 2 * (a + b) + 1),
    ("d = 2a; d *= 3; d -= a; d /= 5", dict(a=1.5),
     "d = 2 * a; d' = d * 3; d'' = d' - a; d''' = d'' / 5   (output)",
     lambda a: (6 * a - a) / 5),
    ("x = x + 1; x*x", dict(x=3.0), "x' = x + 1; x' * x'   (output)", lambda x: (x + 1) ** 2),
    ("y = a; y = y^2; y **= 2", dict(a=2.0),
     "y = a; y' = y ^ 2; y'' = y' ^ 2   (output)",
     lambda a: a ** 4),
    ("s = a; s += b; s += a*b; s", dict(a=2.0, b=-3.0),
     "s = a; s' = s + b; s'' = s' + (a * b)   (output)",
     lambda a, b: a + b + a * b),
    ("t = x; t -= 1; t ^= 2", dict(x=2.5),
     "t = x; t' = t - 1; t'' = t' ^ 2   (output)",
     lambda x: (x - 1) ** 2),
    ("h = w*x\nh = tanh(h)\nh = h + b", dict(w=0.5, x=1.5, b=0.1),
     "h = w * x; h' = tanh(h); h'' = h' + b   (output)",
     lambda w, x, b: sp.tanh(w * x) + b),
    ("acc = 0\nacc += x\nacc += x^2\nacc", dict(x=1.5),
     "acc = 0   (input with a default); acc' = acc + x; acc'' = acc' + (x ^ 2)   (output)",
     lambda acc, x: acc + x + x ** 2),
    (MICROGRAD_README, {},
     'a = -4   (input with a default); b = 2   (input with a default); c = a + b; '
     "d = (a * b) + (b ^ 3); c' = c + (c + 1); c'' = c' + ((1 + c') + (-a)); "
     "d' = d + ((d * 2) + relu(b + a)); d'' = d' + ((3 * d') + relu(b - a)); e = c'' - d''; "
     "f = e ^ 2; g = f / 2; g' = g + (10 / f)   (output)",
     micrograd),
    # ---- micrograd and PyTorch notebooks ----
    ("a = Value(2.0)\nb = Value(-3.0)\nc = Value(10.0)\ne = a*b\nd = e + c\nf = Value(-2.0)\n"
     "L = d * f", {},
     'a = 2   (input with a default); b = -3   (input with a default); '
     'c = 10   (input with a default); e = a * b; d = e + c; f = -2   (input with a default); '
     'L = d * f   (output)',
     lambda a, b, c, f: (a * b + c) * f),
    ("x1 = Value(2.0, label='x1')\nx2 = Value(0.0, label='x2')\nw1 = Value(-3.0, label='w1')\n"
     "w2 = Value(1.0, label='w2')\nb = Value(6.8813735870195432, label='b')\n"
     "n = x1*w1 + x2*w2 + b\no = n.tanh()\no.backward()", {},
     'x1 = 2   (input with a default); x2 = 0   (input with a default); '
     'w1 = -3   (input with a default); w2 = 1   (input with a default); '
     'b = 6.881373587019543   (input with a default); n = ((x1 * w1) + (x2 * w2)) + b; '
     'o = tanh(n)   (output)',
     lambda x1, x2, w1, w2, b: sp.tanh(x1 * w1 + x2 * w2 + b)),
    ("n = x1*w1 + x2*w2 + b\ne = (2*n).exp()\no = (e - 1)/(e + 1)",
     dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432),
     'n = ((x1 * w1) + (x2 * w2)) + b; e = exp(2 * n); o = (e - 1) / (e + 1)   (output)',
     lambda x1, x2, w1, w2, b: sp.tanh(x1 * w1 + x2 * w2 + b)),
    ("a = Value(2.0)\nb = Value(-3.0, label='b')\nc = a*b + b", {},
     'a = 2   (input with a default); b = -3   (input with a default); c = (a * b) + b   (output)',
     lambda a, b: a * b + b),
    ("x = torch.tensor(0.5, requires_grad=True)\ny = x.sigmoid()", {},
     'x = 0.5   (input with a default); y = sigmoid(x)   (output)',
     lambda x: sigmoid(x)),
    ("x = torch.tensor(2.0, requires_grad=True)\ny = x**2 + 3*x", {},
     'x = 2   (input with a default); y = (x ^ 2) + (3 * x)   (output)',
     lambda x: x ** 2 + 3 * x),
    ("x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)\ny = torch.exp(x) * x",
     {}, 'x = 1   (input with a default); y = exp(x) * x   (output)', lambda x: sp.exp(x) * x),
    ("w = Value(0.5, label='w')\nx = Value(2.0, label='x')\ny = (w*x).tanh()", {},
     'w = 0.5   (input with a default); x = 2   (input with a default); y = tanh(w * x)   (output)',
     lambda w, x: sp.tanh(w * x)),
    ("a = np.float64(3.0)\nb = a**2", {},
     'a = 3   (input with a default); b = a ^ 2   (output)',
     lambda a: a ** 2),
    ("x = float(1.5)\ny = math.log(x)", {},
     'x = 1.5   (input with a default); y = log(x)   (output)',
     lambda x: sp.log(x)),
    # ---- lines that only drive a framework are skipped ----
    ("import torch\nx = torch.tensor(1.0, requires_grad=True)\ny = torch.exp(x)\n"
     "y.backward()\nprint(x.grad)", {},
     'x = 1   (input with a default); y = exp(x)   (output)',
     lambda x: sp.exp(x)),
    ("from micrograd.engine import Value\na = Value(3.0)\nb = a.relu()\nb.backward()", {},
     'a = 3   (input with a default); b = relu(a)   (output)', lambda a: relu(a)),
    ("import numpy as np\ny = np.tanh(x)", dict(x=0.3), 'y = tanh(x)', lambda x: sp.tanh(x)),
    ("opt.zero_grad()\nL = (w*x - t)**2\nL.backward()\nopt.step()",
     dict(w=0.5, x=2.0, t=3.0), 'L = ((w * x) - t) ^ 2', lambda w, x, t: (w * x - t) ** 2),
    ("import math\nf = math.sin(x) * math.cos(x)\nprint(f)", dict(x=0.4), 'f = sin(x) * cos(x)',
     lambda x: sp.sin(x) * sp.cos(x)),
    ("y = 3*x\ny.backward()\nx.grad", dict(x=2.0), 'y = 3 * x', lambda x: 3 * x),
    ("import jax.numpy as jnp\nf = jnp.tanh(x) + jnp.exp(x)", dict(x=0.2), 'f = tanh(x) + exp(x)',
     lambda x: sp.tanh(x) + sp.exp(x)),
    ("print(x)\nL = x.sigmoid().log()\nL.backward()\nprint(x.grad.item())", dict(x=0.7),
     'L = log(sigmoid(x))', lambda x: sp.log(sigmoid(x))),
    # ---- methods ----
    ("z.relu()", dict(z=0.7), 'relu(z)', lambda z: relu(z)),
    ("n.tanh()", dict(n=0.4), 'tanh(n)', lambda n: sp.tanh(n)),
    ("(2*n).exp()", dict(n=0.3), 'exp(2 * n)', lambda n: sp.exp(2 * n)),
    ("x.sigmoid()", dict(x=-0.6), 'sigmoid(x)', lambda x: sigmoid(x)),
    ("x.log()", dict(x=2.5), 'log(x)', lambda x: sp.log(x)),
    ("x.exp().log()", dict(x=0.9), 'log(exp(x))', lambda x: x),
    ("(x*y + 1).sqrt()", dict(x=2.0, y=1.5), 'sqrt((x * y) + 1)', lambda x, y: sp.sqrt(x * y + 1)),
    ("z.relu() + (2*z).exp() + z.tanh().log()", dict(z=0.6),
     '(relu(z) + exp(2 * z)) + log(tanh(z))',
     lambda z: relu(z) + sp.exp(2 * z) + sp.log(sp.tanh(z))),
    ("x ** 2", dict(x=-1.5), 'x ^ 2', lambda x: x ** 2),
    ("(x**2 + y**2) ** 0.5", dict(x=3.0, y=4.0),
     '((x ^ 2) + (y ^ 2)) ^ 0.5',
     lambda x, y: sp.sqrt(x ** 2 + y ** 2)),
    ("x.atan() + x.arcsin()", dict(x=0.3),
     'arctan(x) + arcsin(x)',
     lambda x: sp.atan(x) + sp.asin(x)),
    ("h.softplus()", dict(h=0.2), 'softplus(h)', lambda h: sp.log(1 + sp.exp(h))),
    # ---- module prefixes ----
    ("np.exp(x)", dict(x=0.5), 'exp(x)', lambda x: sp.exp(x)),
    ("numpy.exp(x) + numpy.log(x)", dict(x=1.5),
     'exp(x) + log(x)',
     lambda x: sp.exp(x) + sp.log(x)),
    ("math.exp(-x) * math.sqrt(x)", dict(x=2.0),
     'exp(-x) * sqrt(x)',
     lambda x: sp.exp(-x) * sp.sqrt(x)),
    ("torch.tanh(w*x + b)", dict(w=0.4, x=1.5, b=-0.2), 'tanh((w * x) + b)',
     lambda w, x, b: sp.tanh(w * x + b)),
    ("jnp.tanh(x) * jnp.sin(x)", dict(x=0.8), 'tanh(x) * sin(x)', lambda x: sp.tanh(x) * sp.sin(x)),
    ("jax.numpy.tanh(x)", dict(x=0.8), 'tanh(x)', lambda x: sp.tanh(x)),
    ("F.relu(x) + F.softplus(x)", dict(x=1.2), 'relu(x) + softplus(x)',
     lambda x: relu(x) + sp.log(1 + sp.exp(x))),
    ("torch.sigmoid(a) * b", dict(a=0.3, b=2.0), 'sigmoid(a) * b', lambda a, b: sigmoid(a) * b),
    ("np.maximum(x, 0) + np.minimum(x, y)", dict(x=1.5, y=0.5), 'max(x, 0) + min(x, y)',
     lambda x, y: relu(x) + sp.Min(x, y)),
    ("Math.exp(x) / (1 + Math.exp(x))", dict(x=0.25), 'exp(x) / (1 + exp(x))',
     lambda x: sp.exp(x) / (1 + sp.exp(x))),
    ("torch.nn.functional.softplus(x)", dict(x=-0.5), 'softplus(x)',
     lambda x: sp.log(1 + sp.exp(x))),
    ("nn.functional.relu(x) * 3", dict(x=0.5), 'relu(x) * 3', lambda x: 3 * relu(x)),
    ("np.log1p(x) + np.expm1(x)", dict(x=0.01), 'log1p(x) + expm1(x)',
     lambda x: sp.log(1 + x) + sp.exp(x) - 1),
    ("np.sinh(x) / np.cosh(x)", dict(x=0.7), 'sinh(x) / cosh(x)', lambda x: sp.tanh(x)),
    ("math.pow(x, 3) + np.power(x, 2)", dict(x=1.2),
     '(x ^ 3) + (x ^ 2)',
     lambda x: x ** 3 + x ** 2),
    # ---- Unicode and typeset notation ----
    ("y = σ(x)", dict(x=0.3), 'y = sigmoid(x)', lambda x: sigmoid(x)),
    ("σ(w·x + b)", dict(w=0.5, x=2.0, b=-0.4),
     'sigmoid((w * x) + b)',
     lambda w, x, b: sigmoid(w * x + b)),
    ("σ(x)(1 − σ(x))", dict(x=0.2),
     'sigmoid(x) * (1 - sigmoid(x))',
     lambda x: sigmoid(x) * (1 - sigmoid(x))),
    ("√x", dict(x=2.0), 'sqrt(x)', lambda x: sp.sqrt(x)),
    ("√(x + 1)", dict(x=2.0), 'sqrt(x + 1)', lambda x: sp.sqrt(x + 1)),
    ("√(x² + y²)", dict(x=3.0, y=4.0),
     'sqrt((x ^ 2) + (y ^ 2))',
     lambda x, y: sp.sqrt(x ** 2 + y ** 2)),
    ("x² + x³ - x⁻¹", dict(x=1.5),
     '((x ^ 2) + (x ^ 3)) - (x ^ -1)',
     lambda x: x ** 2 + x ** 3 - 1 / x),
    ("x⁴ − 3x²", dict(x=1.1), '(x ^ 4) - (3 * (x ^ 2))', lambda x: x ** 4 - 3 * x ** 2),
    ("e⁻ˣ", dict(x=0.4), 'e = 2.718281828459045; e ^ (-x)   (output)', lambda x: sp.exp(-x)),
    ("x·e⁻ˣ", dict(x=0.4),
     'e = 2.718281828459045; x * (e ^ (-x))   (output)',
     lambda x: x * sp.exp(-x)),
    ("e^(−x²)", dict(x=0.9),
     'e = 2.718281828459045; e ^ (-(x ^ 2))   (output)',
     lambda x: sp.exp(-x ** 2)),
    ("½x²", dict(x=3.0), '0.5 * (x ^ 2)', lambda x: x ** 2 / 2),
    ("½(y − t)²", dict(y=3.0, t=1.0), '0.5 * ((y - t) ^ 2)', lambda y, t: (y - t) ** 2 / 2),
    ("¼x⁴ + ⅓x³", dict(x=1.2),
     '(0.25 * (x ^ 4)) + (0.3333333333333333 * (x ^ 3))',
     lambda x: x ** 4 / 4 + x ** 3 / 3),
    ("a·b", dict(a=2.0, b=-3.0), 'a * b', lambda a, b: a * b),
    ("a × b − c", dict(a=2.0, b=-3.0, c=0.5), '(a * b) - c', lambda a, b, c: a * b - c),
    ("2·x·y", dict(x=1.5, y=-2.0), '(2 * x) * y', lambda x, y: 2 * x * y),
    ("θ² + 2θ", dict(θ=0.7), '(θ ^ 2) + (2 * θ)', lambda θ: θ ** 2 + 2 * θ),
    ("(a + b)²", dict(a=1.0, b=2.0), '(a + b) ^ 2', lambda a, b: (a + b) ** 2),
    ("x⁻²", dict(x=1.5), 'x ^ -2', lambda x: x ** -2),
    ("a ÷ b", dict(a=3.0, b=4.0), 'a / b', lambda a, b: a / b),
    # ---- capitalised names ----
    ("ReLU(z)", dict(z=0.7), 'relu(z)', lambda z: relu(z)),
    ("Relu(b) * 2", dict(b=-0.5), 'relu(b) * 2', lambda b: 2 * relu(b)),
    ("Sigmoid(z)", dict(z=0.4), 'sigmoid(z)', lambda z: sigmoid(z)),
    ("Tanh(x) * Exp(x) - Log(x)", dict(x=1.3), '(tanh(x) * exp(x)) - log(x)',
     lambda x: sp.tanh(x) * sp.exp(x) - sp.log(x)),
    ("Sin(x) + Cos(x)", dict(x=0.5), 'sin(x) + cos(x)', lambda x: sp.sin(x) + sp.cos(x)),
    ("Sqrt(x) + Abs(y)", dict(x=2.0, y=-3.0),
     'sqrt(x) + abs(y)',
     lambda x, y: sp.sqrt(x) + sp.Abs(y)),
    ("Softplus(x)", dict(x=0.3), 'softplus(x)', lambda x: sp.log(1 + sp.exp(x))),
    ("Max(a, b) - Min(a, b)", dict(a=1.0, b=2.5), 'max(a, b) - min(a, b)',
     lambda a, b: sp.Max(a, b) - sp.Min(a, b)),
    ("ReLU(w1 x1 + w2 x2 + b)", dict(w1=0.5, x1=2.0, w2=-0.3, x2=1.0, b=0.2),
     'relu(((w1 * x1) + (w2 * x2)) + b)',
     lambda w1, x1, w2, x2, b: relu(w1 * x1 + w2 * x2 + b)),
    ("Arctan(x) + ATan(y)", dict(x=0.5, y=2.0),
     'arctan(x) + arctan(y)',
     lambda x, y: sp.atan(x) + sp.atan(y)),
    ("ArcSin(x) - ACos(x)", dict(x=0.3),
     'arcsin(x) - arccos(x)',
     lambda x: sp.asin(x) - sp.acos(x)),
    ("Sinh(x) + Cosh(x)", dict(x=0.3), 'sinh(x) + cosh(x)', lambda x: sp.exp(x)),
    # ---- LaTeX ----
    ("\\frac{a}{b}", dict(a=3.0, b=4.0), 'a / b', lambda a, b: a / b),
    ("\\frac{1}{1 + e^{-x}}", dict(x=0.25),
     'e = 2.718281828459045; 1 / (1 + (e ^ (-x)))   (output)',
     lambda x: sigmoid(x)),
    ("\\sqrt{x}", dict(x=2.0), 'sqrt(x)', lambda x: sp.sqrt(x)),
    ("\\sqrt[3]{x} \\cdot \\tanh(x)", dict(x=2.0), '(x ^ (1 / 3)) * tanh(x)',
     lambda x: sp.cbrt(x) * sp.tanh(x)),
    ("a \\cdot b + c \\times d", dict(a=1.0, b=2.0, c=3.0, d=-1.0), '(a * b) + (c * d)',
     lambda a, b, c, d: a * b + c * d),
    ("\\sigma(w_{0} x_{0} + w_{1})", dict(w_0=0.5, x_0=2.0, w_1=-1.0), 'sigmoid((w_0 * x_0) + w_1)',
     lambda w_0, x_0, w_1: sigmoid(w_0 * x_0 + w_1)),
    ("\\exp(x) + \\log(x) + \\ln(y)", dict(x=1.5, y=2.0), '(exp(x) + log(x)) + log(y)',
     lambda x, y: sp.exp(x) + sp.log(x) + sp.log(y)),
    ("\\max(0, x) + \\min(x, y)", dict(x=0.5, y=2.0), 'max(0, x) + min(x, y)',
     lambda x, y: relu(x) + sp.Min(x, y)),
    ("e^{-x} x^{2}", dict(x=0.7),
     'e = 2.718281828459045; (e ^ (-x)) * (x ^ 2)   (output)',
     lambda x: sp.exp(-x) * x ** 2),
    ("x_{1} + x_{2}^{2}", dict(x_1=1.0, x_2=3.0),
     'x_1 + (x_2 ^ 2)',
     lambda x_1, x_2: x_1 + x_2 ** 2),
    ("w^{(0)} x + w^{(1)}", dict(w0=0.5, x=2.0, w1=-1.0), '(w0 * x) + w1',
     lambda w0, x, w1: w0 * x + w1),
    ("\\left( a + b \\right)^2", dict(a=1.0, b=0.5), '(a + b) ^ 2', lambda a, b: (a + b) ** 2),
    ("\\mathrm{ReLU}(z) + \\operatorname{softplus}(z)", dict(z=0.4), 'relu(z) + softplus(z)',
     lambda z: relu(z) + sp.log(1 + sp.exp(z))),
    ("$y = \\tanh(x)$", dict(x=0.5), 'y = tanh(x)', lambda x: sp.tanh(x)),
    ("$$L = \\frac{1}{2}(y - t)^2$$.", dict(y=3.0, t=1.0), 'L = (1 / 2) * ((y - t) ^ 2)',
     lambda y, t: (y - t) ** 2 / 2),
    ("f = x^{2} + 1,", dict(x=1.5), 'f = (x ^ 2) + 1', lambda x: x ** 2 + 1),
    ("\\arctan(x) + \\arcsin(y) + \\arccos(y)", dict(x=2.0, y=0.5),
     '(arctan(x) + arcsin(y)) + arccos(y)',
     lambda x, y: sp.atan(x) + sp.asin(y) + sp.acos(y)),
    ("\\sinh x + \\cosh(x)", dict(x=0.4), 'sinh(x) + cosh(x)', lambda x: sp.sinh(x) + sp.cosh(x)),
    ("\\log x + \\exp x", dict(x=1.5), 'log(x) + exp(x)', lambda x: sp.log(x) + sp.exp(x)),
    ("\\hat{y} = \\sigma(\\theta x)", dict(theta=0.5, x=2.0), 'yhat = sigmoid(theta * x)',
     lambda theta, x: sigmoid(theta * x)),
    ("\\alpha x^2 + \\beta", dict(alpha=0.5, x=2.0, beta=1.0), '(alpha * (x ^ 2)) + beta',
     lambda alpha, x, beta: alpha * x ** 2 + beta),
    ("\\sqrt{x^2 + y^2}", dict(x=3.0, y=4.0),
     'sqrt((x ^ 2) + (y ^ 2))',
     lambda x, y: sp.sqrt(x ** 2 + y ** 2)),
    ("\\frac{e^{x}}{1 + e^{x}}", dict(x=-0.3),
     'e = 2.718281828459045; (e ^ x) / (1 + (e ^ x))   (output)',
     lambda x: sigmoid(x)),
    ("-t \\log(y) - (1 - t) \\log(1 - y)", dict(t=1.0, y=0.8),
     '((-t) * log(y)) - ((1 - t) * log(1 - y))',
     lambda t, y: -t * sp.log(y) - (1 - t) * sp.log(1 - y)),
    ("\\left| x - y \\right|", dict(x=1.0, y=2.5), 'abs(x - y)', lambda x, y: sp.Abs(x - y)),
    # ---- square brackets as grouping ----
    ("exp[-(w0 x0 + w1 x1 + w2)]", dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0),

     'exp(-(((w0 * x0) + (w1 * x1)) + w2))',
     lambda w0, x0, w1, x1, w2: sp.exp(-(w0 * x0 + w1 * x1 + w2))),
    ("f = 1/(1 + exp[-(w0 x0 + w2)])", dict(w0=2.0, x0=-1.0, w2=-3.0),
     'f = 1 / (1 + exp(-((w0 * x0) + w2)))',
     lambda w0, x0, w2: sigmoid(w0 * x0 + w2)),
    ("[a + b] c", dict(a=1.0, b=2.0, c=4.0), '(a + b) * c', lambda a, b, c: (a + b) * c),
    ("tanh[x y]", dict(x=0.5, y=1.5), 'tanh(x * y)', lambda x, y: sp.tanh(x * y)),
    ("log[1 + exp[x]]", dict(x=0.5), 'log(1 + exp(x))', lambda x: sp.log(1 + sp.exp(x))),
    ("2·[x − 1]² + [x]", dict(x=2.5), '(2 * ((x - 1) ^ 2)) + x',
     lambda x: 2 * (x - 1) ** 2 + x),
    # ---- the constants e and pi ----
    ("e^x + pi", dict(x=0.5),
     'e = 2.718281828459045; pi = 3.141592653589793; (e ^ x) + pi   (output)',
     lambda x: sp.exp(x) + PI),
    ("e = a + d; e^2", dict(a=1.0, d=2.0),
     'e = a + d; e ^ 2   (output)',
     lambda a, d: (a + d) ** 2),
    ("π r²", dict(r=2.0), 'π = 3.141592653589793; π * (r ^ 2)   (output)',
     lambda r: PI * r ** 2),
    ("2πr", dict(r=1.5), 'π = 3.141592653589793; 2 * (π * r)   (output)', lambda r: 2 * PI * r),
    ("e^(-x) + e^2", dict(x=1.0),
     'e = 2.718281828459045; (e ^ (-x)) + (e ^ 2)   (output)',
     lambda x: sp.exp(-x) + E ** 2),
    ("e * x", dict(e=2.0, x=3.0), 'e * x', lambda e, x: e * x),
    ("sin(pi x)", dict(x=0.25),
     'pi = 3.141592653589793; sin(pi * x)   (output)',
     lambda x: sp.sin(PI * x)),
    # ---- juxtaposed letters ----
    ("3(a + bc)", dict(a=1.0, b=2.0, c=3.0), '3 * (a + (b * c))', lambda a, b, c: 3 * (a + b * c)),
    ("x²y", dict(x=2.0, y=3.0), '(x ^ 2) * y', lambda x, y: x ** 2 * y),
    ("2xy", dict(x=2.0, y=5.0), '2 * (x * y)', lambda x, y: 2 * x * y),
    ("xy + yz", dict(x=1.0, y=2.0, z=3.0), '(x * y) + (y * z)', lambda x, y, z: x * y + y * z),
    ("abc", dict(a=1.5, b=2.0, c=-1.0), '(a * b) * c', lambda a, b, c: a * b * c),
    ("2ab + b²", dict(a=1.5, b=2.0), '(2 * (a * b)) + (b ^ 2)', lambda a, b: 2 * a * b + b ** 2),
    ("x1y2", dict(x1=2.0, y2=5.0), 'x1 * y2', lambda x1, y2: x1 * y2),
    ("ab/c", dict(a=1.5, b=2.0, c=4.0), '(a * b) / c', lambda a, b, c: a * b / c),
    ("bc + b + c", dict(b=2.0, c=3.0, bc=7.0), '(bc + b) + c', lambda b, c, bc: bc + b + c),
    ("L = xw + b", dict(x=2.0, w=-0.5, b=1.0), 'L = (x * w) + b', lambda x, w, b: x * w + b),
    ("xy²", dict(x=1.5, y=2.0), 'x * (y ^ 2)', lambda x, y: x * y ** 2),
    ("2ab^2 + (ab)^2", dict(a=1.5, b=-2.0), '(2 * (a * (b ^ 2))) + ((a * b) ^ 2)',
     lambda a, b: 2 * a * b ** 2 + (a * b) ** 2),
    ("abc**2 - [ab]^2", dict(a=0.5, b=2.0, c=3.0), '((a * b) * (c ^ 2)) - ((a * b) ^ 2)',
     lambda a, b, c: a * b * c ** 2 - (a * b) ** 2),
    ("πr² + 2πr", dict(r=1.5),
     'π = 3.141592653589793; (π * (r ^ 2)) + (2 * (π * r))   (output)',
     lambda r: PI * r ** 2 + 2 * PI * r),
    # ---- the arc functions ----
    ("arctan(x)", dict(x=0.5), 'arctan(x)', lambda x: sp.atan(x)),
    ("atan(y/x)", dict(x=2.0, y=1.0), 'arctan(y / x)', lambda x, y: sp.atan(y / x)),
    ("arcsin(x) + asin(x/2)", dict(x=0.6),
     'arcsin(x) + arcsin(x / 2)',
     lambda x: sp.asin(x) + sp.asin(x / 2)),
    ("arccos(x) * acos(-x)", dict(x=0.4),
     'arccos(x) * arccos(-x)',
     lambda x: sp.acos(x) * sp.acos(-x)),
    ("arcsin(x)^2 + arccos(x)^2", dict(x=-0.3), '(arcsin(x) ^ 2) + (arccos(x) ^ 2)',
     lambda x: sp.asin(x) ** 2 + sp.acos(x) ** 2),
    ("np.arctan(x) + math.atan(x) + torch.atan(x)", dict(x=1.5),
     '(arctan(x) + arctan(x)) + arctan(x)',
     lambda x: 3 * sp.atan(x)),
    ("torch.asin(x) + np.arccos(x)", dict(x=0.2),
     'arcsin(x) + arccos(x)',
     lambda x: sp.asin(x) + sp.acos(x)),
    ("asin(sin(x))", dict(x=0.9), 'arcsin(sin(x))', lambda x: x),
    ("arctan(sinh(x))", dict(x=0.7), 'arctan(sinh(x))', lambda x: sp.atan(sp.sinh(x))),
    ("θ = atan(y/x); r = √(x² + y²); r θ", dict(x=1.0, y=2.0),
     'θ = arctan(y / x); r = sqrt((x ^ 2) + (y ^ 2)); r * θ   (output)',
     lambda x, y: sp.sqrt(x ** 2 + y ** 2) * sp.atan(y / x)),
    # ---- more functions of one argument ----
    ("square(x) + cube(x) + reciprocal(x)", dict(x=1.5), '(square(x) + cube(x)) + reciprocal(x)',
     lambda x: x ** 2 + x ** 3 + 1 / x),
    ("log2(x) + log10(x)", dict(x=3.0),
     'log2(x) + log10(x)',
     lambda x: sp.log(x, 2) + sp.log(x, 10)),
    ("log1p(x) - expm1(x)", dict(x=0.3),
     'log1p(x) - expm1(x)',
     lambda x: sp.log(1 + x) - sp.exp(x) + 1),
    ("sinh(x) * cosh(x)", dict(x=0.5), 'sinh(x) * cosh(x)', lambda x: sp.sinh(x) * sp.cosh(x)),
    ("softplus(x) - log(1 + exp(x))", dict(x=0.5),
     'softplus(x) - log(1 + exp(x))',
     lambda x: 0 * x),
    # ---- formulas from backprop courses ----
    ("q = x + y; f = q*z", dict(x=-2.0, y=5.0, z=-4.0),
     'q = x + y; f = q * z   (output)',
     lambda x, y, z: (x + y) * z),
    ("f = 1/(1 + exp(-(w0*x0 + w1*x1 + w2)))",
     dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0),
     'f = 1 / (1 + exp(-(((w0 * x0) + (w1 * x1)) + w2)))',
     lambda w0, x0, w1, x1, w2: sigmoid(w0 * x0 + w1 * x1 + w2)),
    ("f = (x + σ(y)) / (σ(x) + (x + y)^2)", dict(x=3.0, y=-4.0),
     'f = (x + sigmoid(y)) / (sigmoid(x) + ((x + y) ^ 2))',
     lambda x, y: (x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2)),
    ("c = a + b\nd = b + 1\ne = c*d", dict(a=2.0, b=1.0),
     'c = a + b; d = b + 1; e = c * d   (output)',
     lambda a, b: (a + b) * (b + 1)),
    ("L = -t log(y) - (1 - t) log(1 - y)", dict(t=0.0, y=0.3),
     'L = ((-t) * log(y)) - ((1 - t) * log(1 - y))',
     lambda t, y: -t * sp.log(y) - (1 - t) * sp.log(1 - y)),
    ("y = σ(w x + b); L = ½(y − t)²", dict(w=0.5, x=2.0, b=-0.5, t=1.0),
     'y = sigmoid((w * x) + b); L = 0.5 * ((y - t) ^ 2)   (output)',
     lambda w, x, b, t: (sigmoid(w * x + b) - t) ** 2 / 2),
    ("0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))", dict(x=0.8),
     'π = 3.141592653589793; '
     '(0.5 * x) * (1 + tanh(sqrt(2 / π) * (x + (0.044715 * (x ^ 3)))))   (output)',
     lambda x: x / 2 * (1 + sp.tanh(sp.sqrt(2 / PI) * (x + sp.Rational(44715, 10 ** 6)
                                                          * x ** 3)))),
    ("swish = x σ(x)", dict(x=1.2), 'swish = x * sigmoid(x)', lambda x: x * sigmoid(x)),
    ("h = tanh(W1 x + b1)\ny = W2 h + b2\nL = (y - t)^2",
     dict(W1=0.5, x=1.0, b1=0.1, W2=-1.5, b2=0.3, t=0.25),
     'h = tanh((W1 * x) + b1); y = (W2 * h) + b2; L = (y - t) ^ 2   (output)',
     lambda W1, x, b1, W2, b2, t: (W2 * sp.tanh(W1 * x + b1) + b2 - t) ** 2),
    ("f(x) = 3x^2 - 4x + 5", dict(x=3.0),
     'f = ((3 * (x ^ 2)) - (4 * x)) + 5',
     lambda x: 3 * x ** 2 - 4 * x + 5),
    ("d = a*b + c", dict(a=2.0, b=-3.0, c=10.0), 'd = (a * b) + c', lambda a, b, c: a * b + c),
    ("y = x^2 sin(x)", dict(x=1.2), 'y = (x ^ 2) * sin(x)', lambda x: x ** 2 * sp.sin(x)),
    ("f = (x - 1)^2 + 100(y - x^2)^2", dict(x=0.5, y=1.5),
     'f = ((x - 1) ^ 2) + (100 * ((y - (x ^ 2)) ^ 2))',
     lambda x, y: (x - 1) ** 2 + 100 * (y - x ** 2) ** 2),
    ("L = log(1 + exp(-y z))", dict(y=1.0, z=0.5), 'L = log(1 + exp((-y) * z))',
     lambda y, z: sp.log(1 + sp.exp(-y * z))),
    ("p = exp(a) / (exp(a) + exp(b))", dict(a=1.0, b=2.0), 'p = exp(a) / (exp(a) + exp(b))',
     lambda a, b: sp.exp(a) / (sp.exp(a) + sp.exp(b))),
    ("y = max(0, x) + 0.01 min(0, x)", dict(x=-2.0), 'y = max(0, x) + (0.01 * min(0, x))',
     lambda x: sp.Max(0, x) + sp.Rational(1, 100) * sp.Min(0, x)),
    ("f = sin(x) / x", dict(x=0.5), 'f = sin(x) / x', lambda x: sp.sin(x) / x),
    ("u = 2x + 1; v = u²; w = √v; w", dict(x=1.5),
     'u = (2 * x) + 1; v = u ^ 2; w = sqrt(v)   (output)',
     lambda x: 2 * x + 1),
    ("z = w*x + b; a = relu(z); L = (a - y)^2", dict(w=0.5, x=3.0, b=-0.5, y=0.25),
     'z = (w * x) + b; a = relu(z); L = (a - y) ^ 2   (output)',
     lambda w, x, b, y: (relu(w * x + b) - y) ** 2),
    ("f = tanh(x) + x tanh(y)", dict(x=0.5, y=0.2), 'f = tanh(x) + (x * tanh(y))',
     lambda x, y: sp.tanh(x) + x * sp.tanh(y)),
    ("g = exp(-(x - μ)²/(2σ²))", dict(x=1.0, μ=0.5, σ=2.0),
     'g = exp((-((x - μ) ^ 2)) / (2 * (σ ^ 2)))',
     lambda x, μ, σ: sp.exp(-(x - μ) ** 2 / (2 * σ ** 2))),
]


def reading(text, values):
    """The `--parse` reading of `text`, as the CLI prints it under "read as:" (its lines,
    stripped, joined by "; "), with the notes: what bpdiff.cli._parse_echo does."""
    first = parse(text, share=False, prune=False, given=values)
    splits = split_names(first, values)
    graph = parse(text, share=False, prune=False, given=values, splits=splits or None)
    shared = parse(text, given=values, splits=splits or None)
    lines = _statement_lines(statements(graph, shared), graph.output)
    return "; ".join(line.strip() for line in lines), shared.notes


def _point(result, values):
    return {**values, **{name: v for name, v in result.inputs.items() if name not in values}}


def _sympy_check(result, point, function):
    symbols = {name: sp.Symbol(name, real=True) for name in point}
    expr = function(**symbols)
    at = {symbols[name]: sp.Float(value, 30) for name, value in point.items()}
    want = float(expr.subs(at).evalf(30))
    assert math.isclose(result.value, want, rel_tol=1e-9, abs_tol=1e-12), (result.value, want)
    assert set(result.gradient) == set(point)
    for name, symbol in symbols.items():
        slope = float(sp.diff(expr, symbol).subs(at).evalf(30))
        assert math.isclose(result.gradient[name], slope, rel_tol=1e-8, abs_tol=1e-10), name


@pytest.mark.parametrize("text, values, read, function", ROWS,
                         ids=[f"{i:03d}" for i in range(len(ROWS))])
def test_each_formula_reads_and_computes_as_meant(text, values, read, function):
    assert reading(text, values)[0] == read
    result = bpdiff.differentiate(text, values)
    _sympy_check(result, _point(result, values), function)


# ---- matrix notation: arrays, against NumPy and central differences --------------------
# (text, input values, the reading, the function in NumPy)
TENSOR_ROWS = [
    ("2 x^T x", dict(x=[0.0, 1.0, 2.0, 3.0]), "(2 * transpose(x)) @ x",
     lambda x: 2 * x.T @ x),
    ("x^\\top x", dict(x=[1.0, -2.0, 0.5]), "transpose(x) @ x", lambda x: x.T @ x),
    ("xᵀ x", dict(x=[1.0, -2.0, 0.5]), "transpose(x) @ x", lambda x: x.T @ x),
    ("x^T W x", dict(x=[1.0, 2.0], W=[[1.0, 2.0], [3.0, 4.0]]), "(transpose(x) @ W) @ x",
     lambda x, W: x @ W @ x),
    ("W^T @ d", dict(W=[[1.0, 2.0, 0.5], [3.0, -4.0, 1.0]], d=[0.5, -1.0]),
     "transpose(W) @ d", lambda W, d: W.T @ d),
    ("W^T d", dict(W=[[1.0, 2.0, 0.5], [3.0, -4.0, 1.0]], d=[0.5, -1.0]),
     "transpose(W) @ d", lambda W, d: W.T @ d),
    ("W^{T} d", dict(W=[[1.0, 2.0], [3.0, -4.0]], d=[0.5, -1.0]), "transpose(W) @ d",
     lambda W, d: W.T @ d),
    ("A**T @ B", dict(A=[[1.0, 2.0], [3.0, 4.0]], B=[[0.5, -1.0], [2.0, 1.0]]),
     "transpose(A) @ B", lambda A, B: A.T @ B),
    ("sum(W^T * W)", dict(W=[[1.0, 2.0], [3.0, 4.0]]), "sum(transpose(W) * W)",
     lambda W: (W.T * W).sum()),
    ("(W @ x)^T (W @ x)", dict(W=[[1.0, 2.0], [3.0, 4.0]], x=[0.5, -1.0]),
     "transpose(W @ x) @ (W @ x)", lambda W, x: (W @ x) @ (W @ x)),
    ("L = ½ (y − t)ᵀ (y − t)", dict(y=[1.0, 2.0, 3.0], t=[0.5, 2.5, 2.0]),
     "L = (0.5 * transpose(y - t)) @ (y - t)", lambda y, t: 0.5 * (y - t) @ (y - t)),
    ("h = tanh(W^T x + b); sum(h)", dict(W=[[1.0, 2.0], [0.5, -1.0]], x=[0.3, -0.2],
                                           b=[0.1, 0.2]),
     "h = tanh((transpose(W) @ x) + b); sum(h)   (output)",
     lambda W, x, b: np.tanh(W.T @ x + b).sum()),
    ("x.T @ x + x^T x", dict(x=[1.0, 2.0]), "(transpose(x) @ x) + (transpose(x) @ x)",
     lambda x: 2 * x @ x),
]


def _numeric_gradient(function, point, name, h=1e-6):
    """Central differences of sum(function) against each element of input `name`."""
    slope = np.zeros_like(point[name])
    for index in np.ndindex(slope.shape):
        up = {k: v.copy() for k, v in point.items()}
        down = {k: v.copy() for k, v in point.items()}
        up[name][index] += h
        down[name][index] -= h
        slope[index] = (np.sum(function(**up)) - np.sum(function(**down))) / (2 * h)
    return slope


@pytest.mark.parametrize("text, values, read, function", TENSOR_ROWS,
                         ids=[row[0] for row in TENSOR_ROWS])
def test_matrix_notation_reads_and_computes_as_meant(text, values, read, function):
    assert reading(text, values)[0] == read
    result = bpdiff.differentiate(text, values, sum_output=True)  # a vector output: sum
    point = {name: np.array(value) for name, value in values.items()}
    assert np.allclose(result.value, function(**point), rtol=1e-12, atol=1e-12)
    for name in values:
        assert np.allclose(result.gradient[name], _numeric_gradient(function, point, name),
                           rtol=1e-6, atol=1e-8), name


def test_the_corpus_holds_at_least_150_formulas():
    assert len(ROWS) + len(TENSOR_ROWS) >= 150
    assert len({row[0] for row in ROWS + TENSOR_ROWS}) == len(ROWS) + len(TENSOR_ROWS)


# ---- the notes: how a text that could be read two ways was read -------------------------
NOTES = [
    ("2 x^T x", dict(x=[1.0, 2.0]), ["read '^T' as the transpose .T", "as the matrix product @"]),
    ("x^T", dict(x=2.0, T=3.0), ["read '^T' as a power: T has a value"]),
    ("T = 2; x^T", dict(x=1.5), ["read '^T' as a power"]),
    ("2^T", dict(T=3.0), []),
    ("2πr", dict(r=1.0), ["read 'πr' as π·r", "read 'π' as the constant"]),
    ("ab^2", dict(a=1.0, b=2.0), ["read 'ab' as a·b"]),
    ("import torch\ny = torch.atan(x)", dict(x=1.0), ["skipped line 1"]),
    ("a = np.float64(3.0)\na^2", {}, ["read 1 framework value(s)"]),
    ("\\arctan(x)", dict(x=1.0), ["read as LaTeX: arctan(x)"]),
]


@pytest.mark.parametrize("text, values, needles", NOTES, ids=[n[0] for n in NOTES])
def test_each_reading_that_could_go_two_ways_is_noted(text, values, needles):
    notes = reading(text, values)[1]
    for needle in needles:
        assert any(needle in note for note in notes), (needle, notes)
    if not needles:
        assert notes == []


def test_x_to_the_t_is_a_power_when_t_has_a_value():
    result = bpdiff.differentiate("x^T", x=2.0, T=3.0)
    assert result.value == 8.0 and result.gradient == {"x": 12.0, "T": 8.0 * math.log(2.0)}
    result = bpdiff.differentiate("T = 3\ny = x^T", x=2.0)
    assert result.value == 8.0


@pytest.mark.parametrize("text, point, want", [
    ("arcsin(x)", 1.0, math.inf), ("arcsin(x)", -1.0, math.inf),
    ("arccos(x)", 1.0, -math.inf), ("arccos(x)", -1.0, -math.inf),
])
def test_arcsin_and_arccos_at_plus_minus_one_are_kinks_of_infinite_slope(text, point, want):
    result = bpdiff.differentiate(text, x=point)
    assert result.gradient["x"] == want
    assert result.kinks == [result.graph.output]
    exact = bpdiff.differentiate(text, x=point, exact=True)
    assert exact.gradient["x"] == want


@pytest.mark.parametrize("text", ["arcsin(x)", "arccos(x)"])
def test_arcsin_and_arccos_outside_their_domain_are_nan(text):
    result = bpdiff.differentiate(text, x=1.5)
    assert math.isnan(result.value) and math.isnan(result.gradient["x"])


# ---- a handful through the installed CLI -------------------------------------------------
def _bpdiff(*args):
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def _options(values):
    return [a for name, v in values.items() for a in (f"--{name}", json.dumps(v))]


CLI_ROWS = [row for row in ROWS if row[0] in (
    "f(x, y, z) = (x + y) z", "2πr", "ArcSin(x) - ACos(x)", "2ab^2 + (ab)^2",
    "\\arctan(x) + \\arcsin(y) + \\arccos(y)")] + [MICROGRAD_ROW := next(
        row for row in ROWS if row[0] == MICROGRAD_README)]


@pytest.mark.parametrize("text, values, read, function", CLI_ROWS,
                         ids=[row[0][:30] for row in CLI_ROWS])
def test_the_cli_reads_and_computes_as_the_api(text, values, read, function):
    parsed = _bpdiff(text, "--parse", *_options(values))
    assert parsed.returncode == 0, parsed.stderr
    block = parsed.stdout.split("read as:\n", 1)[1].split("\n\n", 1)[0]
    assert "; ".join(line.strip() for line in block.splitlines()) == read
    done = _bpdiff(text, "--json", *_options(values))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    result = bpdiff.differentiate(text, values)
    assert data["value"] == result.value and data["gradient"] == result.gradient
    for note in reading(text, values)[1]:  # every note on stderr and in the JSON
        assert note in done.stderr and note in data["warnings"]


@pytest.mark.parametrize("text, values, read, function", TENSOR_ROWS[:4],
                         ids=[row[0] for row in TENSOR_ROWS[:4]])
def test_the_cli_reads_matrix_notation(text, values, read, function):
    done = _bpdiff(text, "--json", *_options(values))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    point = {name: np.array(value) for name, value in values.items()}
    assert np.allclose(data["value"], function(**point))
    for name in values:
        assert np.allclose(data["gradient"][name], _numeric_gradient(function, point, name),
                           rtol=1e-6, atol=1e-8)
    assert any("as the matrix product @" in w for w in data["warnings"])
