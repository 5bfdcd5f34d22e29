"""Tensor mode against independent oracles."""

import numpy as np
import pytest

import bpdiff
from conftest import run_main

C_WEIGHTS = np.array([[1.5, -0.5, 2.0], [0.25, -1.0, 0.75]])


def test_summarised_table_of_a_big_tensor_graph():
    # Over --max-nodes the table keeps the nodes with the largest |gradient|: with arrays
    # that ranking compared whole arrays and crashed with a traceback.
    program = "sum(" + "tanh(" * 250 + "x" + ")" * 251
    code, out, err = run_main(program, "--x", "[0.5, -0.5]")
    assert code == 0, err
    assert "nodes hidden" in out and "Traceback" not in err


@pytest.mark.parametrize("shift", [0.0, 1e8, 2.0**50, -(2.0**50), 2.0**56])
def test_softmax_family_is_shift_invariant_at_large_logits(shift):
    # softmax, log_softmax and cross_entropy do not change, and logsumexp moves by the
    # shift, when every score moves by the same amount: the stable forms must keep that
    # at any magnitude (subtracting a rounded logsumexp from z gave log_softmax = 0).
    base = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    if abs(shift) > 2.0**52:  # only multiples of 16 are exact there
        base = np.array([[16.0, -16.0, 0.0], [0.0, 0.0, 0.0]])
    exps = np.exp(base)
    softmax = exps / exps.sum(axis=1, keepdims=True)
    log_softmax = base - np.log(exps.sum(axis=1, keepdims=True))
    k = np.array([2.0, 1.0])
    z = base + shift
    assert np.all(z - shift == base)  # the shifted scores are exact
    cases = {
        "sum(C * log_softmax(z))": (np.sum(C_WEIGHTS * log_softmax),
                                    C_WEIGHTS - softmax * C_WEIGHTS.sum(axis=1, keepdims=True)),
        "sum(C * softmax(z))": (np.sum(C_WEIGHTS * softmax), None),
        "dot(c, logsumexp(z))": (None, np.array([[0.5], [-2.0]]) * softmax),
        "cross_entropy(z, k)": (-(log_softmax[0, 2] + log_softmax[1, 1]) / 2,
                                (softmax - [[0, 0, 1], [0, 1, 0]]) / 2),
    }
    for program, (value, grad) in cases.items():
        values = {"z": z, "k": k, "C": C_WEIGHTS, "c": np.array([0.5, -2.0])}
        result = bpdiff.differentiate(program, {n: v for n, v in values.items()
                                                if n in program.replace("cross", "")})
        if value is not None:
            assert float(result.value) == pytest.approx(value, rel=1e-12, abs=1e-12), program
        if grad is not None:
            np.testing.assert_allclose(result.gradient["z"], grad, rtol=1e-9, atol=1e-12,
                                       err_msg=program)
