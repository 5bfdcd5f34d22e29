"""--gradcheck in tensor mode: one row per input element, kinks flagged only where the
perturbed element moves a kinked element, and a wrong rule caught."""

import json

import pytest

from bpdiff.api import differentiate
from bpdiff.errors import BpdiffError
from bpdiff.analyses.gradcheck import gradcheck, passed
from bpdiff.engine import ops
from conftest import run_main, substitute_op

NETWORK = "h = tanh(W @ x + b); L = 0.5*norm2(h - t)"
VALUES = {"W": [[1, 2], [3, -4]], "x": [0.3, -0.1], "b": [0.1, 0.2], "t": [1, 0]}


def test_every_element_is_a_row_and_passes():
    rows = gradcheck(differentiate(NETWORK, VALUES))
    assert [r.name for r in rows] == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "x[0]", "x[1]",
                                      "b[0]", "b[1]", "t[0]", "t[1]"]
    assert all(r.status == "ok" for r in rows) and passed(rows)
    assert max(r.error for r in rows) < 1e-8


def test_a_scalar_input_beside_arrays_is_one_row():
    rows = gradcheck(differentiate("sum(c * x^2)", c=3, x=[1, 2]))
    assert [r.name for r in rows] == ["c", "x[0]", "x[1]"]
    assert [r.analytic for r in rows] == pytest.approx([5, 6, 12])


def test_a_wrong_tensor_rule_fails(monkeypatch):
    softmax = ops.BY_NAME["softmax"]
    wrong = softmax._replace(vjps=(lambda m, g, z, out: out * g,))  # forgets the Σ term
    substitute_op(monkeypatch, wrong)
    rows = gradcheck(differentiate("sum([1, 2, 3] * softmax(z))", z=[0.5, -1, 2]))
    assert not passed(rows) and {r.status for r in rows} == {"fail"}


def test_kinks_only_where_the_element_moves_a_kinked_element():
    # W @ x = [0, 10]: relu's first element sits at its kink; W[1, :] moves only the
    # second element, so those rows are checked.
    rows = {r.name: r for r in gradcheck(differentiate("sum(relu(W @ x))",
                                                       W=[[1, 2], [3, -4]], x=[2, -1]))}
    assert rows["W[0,0]"].status == rows["W[0,1]"].status == "kink"
    assert rows["W[1,0]"].status == rows["W[1,1]"].status == "ok"
    assert rows["x[0]"].status == "kink"


@pytest.mark.parametrize("program, xs, ys", [
    ("max(x, y)", (1, 5), (2, 3)),  # the winner moving is no kink
    ("min(x, y) * step(x)", (1, -1), (2, 3)),
    ("relu(x) * y + abs(x - y)", (0, 1.5), (2, 3)),
    ("sign(x) * y", (0.5, -2), (1, 1)),
])
def test_each_element_gets_the_status_of_the_same_scalar_program(program, xs, ys):
    (x0, x1), (y0, y1) = xs, ys
    rows = gradcheck(differentiate(f"sum({program})", x=[x0, x1], y=[y0, y1]))
    for i, (x, y) in enumerate(((x0, y0), (x1, y1))):
        scalar = {r.name: r.status for r in gradcheck(differentiate(program, x=x, y=y))}
        by_name = {r.name: r.status for r in rows}
        assert (by_name[f"x[{i}]"], by_name[f"y[{i}]"]) == (scalar["x"], scalar["y"]), program


def test_an_array_output_is_checked_as_its_sum_with_sum_output():
    rows = gradcheck(differentiate("x^3", x=[1, -2], sum_output=True))
    assert [r.analytic for r in rows] == pytest.approx([3, 12])
    assert all(r.status == "ok" for r in rows)


def test_an_array_output_is_checked_against_its_grad_output():
    rows = gradcheck(differentiate("x^3", x=[1, -2], grad_output=[2, -1]))
    assert [r.analytic for r in rows] == pytest.approx([6, -12])
    assert [r.numeric for r in rows] == pytest.approx([6, -12])
    assert all(r.status == "ok" for r in rows)


def test_an_array_output_with_no_seed_has_nothing_to_check():
    with pytest.raises(BpdiffError, match="--gradcheck needs gradients, but the output is an"
                       r" array of shape \(2,\)"):
        gradcheck(differentiate("x^3", x=[1, -2]))


def test_cli_gradcheck_on_a_network_exits_0_and_reports_elements():
    code, out, err = run_main(NETWORK, *[a for k, v in VALUES.items()
                                         for a in (f"--{k}", json.dumps(v))],
                              "--gradcheck", "--json")
    assert code == 0, err
    report = json.loads(out)["gradcheck"]
    assert [row["name"] for row in report["inputs"]][:2] == ["W[0,0]", "W[0,1]"]


def test_work_limit_counts_elements():
    from bpdiff.errors import BpdiffError

    chain = "sum(" + "tanh(" * 600 + "x" + ")" * 601  # 602 nodes
    result = differentiate(chain, x=[[0.1] * 100] * 100)
    with pytest.raises(BpdiffError, match="10,000 inputs"):
        gradcheck(result)  # 4 passes × 10,000 elements × 602 nodes > 20 million
    assert len(gradcheck(differentiate(chain, x=[0.1, 0.2]))) == 2


def test_an_index_input_is_not_checked_and_does_not_fail():
    # moving a class index by a step makes it a non-integer: a row "index", not a traceback
    from pathlib import Path
    program = Path(__file__).resolve().parents[1] / "examples" / "assignment" / "svm_loss.bp"
    code, out, err = run_main("-f", str(program), "--gradcheck")
    assert code == 0, err
    assert "y[0]" in out and "index (not checked)" in out and "Traceback" not in err
