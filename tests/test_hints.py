"""Hints that work (issue 17): the commonest mistakes get advice that, followed, runs.
Each through the installed `bpdiff` command: exit code 2, nothing on stdout, the exact
advice on stderr; then the advice is followed and the program runs."""

import subprocess
import sys
from pathlib import Path

import pytest


def bpdiff(*args):
    script = Path(sys.executable).with_name("bpdiff")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)


def refused(*args):
    done = bpdiff(*args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.mark.parametrize("program, given, missing", [
    ("(a+b)*b^3", ["--a", "7"], "b"),
    ("a*c", ["--a", "1"], "c"),
    ("x*w", ["--x", "1"], "w"),
])
def test_a_missing_value_never_suggests_a_function(program, given, missing):
    message = refused(program, *given)
    assert f"no value for input '{missing}'" in message
    assert message.rstrip().endswith(f"give one, e.g. --{missing} 1")
    assert "did you mean" not in message
    assert bpdiff(program, *given, f"--{missing}", "1").returncode == 0


def test_a_misspelt_call_still_gets_the_function_it_resembles():
    message = refused("sinn(x)", "--x", "1")
    assert "did you mean 'sin'?" in message


@pytest.mark.parametrize("program, advice, fixed", [
    ("sin x", "write sin(x)", "sin(x)"),
    ("tanh x + 1", "write tanh(x)", "tanh(x) + 1"),
    ("sin^2(x)", "write sin(x)^2", "sin(x)^2"),
    ("2 sin x", "write sin(x)", "2 sin(x)"),
])
def test_a_function_without_parentheses_is_told_to_write_them(program, advice, fixed):
    message = refused(program, "--x", "1")
    assert "is a function: its argument goes in parentheses" in message
    assert message.rstrip().endswith(advice)
    assert "did you mean" not in message
    assert bpdiff(fixed, "--x", "1").returncode == 0


def test_giving_the_function_a_value_does_not_make_sin_x_a_product():
    message = refused("sin x", "--sin", "3", "--x", "1")
    assert "write sin(x)" in message


def test_an_intermediate_named_like_a_function_is_still_a_name():
    done = bpdiff("dot = a*b; dot + dot x", "--a", "1", "--b", "2", "--x", "3")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("program, must_list", [
    ("(a+b*b^3", ["')'", "'*'", "'/'", "'^'", "'+'", "'-'"]),
    ("a + * b", ["'('", "a name", "a number"]),
])
def test_the_expected_list_names_every_token_that_may_follow(program, must_list):
    message = refused(program, "--a", "1", "--b", "2")
    expected = message.strip().splitlines()[-1]
    assert expected.startswith("expected ")
    for token in must_list:
        assert token in expected, (token, expected)


@pytest.mark.parametrize("name", ["top", "precision", "output", "seed", "json", "all"])
def test_an_input_named_like_an_option_is_told_to_use_set(name):
    message = refused(f"{name}*x", "--x", "2")
    assert message.rstrip().endswith("so the value goes with --set)")
    assert f"--set {name}=1" in message
    assert bpdiff(f"{name}*x", "--x", "2", "--set", f"{name}=3").returncode == 0


def test_every_terminal_has_a_name_in_the_expected_list():
    from bpdiff.language.grammar import loaded
    from bpdiff.language.parse import _TERMINAL_NAMES

    terminals = {kind for row in loaded()[0].actions.values() for kind in row if kind.isupper()}
    assert terminals - set(_TERMINAL_NAMES) == set()


def test_a_syntax_error_at_the_end_of_a_long_program_lists_what_may_follow(tmp_path):
    program = tmp_path / "long.bp"
    program.write_text("".join(f"t{k} = a*{k} + b\n" for k in range(3000)) + "y = (t1 +\n")
    message = refused("-f", str(program), "--a", "1", "--b", "2")
    assert "line 3001, column 10: unexpected end of line" in message
    assert message.rstrip().endswith("a function, a name or a number")
