"""The layers and losses of a CS231n-style assignment (examples/assignment/*.bp): every
gradient of every program against central differences of bpdiff's own forward pass,
element by element, at the values the file gives and at hypothesis-chosen shapes and
values; and against PyTorch (value and every gradient) where it is installed.

Integer inputs (the classes y) must get gradient 0 and are not perturbed. Drawn points
stay away from the kinks (a ReLU input or an SVM margin at 0), where central differences
see the average of the two sides rather than a derivative.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import bpdiff
from bpdiff.language.parse import parse
from test_tensor import assert_central_differences

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "assignment"
RTOL = 1e-5  # the layers compose many ops: a little looser than test_tensor
INTEGERS = {"y"}
SHAPES = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def program(name):
    return (FOLDER / f"{name}.bp").read_text()


def check_against_central_differences(text, values):
    """Differentiate `text` at `values` and check every gradient element by element."""
    values = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    result = bpdiff.differentiate(text, values)
    values = {k: np.asarray(v, dtype=np.float64) for k, v in result.inputs.items()}
    graph = parse(text)

    scale = abs(float(result.value)) + 1.0
    assert_central_differences(graph, values, result.gradient, INTEGERS, scale, RTOL)
    return result


# ---------------------------------------------------------------------------------------
# Random inputs of random shapes for each program

def _floats(lo=-2.0, hi=2.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _array(draw, shape, lo=-2.0, hi=2.0):
    a = draw(hnp.arrays(np.float64, shape, elements=_floats(lo, hi), fill=st.nothing()))
    return a + np.arange(a.size).reshape(shape) * 0.0731  # no ties when shrunk to zeros


def _classes(draw, n, c):
    return np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), float)


def _away_from_kinks(a):
    assume(np.all(np.abs(a) > 1e-3))


@st.composite
def _affine(draw):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dims = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    d = int(np.prod(dims))
    return {"x": _array(draw, (n, *dims)), "w": _array(draw, (d, m)), "b": _array(draw, (m,)),
            "dout": _array(draw, (n, m))}


@st.composite
def _same_shape(draw, names):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    values = {name: _array(draw, shape) for name in names}
    _away_from_kinks(values["x"])
    return values


@st.composite
def _dropout(draw):
    values = draw(_same_shape(["x", "dout"]))
    values["mask"] = np.array(draw(hnp.arrays(np.bool_, values["x"].shape)), dtype=float)
    values["p"] = np.float64(draw(_floats(0.2, 0.9)))
    return values


@st.composite
def _scores(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x, y = _array(draw, (n, c), -3, 3), _classes(draw, n, c)
    return {"x": x, "y": y}


@st.composite
def _svm(draw):
    values = draw(_scores())
    x, y = values["x"], values["y"].astype(int)
    _away_from_kinks(x - x[np.arange(len(x)), y][:, None] + 1)  # no margin at 0
    return values


@st.composite
def _normalised(draw):
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return {"x": _array(draw, (n, d), -3, 3) * 2, "gamma": _array(draw, (d,)),
            "beta": _array(draw, (d,)), "dout": _array(draw, (n, d)),
            "eps": np.float64(draw(st.sampled_from([1e-5, 1e-3, 0.1])))}


@st.composite
def _two_layer(draw):
    n, d, h, c = (draw(st.integers(1, 4)) for _ in range(4))
    values = {"X": _array(draw, (n, d)), "y": _classes(draw, n, c),
              "W1": _array(draw, (d, h)) * 0.5, "b1": _array(draw, (h,)) * 0.1,
              "W2": _array(draw, (h, c)) * 0.5, "b2": _array(draw, (c,)) * 0.1,
              "reg": np.float64(draw(_floats(0, 1)))}
    _away_from_kinks(values["X"] @ values["W1"] + values["b1"])  # no ReLU input at 0
    return values


EXAMPLES = {
    "affine_forward": _affine(),
    "relu_forward": _same_shape(["x", "dout"]),
    "svm_loss": _svm(),
    "softmax_loss": _scores(),
    "batchnorm_train": _normalised(),
    "layernorm": _normalised(),
    "dropout": _dropout(),
    "two_layer_net": _two_layer(),
}


def test_every_program_has_a_case():
    assert {p.stem for p in FOLDER.glob("*.bp")} == set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_given_values_against_central_differences(name):
    check_against_central_differences(program(name), {})


@pytest.mark.parametrize("name", EXAMPLES)
@SHAPES
@given(data=st.data())
def test_random_shapes_against_central_differences(name, data):
    values = data.draw(EXAMPLES[name], label="values")
    check_against_central_differences(program(name), values)


# ---------------------------------------------------------------------------------------
# PyTorch: the same layers written with torch, value and every gradient

def _torch_layers():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    def norm(x, gamma, beta, dout, eps, axis):
        mu = x.mean(dim=axis, keepdim=True)
        var = x.var(dim=axis, unbiased=False, keepdim=True)
        return ((gamma * (x - mu) / torch.sqrt(var + eps) + beta) * dout).sum()

    def svm(x, y):
        n = x.shape[0]
        correct = x[torch.arange(n), y].reshape(n, 1)
        margins = torch.maximum(torch.zeros_like(x), x - correct + 1)
        return (margins * (1 - F.one_hot(y, x.shape[1]))).sum() / n

    def two_layer(X, y, W1, b1, W2, b2, reg):
        scores = torch.maximum(torch.zeros(()), X @ W1 + b1) @ W2 + b2
        return F.cross_entropy(scores, y) + 0.5 * reg * ((W1 ** 2).sum() + (W2 ** 2).sum())

    return torch, {
        "affine_forward": lambda x, w, b, dout: (((x.reshape(x.shape[0], -1) @ w) + b) * dout).sum(),
        "relu_forward": lambda x, dout: (torch.maximum(torch.zeros(()), x) * dout).sum(),
        "svm_loss": svm,
        "softmax_loss": lambda x, y: F.cross_entropy(x, y),
        "batchnorm_train": lambda x, gamma, beta, dout, eps: norm(x, gamma, beta, dout, eps, 0),
        "layernorm": lambda x, gamma, beta, dout, eps: norm(x, gamma, beta, dout, eps, 1),
        "dropout": lambda x, mask, dout, p: (x * (mask / p) * dout).sum(),
        "two_layer_net": two_layer,
    }


def check_against_torch(name, values, text=None):
    torch, layers = _torch_layers()
    result = bpdiff.differentiate(text or program(name), values)
    inputs = {k: torch.tensor(np.asarray(v), dtype=torch.int64 if k in INTEGERS else
                              torch.float64, requires_grad=k not in INTEGERS)
              for k, v in result.inputs.items()}
    loss = layers[name](**inputs)
    loss.backward()
    for k, tensor_ in inputs.items():
        if k in INTEGERS:
            continue
        np.testing.assert_allclose(result.gradient[k], tensor_.grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=f"{name}: ∂L/∂{k}")
    assert float(result.value) == pytest.approx(loss.item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_given_values_against_pytorch(name):
    check_against_torch(name, {})


@pytest.mark.parametrize("name", EXAMPLES)
@SHAPES
@given(data=st.data())
def test_random_shapes_against_pytorch(name, data):
    check_against_torch(name, data.draw(EXAMPLES[name], label="values"))


@pytest.mark.parametrize("mistake, fixed", [("/ N", ""), ("0.5 * reg", "reg")])
def test_a_wrong_program_disagrees_with_pytorch(mistake, fixed):
    # the comparison is not vacuous: a forgotten 1/N or a doubled regulariser fails it
    torch, layers = _torch_layers()
    text = program("two_layer_net").replace(mistake, fixed)
    assert text != program("two_layer_net")
    with pytest.raises(AssertionError, match="∂L/∂"):
        check_against_torch("two_layer_net", {}, text)
