"""Every worked example in the course notes (/work/shared/seeds/*.txt), checked against
bpdiff.

EXAMPLES has one entry for each run of an examples/*.bp file. Each entry gives the output
value, ∂output/∂input for every input, and the values and gradients of named intermediates
where the seed names them. The expected numbers are worked out here in closed form, in plain
`math`, by the chain rule; bpdiff is not used to get them. They are compared at rel 1e-9.
Where the seed prints a rounded number (σ(1) = 0.73, σ'(1) = 0.20), that number is checked
to the precision the seed prints. "S3:420" means seed file 003_..., line 420. The seed
files are:
S0 = 000_bc2e3d7afc411134.txt (Cornell CS4740), S1 = 001_55cb106b1764d0ad.txt (computation
graphs), S2 = 002_989e5e1a7d2d2def.txt (backprop slides), S3 = 003_c57f04ea39c20f5b.txt
(USC CSCI 467), S4 = 004_fa7c06185a4327f6.txt (SELENE notebook).

Entry keys:
  file     examples/<file>
  source   seed lines
  values   optional values that override the file's defaults (--set NAME=VALUE on the CLI)
  value    the output's value
  grad     {input: ∂output/∂input}, which must list every input
  at       {named intermediate: (value, ∂output/∂node)}; None skips that check
  rounded  [(quantity, seed's number, decimals, seed line)]; quantity is "value",
           "d/NAME" (a gradient) or "NAME" (a named node's value)
  xfail    a reason; the entry is expected to fail (strict)
"""

import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bpdiff

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
SRC = ROOT / "src"


def sig(t):
    return 1 / (1 + math.exp(-t))


def dsig(t):
    return sig(t) * (1 - sig(t))


# ---- closed forms for the bigger examples (the chain rule written out by hand) ----------

def _last_neuron():
    w, ap, b, y = 1, 0.5, 0.16, 1
    z = w * ap + b
    a = sig(z)
    dc_da = 2 * (a - y)
    dc_dz = dc_da * dsig(z)
    return dict(value=(a - y) ** 2,
                grad={"w": ap * dc_dz, "ap": w * dc_dz, "b": dc_dz, "y": -dc_da},
                at={"z": (z, dc_dz), "a": (a, dc_da)})


def _chain3():
    a0, w1, b1, w2, b2, w3, b3, y = 1, 0.5, 0.1, -0.3, 0.2, 0.8, -0.1, 1
    z1 = w1 * a0 + b1
    a1 = sig(z1)
    z2 = w2 * a1 + b2
    a2 = sig(z2)
    z3 = w3 * a2 + b3
    a3 = sig(z3)
    da3 = 2 * (a3 - y)
    dz3 = da3 * dsig(z3)
    da2 = dz3 * w3
    dz2 = da2 * dsig(z2)
    da1 = dz2 * w2
    dz1 = da1 * dsig(z1)
    return dict(value=(a3 - y) ** 2,
                grad={"a_0": dz1 * w1, "w_1": dz1 * a0, "b_1": dz1, "w_2": dz2 * a1, "b_2": dz2,
                      "w_3": dz3 * a2, "b_3": dz3, "y": -da3},
                at={"z_1": (z1, dz1), "a_1": (a1, da1), "z_2": (z2, dz2), "a_2": (a2, da2),
                    "z_3": (z3, dz3), "a_3": (a3, da3)})


def _slp_2layer():
    x1, x2, w11, w12, w21, w22, b1, b2 = 1, 0.5, 0.2, -0.4, 0.6, 0.1, 0.1, -0.2
    v1, v2, c, y = 0.5, -0.7, 0.05, 1
    z1 = w11 * x1 + w12 * x2 + b1
    z2 = w21 * x1 + w22 * x2 + b2
    h1, h2 = max(z1, 0), max(z2, 0)
    zo = v1 * h1 + v2 * h2 + c
    yhat = sig(zo)
    loss = -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))
    dzo = yhat - y  # cross-entropy after a sigmoid
    dh1, dh2 = dzo * v1, dzo * v2
    dz1, dz2 = dh1 * (z1 > 0), dh2 * (z2 > 0)
    return dict(value=loss,
                grad={"x1": dz1 * w11 + dz2 * w21, "x2": dz1 * w12 + dz2 * w22,
                      "w11": dz1 * x1, "w12": dz1 * x2, "w21": dz2 * x1, "w22": dz2 * x2,
                      "b1": dz1, "b2": dz2, "v1": dzo * h1, "v2": dzo * h2, "c": dzo,
                      "y": -zo},  # -(log yhat - log(1 - yhat)) = -logit(yhat)
                at={"z1": (z1, dz1), "z2": (z2, dz2), "h1": (h1, dh1), "h2": (h2, dh2),
                    "zo": (zo, dzo), "yhat": (yhat, -y / yhat + (1 - y) / (1 - yhat))})


def _tanh_net():
    x = (1, -1)
    W = ((0.5, -0.3), (0.2, 0.4))
    b = (0.1, -0.1)
    V = ((1, -0.5), (0.3, 0.7))
    a = (0, 0.2)
    ys = (1, 0)
    z = [W[j][0] * x[0] + W[j][1] * x[1] + b[j] for j in range(2)]
    h = [math.tanh(t) for t in z]
    y = [V[i][0] * h[0] + V[i][1] * h[1] + a[i] for i in range(2)]
    loss = 0.5 * ((y[0] - ys[0]) ** 2 + (y[1] - ys[1]) ** 2)
    dy = [y[i] - ys[i] for i in range(2)]
    dh = [V[0][j] * dy[0] + V[1][j] * dy[1] for j in range(2)]  # Vᵀ(y - y*)
    dz = [dh[j] * (1 - h[j] ** 2) for j in range(2)]
    grad = {"x1": dz[0] * W[0][0] + dz[1] * W[1][0], "x2": dz[0] * W[0][1] + dz[1] * W[1][1]}
    grad.update({f"W{j + 1}{k + 1}": dz[j] * x[k] for j in range(2) for k in range(2)})
    grad.update({"b1": dz[0], "b2": dz[1]})
    grad.update({f"V{i + 1}{j + 1}": dy[i] * h[j] for i in range(2) for j in range(2)})
    grad.update({"a1": dy[0], "a2": dy[1], "ys1": -dy[0], "ys2": -dy[1]})
    return dict(value=loss, grad=grad,
                at={"h1": (h[0], dh[0]), "h2": (h[1], dh[1]), "y1": (y[0], dy[0]),
                    "y2": (y[1], dy[1])})


def _logsig():
    w1a, w1b, x1, x2 = 0.5, -0.25, 2, 1
    h1 = w1a * x1 + w1b * x2
    h2 = sig(h1)
    dh1 = h2 - 1  # -1/h2 · h2(1 - h2)
    return dict(value=-math.log(h2),
                grad={"w1a": dh1 * x1, "w1b": dh1 * x2, "x1": dh1 * w1a, "x2": dh1 * w1b},
                at={"h_1": (h1, dh1), "h_2": (h2, -1 / h2)})


def _sigmoid_neuron(staged):
    w0, x0, w1, x1, w2 = 2, -1, -3, -2, -3
    dot = w0 * x0 + w1 * x1 + w2
    f = sig(dot)
    ddot = dsig(dot)
    entry = dict(value=f,
                 grad={"w0": x0 * ddot, "x0": w0 * ddot, "w1": x1 * ddot, "x1": w1 * ddot,
                       "w2": ddot})
    if staged:
        den = 1 + math.exp(-dot)
        dden = -1 / den ** 2
        entry["at"] = {"dot": (dot, ddot), "neg": (-dot, -ddot),
                       "ex": (math.exp(-dot), dden), "den": (den, dden)}
    return entry


def _softmax_loss():
    s = (1, 2, 0.5)
    lse = math.log(sum(math.exp(t) for t in s))
    p = [math.exp(t - lse) for t in s]
    return dict(value=lse - s[1],
                grad={"y_pred_0": p[0], "y_pred_1": p[1] - 1, "y_pred_2": p[2]},
                at={"lse": (lse, 1)})


def _regress_nn():
    x = (1, 2)
    W = ((0.1, -0.2), (0.3, 0.05))
    b = (0, 0.1)
    v = (1.5, -1)
    c, y = 0.2, 1
    z = [W[j][0] * x[0] + W[j][1] * x[1] + b[j] for j in range(2)]
    h = [sig(t) for t in z]
    g = v[0] * h[0] + v[1] * h[1] + c
    dg = -2 * (y - g)
    dh = [dg * v[j] for j in range(2)]
    dz = [dh[j] * h[j] * (1 - h[j]) for j in range(2)]
    grad = {"x1": dz[0] * W[0][0] + dz[1] * W[1][0], "x2": dz[0] * W[0][1] + dz[1] * W[1][1]}
    grad.update({f"W{j + 1}{k + 1}": dz[j] * x[k] for j in range(2) for k in range(2)})
    grad.update({"b1": dz[0], "b2": dz[1], "v1": dg * h[0], "v2": dg * h[1], "c": dg,
                 "y": -dg})
    return dict(value=(y - g) ** 2, grad=grad,
                at={"h1": (h[0], dh[0]), "h2": (h[1], dh[1]), "g": (g, dg)})


def _inv_sq(x):
    z = x * x
    return dict(values={} if x == 2 else {"x": x}, value=1 / z, grad={"x": -2 / x ** 3},
                at={"z": (z, -1 / z ** 2)})


def _x_over_x2(x):
    z = x * x
    return dict(values={} if x == 2 else {"x": x}, value=x / z, grad={"x": -1 / x ** 2},
                at={"z": (z, -x / z ** 2)})


def _sinx2(x):
    u = x * x
    return dict(values={} if x == 1 else {"x": x}, value=math.sin(u),
                grad={"x": math.cos(u) * 2 * x}, at={"u": (u, math.cos(u))})


def _tensor_two_layer():
    # tanh_net_unrolled.bp's network and numbers, with vectors and matrices
    net = _tanh_net()
    g, at = net["grad"], net["at"]

    def vector(name, source=g):
        return np.array([source[f"{name}1"], source[f"{name}2"]])

    def matrix(name):
        return np.array([[g[f"{name}11"], g[f"{name}12"]], [g[f"{name}21"], g[f"{name}22"]]])

    return dict(value=net["value"],
                grad={"x": vector("x"), "W": matrix("W"), "b": vector("b"), "V": matrix("V"),
                      "a": vector("a"), "ys": vector("ys")},
                at={name: (vector(name, {k: v[0] for k, v in at.items()}),
                           vector(name, {k: v[1] for k, v in at.items()})) for name in "hy"})


def _tensor_softmax_loss():
    # loss_softmax_unrolled.bp's scores, as one vector and an index
    loss = _softmax_loss()
    g = loss["grad"]
    return dict(value=loss["value"],
                grad={"y_pred": np.array([g["y_pred_0"], g["y_pred_1"], g["y_pred_2"]]),
                      "y_true": 0})


def _advanced_formula(x5):
    x1, x2, x3, x4 = -7, 2, 2, -1
    s = x1 + x2
    return dict(values={} if x5 == 1 else {"x_5": x5},
                value=s * x3 * (x4 * x5) ** 2,
                grad={"x_1": x3 * (x4 * x5) ** 2, "x_2": x3 * (x4 * x5) ** 2,
                      "x_3": s * (x4 * x5) ** 2, "x_4": s * x3 * 2 * x4 * x5 ** 2,
                      "x_5": s * x3 * 2 * x4 ** 2 * x5})


EXAMPLES = [
    # ---- S0: Cornell CS4740 ----------------------------------------------------------
    dict(file="cab2b.bp", source="S0:86-179",
         value=-10,  # seed: L(3, 1, -2) = -10 (S0:110)
         grad={"a": -2, "b": -4, "c": 5},  # seed: ∂L/∂c = e = 5, ∂L/∂e = c, ∂d/∂b = 2
         at={"d": (2, -2), "e": (5, -2), "L": (-10, 1)}),
    dict(file="cab2b_oneliner.bp", source="S0:86, 110",
         value=-10, grad={"a": -2, "b": -4, "c": 5}),
    dict(file="cost_direct.bp", source="S0:203-205",
         value=(0.66 - 1.00) ** 2, grad={"a": 2 * (0.66 - 1.00), "y": -2 * (0.66 - 1.00)}),
    dict(file="last_neuron.bp", source="S0:212-217, 399-405, 416", **_last_neuron()),
    dict(file="chain3.bp", source="S0:185-192, 339", **_chain3()),
    dict(file="slp_2layer.bp", source="S0:420-429", **_slp_2layer()),
    dict(file="xyz.bp", source="S0:431-437",
         value=-12, grad={"x": -4, "y": -4, "z": 3}),
    # ---- S1: computation graphs ------------------------------------------------------
    dict(file="inv_sq.bp", source="S1:113-239", **_inv_sq(2)),  # dy/dx = -2/x^3 (S1:239)
    dict(file="inv_sq.bp", source="S1:113-239", **_inv_sq(0.5)),
    dict(file="x_over_x2.bp", source="S1:244-398", **_x_over_x2(2)),  # dy/dx = -1/x^2 (S1:398)
    dict(file="x_over_x2.bp", source="S1:244-398", **_x_over_x2(0.5)),
    dict(file="tanh_net_unrolled.bp", source="S1:400-611", **_tanh_net()),
    # ---- S2: backprop slides ---------------------------------------------------------
    dict(file="sq_linear_unrolled.bp", source="S2:46-59",
         value=0.0625, grad={"w1a": -1, "w1b": -0.5, "x1": -0.25, "x2": 0.125, "y": 0.5},
         at={"h_1": (0.75, -0.5), "e": (0.0625, 1)}),
    dict(file="logsig_unrolled.bp", source="S2:65-89", **_logsig()),
    dict(file="sigmoid_neuron.bp", source="S2:119-194", **_sigmoid_neuron(staged=False),
         rounded=[("value", 0.73, 2, "S2:194"), ("d/w2", 0.20, 2, "S2:194")]),
    dict(file="sigmoid_neuron_staged.bp", source="S2:119-194", **_sigmoid_neuron(staged=True),
         rounded=[("value", 0.73, 2, "S2:194"), ("d/dot", 0.20, 2, "S2:194")]),
    dict(file="sigmoid_gate.bp", source="S2:188-194",
         value=sig(1), grad={"x": sig(1) * (1 - sig(1))},
         # seed: σ(1)(1 - σ(1)) = 0.73 * (1 - 0.73) = 0.20 (S2:194)
         rounded=[("value", 0.73, 2, "S2:194"), ("d/x", 0.20, 2, "S2:194")]),
    dict(file="gate_add.bp", source="S2:201-215", value=-1, grad={"x": 1, "y": 1}),
    dict(file="gate_mul.bp", source="S2:207, 213", value=-12, grad={"x": -4, "y": 3}),
    dict(file="gate_max.bp", source="S2:215", value=3, grad={"x": 1, "y": 0}),
    dict(file="gates_combined.bp", source="S2:201-215",
         value=-20, grad={"x": -8, "y": 6, "z": 2, "w": 0},
         at={"p": (-12, 2), "m": (2, 2), "s": (-10, 2)}),
    # ---- S3: USC CSCI 467 ------------------------------------------------------------
    dict(file="loss_squared.bp", source="S3:75-82",
         value=0.25, grad={"y_pred": -1, "y_true": 1}),
    dict(file="loss_softmax_unrolled.bp", source="S3:83-84", **_softmax_loss()),
    dict(file="regress_linear.bp", source="S3:94-102",
         value=5.0625,
         grad={"x1": -2.25, "x2": 4.5, "w1": -4.5, "w2": -9, "b": -4.5, "y": 4.5},
         at={"g": (-1.25, -4.5)}),
    dict(file="regress_nn_unrolled.bp", source="S3:104-116", **_regress_nn()),
    dict(file="abc.bp", source="S3:155-278",  # seed inputs a=7, b=3, c=2
         value=20, grad={"a": 2, "b": 2, "c": 10}, at={"d": (10, 2), "e": (20, 1)}),
    dict(file="pow3.bp", source="S3:288-336",  # seed inputs a=7, b=3, c=2
         value=68, grad={"a": 2, "b": 54, "c": 34}, at={"d": (27, 2), "e": (34, 2)}),
    dict(file="relu.bp", source="S3:343-359",  # seed: b=3
         value=20, grad={"a": 2, "b": 2, "c": 10}),
    dict(file="relu.bp", source="S3:352, 370 (x <= 0 -> 0), boundary b=0 proposed",
         values={"b": 0}, value=14, grad={"a": 2, "b": 0, "c": 7}),
    dict(file="relu_neg.bp", source="S3:361-376",  # seed: b=-3, child <= 0 -> grad 0
         value=14, grad={"a": 2, "b": 0, "c": 7}),
    dict(file="relu_max.bp", source="S3:359, 365, 376",
         value=14, grad={"a": 2, "b": 0, "c": 7}),
    dict(file="relu_max.bp", source="S3:348, 359", values={"b": 3},
         value=20, grad={"a": 2, "b": 2, "c": 10}),
    # At b = 0, max(b, 0) is a tie: bpdiff splits the gradient evenly (torch.maximum's
    # convention), so ∂f/∂b = c/2 = 1, where relu(b) follows relu'(0) = 0.
    dict(file="relu_max.bp", source="S3:352, 359, 370, boundary b=0 proposed", values={"b": 0},
         value=14, grad={"a": 2, "b": 1, "c": 7}),
    dict(file="func_sin.bp", source="S3:380-388",
         value=(7 + math.sin(3)) * 2,
         grad={"a": 2, "b": 2 * math.cos(3), "c": 7 + math.sin(3)}),
    dict(file="dag.bp", source="S3:413-466, 545-609",  # seed inputs a=7, b=3
         value=270, grad={"a": 27, "b": 297},  # 297 = 27 + 270: both paths from b add up
         at={"c": (10, 27), "d": (27, 10)}),
    dict(file="mvchain.bp", source="S3:470-541",
         value=24, grad={"x": 36},  # not 60: the recursive traversal's double count
         at={"w": (2, 36), "u_1": (4, 6), "u_2": (6, 4)}),
    dict(file="linreg_unrolled.bp", source="S3:616-624",
         value=0.28125,
         grad={"X11": 0, "X12": 0, "X21": -0.375, "X22": -0.1875, "w1": -2.25, "w2": 0.75,
               "y1": 0, "y2": 0.75},
         at={"r1": (0, 0), "r2": (-0.75, -0.75)}),
    dict(file="tensor_two_layer.bp", source="S1:400-611", **_tensor_two_layer()),
    dict(file="tensor_linreg.bp", source="S3:616-624", value=0.28125,
         grad={"X": np.array([[0, 0], [-0.375, -0.1875]]), "w": np.array([-2.25, 0.75]),
               "y": np.array([0, 0.75])}),
    dict(file="tensor_softmax_loss.bp", source="S3:83-84", **_tensor_softmax_loss()),
    # ---- S4: SELENE notebook ---------------------------------------------------------
    dict(file="sinx2.bp", source="S4:40-56", **_sinx2(1)),
    dict(file="sinx2.bp", source="S4:40-56", **_sinx2(0.5)),
    dict(file="simple.bp", source="S4:63-114",  # seed inputs x_1=4, x_2=2, x_3=-5 (S4:82)
         value=-30,
         grad={"x_1": -5, "x_2": -5, "x_3": 6},  # seed: S4:102, 112
         at={"u": (6, -5)}),  # seed: u = 6, ∂y/∂u = 1·x_3 = -5 (S4:102)
    dict(file="simple_oneliner.bp", source="S4:67, 82, 102-112",
         value=-30, grad={"x_1": -5, "x_2": -5, "x_3": 6}),
    dict(file="advanced_u1_u4.bp", source="S4:116-204",  # seed inputs -7, 2, 2, -1 (S4:138)
         value=40,
         grad={"x_1": -8, "x_2": -8, "x_3": 60, "x_4": -120},  # seed: S4:176, 202
         # seed: u_1 = -5, u_2 = -2, u_3 = 10, u_4 = 4; ∂y/∂u_3 = 4, ∂y/∂u_4 = 10,
         # ∂y/∂u_1 = -8, ∂y/∂u_2 = (-20) + (-40) = -60 (S4:158-192)
         at={"u_1": (-5, -8), "u_2": (-2, -60), "u_3": (10, 4), "u_4": (4, 10)}),
    dict(file="advanced_formula_s4_120.bp", source="S4:120, 138", **_advanced_formula(1)),
    dict(file="advanced_formula_s4_120.bp", source="S4:120, 138", **_advanced_formula(2)),
]


def _entry_id(entry):
    extra = ",".join(f"{k}={v}" for k, v in entry.get("values", {}).items())
    return entry["file"] + (f"[{extra}]" if extra else "")


def _params(entries):
    return [pytest.param(e, id=_entry_id(e),
                         marks=[pytest.mark.xfail(reason=e["xfail"], strict=True,
                                                  raises=AssertionError)]
                         if "xfail" in e else [])
            for e in entries]


def close(got, want):
    return got is not None and got == pytest.approx(want, rel=1e-9, abs=1e-12)


def read(file):
    return (EXAMPLES_DIR / file).read_text(encoding="utf-8")


def named(result, name):
    """The node called `name` (an input or a named intermediate)."""
    found = [n for n in result.nodes if n.name == name]
    assert found, f"no node named {name!r}; names: {[n.name for n in result.nodes if n.name]}"
    return found[0]


def quantity(result, key):
    if key == "value":
        return result.value
    if key.startswith("d/"):
        name = key[2:]
        return result.gradient[name] if name in result.gradient else named(result, name).grad
    return named(result, key).value


def mismatches(entry, value, gradient, result=None):
    """Differences from the table, as readable lines (empty when everything matches)."""
    bad = []
    if not close(value, entry["value"]):
        bad.append(f"value: expected {entry['value']!r}, got {value!r}")
    if set(gradient) != set(entry["grad"]):
        bad.append(f"inputs: expected {sorted(entry['grad'])}, got {sorted(gradient)}")
    for name, want in entry["grad"].items():
        if name in gradient and not close(gradient[name], want):
            bad.append(f"∂/∂{name}: expected {want!r}, got {gradient[name]!r}")
    if result is not None:
        for name, (want_value, want_grad) in entry.get("at", {}).items():
            node = named(result, name)
            if want_value is not None and not close(node.value, want_value):
                bad.append(f"{name}: expected value {want_value!r}, got {node.value!r}")
            if want_grad is not None and not close(node.grad, want_grad):
                bad.append(f"∂/∂{name}: expected {want_grad!r}, got {node.grad!r}")
    return bad


# ---- the table against the Python API -------------------------------------------------

@pytest.mark.parametrize("entry", _params(EXAMPLES))
def test_example_numbers(entry):
    result = bpdiff.differentiate(read(entry["file"]), entry.get("values", {}))
    bad = mismatches(entry, result.value, result.gradient, result)
    assert not bad, f"{entry['file']} ({entry['source']}):\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("entry", _params([e for e in EXAMPLES if "rounded" in e]))
def test_seed_rounded_numbers(entry):
    result = bpdiff.differentiate(read(entry["file"]), entry.get("values", {}))
    for key, seed_number, decimals, line in entry["rounded"]:
        got = quantity(result, key)
        assert round(got, decimals) == pytest.approx(seed_number, abs=1e-12), (
            f"{entry['file']}: {key} = {got!r} does not round to {seed_number} as at {line}")


# ---- path sums the seeds work through by hand -----------------------------------------

def _local(text, of, wrt):
    """∂of/∂wrt, with `of` a named statement: bpdiff run with --output `of`."""
    return named(bpdiff.differentiate(text, output=of), wrt).grad


def test_advanced_u2_gradient_is_the_sum_of_two_paths():
    # S4:162-192: ∂y^[1]/∂u_2 = 4·u_1 = -20, ∂y^[2]/∂u_2 = 10·2u_2 = -40, sum -60.
    text = read("advanced_u1_u4.bp")
    result = bpdiff.differentiate(text)
    via_u3 = named(result, "u_3").grad * _local(text, "u_3", "u_2")
    via_u4 = named(result, "u_4").grad * _local(text, "u_4", "u_2")
    assert (via_u3, via_u4) == (-20, -40)
    assert named(result, "u_2").grad == via_u3 + via_u4 == -60
    assert result.gradient["x_3"] == -60 * -1 == 60  # S4:202: -60·x_4
    assert result.gradient["x_4"] == -60 * 2 == -120  # S4:202: -60·x_3


def test_dag_b_gradient_adds_both_paths():
    # S3:466: assigning instead of accumulating would leave ∂e/∂b = 270.
    text = read("dag.bp")
    result = bpdiff.differentiate(text)
    via_c = named(result, "c").grad * _local(text, "c", "b")
    via_d = named(result, "d").grad * _local(text, "d", "b")
    assert (via_c, via_d) == (27, 270)
    assert result.gradient["b"] == via_c + via_d == 297


def test_mvchain_does_not_double_count():
    # S3:484, 517: ∂y/∂w = ∂y/∂u_1 ∂u_1/∂w + ∂y/∂u_2 ∂u_2/∂w = 6·4 + 4·3 = 36; recursion gives 60.
    text = read("mvchain.bp")
    result = bpdiff.differentiate(text)
    paths = [named(result, u).grad * _local(text, u, "w") for u in ("u_1", "u_2")]
    assert paths == [24, 12]
    assert named(result, "w").grad == sum(paths) == 36
    assert result.gradient["x"] == 36


def test_x_over_x2_two_outgoing_edges():
    # S1:396-398: dy/dx = dy/dz · 2x + dy/dy · 1/z = -0.5 + 0.25 = -1/x^2 at x = 2.
    text = read("x_over_x2.bp")
    result = bpdiff.differentiate(text)
    via_z = named(result, "z").grad * _local(text, "z", "x")
    assert via_z == -0.5
    assert result.gradient["x"] - via_z == 1 / named(result, "z").value == 0.25


# ---- the files themselves, and the CLI ------------------------------------------------

EXAMPLE_FILES = sorted(p.name for p in EXAMPLES_DIR.glob("*.bp"))
RUN_LINE = re.compile(r"^# run: (.+?)\s*$", re.MULTILINE)


def test_every_example_file_has_expected_numbers():
    covered = {e["file"] for e in EXAMPLES}
    missing = [f for f in EXAMPLE_FILES if f not in covered]
    assert not missing, f"examples without an entry in EXAMPLES: {missing}"


def test_every_table_entry_has_a_file():
    stale = sorted({e["file"] for e in EXAMPLES} - set(EXAMPLE_FILES))
    assert not stale, f"EXAMPLES entries for files that do not exist: {stale}"


@pytest.mark.parametrize("file", EXAMPLE_FILES)
def test_example_file_has_header_and_run_line(file):
    text = read(file)
    assert text.startswith(f"# {file}:"), "the first line should name the file and the example"
    assert "Source: seeds/" in text, "the header should name the seed file and lines"
    lines = RUN_LINE.findall(text)
    assert lines == [f"bpdiff -f examples/{file}"], f"expected one '# run:' line, got {lines}"


def _cli_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("entry", _params(EXAMPLES))
def test_example_runs_from_the_command_line(entry):
    command = shlex.split(RUN_LINE.search(read(entry["file"])).group(1))
    assert command[0] == "bpdiff"
    command = [sys.executable, "-m", "bpdiff", *command[1:], "--json"]
    for name, value in entry.get("values", {}).items():
        command += ["--set", f"{name}={value!r}"]
    done = subprocess.run(command, cwd=ROOT, env=_cli_env(), capture_output=True, text=True,
                          encoding="utf-8", timeout=60)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    bad = mismatches(entry, data["value"], data["gradient"])
    assert not bad, f"{' '.join(command[1:])}:\n  " + "\n  ".join(bad)


# ---- the seeds' own notation, as written ----------------------------------------------
# Programs typed the way the seed prints them (LaTeX turned into plain text: \cdot -> ·,
# w^{(0)} -> w0, x_{1} -> x_1).

SEED_NOTATION = [
    # (seed line, program, values, expected value, expected gradient or None, marks)
    ("S0:86", "L = c(a + 2b)", dict(a=3, b=1, c=-2), -10, {"a": -2, "b": -4, "c": 5}, []),
    ("S0:88-92", "d = 2 * b\ne = a + d\nL = c * e", dict(a=3, b=1, c=-2), -10,
     {"a": -2, "b": -4, "c": 5}, []),
    ("S0:86", "L(a, b, c) = c(a + 2b)", dict(a=3, b=1, c=-2), -10, {"a": -2, "b": -4, "c": 5},
     []),
    ("S0:86", "L = c(a + 2b).", dict(a=3, b=1, c=-2), -10, {"a": -2, "b": -4, "c": 5},
     []),
    ("S0:435", "f = (x + y) · z", dict(x=-2, y=5, z=-4), -12, {"x": -4, "y": -4, "z": 3}, []),
    ("S0:435", "f(x, y, z) = (x + y) · z", dict(x=-2, y=5, z=-4), -12,
     {"x": -4, "y": -4, "z": 3},
     []),
    ("S1:239", "y = -2/x^3", dict(x=2), -0.25, {"x": 6 / 2 ** 4}, []),
    ("S1:398", "-x/z^2 · 2x + 1 · 1/z", dict(x=2, z=4), -0.25, None, []),
    ("S2:119", "f = 1/(1 + exp[-(w0 x0 + w1 x1 + w2)])", dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3),
     sig(1), None, []),
    ("S2:119", "f = 1/(1 + exp(-(w0 x0 + w1 x1 + w2)))", dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3),
     sig(1), {"w0": -dsig(1), "x0": 2 * dsig(1), "w1": -2 * dsig(1), "x1": -3 * dsig(1),
              "w2": dsig(1)}, []),
    ("S2:189", "y = σ(x)", dict(x=1), sig(1), {"x": dsig(1)},
     []),
    ("S3:67", "y = max(x, 0)", dict(x=3), 3, {"x": 1}, []),
    ("S3:348", "(a + Relu(b)) * c", dict(a=7, b=3, c=2), 20, {"a": 2, "b": 2, "c": 10},
     []),
    ("S3:359", "y = ReLU(z)", dict(z=3), 3, {"z": 1},
     []),
    ("S4:40", "y = sin(x^2)", dict(x=1), math.sin(1), {"x": 2 * math.cos(1)}, []),
    ("S4:46", "cos(u)·2x", dict(u=1, x=1), 2 * math.cos(1), None, []),
    ("S4:67", "y = f(x_1, x_2, x_3) = (x_1 + x_2)x_3", dict(x_1=4, x_2=2, x_3=-5), -30,
     {"x_1": -5, "x_2": -5, "x_3": 6},
     []),
    ("S4:77-78", "u = x_1 + x_2\ny = u x_3", dict(x_1=4, x_2=2, x_3=-5), -30,
     {"x_1": -5, "x_2": -5, "x_3": 6}, []),
    ("S4:133", "u_4 = u_2^2", dict(u_2=-2), 4, {"u_2": -4}, []),
    ("S4:186", "10·2u_2", dict(u_2=-2), -40, {"u_2": 20}, []),
]


@pytest.mark.parametrize(
    "line, text, values, value, gradient",
    [pytest.param(*case[:5], id=f"{case[0]}: {case[1]!r}", marks=case[5])
     for case in SEED_NOTATION])
def test_seed_notation(line, text, values, value, gradient):
    result = bpdiff.differentiate(text, values)
    assert close(result.value, value), f"{line}: {text!r} = {result.value!r}, expected {value!r}"
    if gradient is not None:
        assert set(result.gradient) == set(gradient)
        for name, want in gradient.items():
            assert close(result.gradient[name], want), (
                f"{line}: ∂/∂{name} = {result.gradient[name]!r}, expected {want!r}")
