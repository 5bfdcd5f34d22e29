"""Array inputs from NumPy files and array answers (issue 18): --vars FILE.npz,
--set W=@W.npy, --expect W=[[...]] / W=@dW.npy, --expect-file, --problems on arrays,
--gradcheck-sample. The reports are checked through the installed command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from bpdiff import differentiate
from bpdiff.analyses.array_check import check_array
from bpdiff.analyses.expect import Target

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "src" / "bpdiff" / "schema"
HOMEWORK = ROOT / "examples" / "homework"

# a softmax classifier's loss with L2 regularisation, written with today's operations
SOFTMAX = """scores = X @ W
probs = softmax(scores)
N = 5
L = -sum(Y * log(probs)) / N + 0.5 * reg * sum(W^2)
"""
AFFINE = "out = x @ w + b; L = sum(out * dout)"


def bpdiff(*args, cwd):
    """The installed command: (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "bpdiff", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    return done.returncode, done.stdout, done.stderr


def softmax_parts():
    """X, W, Y (one-hot), reg, and the right dW and dscores, computed with NumPy."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(5, 4))
    W = 0.1 * rng.normal(size=(4, 3))
    Y = np.eye(3)[rng.integers(0, 3, size=5)]
    reg = 0.1
    scores = X @ W
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dscores = (p - Y) / 5
    return X, W, Y, reg, X.T @ dscores + reg * W, dscores


@pytest.fixture()
def homework(tmp_path):
    """A folder with the program, inputs.npz and the right dW, and a function that
    checks an answer dW (an array, saved to dW.npy) through the command."""
    X, W, Y, reg, dW, dscores = softmax_parts()
    (tmp_path / "loss.bp").write_text(SOFTMAX)
    np.savez(tmp_path / "inputs.npz", X=X, W=W, Y=Y, reg=reg)

    def check(answer, *extra):
        np.save(tmp_path / "dW.npy", answer)
        return bpdiff("-f", "loss.bp", "--vars", "inputs.npz", "--expect", "dW=@dW.npy",
                      *extra, cwd=tmp_path)
    check.dW, check.dscores, check.X, check.W, check.reg = dW, dscores, X, W, reg
    check.path = tmp_path
    return check


# ---- inputs --------------------------------------------------------------------------

def test_npz_and_npy_inputs_give_the_same_result_as_inline_arrays(tmp_path):
    x, w = np.array([[1.0, 2.0]]), np.array([[0.5], [-1.5]])
    np.savez(tmp_path / "v.npz", x=x, w=w)
    np.save(tmp_path / "w.npy", w)
    inline = bpdiff("sum(x @ w)", "--x", "[[1, 2]]", "--w", "[[0.5], [-1.5]]", "--json",
                    cwd=tmp_path)
    from_npz = bpdiff("sum(x @ w)", "--vars", "v.npz", "--json", cwd=tmp_path)
    from_npy = bpdiff("sum(x @ w)", "--set", "x=[[1, 2]]", "--set", "w=@w.npy", "--json",
                      cwd=tmp_path)
    assert inline[0] == from_npz[0] == from_npy[0] == 0
    assert json.loads(inline[1])["gradient"] == json.loads(from_npz[1])["gradient"] \
        == json.loads(from_npy[1])["gradient"] == {"x": [[0.5, -1.5]], "w": [[1], [2]]}


def test_integer_arrays_are_read_as_numbers(tmp_path):
    np.save(tmp_path / "k.npy", np.arange(3, dtype=np.int16))
    code, out, _ = bpdiff("sum(k * k)", "--k", "@k.npy", "--json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["value"] == 5


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True),
     "Python objects, which are never loaded"),
    (lambda p: np.save(p, np.array(["a", "b"])), "not numbers"),
    (lambda p: np.save(p, np.array([True, False])), "not numbers"),
    (lambda p: p.write_bytes(b"not numpy at all"), "not a NumPy .npy array"),
    (lambda p: p.write_bytes(_npy_bytes(np.arange(10.0))[:-8]), "truncated"),
    (lambda p: np.save(p, np.zeros((30, 40))), "more than the limit of 1,000"),
])
def test_bad_npy_files_are_refused_with_exit_2(tmp_path, make, message):
    make(tmp_path / "a.npy")
    code, out, err = bpdiff("sum(a)", "--set", "a=@a.npy", "--max-elements", 1000,
                            cwd=tmp_path)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def _npy_bytes(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_huge_announced_shape_is_refused_before_reading(tmp_path):
    header = _npy_bytes(np.zeros(1))  # then announce 10^12 elements
    fake = header.replace(b"(1,)", b"(1000000, 1000000)".ljust(4 + 14)[:18], 1)
    (tmp_path / "a.npy").write_bytes(fake)
    code, _, err = bpdiff("sum(a)", "--set", "a=@a.npy", cwd=tmp_path)
    assert code == 2
    assert "not a NumPy .npy array" in err or "more than the limit" in err


def test_npz_problems_are_exit_2(tmp_path):
    np.savez(tmp_path / "v.npz", a=np.ones(2), extra=np.ones(2))
    (tmp_path / "zip.npz").write_bytes(b"PK not really")
    code, _, err = bpdiff("sum(a)", "--vars", "v.npz", cwd=tmp_path)
    assert code == 2 and "a value was given for 'extra', which is not an input" in err
    code, _, err = bpdiff("sum(a)", "--vars", "zip.npz", cwd=tmp_path)
    assert code == 2 and "not a NumPy .npz archive" in err
    code, _, err = bpdiff("sum(a)", "--vars", "nothere.npz", cwd=tmp_path)
    assert code == 2 and "nothere.npz: no such file" in err
    np.save(tmp_path / "one.npy", np.ones(2))
    code, _, err = bpdiff("sum(a)", "--vars", "one.npy", cwd=tmp_path)
    assert code == 2 and "--set NAME=@one.npy" in err


def test_startup_imports_no_numpy():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bpdiff", "a*b", "--a",
                           "1", "--b", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "numpy" not in done.stderr


# ---- array answers: the four classic mistakes, and right answers ---------------------

def test_right_answers_exit_0(homework):
    code, out, err = homework(homework.dW)
    assert code == 0, err
    assert "✓ dW: ∂L/∂W (4,3): all 12 elements match" in out


def test_one_element_changed_is_named_with_its_index(homework):
    wrong = homework.dW.copy()
    wrong[2, 1] += 0.05
    code, out, err = homework(wrong)
    assert code == 1 and "1 of 1 check failed: dW" in err
    assert "1 of 12 elements wrong; the worst is W[2,1]: expected" in out
    assert f"bpdiff gets {homework.dW[2, 1]:.6g}" in out


def test_a_transposed_answer_is_called_transposed(homework):
    code, out, _ = homework(homework.dW.T)
    assert code == 1
    assert "your dW has shape (3,4), W is (4,3): transposed? Its transpose is right." in out


def test_a_forgotten_one_over_n_is_found(homework):
    X, dscores, W, reg = homework.X, homework.dscores, homework.W, homework.reg
    code, out, _ = homework(X.T @ (dscores * 5) + reg * W)
    assert code == 1
    assert "your answer is 5× bpdiff's along the path via scores: a forgotten factor 1/5" \
        " (N = 5, the length of axis 0 of X)?" in out


def test_a_forgotten_regularisation_term_is_the_path_left_out(homework):
    code, out, _ = homework(homework.X.T @ homework.dscores)
    assert code == 1
    assert "your answer leaves out the path via W^2: did you forget that term" in out


def test_the_first_diverging_node_is_named_with_its_element(homework):
    dscores = homework.dscores.copy()
    dscores[3, 2] += 0.1  # wrong upstream; dW computed from it is wrong too
    dW = homework.X.T @ dscores + homework.reg * homework.W
    np.savez(homework.path / "answers.npz", dscores=dscores, grad_W=dW)
    code, out, _ = bpdiff("-f", "loss.bp", "--vars", "inputs.npz", "--expect-file",
                          "answers.npz", cwd=homework.path)
    assert code == 1
    assert "first gradient to disagree in backward order: ∂L/∂scores, at scores[3,2]" in out
    # with the upstream gradient right, the mistake is placed in the step into W
    np.savez(homework.path / "answers.npz", dscores=homework.dscores, dW=dW)
    code, out, _ = bpdiff("-f", "loss.bp", "--vars", "inputs.npz", "--expect-file",
                          "answers.npz", cwd=homework.path)
    assert code == 1
    assert "first gradient to disagree in backward order: ∂L/∂W" in out
    assert "∂L/∂scores agrees, so the mistake is in the step from there to W" \
        " (scores = X @ W)" in out


@pytest.mark.parametrize("answer, words", [
    (lambda dW: dW.sum(), "your dW is a number, but ∂L/∂W is an array of shape (4,3)"),
    (lambda dW: dW[:, :1], "they broadcast together, but the shapes differ"),
    (lambda dW: dW.reshape(-1), "in another shape. Reshaped to that shape it is right."),
    (lambda dW: dW[None], "an extra dimension of size 1 (keepdims?) With that shape it is"
                          " right."),
])
def test_shape_problems_are_described(homework, answer, words):
    code, out, _ = homework(answer(homework.dW))
    assert code == 1 and words in out


def test_a_missing_keepdims_dimension(tmp_path):
    code, out, _ = bpdiff("sum(x * b)", "--x", "[[1, 2], [3, 4]]", "--b", "[[1], [2]]",
                          "--expect", "b=[3, 7]", cwd=tmp_path)
    assert code == 1
    assert "your ∂out/∂b has shape (2,), b is (2,1): a dimension of size 1 is missing" \
        " (keepdims?) With that shape it is right." in out


def test_inline_nested_list_answers_and_values(tmp_path):
    code, out, err = bpdiff(AFFINE, "--x", "[[1, 2], [3, -1]]", "--w",
                            "[[0.5, -1, 2], [1.5, 0, -0.5]]", "--b", "[0.1, 0.2, 0.3]",
                            "--dout", "[[1, 0, -1], [2, 1, 0]]",
                            "--expect", "w=[[7, 3, -1], [0, -1, -2]]",
                            "--expect", "db=[3, 1, -1]", "--expect", "L.value=-0.3",
                            cwd=tmp_path)
    assert code == 0, out + err
    assert "✓ db: ∂L/∂b (3,): all 3 elements match" in out
    assert "✓ L.value: L = -0.3: matches" in out


def test_json_reports_array_checks_by_the_schema(homework):
    jsonschema = pytest.importorskip("jsonschema")
    wrong = homework.dW.copy()
    wrong[0, 0] = 9.0
    code, out, _ = homework(wrong, "--json")
    assert code == 1
    data = json.loads(out)
    jsonschema.validate(data, json.loads((SCHEMAS / "result.schema.json").read_text()))
    entry = data["checks"][0]
    assert entry["passed"] is False and entry["wrong"] == 1 and entry["elements"] == 12
    assert entry["worst"]["index"] == [0, 0] and entry["worst"]["expected"] == 9.0
    assert entry["shape"] == {"expected": [4, 3], "got": [4, 3], "problem": None,
                              "fixed": False}
    code, out, _ = homework(wrong.T, "--json")
    entry = json.loads(out)["checks"][0]
    assert entry["shape"]["problem"] == "transposed" and entry["difference"] is None


def test_expect_file_names_and_unknown_names(homework):
    np.savez(homework.path / "a.npz", grad_W=homework.dW, loss=1.0)
    code, out, _ = bpdiff("-f", "loss.bp", "--vars", "inputs.npz", "--expect-file", "a.npz",
                          cwd=homework.path)
    assert "✓ grad_W: ∂L/∂W (4,3): all 12 elements match" in out
    assert "✗ loss: L: expected 1, bpdiff gets" in out and code == 1
    np.savez(homework.path / "a.npz", dV=homework.dW)
    code, _, err = bpdiff("-f", "loss.bp", "--vars", "inputs.npz", "--expect-file", "a.npz",
                          cwd=homework.path)
    assert code == 2 and "the array 'dV' answers nothing in the program" in err
    assert "(did you mean" in err


# ---- --problems on arrays ------------------------------------------------------------

def test_problems_with_arrays_inline_and_in_files_relative_to_the_toml(tmp_path):
    code, out, err = bpdiff("--problems", HOMEWORK / "problems.toml", cwd=tmp_path)
    assert code == 1, err
    assert "✓ affine layer" in out and "✗ softmax loss  1 of 2 failed: dW" in out
    assert "a forgotten factor 1/5" in out
    code, out, _ = bpdiff("--problems", HOMEWORK / "problems.toml", "--json", cwd=tmp_path)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(out),
                        json.loads((SCHEMAS / "problems.schema.json").read_text()))


def test_problem_files_that_are_missing_name_the_problem_and_field(tmp_path):
    (tmp_path / "p.toml").write_text('[[problem]]\nprogram = "sum(a)"\n'
                                     'vars = "nothere.npz"\n[problem.expect]\na = [1]\n')
    code, _, err = bpdiff("--problems", "p.toml", cwd=tmp_path)
    assert code == 2
    assert "problem 1 ('problem 1'), field 'vars': nothere.npz: no such file" in err


# ---- --gradcheck-sample ----------------------------------------------------------------

def test_gradcheck_sample_checks_k_elements_per_array_seeded(homework):
    args = ("-f", "loss.bp", "--vars", "inputs.npz", "--gradcheck", "--gradcheck-sample", 3,
            "--json")
    first = bpdiff(*args, "--seed", 4, cwd=homework.path)
    again = bpdiff(*args, "--seed", 4, cwd=homework.path)
    other = bpdiff(*args, "--seed", 5, cwd=homework.path)
    assert first[0] == 0 and first[1] == again[1]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(first[1]),
                        json.loads((SCHEMAS / "result.schema.json").read_text()))
    rows = json.loads(first[1])["gradcheck"]["inputs"]
    names = [r["name"] for r in rows]
    assert sum(n.startswith("X[") for n in names) == 3 and "reg" in names
    assert [r["sampled"] for r in rows if r["name"].startswith("W[")] == [[3, 12]] * 3
    assert names != [r["name"] for r in json.loads(other[1])["gradcheck"]["inputs"]]
    code, out, _ = bpdiff(*args[:-1], cwd=homework.path)
    assert "W: 3 of its 12 elements sampled at random" in out


def test_gradcheck_sample_needs_gradcheck(tmp_path):
    code, _, err = bpdiff("sum(a)", "--a", "[1, 2]", "--gradcheck-sample", 2, cwd=tmp_path)
    assert code == 2 and "--gradcheck-sample goes with --gradcheck" in err


# ---- the element comparison itself ---------------------------------------------------

@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 15),
       st.floats(0.01, 100) | st.floats(-100, -0.01))
def test_exactly_the_changed_element_is_reported(rows, cols, pick, change):
    rng = np.random.default_rng(rows * 10 + cols)
    x = rng.normal(size=(rows, cols))
    result = differentiate("sum(x * x)", x=x.tolist(), edges=True)
    right = result.grads[result.graph.names["x"]]
    index = np.unravel_index(pick % x.size, x.shape)
    answer = right.copy()
    answer[index] += change * max(1.0, abs(answer[index]))
    target = Target("x", "grad", result.graph.names["x"])
    assert check_array(result, target, right, right, 5e-3, 1e-9).passed
    found = check_array(result, target, answer, right, 5e-3, 1e-9)
    assert not found.passed and found.wrong == 1
    assert found.worst == tuple(int(i) for i in index)


def test_the_readme_worked_example_is_what_bpdiff_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Checking array homework")[1].split("\n### ")[0]
    block = section.split("$ bpdiff -f softmax_loss.bp --vars inputs.npz --expect-file"
                          " answers.npz\n")[1].split("```")[0]
    shown = block.split("(the usual table)\n")[1]
    code, out, err = bpdiff("-f", "softmax_loss.bp", "--vars", "inputs.npz",
                            "--expect-file", "answers.npz", cwd=HOMEWORK)
    assert code == 1 and err == "bpdiff: 1 of 2 checks failed: dW\n"
    assert out.endswith(shown)
    assert (HOMEWORK / "softmax_loss.bp").read_text() in section


def test_the_example_files_are_what_make_files_makes(tmp_path):
    done = subprocess.run([sys.executable, HOMEWORK / "make_files.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in ("inputs.npz", "answers.npz"):
        made, shipped = np.load(tmp_path / name), np.load(HOMEWORK / name)
        assert sorted(made.files) == sorted(shipped.files)
        for key in made.files:
            assert np.array_equal(made[key], shipped[key])
    assert np.array_equal(np.load(tmp_path / "dW.npy"), np.load(HOMEWORK / "dW.npy"))
