"""Pasted as written (issue 17): notation from notes, LaTeX, and lines from notebooks are
read as their authors meant. Each formula: the `--parse` reading, and the value and
every gradient against an independent Python function (central differences)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import bpdiff
from bpdiff.language.parse import parse
from bpdiff.render.echo import echo_text


def sig(t):
    return 1 / (1 + math.exp(-t))


# (text, values, the reading's last line, value as a function of the values)
CASES = [
    ("y = σ(x)", dict(x=0.3), "y = sigmoid(x)", lambda x: sig(x)),
    ("ReLU(z) + Relu(z) + Sigmoid(z)", dict(z=0.7), "(relu(z) + relu(z)) + sigmoid(z)",
     lambda z: 2 * z + sig(z)),
    ("Tanh(x) * Exp(x) - Log(x)", dict(x=1.3), "(tanh(x) * exp(x)) - log(x)",
     lambda x: math.tanh(x) * math.exp(x) - math.log(x)),
    ("√x + √(x + 1)", dict(x=2.0), "sqrt(x) + sqrt(x + 1)",
     lambda x: math.sqrt(x) + math.sqrt(x + 1)),
    ("x² + x³ - x⁻¹", dict(x=1.5), "((x ^ 2) + (x ^ 3)) - (x ^ -1)",
     lambda x: x ** 2 + x ** 3 - 1 / x),
    ("e⁻ˣ", dict(x=0.4), "e ^ (-x)", lambda x: math.exp(-x)),
    ("½x²", dict(x=3.0), "0.5 * (x ^ 2)", lambda x: 0.5 * x * x),
    ("x²y", dict(x=2.0, y=3.0), "(x ^ 2) * y", lambda x, y: x * x * y),
    ("f = 1/(1 + exp[-(w0 x0 + w2)])", dict(w0=2.0, x0=-1.0, w2=-3.0),
     "f = 1 / (1 + exp(-((w0 * x0) + w2)))", lambda w0, x0, w2: sig(w0 * x0 + w2)),
    ("[a + b] c", dict(a=1.0, b=2.0, c=4.0), "(a + b) * c", lambda a, b, c: (a + b) * c),
    ("L = c(a + 2b).", dict(a=3.0, b=1.0, c=-2.0), "L = c * (a + (2 * b))",
     lambda a, b, c: c * (a + 2 * b)),
    ("f(x, y, z) = (x + y) z", dict(x=-2.0, y=5.0, z=-4.0), "f = (x + y) * z",
     lambda x, y, z: (x + y) * z),
    ("L(a, b, c) = c(a + 2b)", dict(a=3.0, b=1.0, c=-2.0), "L = c * (a + (2 * b))",
     lambda a, b, c: c * (a + 2 * b)),
    ("z(x) = sin(x^2)", dict(x=0.8), "z = sin(x ^ 2)", lambda x: math.sin(x * x)),
    ("y = f(x_1, x_2) = x_1 x_2", dict(x_1=4.0, x_2=-5.0), "y = f   (output)",
     lambda x_1, x_2: x_1 * x_2),
    ("e^x + pi", dict(x=0.5), "e ^ x", lambda x: math.exp(x) + math.pi),
    ("e = a + d; e^2", dict(a=1.0, d=2.0), "e ^ 2", lambda a, d: (a + d) ** 2),
    ("z.relu() + (2*z).exp() + z.tanh().log()", dict(z=0.6),
     "(relu(z) + exp(2 * z)) + log(tanh(z))",
     lambda z: z + math.exp(2 * z) + math.log(math.tanh(z))),
    ("np.exp(x) + math.tanh(x) + torch.sigmoid(x) + F.relu(x) + Math.exp(x)", dict(x=0.2),
     "(((exp(x) + tanh(x)) + sigmoid(x)) + relu(x)) + exp(x)",
     lambda x: 2 * math.exp(x) + math.tanh(x) + sig(x) + x),
    ("np.maximum(x, 0) + x ** 2", dict(x=1.5), None, lambda x: x + x * x),
    ("\\frac{1}{1 + e^{-x}}", dict(x=0.25), None, lambda x: sig(x)),
    ("$$L = \\frac{1}{2}(y - t)^2$$.", dict(y=3.0, t=1.0), None,
     lambda y, t: 0.5 * (y - t) ** 2),
    ("\\sigma(w_{0} x_{0} + w_{1})", dict(w_0=0.5, x_0=2.0, w_1=-1.0), None,
     lambda w_0, x_0, w_1: sig(w_0 * x_0 + w_1)),
    ("\\sqrt[3]{x} \\cdot \\tanh(x)", dict(x=2.0), None,
     lambda x: x ** (1 / 3) * math.tanh(x)),
    ("import torch\na = Value(2.0)\nb = Value(-3.0, label='b')\nL = a*b + b\n"
     "L.backward()\nprint(a.grad)", {}, "L = (a * b) + b", lambda: 2.0 * -3.0 - 3.0),
    ("x = torch.tensor(0.5, requires_grad=True)\ny = x.sigmoid()", {}, "y = sigmoid(x)",
     lambda: sig(0.5)),
]


def _reading(text, values):
    graph = parse(text, prune=False, given=values)
    return echo_text(parse(text, share=False, prune=False, given=values), graph, None)


def _call(f, point):
    return f(**{name: point[name] for name in f.__code__.co_varnames[:f.__code__.co_argcount]})


def _central(f, values, name, h=1e-6):
    up, down = dict(values), dict(values)
    up[name] += h
    down[name] -= h
    return (_call(f, up) - _call(f, down)) / (2 * h)


@pytest.mark.parametrize("text, values, reading, f", CASES, ids=[c[0][:40] for c in CASES])
def test_pasted_formula_reads_and_computes_as_meant(text, values, reading, f):
    if reading is not None:
        assert reading in _reading(text, values), _reading(text, values)
    result = bpdiff.differentiate(text, values)
    defaults = {name: value for name, value in result.inputs.items() if name not in values}
    point = {**values, **defaults}
    assert math.isclose(result.value, _call(f, point), rel_tol=1e-9, abs_tol=1e-12)
    for name in values:
        want = _central(f, point, name)
        assert math.isclose(result.gradient[name], want, rel_tol=1e-5, abs_tol=1e-7), name


def test_the_readings_are_notes_in_json_warnings():
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    done = subprocess.run([*command, "import numpy as np\ny = e^x\nprint(y)", "--x", "1",
                           "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    assert any("read 'e' as the constant" in w for w in warnings)
    assert any("skipped line 1" in w for w in warnings)
    assert any("skipped line 3" in w for w in warnings)
    for warning in warnings:  # every note printed on stderr is in the JSON too
        assert warning in done.stderr


@pytest.mark.parametrize("text, construct", [
    ("f = lambda x: x**2", "'lambda' is Python"), ("for i in range(3): x = x + 1", "'for'"),
    ("if x > 0: y = x", "'if' is Python"), ("return x*2", "drop 'return'"),
])
def test_python_that_cannot_be_read_is_named_with_what_to_write(text, construct):
    with pytest.raises(bpdiff.BpdiffError) as error:
        bpdiff.differentiate(text, x=1)
    assert construct in str(error.value)


def test_an_unknown_method_is_named():
    with pytest.raises(bpdiff.BpdiffError, match=r"'\.frobnicate\(\)' is not a function"):
        bpdiff.differentiate("x.frobnicate()", x=1)


MICROGRAD_README = """from micrograd.engine import Value

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f'{g.data:.4f}') # prints 24.7041, the outcome of this forward pass
g.backward()
print(f'{a.grad:.4f}') # prints 138.8338, i.e. the numerical value of dg/da
print(f'{b.grad:.4f}') # prints 645.5773, i.e. the numerical value of dg/db
"""


def test_the_micrograd_readme_runs_as_pasted():
    result = bpdiff.differentiate(MICROGRAD_README)
    assert f"{result.value:.4f}" == "24.7041"
    assert f"{result.gradient['a']:.4f}" == "138.8338"
    assert f"{result.gradient['b']:.4f}" == "645.5773"


@pytest.mark.parametrize("text, values, value, gradient", [
    ("c = a + b; c += c + 1; c", dict(a=1.0, b=2.0), 7.0, {"a": 2.0, "b": 2.0}),
    ("d = 2a; d *= 3; d -= a; d /= 5", dict(a=1.0), 1.0, {"a": 1.0}),
    ("x = x + 1; x*x", dict(x=3.0), 16.0, {"x": 8.0}),
    ("y = a; y = y^2; y **= 2", dict(a=2.0), 16.0, {"a": 32.0}),
])
def test_reassignment_makes_versions(text, values, value, gradient):
    result = bpdiff.differentiate(text, values)
    assert math.isclose(result.value, value)
    assert set(result.gradient) == set(gradient)
    for name, want in gradient.items():
        assert math.isclose(result.gradient[name], want), name


def test_versions_are_shown_and_named_in_json():
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    program = "c = a + b\nc += c + 1\nd = c*2\nd *= 3"
    table = subprocess.run([*command, program, "--a", "1", "--b", "2"], capture_output=True,
                           text=True, timeout=60).stdout
    assert [line.split()[1] for line in table.splitlines()[2:] if line.strip()][:1] == ["d'"]
    assert " c' " in table
    done = subprocess.run([*command, program, "--a", "1", "--b", "2", "--json"],
                          capture_output=True, text=True, timeout=60)
    named = [(n["name"], n.get("version")) for n in json.loads(done.stdout)["nodes"]
             if n["name"]]
    assert named == [("d", 1), ("d", 0), ("c", 1), ("c", 0), ("b", None), ("a", None)]
    check = subprocess.run([*command, program, "--a", "1", "--b", "2", "--expect",
                            "c'.value=7", "--expect", "c.value=7", "--expect", "d.value=42"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("text, values, value, gradient", [
    ("3(a + bc)", dict(a=1.0, b=2.0, c=3.0), 21.0, {"a": 3.0, "b": 9.0, "c": 6.0}),
    ("2xy", dict(x=2.0, y=5.0), 20.0, {"x": 10.0, "y": 4.0}),
    ("x²y + xy", dict(x=2.0, y=5.0), 30.0, {"x": 25.0, "y": 6.0}),
    ("x1y2", dict(x1=2.0, y2=5.0), 10.0, {"x1": 5.0, "y2": 2.0}),
])
def test_juxtaposed_letters_with_values_are_a_product(text, values, value, gradient):
    result = bpdiff.differentiate(text, values)
    assert result.value == value and result.gradient == gradient
    assert any("·" in note for note in result.graph.notes)


def test_a_name_with_a_value_or_a_default_is_never_split():
    assert bpdiff.differentiate("bc + b + c", b=2, c=3, bc=7).value == 12
    assert bpdiff.differentiate("bc = 4; bc*b + c", b=2, c=3).value == 11
    with pytest.raises(bpdiff.BpdiffError, match="'b', which is not an input"):
        bpdiff.differentiate("3(a + bc)", dict(a=1, b=2, c=3), split=False)


@pytest.mark.parametrize("program, args, needle", [
    ("W x", ["--W", "[[1,2],[3,4]]", "--x", "[1,1]"], "elementwise product"),
    ("x * 2", ["--x", "[1,2]"], "so it has no single gradient: add --grad-output"),
    ("x * 2", ["--x", "[1,2]", "--sum-output"], "seeded with ones (--sum-output)"),
    ("9^9^9^9 * x", ["--x", "1", "--exact"], "exact arithmetic gave up"),
])
def test_every_warning_on_stderr_is_in_json(program, args, needle):
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    done = subprocess.run([*command, program, *args, "--json"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    assert any(needle in w for w in warnings)
    printed = [line for line in done.stderr.splitlines() if line.startswith("bpdiff: warn")]
    assert printed and len(printed) == len(warnings)
