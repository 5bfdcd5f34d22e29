"""bpdiff.language.latex: LaTeX from Markdown notes -> bpdiff's notation, and what the
translation computes when bpdiff reads it."""

import math

import pytest

import bpdiff
from bpdiff.errors import BpdiffSyntaxError
from bpdiff.language.latex import looks_like_latex, to_bpdiff

E, PI = math.e, math.pi

TRANSLATIONS = [
    (r"\frac{a}{b}", "((a)/(b))"),
    (r"\frac{\frac{1}{x}}{y}", "((((1)/(x)))/(y))"),
    (r"\frac{a}{\frac{b}{\frac{c}{d}}}", "((a)/(((b)/(((c)/(d))))))"),
    (r"\frac12 + \dfrac{x}{2}", "((1)/(2)) + ((x)/(2))"),
    (r"\sqrt{x}", "sqrt(x)"),
    (r"\sqrt{x^2 + y^2}", "sqrt(x^2 + y^2)"),
    (r"\sqrt[3]{x}", "((x)^(1/3))"),
    (r"\sqrt[n+1]{x}", "((x)^(1/(n+1)))"),
    (r"a \cdot b \times c", "a * b * c"),
    (r"\sigma(x)", "sigmoid(x)"),
    (r"\sigma\left(z\right)", "sigmoid(z)"),
    (r"\sigma^2", "sigma^2"),
    (r"\tanh(x) + \exp(x) + \log(x) + \ln(y)", "tanh(x) + exp(x) + log(x) + log(y)"),
    (r"\sin(x) \cos(x)", "sin(x) cos(x)"),
    (r"\max(0, z) + \min(a, b)", "max(0, z) + min(a, b)"),
    (r"\log x + \exp z", "log(x) + exp(z)"),
    (r"e^{-x}", "e^(-x)"),
    (r"x^{2}", "x^(2)"),
    (r"x^{y^{2}}", "x^(y^(2))"),
    (r"x_{1}", "x_1"),
    (r"x_1", "x_1"),
    (r"x_{12} + W_{i,j}", "x_12 + W_i_j"),
    (r"w_0x_0", "w_0 x_0"),
    (r"w_{0}x_{0} + w_1x_1", "w_0 x_0 + w_1 x_1"),
    (r"x_ij", "x_i j"),
    (r"\theta_{\text{new}}", "theta_new"),
    (r"w^{(0)}", "w0"),
    (r"W^{[l]} a^{[l-1]}", "Wl a^([l-1])"),
    (r"x^{(1)}_{2}", "x1_2"),
    (r"x_{2}^{(1)}", "x1_2"),
    (r"(a+b)^{(2)}", "(a+b)^((2))"),
    (r"\left( a + b \right) \left[ c \right]", "( a + b ) [ c ]"),
    (r"\bigl( x \bigr)", "( x )"),
    (r"\left| x \right|", "abs( x )"),
    (r"\left\| x \right\|^2", "norm( x )^2"),
    (r"\mathrm{ReLU}(z)", "relu(z)"),
    (r"\operatorname{relu}(z)", "relu(z)"),
    (r"\text{loss} = \mathbf{W}", "loss = W"),
    (r"\hat{y} - y + \hat{\theta}", "yhat - y + thetahat"),
    (r"$x^2$", "x^2"),
    (r"$$ L = x^2 $$.", "L = x^2"),
    (r"a\,b\;c\!d\quad e", "a b cd  e"),
    (r"2\pi r", "2pi r"),
    (r"\alpha_1 x + \eta", "alpha_1 x + eta"),
    (r"w_0\alpha", "w_0 alpha"),
    (r"x^\top W", "x^T W"),
    (r"x^{\top} y", "x^T y"),
    ("L = \\frac{1}{2}(y - t)^2.", "L = ((1)/(2))(y - t)^2"),
    ("d = 2b,\ne = a + d,\nL = c \\cdot e.", "d = 2b\ne = a + d\nL = c * e"),
    ("\\frac{a +\nb}{c}", "((a + b)/(c))"),
    (r"\begin{aligned} a &= 1 \\ b &= 2 \end{aligned}", "a = 1\nb = 2"),
    ("a + \\\nb", "a + \\\nb"),
    (r"{x}^2 + \{y\}", "x^2 + (y)"),
    (r"f(w,x) = \frac{1}{1+e^{-(w_0x_0 + w_1x_1 + w_2)}}",
     "f(w,x) = ((1)/(1+e^(-(w_0 x_0 + w_1 x_1 + w_2))))"),
]


@pytest.mark.parametrize("tex, expected", TRANSLATIONS)
def test_translation(tex, expected):
    assert to_bpdiff(tex) == expected


# (LaTeX, input values, the value worked out by hand)
VALUES = [
    (r"\frac{a}{b}", {"a": 3, "b": 4}, 0.75),
    (r"\frac{\frac{1}{x}}{y}", {"x": 2, "y": 5}, 0.1),
    (r"\frac{1}{2}x^{2}", {"x": 3}, 4.5),
    (r"\sqrt{x^2 + y^2}", {"x": 3, "y": 4}, 5.0),
    (r"\sqrt[3]{x}", {"x": 27}, 3.0),
    (r"a \cdot b \times c", {"a": 2, "b": 3, "c": 4}, 24.0),
    (r"\sigma(x)", {"x": 0.5}, 1 / (1 + math.exp(-0.5))),
    (r"\tanh(x) + \exp(x) + \ln(y)", {"x": 0.3, "y": 2},
     math.tanh(0.3) + math.exp(0.3) + math.log(2)),
    (r"\log x + \sin(x)\cos(x)", {"x": 1.2}, math.log(1.2) + math.sin(1.2) * math.cos(1.2)),
    (r"\max(a, b) - \min(a, b)", {"a": 2, "b": 7}, 5.0),
    (r"e^{-x}", {"e": E, "x": 1.5}, math.exp(-1.5)),
    (r"x^{y^{2}}", {"x": 2, "y": 2}, 16.0),
    (r"w_{0}x_{0} + w_1x_1", {"w_0": 2, "x_0": 3, "w_1": 4, "x_1": 5}, 26.0),
    (r"W^{(1)}x_{2}^{(1)}", {"W1": 3, "x1_2": 7}, 21.0),
    (r"\left| x \right| + \left( a + b \right)c", {"x": -2, "a": 1, "b": 2, "c": 3}, 11.0),
    (r"\mathrm{ReLU}(z) + \operatorname{relu}(-z)", {"z": -1.5}, 1.5),
    (r"$\pi r^2$", {"pi": PI, "r": 2}, 4 * PI),
    (r"\hat{y} - y", {"yhat": 0.9, "y": 1}, -0.1),
    ("L = \\frac{1}{2}(y - t)^2.", {"y": 3, "t": 1}, 2.0),
    ("d = 2b\\,,\ne = a + d\nL = c \\cdot e", {"a": 2, "b": 3, "c": 4}, 32.0),
    (r"\frac{1}{1+e^{-(w_0x_0 + w_1x_1 + w_2)}}",
     {"e": E, "w_0": 2, "x_0": -1, "w_1": -3, "x_1": -2, "w_2": -3}, 1 / (1 + math.exp(-1))),
    (r"\alpha\,\sqrt{\frac{\beta}{2}}", {"alpha": 3, "beta": 8}, 6.0),
]


@pytest.mark.parametrize("tex, values, expected", VALUES)
def test_value(tex, values, expected):
    result = bpdiff.differentiate(to_bpdiff(tex), values)
    assert result.value == pytest.approx(expected, rel=1e-12, abs=1e-12)


def _finite_differences(text, values, h=1e-6):
    grads = {}
    for name in values:
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        grads[name] = (bpdiff.differentiate(text, up).value
                       - bpdiff.differentiate(text, down).value) / (2 * h)
    return grads


@pytest.mark.parametrize("tex, values", [
    (r"\frac{\sin(x)}{1 + y^{2}}", {"x": 0.7, "y": -1.3}),
    (r"\sqrt[3]{x} \cdot e^{-x y}", {"x": 1.7, "y": 0.4, "e": E}),
    (r"\tanh\left(w_0x_0 + b\right)", {"w_0": 0.3, "x_0": -1.2, "b": 0.5}),
    (r"\log\left(1 + \exp(z)\right) - \sigma(z)", {"z": 0.8}),
])
def test_gradients_match_finite_differences(tex, values):
    text = to_bpdiff(tex)
    gradient = bpdiff.differentiate(text, values).gradient
    for name, expected in _finite_differences(text, values).items():
        assert gradient[name] == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_cs231n_sigmoid_neuron():
    """CS231n's example: w = [2, -3, -3], x = [-1, -2] gives 0.73, dw = [-0.2, -0.39,
    0.2] and dx = [0.39, -0.59]."""
    tex = r"f(w,x) = \frac{1}{1+e^{-(w_0x_0 + w_1x_1 + w_2)}}"
    assert to_bpdiff(tex).endswith("((1)/(1+e^(-(w_0 x_0 + w_1 x_1 + w_2))))")
    body = to_bpdiff(tex.split(" = ", 1)[1])
    values = {"e": E, "w_0": 2, "x_0": -1, "w_1": -3, "x_1": -2, "w_2": -3}
    result = bpdiff.differentiate(body, values)
    s = 1 / (1 + math.exp(-1))
    assert result.value == pytest.approx(s)
    ds = s * (1 - s)  # 0.1966
    expected = {"w_0": -1 * ds, "x_0": 2 * ds, "w_1": -2 * ds, "x_1": -3 * ds, "w_2": ds}
    for name, value in expected.items():
        assert result.gradient[name] == pytest.approx(value)
    assert round(result.gradient["w_1"], 2) == -0.39 and round(result.gradient["x_1"], 2) == -0.59


def test_nested_fractions_10000_deep():
    n = 10_000
    tex = r"\frac{1}{" * n + "x" + "}" * n
    text = to_bpdiff(tex)
    assert text == "((1)/(" * n + "x" + "))" * n
    result = bpdiff.differentiate(text, x=2.0)  # 1/(1/(...x)) with n even: x
    assert result.value == pytest.approx(2.0) and result.gradient["x"] == pytest.approx(1.0)


def test_braces_100000_deep_need_no_recursion():
    n = 100_000
    assert to_bpdiff("x^{" * n + "2" + "}" * n) == "x^(" * n + "2" + ")" * n
    assert to_bpdiff(r"\sqrt{" * n + "x" + "}" * n) == "sqrt(" * n + "x" + ")" * n
    assert to_bpdiff("{" * n + "x" + "}" * n) == "x"


def _error(tex):
    with pytest.raises(BpdiffSyntaxError) as caught:
        to_bpdiff(tex)
    return caught.value


def test_unclosed_brace_points_at_it():
    error = _error("a = 1\nL = \\frac{a}{b + \\sqrt{c}")
    assert (error.line, error.column) == (2, 13)
    assert "never closed" in error.message and error.hint
    assert "\n  " + " " * 12 + "^" in str(error)


def test_unmatched_closing_brace_points_at_it():
    error = _error("x = 1\ny = x^{2}}")
    assert (error.line, error.column) == (2, 10) and "unmatched '}'" in error.message


def test_missing_argument():
    error = _error(r"\frac{a}")
    assert "\\frac" in error.message and (error.line, error.column) == (1, 8)
    assert "\\frac" in _error(r"\frac+1").message


def test_unknown_command_names_it_and_lists_the_known_ones():
    error = _error("y = 1\nL = \\foo{x} + 1")
    assert "\\foo" in error.message and (error.line, error.column) == (2, 5)
    assert "\\frac" in error.hint and "\\sqrt" in error.hint and "Greek" in error.hint


def test_unknown_command_suggests_a_close_one():
    error = _error(r"\sigm(x)")
    assert "did you mean '\\sigma'" in error.message


def test_unknown_command_with_a_specific_hint():
    assert "derivatives" in _error(r"\partial x").hint
    assert "sum(x)" in _error(r"\sum_i x_i").hint


def test_bare_norm_bar_is_refused_with_a_hint():
    error = _error(r"\|x\|^2")
    assert "norm" in error.message and "\\left\\|" in error.hint


def test_bad_subscript_and_escape():
    error = _error(r"x_{i+1}")
    assert "subscript" in error.message and error.column == 2
    assert "\\%" in _error(r"50\%").message


@pytest.mark.parametrize("text, expected", [
    (r"\frac{a}{b}", True), ("x^{2}", True), ("x_{1}", True), ("$x + y$", True),
    ("$$x + y$$", True), (r"a \cdot b", True), ("x^2 + y_1", False), ("a + \\\nb", False),
    ("d = 2b; e = a + d", False), ("$", False),
])
def test_looks_like_latex(text, expected):
    assert looks_like_latex(text) is expected
