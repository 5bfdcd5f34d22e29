"""The command line, through click's CliRunner and through a real `bpdiff` process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from test_fuzz import coherent_programs

SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json").read_text())


def run(*args, input=None):
    """CliRunner with stdout and stderr kept apart."""
    from bpdiff.cli import main

    runner = CliRunner()
    result = runner.invoke(_Main(main), list(args), input=input)
    return result


class _Main:
    """Adapts main() (which maps errors to exit codes) to CliRunner.invoke."""

    def __init__(self, main):
        self.main_function = main
        self.name = "bpdiff"

    def main(self, args=None, prog_name=None, **_):
        self.main_function(args)


def test_table_for_the_seed_example():
    result = run("(a+b)*b^3", "--a", "7", "--b", "3")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "label", "op", "inputs", "value", "gradient"]
    assert lines[2].split()[-2:] == ["270", "1"]  # output first
    assert "out = 270;  ∂out/∂a = 27, ∂out/∂b = 297" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no escapes
    assert result.stderr == ""


@pytest.mark.parametrize("args", [
    ["(a+b)*b^3", "--a=7", "--b=3"],
    ["(a+b)*b^3", "--set", "a=7", "--set", "b=3"],
    ["--a", "7", "(a+b)*b^3", "--b", "3"],
    ["(a+b)*b^3", "--b", "3", "--a", "14/2"],
])
def test_ways_to_give_values(args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["gradient"] == {"a": 27, "b": 297}


def test_negative_values_and_a_program_starting_with_minus():
    result = run("-x^2", "--x", "-3", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["value"] == -9 and data["gradient"] == {"x": 6}


def test_set_serves_names_that_clash_with_options(tmp_path):
    result = run("json * output", "--set", "json=2", "--set", "output=5", "--json")
    assert json.loads(result.stdout)["value"] == 10


def test_vars_file(tmp_path):
    values = tmp_path / "v.json"
    values.write_text('{"a": 7, "b": 3}')
    result = run("(a+b)*b^3", "--vars", str(values), "--b", "1", "--json")
    assert json.loads(result.stdout)["inputs"] == {"a": 7, "b": 1}  # options win over the file


def test_program_from_file_and_stdin(tmp_path):
    program = tmp_path / "p.bp"
    program.write_text("d = 2b\ne = a + d\nL = c*e\n")
    by_file = run("-f", str(program), "--a", "3", "--b", "1", "--c", "-2", "--json")
    by_stdin = run("-", "--a", "3", "--b", "1", "--c", "-2", "--json", input=program.read_text())
    assert json.loads(by_file.stdout) == {**json.loads(by_stdin.stdout)}
    assert json.loads(by_file.stdout)["value"] == -10


def test_json_is_strict_and_matches_the_schema():
    result = run("log(x) + y/z", "--x", "0", "--y", "1", "--z", "0", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"non-strict {c}"))
    jsonschema.validate(data, SCHEMA)
    assert data["value"] in ("nan", "inf", "-inf")
    assert data["warnings"] and "node #" in data["warnings"][0]
    assert "warning" in result.stderr


def test_json_nodes_come_before_their_inputs():
    data = json.loads(run("(a+b)*(a+b) + sin(a)", "--a", "1", "--b", "2", "--json").stdout)
    jsonschema.validate(data, SCHEMA)
    seen = set()
    for node in data["nodes"]:
        assert not (set(node["inputs"]) & seen)
        seen.add(node["id"])
    assert data["nodes"][0]["id"] == data["output"]


def test_precision_and_integral_values():
    result = run("sigmoid(x)", "--x", "1", "--precision", "3")
    assert "0.731" in result.stdout and "0.197" in result.stdout
    assert "270.0" not in run("(a+b)*b^3", "--a", "7", "--b", "3").stdout


def test_named_output():
    data = json.loads(run("u = x^2; y = sin(u)", "--x", "3", "--output", "u", "--json").stdout)
    assert data["value"] == 9


@pytest.mark.parametrize("args, message", [
    (["x +"], "unexpected end of input"),
    (["a*b", "--a", "1"], "no value for input 'b'"),
    (["a*b", "--a", "1", "--b", "2", "--c", "3"], "not an input"),
    (["a*b", "--a", "x", "--b", "2"], "not a number"),
    (["a*b", "--a"], "--a needs a value"),
    (["a*b", "--set", "a"], "expected NAME=VALUE"),
    ([], "no program given"),
    (["-f", "/nonexistent/file.bp"], "/nonexistent/file.bp: no such file"),
    (["-f", "/"], "is a directory"),
    (["--vars", "/nonexistent.json", "x"], "no such file"),
    (["u = x^2; y = u", "--output", "v", "--x", "1"], "no such name"),
    (["a", "--precision", "0", "--a", "1"], "precision"),
    (["a", "--bogus-option"], "--bogus-option"),
])
def test_bad_input_exits_2_with_a_message_and_no_stdout(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_version_and_help():
    assert run("--version").stdout.strip() == f"bpdiff, version {bpdiff.__version__}"
    help_text = run("--help").stdout
    assert "Examples:" in help_text and "bpdiff \"(a+b)*b^3\" --a 7 --b 3" in help_text
    assert "sigmoid" in help_text


def test_option_defaults_and_limits_come_from_their_modules(monkeypatch):
    from bpdiff.analyses import quiz, symbolic
    from bpdiff.analyses.gradcheck import DEFAULT_TOL
    from bpdiff.render.selection import DEFAULT_MAX_NODES, DEFAULT_TOP

    monkeypatch.setattr(quiz, "COUNTS", range(1, 6))
    monkeypatch.setattr(quiz, "DEFAULT_LEVEL", 2)
    monkeypatch.setattr(symbolic, "DEFAULT_MAX_CHARS", 1234)
    help_text = " ".join(run("--help").stdout.split())
    for shown in (f"[default: {DEFAULT_MAX_NODES};", f"[default: {DEFAULT_TOP}]",
                  f"[default: {DEFAULT_TOL:.0e}]".replace("e-0", "e-"), "[default: 1234]",
                  "[1<=x<=5]", "[default: 2] [1<=x<=3]"):
        assert shown in help_text
    assert "1<=x<=5" in run("--quiz", "6").stderr
    assert "∂out/∂x: the expression is over 1,234 characters" in run(
        "x" + "*sin(x)" * 400, "--x", "1", "--symbolic").stdout


def test_no_color_gives_plain_text(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = run("a*b", "--a", "2", "--b", "3")
    assert "\x1b[" not in result.stdout and "┃" not in result.stdout


# --- a real process of the installed command -------------------------------------------

def _bpdiff():
    """The installed `bpdiff` script beside this Python, else `python -m bpdiff`."""
    script = Path(sys.executable).with_name("bpdiff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]


def process(*args, input=None, env=None, cwd=None):
    return subprocess.run([*_bpdiff(), *args], input=input, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def test_installed_command_from_another_directory(tmp_path):
    done = process("(a+b)*b^3", "--a", "7", "--b", "3", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, SCHEMA)
    assert (data["value"], data["gradient"]) == (270, {"a": 27, "b": 297})
    assert done.stderr == ""


def test_python_dash_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bpdiff", "x^2", "--x", "3"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "∂out/∂x = 6" in done.stdout


def test_process_error_paths(tmp_path):
    done = process("(a+", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "^" in done.stderr and "Traceback" not in done.stderr
    binary = tmp_path / "b.bp"
    binary.write_bytes(b"\x00\x01\x02")
    done = process("-f", str(binary))
    assert done.returncode == 2 and str(binary) in done.stderr
    latin = tmp_path / "l.bp"
    latin.write_bytes("x*\xe9".encode("latin-1"))
    done = process("-f", str(latin))
    assert done.returncode == 2 and "UTF-8" in done.stderr


def test_process_non_tty_output_is_plain():
    done = process("a*b", "--a", "2", "--b", "3")
    assert done.returncode == 0 and "\x1b[" not in done.stdout


def test_process_tty_output_uses_rich():
    script = shutil.which("script")
    if script is None:
        pytest.skip("util-linux `script` is needed to give bpdiff a terminal")
    command_line = " ".join([*_bpdiff(), "'a*b'", "--a", "2", "--b", "3"])
    done = subprocess.run([script, "-qec", command_line, "/dev/null"], capture_output=True,
                          text=True, env={**os.environ, "TERM": "xterm-256color",
                                          "COLUMNS": "100"}, timeout=120)
    assert done.returncode == 0
    assert "\x1b[" in done.stdout and "━" in done.stdout  # colours and box drawing
    plain = subprocess.run([script, "-qec", command_line, "/dev/null"], capture_output=True,
                           text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert "\x1b[1m" not in plain.stdout and "━" not in plain.stdout


def test_process_closed_pipe_exits_quietly(tmp_path):
    program = tmp_path / "long.bp"
    program.write_text("+".join(f"x*{i}" for i in range(20000)))
    shell = f"{' '.join(_bpdiff())} -f {program} --x 1 --json | head -c 10"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True)
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    assert done.stdout == '{"expressi'


@pytest.mark.parametrize("args, code", [(("x", "--x", "1"), 0), (("x", "--x", "1", "--json"), 0),
                                         (("x +", "--x", "1"), 2)])
def test_process_started_with_stdout_closed(args, code):
    """`bpdiff ... >&-`: Python starts with sys.stdout None; the output is discarded,
    the exit code and the error message stay."""
    done = subprocess.run([*_bpdiff(), *args], stdin=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          preexec_fn=lambda: os.close(1))
    assert done.returncode == code and "Traceback" not in done.stderr
    assert ("unexpected end of input" in done.stderr) == (code == 2)


def test_size_limit_refuses_big_programs(tmp_path):
    big = tmp_path / "big.bp"
    big.write_text("+".join(["x"] * 100_000))
    result = run("-f", str(big), "--x", "1", "--max-size", "0.1")
    assert result.exit_code == 2 and result.stdout == ""
    assert "over the size limit of 104,857 bytes" in result.stderr
    assert run("-f", str(big), "--x", "1", "--json").exit_code == 0
    assert run("x+1", "--x", "1", "--max-size", "0.000001").exit_code == 2


def test_huge_exponents_finish_at_once_with_inf_and_a_warning():
    result = run("9^9^9^9", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["value"] == "inf"
    assert "warning: node #2 (9^#1) has value inf" in result.stderr


@pytest.mark.parametrize("flag, marker", [("--dot", "digraph bpdiff"),
                                          ("--mermaid", "flowchart BT"),
                                          ("--tree", "(shared, see above)"),
                                          ("--explain", "Backward pass"),
                                          ("--locals", "contribution"),
                                          ("--symbolic", "∂out/∂b = ")])
def test_views(flag, marker):
    result = run("(a+b)*b^3", "--a", "7", "--b", "3", flag)
    assert result.exit_code == 0, result.stderr
    assert marker in result.stdout and "id  label" not in result.stdout


def test_big_graphs_need_force_for_narration_and_pictures(tmp_path):
    program = "+".join(f"x*{k}" for k in range(150))
    for flag in ("--explain", "--dot", "--locals"):
        refused = run(program, "--x", "1", flag)
        assert refused.exit_code == 2 and "--force" in refused.stderr and refused.stdout == ""
        assert run(program, "--x", "1", flag, "--force").exit_code == 0
    assert run(program, "--x", "1", "--explain", "--max-nodes", "1000").exit_code == 0


def test_render_needs_a_known_suffix(tmp_path):
    result = run("x^2", "--x", "1", "--render", str(tmp_path / "g.gif"))
    assert result.exit_code == 2 and ".svg, .png or .pdf" in result.stderr


def test_render_svg(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    target = tmp_path / "g.svg"
    assert run("(a+b)*b^3", "--a", "7", "--b", "3", "--render", str(target)).exit_code == 0
    assert target.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("x^2", "--x", "1", "--render", str(tmp_path / "g.svg"))
    assert result.exit_code == 2 and "apt-get install graphviz" in result.stderr


def test_json_with_render_writes_the_picture_too(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    target = tmp_path / "g.svg"
    result = run("(a+b)*b^3", "--a", "7", "--b", "3", "--json", "--render", str(target),
                 "--only", "named")
    assert result.exit_code == 0 and json.loads(result.stdout)["value"] == 270
    assert target.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_json_with_render_fails_before_printing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz
    result = run("x^2", "--x", "1", "--json", "--render", str(tmp_path / "g.svg"))
    assert result.exit_code == 2 and result.stdout == ""


@pytest.mark.parametrize("extra, named", [
    (["--dot"], "--dot"), (["--mermaid"], "--mermaid"), (["--tree"], "--tree"),
    (["--top", "3"], "--top"), (["--only", "named"], "--only")])
def test_json_refuses_what_would_print_beside_it_or_do_nothing(extra, named):
    result = run("(a+b)*b^3", "--a", "7", "--b", "3", "--json", *extra)
    assert result.exit_code == 2 and result.stdout == ""
    assert "--json does not take" in result.stderr and named in result.stderr


@pytest.mark.parametrize("modifier, mode", [
    (["--wrt", "a"], ["--symbolic"]), (["--wrt", "a"], ["--hessian"]),
    (["--symbolic-max", "50"], ["--symbolic"]), (["--rtol", "0.1"], ["--expect", "a=27"]),
    (["--atol", "0.1"], ["--expect", "value=270"]),
    (["--gradcheck-tol", "1e-4"], ["--gradcheck"]),
    (["--crosscheck-tol", "1e-6"], ["--crosscheck"])])
def test_an_option_that_modifies_another_needs_it(modifier, mode):
    alone = run("(a+b)*b^3", "--a", "7", "--b", "3", *modifier)
    assert alone.exit_code == 2 and alone.stdout == ""
    assert f"{modifier[0]} goes with" in alone.stderr and mode[0] in alone.stderr
    together = run("(a+b)*b^3", "--a", "7", "--b", "3", *modifier, *mode)
    assert "goes with" not in together.stderr
    assert together.exit_code == 0 or mode == ["--crosscheck"]  # it may lack torch and jax


@pytest.mark.parametrize("program", ["(a+b)*b^3", "log(a - 7)/(b - 3) + max(a, a)",
                                     "d = 2b; e = a + d; L = sqrt(e)*e", "-a^-b", "1e300*a*a + b"])
def test_fast_json_nodes_equal_the_general_encoding(program):
    from bpdiff.render.json import render, to_dict

    result = bpdiff.differentiate(program, a=7, b=3)
    assert json.loads(render(result)) == json.loads(json.dumps(to_dict(result)))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(coherent_programs(), st.lists(st.sampled_from(
    [0.0, -0.0, 1.0, -2.0, 0.5, 3.25, 1e-300, 1e300, 2.0**53, -2.0**60, 1e16, 7.0]),
    min_size=5, max_size=5))
def test_fast_json_text_and_labels_equal_the_plain_ones(program, numbers):
    """The column-wise writers (JSON node list, all_labels) against the plain per-node
    ones, text for text: an integral float must print as an int either way."""
    from bpdiff.render.json import render, to_dict
    from bpdiff.language.labels import all_labels, label

    values = dict(zip("abcxy", numbers))
    try:
        result = bpdiff.differentiate(program, {k: v for k, v in values.items()
                                                if k in program})
    except bpdiff.BpdiffError:
        return
    graph = result.graph
    assert all_labels(graph) == [label(graph, node) for node in range(len(graph))]
    assert render(result) == json.dumps(to_dict(result), ensure_ascii=False) + "\n"


@pytest.mark.parametrize("chunk", [1, 2, 7, 1000])
@pytest.mark.parametrize("program", [
    "t = a*b; " + " + ".join(f"sin(a*{k}) * t" for k in range(40)),
    "def f(x, y) = x*y + sin(x); def g(u) = f(u, u) / 2; " + " + ".join(
        f"g(a*{k}) * f(b, {k})" for k in range(20))])
def test_json_node_list_in_chunks_is_the_same_text(chunk, program):
    from bpdiff.render.json import _node_pieces, render, to_dict

    result = bpdiff.differentiate(program, a=0.5, b=-2)
    whole = "".join(_node_pieces(result, chunk=10**9))
    assert "".join(_node_pieces(result, chunk=chunk)) == whole
    assert json.loads(whole) == json.loads(json.dumps(to_dict(result)))["nodes"]
    assert render(result) == json.dumps(to_dict(result), ensure_ascii=False) + "\n"
