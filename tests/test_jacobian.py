"""Vector outputs and Jacobians (issue 18): no silent seed of ones, --grad-output,
--sum-output and --jacobian, through the API and the installed command.

--jacobian is checked on random programs (hypothesis) against the stacked VJPs
(differentiate with one one-hot grad_output per output element), central finite
differences, and PyTorch's torch.autograd.functional.jacobian where it is installed.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.analyses.jacobian import jacobians
from bpdiff.engine.autodiff import forward

try:
    import torch
except ImportError:  # PyTorch is optional: its comparison is skipped without it
    torch = None

PROGRAM = "y = W @ x + b"
VALUES = {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, -1, 2], "b": [0.5, 1]}
ARGS = ["--W", "[[1,2,3],[4,5,6]]", "--x", "[1,-1,2]", "--b", "[0.5,1]"]
NO_SEED = ("bpdiff: warning: the output y is an array of shape (2,), so it has no single"
           " gradient: add --grad-output ARRAY (∂L/∂y, shape (2,)), --sum-output (the"
           " gradients of sum(y)) or --jacobian")


def bpdiff_cli(*args):
    """The installed `bpdiff` command: (exit code, stdout, stderr)."""
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


# ---- 1. a vector output: values, and gradients only when asked for ---------------------

def test_a_vector_output_shows_values_and_says_exactly_what_to_add():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS)
    assert code == 0, err
    assert err.splitlines() == [NO_SEED]
    rows = {line.split()[1]: line for line in out.splitlines()[2:6]}
    assert rows["y"].endswith("[5.5, 12]         —")
    assert all(line.rstrip().endswith("—") for line in rows.values())


def test_the_api_computes_no_gradient_without_a_seed():
    result = bpdiff.differentiate(PROGRAM, VALUES)
    assert not result.has_gradients and result.seed_kind == "none"
    assert result.gradient == {"W": None, "x": None, "b": None}
    assert result.value.tolist() == [5.5, 12]


def test_sum_output_is_the_old_seed_of_ones_named_with_a_note():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--sum-output")
    assert code == 0, err
    assert err.splitlines() == ["bpdiff: warning: the output y is an array of shape (2,),"
                                " seeded with ones (--sum-output): the gradients are those"
                                " of sum(y)"]
    assert "∂y/∂W = [[1, -1, 2], [1, -1, 2]], ∂y/∂x = [5, 7, 9], ∂y/∂b = [1, 1]" in out
    summed = bpdiff.differentiate(f"{PROGRAM}; L = sum(y)", VALUES)
    seeded = bpdiff.differentiate(PROGRAM, VALUES, sum_output=True)
    for name in VALUES:
        assert np.array_equal(seeded.gradient[name], summed.gradient[name])


def test_grad_output_is_the_upstream_gradient_inline_and_from_a_npy_file(tmp_path):
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--grad-output", "[1,0]")
    assert code == 0 and err == "", err
    assert "∂y/∂W = [[1, -1, 2], [0, 0, 0]], ∂y/∂x = [1, 2, 3], ∂y/∂b = [1, 0]" in out
    np.save(tmp_path / "g.npy", np.array([1.0, 0.0]))
    code, from_file, err = bpdiff_cli(PROGRAM, *ARGS, "--grad-output", f"@{tmp_path}/g.npy")
    assert code == 0, err
    assert from_file == out


def test_grad_output_of_a_matrix_output():
    result = bpdiff.differentiate("Y = A @ B", A=[[1, 2], [3, 4]], B=[[0, 1], [1, 0]],
                                  grad_output="[[1,0],[0,1]]")
    assert result.gradient["A"].tolist() == [[0, 1], [1, 0]]  # g @ Bᵀ
    assert result.gradient["B"].tolist() == [[1, 3], [2, 4]]  # Aᵀ @ g


def test_grad_output_of_the_wrong_shape_names_both_shapes_exit_2():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--grad-output", "[1,0,3]")
    assert code == 2 and out == ""
    assert err == ("bpdiff: error: --grad-output has shape (3,), but y has shape (2,): the"
                   " upstream gradient is shaped like the output\ngive an array of shape"
                   " (2,)\n")
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--grad-output", "[1,0]", "--sum-output")
    assert code == 2 and out == "" and "either --grad-output or --sum-output" in err
    code, out, err = bpdiff_cli("L = sum(W @ x)", *ARGS[:4], "--grad-output", "[1]")
    assert code == 2 and out == ""
    assert "--grad-output is for an array output; this output is a number" in err
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--grad-output", "@/nonexistent/g.npy")
    assert code == 2 and out == "" and "--grad-output: /nonexistent/g.npy: no such file" in err


@pytest.mark.parametrize("option", [["--gradcheck"], ["--locals"], ["--html", "r.html"],
                                    ["--html-practice", "p.html"]])
def test_what_reads_gradients_refuses_an_unseeded_vector_output(option, tmp_path):
    if len(option) == 2:
        option = [option[0], str(tmp_path / option[1])]
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, *option)
    assert code == 2 and out == ""
    assert (f"bpdiff: error: {option[0]} needs gradients, but the output y is an array of"
            " shape (2,) and no upstream gradient was given\nadd --grad-output ARRAY (shape"
            " (2,)) or --sum-output\n") in err
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, *option, "--grad-output", "[1,-1]")
    assert code == 0, err  # the hint, followed, works


def test_gradcheck_uses_the_grad_output():
    code, out, err = bpdiff_cli("y = tanh(W @ x + b)", *ARGS, "--grad-output", "[2,-1]",
                                "--gradcheck")
    assert code == 0, err
    assert "passed" in out


def test_explain_without_a_seed_narrates_the_forward_pass_only():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--explain")
    assert code == 0, err
    assert "No backward pass: the output y is an array of shape (2,)" in out
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--explain", "--grad-output", "[1,2]")
    assert code == 0, err
    assert "∂y/∂y = [1, 2]   (the output: the seed)" in out


def test_json_warnings_and_seed():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["warnings"] == [NO_SEED.removeprefix("bpdiff: warning: ")]
    assert data["seed"] == {"kind": "none", "value": None}
    assert data["gradient"] == {"W": None, "x": None, "b": None}
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--json", "--sum-output")
    data = json.loads(out)
    assert data["seed"] == {"kind": "sum_output", "value": [1, 1]}
    assert any("seeded with ones (--sum-output)" in w for w in data["warnings"])
    code, out, err = bpdiff_cli("W x", "--W", "[[1,2],[3,4]]", "--x", "[1,1]", "--json")
    warnings = json.loads(out)["warnings"]
    assert any("elementwise product" in w for w in warnings)
    assert any("no single gradient" in w for w in warnings)
    assert len(warnings) == len(err.splitlines())


# ---- 2. --jacobian -----------------------------------------------------------------------

def test_jacobian_tables_label_rows_and_columns_by_element():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--jacobian")
    assert code == 0 and err == "", err
    assert out.split("\n\n")[0] + "\n" == (
        "Jacobian ∂y/∂W: (2,) × (2,3), 2 × 6 (row: an element of y; column: an element of W)\n"
        "∂y/∂W  W[0,0]  W[0,1]  W[0,2]  W[1,0]  W[1,1]  W[1,2]\n"
        "-----  ------  ------  ------  ------  ------  ------\n"
        "y[0]        1      -1       2       0       0       0\n"
        "y[1]        0       0       0       1      -1       2\n")
    assert "∂y/∂x  x[0]  x[1]  x[2]" in out and "y[1]      4     5     6" in out
    assert "∂y/∂b  b[0]  b[1]" in out


def test_jacobian_of_a_named_node_wrt_chosen_names():
    code, out, err = bpdiff_cli("h = W @ x; y = tanh(h) + b", *ARGS, "--jacobian", "--of",
                                "h", "--wrt", "x")
    assert code == 0, err
    assert out.startswith("Jacobian ∂h/∂x: (2,) × (3,), 2 × 3")
    assert "∂h/∂W" not in out
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--jacobian", "--of", "q")
    assert code == 2 and out == "" and "--of q: no node of that name" in err
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--of", "y")
    assert code == 2 and "--of goes with --jacobian" in err


def test_jacobian_json_has_the_matrix_and_both_shapes():
    code, out, err = bpdiff_cli(PROGRAM, *ARGS, "--jacobian", "--wrt", "W", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["jacobian"] == [{"of": "y", "of_node": 4, "of_shape": [2], "wrt": "W",
                                 "wrt_node": 0, "wrt_shape": [2, 3],
                                 "matrix": [[1, -1, 2, 0, 0, 0], [0, 0, 0, 1, -1, 2]]}]
    assert data["warnings"] == []  # --jacobian was the choice: nothing to add


def test_a_jacobian_bigger_than_max_nodes_is_refused_with_a_hint_that_works():
    args = ["y = W @ x", "--W", json.dumps(np.ones((4, 30)).tolist()), "--x",
            json.dumps([1.0] * 30), "--jacobian", "--wrt", "W"]
    code, out, err = bpdiff_cli(*args)
    assert code == 2 and out == ""
    assert ("--jacobian: ∂y/∂W would be a 4 × 120 matrix, 480 entries, more than --max-nodes"
            " 200\nadd --max-nodes 480 (or --force) to print it anyway") in err
    code, out, err = bpdiff_cli(*args, "--max-nodes", "480")
    assert code == 0, err
    assert "W[3,29]" in out


def test_jacobian_of_a_scalar_program_is_its_gradient():
    result = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    (da, db) = jacobians(result)
    assert da.matrix == [[27.0]] and db.matrix == [[result.gradient["b"]]]


# ---- random programs: --jacobian = stacked VJPs = central differences = PyTorch --------

SHAPES = {"W": (2, 3), "x": (3,), "b": (2,), "U": (2, 2)}

_LEAVES = [("(W @ x)", lambda v: v["W"] @ v["x"]), ("b", lambda v: v["b"]),
           ("(U @ b)", lambda v: v["U"] @ v["b"]), ("(x @ W.T)", lambda v: v["x"] @ v["W"].T)]


_UNARY = ["tanh", "sigmoid", "sin", "softmax", "square"]


def _torch_unary(name, a):
    """What bpdiff's `name(a)` is in PyTorch (called only when PyTorch is installed)."""
    if name == "softmax":
        return torch.softmax(a, dim=-1)
    if name == "square":
        return a * a
    return getattr(torch, name)(a)


def _extend(children):
    def unary(pair):
        name, (text, fn) = pair
        return (f"{name}({text})", lambda v: _torch_unary(name, fn(v)))

    def binary(triple):
        symbol, (ta, fa), (tb, fb) = triple
        ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
        return (f"({ta} {symbol} {tb})", lambda v: ops[symbol](fa(v), fb(v)))

    def matrix(pair):
        text, fn = pair
        return (f"(U @ {text})", lambda v: v["U"] @ fn(v))

    def scaled(pair):
        text, fn = pair
        return (f"(sum({text}) * b)", lambda v: fn(v).sum() * v["b"])

    return st.one_of(st.tuples(st.sampled_from(_UNARY), children).map(unary),
                     st.tuples(st.sampled_from("+-*"), children, children).map(binary),
                     children.map(matrix), children.map(scaled))


vector_programs = st.recursive(st.sampled_from(_LEAVES), _extend, max_leaves=5)

_ELEMENT = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)


@st.composite
def program_values(draw):
    text, fn = draw(vector_programs)
    values = {name: np.array(draw(st.lists(_ELEMENT, min_size=int(np.prod(shape)),
                                           max_size=int(np.prod(shape))))).reshape(shape)
              for name, shape in SHAPES.items()}
    used = [name for name in SHAPES if re.search(rf"\b{name}\b", text)]
    return "y = " + text, fn, {name: values[name] for name in used}


def _central_differences(result, name, h=1e-6):
    graph, m = result.graph, result.math
    columns = []
    for index in np.ndindex(result.inputs[name].shape):
        plus, minus = dict(result.inputs), dict(result.inputs)
        plus[name] = plus[name].copy()
        minus[name] = minus[name].copy()
        plus[name][index] += h
        minus[name][index] -= h
        up = forward(graph, plus, m)[graph.output]
        down = forward(graph, minus, m)[graph.output]
        columns.append(((up - down) / (2 * h)).ravel())
    return np.array(columns).T


@settings(max_examples=60, deadline=None)
@given(program_values())
def test_jacobian_equals_stacked_vjps_and_central_differences(case):
    text, _, values = case
    result = bpdiff.differentiate(text, values)
    out = result.value
    for jac in jacobians(result):
        name = result.graph.name_of[jac.wrt]
        matrix = np.array(jac.matrix)
        assert matrix.shape == (out.size, values[name].size)
        stacked = []
        for k in range(out.size):
            one_hot = np.zeros(out.size)
            one_hot[k] = 1.0
            row = bpdiff.differentiate(text, values, grad_output=one_hot.reshape(out.shape))
            stacked.append(row.gradient[name].ravel())
        assert np.array_equal(matrix, np.array(stacked))
        numeric = _central_differences(result, name)
        assert np.allclose(matrix, numeric, rtol=1e-5, atol=1e-6), (text, name)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@settings(max_examples=40, deadline=None)
@given(program_values())
def test_jacobian_equals_pytorch(case):
    text, fn, values = case
    result = bpdiff.differentiate(text, values)
    names = list(values)
    tensors = tuple(torch.tensor(values[n], dtype=torch.float64) for n in names)

    def program(*args):
        return fn(dict(zip(names, args)))

    theirs = torch.autograd.functional.jacobian(program, tensors)
    for jac, want in zip(jacobians(result, wrt=names), theirs):
        want = want.numpy().reshape(len(jac.matrix), -1)
        assert np.allclose(np.array(jac.matrix), want, rtol=1e-10, atol=1e-12), text


def test_jacobian_of_a_matrix_output_equals_pytorch_layout():
    result = bpdiff.differentiate("Y = A @ B", A=[[1, 2], [3, 4]], B=[[0, 1], [1, 0]])
    (ja, jb) = jacobians(result)
    assert ja.of_shape == (2, 2) and ja.wrt_shape == (2, 2)
    # ∂Y[i,j]/∂A[k,l] = δik B[l,j]
    want = np.einsum("ik,lj->ijkl", np.eye(2), np.array([[0, 1], [1, 0]])).reshape(4, 4)
    assert np.array_equal(np.array(ja.matrix), want)


# ---- 3. --explain on tensor ops: element, vectorised rule, shape check ------------------

def _explained(program, *args):
    code, out, err = bpdiff_cli(program, *args, "--explain")
    assert code == 0, err
    return out


@pytest.mark.parametrize("program, args, lines", [
    ("y = W @ x; L = sum(y)", ARGS[:4], [
        "one element: ∂y[i]/∂W[i,j] = x[j], 0 for another row of W",
        "so ∂L/∂W = ∂L/∂y xᵀ, an outer product",
        "shapes: ∂L/∂W (2,3) = ∂L/∂y (2,1) @ xᵀ (1,3)",
        "one element: ∂y[i]/∂x[j] = W[i,j]",
        "so ∂L/∂x = Wᵀ @ ∂L/∂y",
        "shapes: ∂L/∂x (3,) = Wᵀ (3,2) @ ∂L/∂y (2,)"]),
    ("Y = A @ B; L = sum(Y)", ["--A", "[[1,2,3],[4,5,6]]", "--B", "[[1],[2],[3]]"], [
        "one element: ∂Y[i,j]/∂A[i,l] = B[l,j], 0 for another row of A",
        "shapes: ∂L/∂A (2,3) = ∂L/∂Y (2,1) @ Bᵀ (1,3)",
        "one element: ∂Y[i,j]/∂B[l,j] = A[i,l], 0 for another column of B",
        "shapes: ∂L/∂B (3,1) = Aᵀ (3,2) @ ∂L/∂Y (2,1)"]),
    ("y = x @ W; L = sum(y)", ["--x", "[1,2]", "--W", "[[1,2,3],[4,5,6]]"], [
        "one element: ∂y[j]/∂x[i] = W[i,j]",
        "shapes: ∂L/∂x (2,) = ∂L/∂y (3,) @ Wᵀ (3,2)",
        "one element: ∂y[j]/∂W[i,j] = x[i], 0 for another column of W",
        "so ∂L/∂W = x ∂L/∂yᵀ, an outer product",
        "shapes: ∂L/∂W (2,3) = x (2,1) @ ∂L/∂yᵀ (1,3)"]),
    ("L = u @ v", ["--u", "[1,2]", "--v", "[3,4]"], [
        "one element: ∂L/∂u[i] = v[i]",
        "shapes: ∂L/∂u (2,) = ∂L/∂L () · v (2,)"]),
    ("Z = M + c; L = sum(tanh(Z))", ["--M", "[[1,2,3],[4,5,6]]", "--c", "[1,0,-1]"], [
        "one element: ∂Z[i,j]/∂c[j] = 1 for every i: c is broadcast along axis 0 of Z",
        "so ∂L/∂c = ∂L/∂Z ⊙ 1, summed over i",
        "shapes: ∂L/∂c (3,) = ∂L/∂Z (2,3) ⊙ 1 (), summed to (3,)",
        "one element: ∂#3[i,j]/∂Z[i,j] = (1 - #3^2)[i,j], 0 off the diagonal (no other"
        " element of #3 uses Z[i,j])",
        "so ∂L/∂Z = ∂L/∂#3 ⊙ (1 - #3^2)"]),
    ("L = mean(x)", ["--x", "[[1,2,3],[4,5,6]]"], [
        "one element: ∂L/∂x[…] = 1/N for every element of x, N = 6",
        "shapes: ∂L/∂x (2,3) = ∂L/∂L () · ones (2,3) / 6"]),
    ("s = sum(x, axis=0); L = sum(s)", ["--x", "[[1,2,3],[4,5,6]]"], [
        "so ∂L/∂x = ∂L/∂s copied along axis 0",
        "shapes: ∂L/∂x (2,3) = ∂L/∂s (3,) copied along axis 0 to (2,3)"]),
    ("p = softmax(z); L = p[0]", ["--z", "[1,2,3]"], [
        "one element: ∂p[i]/∂z[j] = p[i] (δij − p[j])",
        "so ∂L/∂z = p ⊙ (∂L/∂p − Σ(∂L/∂p ⊙ p))",
        "shapes: ∂L/∂z (3,) = p (3,) ⊙ (∂L/∂p (3,) − Σ(∂L/∂p ⊙ p) ())"]),
    ("P = softmax(Z); L = sum(P * Z)", ["--Z", "[[1,2,3],[0,0,1]]"], [
        "one element: ∂P[r,i]/∂Z[r,j] = P[r,i] (δij − P[r,j]), 0 across rows",
        "shapes: ∂L/∂Z (2,3) = P (2,3) ⊙ (∂L/∂P (2,3) − rowsum(∂L/∂P ⊙ P) (2,1))"]),
    ("L = cross_entropy(Z, k)", ["--Z", "[[1,2,0],[0,1,3]]", "--k", "[2,0]"], [
        "one element: ∂L/∂Z[r,i] = (softmax(Z)[r,i] − (1 if i = k[r] else 0)) / m, the mean"
        " over m rows",
        "so ∂L/∂Z = ∂L/∂L (softmax(Z) − onehot(k)) / m",
        "shapes: ∂L/∂Z (2,3) = ∂L/∂L () · (softmax(Z) − onehot(k)) (2,3) / m"]),
    ("L = W[0, 1] + norm2(W)", ["--W", "[[1,2],[3,4]]"], [
        "one element: ∂#3/∂W[k,l] = 1 at k, l = 0, 1, 0 elsewhere",
        "one element: ∂#4/∂W[…] = 2 W[…]",
        "shapes: ∂L/∂W (2,2) = 2 ∂L/∂#4 () · W (2,2)"]),
    ("T = W.T; L = sum(T @ b)", ["--W", "[[1,2,3],[4,5,6]]", "--b", "[1,-1]"], [
        "one element: ∂T[j,i]/∂W[i,j] = 1, 0 elsewhere: each element moves to one place",
        "so ∂L/∂W = (∂L/∂T)ᵀ",
        "shapes: ∂L/∂W (2,3) = (∂L/∂T (3,2))ᵀ"]),
])
def test_explain_writes_out_the_local_jacobian_then_the_rule_then_the_shapes(program, args,
                                                                           lines):
    shown = [line.strip() for line in _explained(program, *args).splitlines()]
    for line in lines:
        assert line in shown, (line, shown)


def test_explain_reads_the_jacobian_text_from_the_primitive_table():
    from bpdiff.engine.ops import BY_NAME, JacobianText

    from conftest import run_main

    transpose = BY_NAME["transpose"]
    saved = transpose.jacobian_text
    object.__setattr__(transpose, "jacobian_text", ((JacobianText(
        (None,), "ELEMENT {out}/{0}", "RULE {g}", "SHAPES {g} (n,k)", ("k,n",)),),))
    try:
        code, out, err = run_main("T = W.T; L = sum(T)", "--W", "[[1,2,3],[4,5,6]]",
                                  "--explain")
    finally:
        object.__setattr__(transpose, "jacobian_text", saved)
    assert code == 0, err
    assert "one element: ELEMENT T/W" in out
    assert "so ∂L/∂W = RULE ∂L/∂T" in out
    assert "shapes: ∂L/∂W (2,3) = SHAPES ∂L/∂T (3,2)" in out


def test_explain_json_terms_carry_the_jacobian_text():
    code, out, err = bpdiff_cli("y = W @ x; L = sum(y)", *ARGS[:4], "--explain", "--json")
    assert code == 0, err
    terms = [t for step in json.loads(out)["explain"] for t in step.get("terms", ())]
    assert {"element": "∂y[i]/∂W[i,j] = x[j], 0 for another row of W",
            "rule": "∂L/∂W = ∂L/∂y xᵀ, an outer product",
            "shapes": "∂L/∂W (2,3) = ∂L/∂y (2,1) @ xᵀ (1,3)"} in [t.get("jacobian")
                                                              for t in terms]
