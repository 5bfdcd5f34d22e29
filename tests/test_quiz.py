"""--quiz: random exercises with tidy answers, whose keys grade as all-correct."""

import os
import subprocess
import sys
import time
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import run_main
from hypothesis import given
from hypothesis import strategies as st

from bpdiff.analyses.expect import Expectation
from bpdiff.analyses.problems import grade, parse, read
from bpdiff.analyses.quiz import generate
from bpdiff.render.quiz_sheet import answers_toml, quiz_text


run = run_main


def _key(quiz, level=1, seed=0):
    """The answer key written and read back, as the CLI does."""
    return parse(tomllib.loads(answers_toml(quiz, level, seed)))


@pytest.mark.parametrize("level", [1, 2, 3])
def test_the_same_seed_gives_the_same_quiz(level):
    assert generate(8, 42, level) == generate(8, 42, level)
    assert generate(8, 42, level) != generate(8, 43, level)


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_answer_keys_grade_as_all_correct(level, seed):
    quiz = generate(12, seed, level)
    problems, tolerances = _key(quiz, level, seed)
    graded = grade(problems, tolerances)
    assert all(g.passed for g in graded), [c for g in graded for c in g.checks if not c.passed]
    for g, problem in zip(graded, quiz):  # the key holds every answer asked for
        assert [c.key for c in g.checks] == [e.key for e in problem.expect]
        assert g.checks[0].key == "value"
        assert set(g.result.graph.variables) <= {c.key for c in g.checks}


@pytest.mark.parametrize("level", [1, 2, 3])
def test_perturbed_answers_fail(level):
    quiz = generate(10, 7, level)
    problems, _ = _key(quiz, level, 7)
    for problem in problems:
        for k, expectation in enumerate(problem.expect):
            number = expectation.number
            nudge = Fraction(1, 100) if number >= 0 else Fraction(-1, 100)
            for wrong in (number + 1, number * Fraction(-3, 2) - 1,
                          number * Fraction(102, 100) + nudge):  # 2% off, and never 0
                expect = list(problem.expect)
                expect[k] = Expectation(expectation.key, wrong, str(wrong))
                [graded] = grade([problem._replace(expect=tuple(expect))])
                failed = [c.key for c in graded.checks if not c.passed]
                assert failed == [expectation.key], (problem, expectation, wrong)


@given(st.integers(0, 10**9), st.sampled_from([1, 2]))
def test_levels_1_and_2_have_tidy_answers(seed, level):
    for problem in generate(3, seed, level):
        for expectation in problem.expect:
            number = expectation.number
            assert 1000 % number.denominator == 0 and abs(number) <= 1000, problem
            if level == 1:
                assert number.denominator == 1, problem
        assert all(Fraction(v).denominator == 1 for v in problem.values.values())


def test_levels_have_their_shapes():
    level1 = generate(30, 5, 1)
    assert all(p.program.startswith("f = ") and "\n" not in p.program for p in level1)
    assert all(len(p.values) == 3 for p in level1)
    level2 = generate(40, 5, 2)
    assert any("\n" in p.program for p in level2)  # named intermediates used twice
    assert any("^" in p.program for p in level2)
    level3 = generate(30, 5, 3)
    assert all(any(f in p.program for f in ("sigmoid", "tanh", "exp")) for p in level3)
    assert any("log" in p.program for p in level3)


def test_quiz_sheet_is_numbered_and_asks_for_every_answer():
    quiz = generate(3, 11, 2)
    text = quiz_text(quiz, 2, 11)
    assert text.startswith("bpdiff quiz: 3 exercises, level 2 (seed 11)\n")
    for number, problem in enumerate(quiz, 1):
        assert f"\n{number}. " in text
        for e in problem.expect:
            if e.key != "value":
                assert f"/∂{e.key}" in text
    assert "--answers KEY.toml" in text and "bpdiff --problems KEY.toml" in text
    for problem in quiz:  # no answer is given away on the sheet
        for e in problem.expect:
            assert f"= {e.text}\n" not in text or e.text in problem.values.values()


def test_cli_quiz_writes_a_key_that_grades(tmp_path):
    key = tmp_path / "key.toml"
    code, out, err = run("--quiz", "4", "--level", "2", "--seed", "3", "--answers", str(key))
    assert code == 0, err
    assert out == quiz_text(generate(4, 3, 2), 2, 3)
    problems, _ = read(str(key))
    assert len(problems) == 4
    code, out, _ = run("--problems", str(key))
    assert code == 0 and "4 of 4 problems passed" in out


def test_cli_quiz_without_a_seed_prints_the_one_it_drew():
    code, out, _ = run("--quiz", "1")
    assert code == 0
    seed = int(out.split("(seed ")[1].split(")")[0])
    assert run("--quiz", "1", "--seed", str(seed))[1] == out


def test_a_student_answer_file_is_graded(tmp_path):
    key = tmp_path / "key.toml"
    run("--quiz", "2", "--level", "1", "--seed", "9", "--answers", str(key))
    text = key.read_text()
    first_value = text.split("[problem.expect]\nvalue = ")[1].split("\n")[0]
    student = tmp_path / "student.toml"
    student.write_text(text.replace(f"[problem.expect]\nvalue = {first_value}\n",
                                    f"[problem.expect]\nvalue = {int(first_value) + 1}\n", 1))
    code, out, err = run("--problems", str(student))
    assert code == 1 and "✗ quiz 1" in out and "✓ quiz 2" in out
    assert "1 of 2 problems failed: quiz 1" in err


@pytest.mark.parametrize("args, message", [
    (["--quiz", "0"], "--quiz"), (["--quiz", "1001"], "--quiz"), (["--quiz", "x"], "--quiz"),
    (["--quiz", "2", "--level", "4"], "--level"),
    (["--quiz", "2", "x*y"], "--quiz does not take PROGRAM"),
    (["--quiz", "2", "--json"], "--json"),
    (["--quiz", "2", "--exact"], "--exact"),
    (["--quiz", "2", "--expect", "x=1"], "--expect"),
    (["--seed", "3", "x", "--x", "1"], "go with --quiz"),
    (["--level", "2", "x", "--x", "1"], "go with --quiz"),
])
def test_bad_quiz_options_exit_2(args, message):
    code, out, err = run(*args)
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize("target", ["", "dir", "nul\0l", "missing/dir/key.toml"])
def test_unwritable_answer_file_exits_2_and_prints_nothing(tmp_path, target):
    (tmp_path / "dir").mkdir()
    path = str(tmp_path / target) if target else str(tmp_path)
    code, out, err = run("--quiz", "2", "--answers", path)
    assert code == 2 and out == "" and "Traceback" not in err


def test_big_quizzes_are_quick():
    for level in (1, 2, 3):
        start = time.perf_counter()
        generate(200, 1, level)
        assert time.perf_counter() - start < 10


def test_quiz_in_a_process(tmp_path):
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    done = subprocess.run([*command, "--quiz", "3", "--level", "3", "--seed", "1",
                           "--answers", "key.toml"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0 and done.stderr.startswith("bpdiff: wrote key.toml (")
    assert "Give answers to 3 significant digits." in done.stdout
    graded = subprocess.run([*command, "--problems", "key.toml"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert graded.returncode == 0 and "3 of 3 problems passed" in graded.stdout
