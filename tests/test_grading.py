"""The grading rule of --expect, --problems and the practice page, one table of cases
(tests/data/grading_cases.json: answer as typed, true value, rule, pass/fail/not a number)
run through the Python rule (bpdiff.analyses.expect.passes), the page's JavaScript
(bpdiff/render/assets/grading.js) under node when it is installed (in Chromium:
tests/test_html_browser.py), and the command line for the CS231n sigmoid neuron."""

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from bpdiff.analyses.expect import DEFAULT_SIG, Rule, expectation_of, passes
from bpdiff.numbers import rounded_text, written
from conftest import run_main

ROOT = Path(__file__).resolve().parents[1]
CASES = json.loads((ROOT / "tests" / "data" / "grading_cases.json").read_text("utf-8"))
GRADING_JS = ROOT / "src" / "bpdiff" / "render" / "assets" / "grading.js"
NEURON = ROOT / "examples" / "sigmoid_neuron.bp"
CS231N = {"value": "0.73", "w0": "-0.20", "x0": "0.39", "w1": "-0.39", "x1": "-0.59",
          "w2": "0.20"}


def truth(case):
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(case["truth"],
                                                                    case["truth"])


def python_verdict(case):
    """True/False, or None when the answer is not a number."""
    expectation = expectation_of("x", case["answer"])
    if expectation is None:
        return None
    return passes(expectation, truth(case), Rule(**case["rule"]))


def with_sig(rule):
    return rule if "rtol" in rule or "atol" in rule or "sig" in rule else {"sig": DEFAULT_SIG}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['answer']!r}-{c['why']}" for c in CASES])
def test_python_rule(case):
    assert python_verdict(case) is case["pass"], case["why"]


def test_the_table_covers_both_verdicts_and_the_edge_cases():
    verdicts = [c["pass"] for c in CASES]
    assert verdicts.count(True) > 20 and verdicts.count(False) > 20 and None in verdicts
    answers = {c["answer"] for c in CASES}
    for needed in ("-0.20", "1.2e-3", "270", "-0", "+0.39", "nan", "inf", "1e400", "1/3"):
        assert needed in answers


NODE_RUNNER = """
const grading = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(c => {
  const t = {nan: NaN, inf: Infinity, "-inf": -Infinity}[c.truth];
  const g = grading.grade(c.answer, t === undefined ? c.truth : t, c.rule);
  return g === null ? null : g.right;
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_rule_under_node():
    cases = [{**c, "rule": with_sig(c["rule"])} for c in CASES]
    done = subprocess.run(["node", "-e", NODE_RUNNER, str(GRADING_JS)],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    verdicts = json.loads(done.stdout)
    wrong = [(c["answer"], c["why"], v) for c, v in zip(CASES, verdicts) if v is not c["pass"]]
    assert wrong == []


def test_written_precision():
    assert written("-0.20") == (2, -2)
    assert written("1.2e-3") == (2, -4)
    assert written("270") == (3, 0)
    assert written("0.0") == (0, -1)
    assert written("-1/4") == (None, None)
    assert written("abc") is None
    assert rounded_text(-0.19661, 2) == "-0.20"
    assert rounded_text(297, 2) == "3.0e2"
    assert rounded_text(0.5, 1) == "0.5"


def test_the_cs231n_answers_pass_on_the_command_line():
    args = [arg for key, answer in CS231N.items() for arg in ("--expect", f"{key}={answer}")]
    code, out, err = run_main("-f", str(NEURON), *args)
    assert code == 0, err
    assert "all 6 checks passed" in out
    for answer in CS231N.values():  # echoed as typed
        assert f" {answer} " in out


def test_a_wrong_answer_still_fails_with_its_reason():
    code, out, err = run_main("-f", str(NEURON), "--expect", "w0=-0.2", "--expect",
                              "x0=0.40", "--expect", "w2=0.196")
    assert code == 1
    assert "-0.2 has 1 significant digit" in out and "(-0.20)" in out
    assert "to the digits you wrote, bpdiff's number is 0.39" in out
    assert "bpdiff's number is 0.197" in out
    assert "3 of 3 checks failed" in err


def test_sig_and_tolerances_on_the_command_line():
    base = ("-f", str(NEURON), "--expect", "w2=0.20")
    assert run_main(*base)[0] == 0
    assert run_main(*base, "--sig", "3")[0] == 1
    assert run_main("-f", str(NEURON), "--expect", "w2=0.2", "--rtol", "0.05")[0] == 0
    assert run_main("-f", str(NEURON), "--expect", "w2=0.2", "--atol", "0.001")[0] == 1
    code, out, err = run_main(*base, "--sig", "3", "--rtol", "0.1")
    assert code == 2 and "give one or the other" in err and out == ""
    code, out, err = run_main("a*b", "--a", "1", "--b", "2", "--sig", "3")
    assert code == 2 and "--sig goes with --expect" in err
    assert run_main(*base, "--sig", "18")[0] == 2


def test_json_echoes_the_answer_as_typed():
    code, out, err = run_main("-f", str(NEURON), "--expect", "w0=-0.20", "--json")
    check = json.loads(out)["checks"][0]
    assert check["answer"] == "-0.20" and check["expected"] == -0.2 and check["passed"]


def test_problem_files_grade_by_the_same_rule(tmp_path):
    path = tmp_path / "neuron.toml"
    path.write_text("[[problem]]\nname = 'neuron'\nprogram = '''\n"
                    + NEURON.read_text("utf-8") + "'''\n[problem.expect]\n"
                    + "".join(f"{k} = {v}\n" for k, v in CS231N.items())  # TOML floats
                    + "\n[[problem]]\nname = 'strict'\nsig = 3\nprogram = 'sigmoid(x)'\n"
                      "[problem.values]\nx = 1\n[problem.expect]\nx = 0.20\n")
    code, out, err = run_main("--problems", str(path), "--json")
    report = json.loads(out)
    assert code == 1
    neuron, strict = report["problems"]
    assert neuron["passed"] and [c["answer"] for c in neuron["checks"]][1] == "-0.20"
    assert not strict["passed"]
    assert run_main("--problems", str(path), "--sig", "1")[0] == 1  # the file's own wins
    path.write_text(path.read_text().replace("sig = 3\n", ""))
    assert run_main("--problems", str(path))[0] == 0
    assert run_main("--problems", str(path), "--sig", "3")[0] == 1


def test_problem_file_rule_fields_are_checked(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("sig = 3\nrtol = 0.1\n[[problem]]\nprogram = 'a'\n[problem.values]\n"
                    "a = 1\n[problem.expect]\nvalue = 1\n")
    code, out, err = run_main("--problems", str(path))
    assert code == 2 and "give sig or rtol/atol, not both" in err
    path.write_text("sig = 0\n[[problem]]\nprogram = 'a'\n[problem.expect]\nvalue = 1\n")
    code, out, err = run_main("--problems", str(path))
    assert code == 2 and "field 'sig'" in err


def test_the_practice_page_states_its_rule(tmp_path):
    path = tmp_path / "p.html"
    code, out, err = run_main("sigmoid(x)", "--x", "1", "--html-practice", str(path),
                              "--sig", "3")
    assert code == 0, err
    page = path.read_text("utf-8")
    assert '"rule":{"sig":3}' in page and "at least 3 significant digits" in page
