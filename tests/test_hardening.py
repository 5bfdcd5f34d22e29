"""Issue 15 (hardening), through the installed `bpdiff` command: output files written
whole or not at all and never over an input, broken and odd standard streams, Ctrl-C,
hostile input values, escape sequences in echoed text, LaTeX names, array-size bombs."""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest


def _bpdiff():
    """The installed `bpdiff` script beside this Python, else `python -m bpdiff`."""
    script = Path(sys.executable).with_name("bpdiff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]


def bpdiff(*args, input=None, env=None, cwd=None, timeout=120, encoding="utf-8"):
    """A real `bpdiff` process: (exit code, stdout, stderr)."""
    done = subprocess.run([*_bpdiff(), *map(str, args)], input=input, capture_output=True,
                          encoding=encoding, env={**os.environ, **(env or {})}, cwd=cwd,
                          timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def one_line_error(code, out, err, expected_code=2):
    """The error contract: the exit code, nothing on stdout, one line, no traceback."""
    assert code == expected_code, (code, err)
    assert out == ""
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def with_hook(tmp_path, source):
    """Environment that runs `source` in the bpdiff process at start (sitecustomize)."""
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(textwrap.dedent(source))
    return {"PYTHONPATH": str(hooks)}


# ---- 2. output files: written whole, or the old one kept -----------------------------

INTERRUPT_AT_RENAME = """
    import os
    _replace = os.replace

    def replace(source, target, *args, **kwargs):
        if str(target).endswith("out.file"):
            raise KeyboardInterrupt  # Ctrl-C with the new file complete, not yet in place
        return _replace(source, target, *args, **kwargs)

    os.replace = replace
"""


@pytest.mark.parametrize("args", [
    ["(a+b)*b^3", "--a", "7", "--b", "3", "--html"],
    ["(a+b)*b^3", "--a", "7", "--b", "3", "--html-practice"],
    ["--quiz", "2", "--seed", "1", "--answers"]], ids=["html", "practice", "answers"])
def test_interrupted_write_keeps_the_old_file_whole(tmp_path, args):
    target = tmp_path / "out.file"
    target.write_text("OLD REPORT")
    code, out, err = bpdiff(*args, target, env=with_hook(tmp_path, INTERRUPT_AT_RENAME))
    assert (code, err) == (130, "bpdiff: interrupted\n")
    assert target.read_text() == "OLD REPORT"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hooks", "out.file"]  # no temp


FAKE_DOT = """#!/bin/sh
# a Graphviz that writes half a picture, then fails (or draws, with DOT_OK=1)
out=""
while [ $# -gt 0 ]; do case "$1" in -o) shift; out="$1";; esac; shift; done
case "$out" in -*) echo "usage: dot [-Vv?] [-(GNE)name=val] <dot files>" >&2; exit 2;; esac
printf '<svg>half' > "$out"
[ -n "$DOT_OK" ] && { cat >> "$out"; exit 0; }
echo "Error: out of memory" >&2
exit 1
"""


def fake_dot(tmp_path):
    """PATH with a `dot` of FAKE_DOT first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "dot").write_text(FAKE_DOT)
    (bin_dir / "dot").chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_failed_render_keeps_the_old_picture(tmp_path):
    target = tmp_path / "graph.svg"
    target.write_text("OLD PICTURE")
    code, out, err = bpdiff("a*b", "--a", 1, "--b", 2, "--render", target,
                            env=fake_dot(tmp_path))
    assert "could not draw" in one_line_error(code, out, err) and "out of memory" in err
    assert target.read_text() == "OLD PICTURE"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "graph.svg"]


def test_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path):
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    old.write_text("OLD")
    old.chmod(0o640)
    code, _, err = bpdiff("a*b", "--a", 1, "--b", 2, "--html", old, "--html-practice", new)
    assert code == 0, err
    assert "<html" in old.read_text() and "<html" in new.read_text()
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask


def test_writes_through_a_symlink_and_to_dev_null(tmp_path):
    real = tmp_path / "real.html"
    real.write_text("OLD")
    (tmp_path / "link.html").symlink_to(real)
    code, _, err = bpdiff("a*b", "--a", 1, "--b", 2, "--html", tmp_path / "link.html",
                          "--html-practice", os.devnull)
    assert code == 0, err
    assert (tmp_path / "link.html").is_symlink() and "<html" in real.read_text()


# ---- 3. an output is never an input, nor another output ------------------------------

def test_output_over_the_program_file_is_refused(tmp_path):
    program = tmp_path / "prog.bp"
    program.write_text("a*b\n")
    code, out, err = bpdiff("-f", program, "--a", 1, "--b", 2, "--html", program)
    assert "-f" in one_line_error(code, out, err)
    assert program.read_text() == "a*b\n"


@pytest.mark.parametrize("case", ["vars", "lib", "problems", "expect", "hardlink",
                                  "symlink", "spelling", "two outputs"])
def test_output_that_is_an_input_or_another_output_is_refused(tmp_path, case):
    files = {"v.json": '{"a": 1}', "lib.bp": "def f(x) = x*x\n", "p.toml":
             '[[problem]]\nprogram = "a*2"\nvalues = {a = 1}\nexpect = {value = 2}\n'}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    os.link(tmp_path / "lib.bp", tmp_path / "hard.html")
    (tmp_path / "soft.html").symlink_to(tmp_path / "v.json")
    args = {"vars": ["a*2", "--vars", "v.json", "--html-practice", "v.json"],
            "lib": ["f(a)", "--a", "1", "--lib", "lib.bp", "--html", "lib.bp"],
            "problems": ["--problems", "p.toml", "--html", "p.toml"],
            "expect": ["a*2", "--a", "1", "--expect", "@v.json", "--html", "v.json"],
            "hardlink": ["f(a)", "--a", "1", "--lib", "lib.bp", "--html", "hard.html"],
            "symlink": ["a*2", "--vars", "v.json", "--html", "soft.html"],
            "spelling": ["a*2", "--vars", "./v.json", "--html",
                         f"{tmp_path}/../{tmp_path.name}/v.json"],
            "two outputs": ["a*2", "--a", "1", "--html", "x.html", "--html-practice", "./x.html"],
            }[case]
    code, out, err = bpdiff(*args, cwd=tmp_path)
    one_line_error(code, out, err)
    assert "would replace it" in err
    for name, text in files.items():
        assert (tmp_path / name).read_text() == text
    assert not (tmp_path / "x.html").exists()


def test_every_output_is_checked_before_any_is_written(tmp_path):
    code, out, err = bpdiff("a*b", "--a", 1, "--b", 2, "--html", "x.html", "--render",
                            "x.txt", cwd=tmp_path)
    assert ".svg, .png or .pdf" in one_line_error(code, out, err)
    code, out, err = bpdiff("a*b", "--a", 1, "--b", 2, "--html", "x.html", "--html-practice",
                            "no/such/dir/p.html", cwd=tmp_path)
    assert "no such directory" in one_line_error(code, out, err)
    assert list(tmp_path.iterdir()) == []


def test_render_to_a_name_starting_with_a_dash(tmp_path):
    env = {**fake_dot(tmp_path), "DOT_OK": "1"}
    code, out, err = bpdiff("a*b", "--a", 1, "--b", 2, "--render", "-x.svg", cwd=tmp_path,
                            env=env)
    assert code == 0, err
    assert (tmp_path / "-x.svg").read_text().startswith("<svg>half")


# ---- 5. standard streams and Ctrl-C ---------------------------------------------------

def shell(command, env=None, cwd=None):
    """`command` in bash, with `bpdiff` the installed command: (exit code, stdout, stderr)."""
    done = subprocess.run(["bash", "-c", command.replace("bpdiff", " ".join(_bpdiff()), 1)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("args", [["a*b", "--a", "1", "--b", "2"],
                                  ["a*b", "--a", "1", "--b", "2", "--json"],
                                  ["a*b", "--a", "1", "--b", "2", "--explain"]])
def test_stdout_on_a_full_disk(args):
    code, out, err = shell(f"bpdiff {' '.join(map(repr, args))} >/dev/full")
    assert code in (1, 2) and "Traceback" not in err, err
    assert err == "bpdiff: error: cannot write the output: No space left on device\n"


def test_program_from_a_closed_stdin():
    code, out, err = shell("bpdiff - --x 1 <&-")
    assert "standard input, which is closed" in one_line_error(code, out, err)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
@pytest.mark.parametrize("args", [
    ["sigmoid(a*b) + relu(a)", "--a", "0", "--b", "2"],
    ["sigmoid(a*b) + relu(a)", "--a", "0", "--b", "2", "--explain"],
    ["sigmoid(a*b) + relu(a)", "--a", "0", "--b", "2", "--locals", "--symbolic"],
    ["a*b", "--a", "1", "--b", "2", "--expect", "a=3", "--hessian"],
    ["a*b", "--a", "1", "--b", "2", "--exact", "--tree"],
    ["x^2", "--x", "3", "--format", "markdown", "--explain"],
    ["--quiz", "2", "--seed", "3"]], ids=lambda a: a[0] if isinstance(a, str) else
    " ".join(a)[-20:])
def test_narrow_encodings_get_ascii_spellings(encoding, args):
    code, out, err = bpdiff(*args, env={"PYTHONIOENCODING": encoding}, encoding=encoding)
    assert code in (0, 1) and "Traceback" not in err and "Error" not in err, err
    assert out and "\u2202" not in out  # ∂
    if not {"--tree", "--quiz"} & set(args):
        assert "dout/d" in out
    if encoding == "cp1252":
        assert "\u2192" not in out + err  # →, not in cp1252
    out.encode(encoding), err.encode(encoding)


def test_narrow_encoding_error_messages():
    code, out, err = bpdiff("x +", "--x", "1", env={"PYTHONIOENCODING": "ascii"})
    assert code == 2 and "Traceback" not in err and "^" in err


@pytest.mark.parametrize("columns", ["0", "3"])
def test_tiny_terminal_gets_the_plain_table(columns):
    script = subprocess.run(["bash", "-c", "command -v script"], capture_output=True,
                            text=True).stdout.strip()
    if not script:
        pytest.skip("no `script` to run bpdiff on a terminal")
    command_line = " ".join([*_bpdiff(), "'a*b'", "--a", "2", "--b", "3"])
    done = subprocess.run([script, "-qec", command_line, "/dev/null"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": columns,
                                          "TERM": "xterm-256color"}, timeout=120)
    assert done.returncode == 0
    lines = done.stdout.replace("\r", "").splitlines()
    assert lines[0].split() == ["id", "label", "op", "inputs", "value", "gradient"]
    assert "out = 6;" in done.stdout


def test_closed_pipe_exits_0_quietly(tmp_path):
    program = tmp_path / "long.bp"  # megabytes of JSON: the reader surely leaves first
    program.write_text("+".join(f"x*{i}" for i in range(20000)))
    code, out, err = shell(f'bpdiff -f {program} --x 1 --json | head -c 10;'
                           ' exit "${PIPESTATUS[0]}"')
    assert (code, out, err) == (0, '{"expressi', "")


INTERRUPT_AT_IMPORT = """
    import sys

    class Interrupt:
        def find_spec(self, name, path=None, target=None):
            if name == "bpdiff.cli":
                raise KeyboardInterrupt  # Ctrl-C while bpdiff is being imported
            return None

    sys.meta_path.insert(0, Interrupt())
"""


def test_ctrl_c_while_importing(tmp_path):
    code, out, err = bpdiff("x", "--x", "1", env=with_hook(tmp_path, INTERRUPT_AT_IMPORT))
    assert (code, out, err) == (130, "", "bpdiff: interrupted\n")


def test_ctrl_c_while_computing(tmp_path):
    program = tmp_path / "big.bp"
    program.write_text("+".join(f"sin(x*{k})" for k in range(200_000)))
    process = subprocess.Popen([*_bpdiff(), "-f", str(program), "--x", "1", "--html",
                                str(tmp_path / "r.html")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, out, err) == (130, "", "bpdiff: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bp"]


# ---- 7. input values ---------------------------------------------------------------

@pytest.mark.parametrize("depth", [70, 30_000])
def test_deeply_nested_array_value(depth):
    value = "[" * depth + "1" + "]" * depth
    code, out, err = bpdiff("sum(x)", "--x", value)
    assert "more than 64 dimensions" in one_line_error(code, out, err)


def test_deeply_nested_array_in_vars(tmp_path):
    (tmp_path / "v.json").write_text('{"x": ' + "[" * 70 + "1" + "]" * 70 + "}")
    code, out, err = bpdiff("sum(x)", "--vars", tmp_path / "v.json")
    assert "more than 64 dimensions" in one_line_error(code, out, err)


def test_sixty_four_dimensions_work():
    code, out, err = bpdiff("sum(x)", "--x", "[" * 64 + "2" + "]" * 64, "--json")
    assert code == 0, err
    assert json.loads(out)["value"] == 2


def test_expected_numbers_beyond_float_range(tmp_path):
    code, out, err = bpdiff("x", "--x", "1", "--expect", "x=1e400", "--expect",
                            "value=-1e400")
    assert code == 1 and "Traceback" not in err and "2 of 2 checks failed" in err
    code, out, err = bpdiff("x*1e300*1e10", "--x", "1", "--expect", "value=1e400")
    assert code == 0 and "Traceback" not in err  # inf as float() reads 1e400
    problems = tmp_path / "p.toml"
    problems.write_text('[[problem]]\nprogram = "x"\nvalues = {x = 1}\n'
                        'expect = {value = "1e400", x = "-1e999"}\n')
    code, out, err = bpdiff("--problems", problems)
    assert code == 1 and "Traceback" not in err and "0 of 1 problem" in out


@pytest.mark.parametrize("vector", ["nan,1", "1e400,1", "1,-inf"])
def test_hvp_refuses_non_finite_numbers(vector):
    code, out, err = bpdiff("x*y", "--x", "1", "--y", "2", "--hvp", vector)
    assert "is not a finite number" in one_line_error(code, out, err)


def test_problems_nested_too_deeply(tmp_path):
    problems = tmp_path / "p.toml"
    problems.write_text("x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n")
    code, out, err = bpdiff("--problems", problems)
    assert "nested too deeply" in one_line_error(code, out, err)


def test_problems_with_an_array_program(tmp_path):
    # graded element by element since issue 18 (it used to be refused)
    problems = tmp_path / "p.toml"
    problems.write_text('[[problem]]\nprogram = "x*2"\nvalues = {x = "[1, 2]"}\n'
                        "expect = {value = 3}\n")
    code, out, err = bpdiff("--problems", problems)
    assert code == 1 and "your out is a number, but out is an array of shape (2,)" in out
    problems.write_text('[[problem]]\nprogram = "x*2"\nvalues = {x = "[1, 2]"}\n'
                        "expect = {value = [2, 4]}\n")
    code, out, err = bpdiff("--problems", problems)
    assert code == 0, out + err


def test_negative_zero_keeps_its_sign():
    code, out, err = bpdiff("1/a", "--a", "-0.0", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert json.dumps(data["inputs"]) == '{"a": -0.0}' and data["value"] == "-inf"
    assert [n["value"] for n in data["nodes"] if n["op"] == "var"] == [-0.0]
    assert "-0.0" in json.dumps([n["value"] for n in data["nodes"] if n["op"] == "var"])


# ---- 9. escape sequences in echoed text ----------------------------------------------

TITLE = "\x1b]0;pwned\x07\x1b[31m"  # retitle the terminal, then red


def no_escapes(text):
    """Nothing a terminal would act on: no ESC, BEL, CSI or lone CR."""
    return not any(c in text for c in "\x1b\x07\x9b\r")


def test_comment_in_a_caret_line_is_escaped(tmp_path):
    program = tmp_path / "p.bp"
    program.write_text(f"a + ) # {TITLE}\n", encoding="utf-8")
    code, out, err = bpdiff("-f", program, "--a", "1")
    assert code == 2 and out == "" and no_escapes(err)
    lines = err.splitlines()
    assert "\\x1b]0;pwned\\x07" in err
    caret_line = next(line for line in lines if line.strip() == "^")
    source_line = lines[lines.index(caret_line) - 1]
    assert source_line[caret_line.index("^")] == ")"


def test_a_caret_after_escaped_characters_stays_under_its_column(tmp_path):
    program = tmp_path / "p.bp"
    program.write_text(f"# {TITLE}\na + \x1b )\n", encoding="utf-8")
    code, out, err = bpdiff("-f", program, "--a", "1")
    assert code == 2 and no_escapes(err), err


def test_vars_keys_and_file_names_are_escaped(tmp_path):
    (tmp_path / "v.json").write_text(json.dumps({TITLE: 1}))
    code, out, err = bpdiff("a", "--a", "1", "--vars", tmp_path / "v.json")
    assert code == 2 and no_escapes(err) and "\\x1b" in err
    code, out, err = bpdiff("-f", tmp_path / f"{TITLE}.bp")
    assert "no such file" in one_line_error(code, out, err) and no_escapes(err)


def test_a_huge_name_is_shortened(tmp_path):
    (tmp_path / "v.json").write_text(json.dumps({"b" * 1_000_000: 1}))
    code, out, err = bpdiff("a", "--a", "1", "--vars", tmp_path / "v.json")
    assert code == 2 and " characters)…" in err and len(err) < 5000


def test_problem_names_are_escaped_and_shortened(tmp_path):
    problems = tmp_path / "p.toml"
    names = [TITLE, "n" * 1_000_000]
    problems.write_text("".join(
        f'[[problem]]\nname = {json.dumps(name)}\nprogram = "a*2"\nvalues = {{a = 1}}\n'
        "expect = {value = 3}\n" for name in names))
    code, out, err = bpdiff("--problems", problems)
    assert code == 1 and no_escapes(out + err)
    assert "\\x1b]0;pwned" in out and len(out) < 5000 and len(err) < 5000
    code, out, err = bpdiff("--problems", problems, "--json")
    assert code == 1 and json.loads(out)["problems"][0]["name"] == TITLE  # JSON: as given


# ---- 10. LaTeX names; --render to a name starting with '-' (above) -------------------

@pytest.mark.parametrize("extra", [[], ["--explain"], ["--locals"], ["--symbolic"]])
def test_latex_keeps_names_inf_and_nan_names(extra):
    code, out, err = bpdiff("inf*nan + x", "--inf", "2", "--nan", "3", "--x", "1",
                            "--format", "latex", *extra)
    assert code == 0, err
    assert "\\infty" not in out and "NaN" not in out and "\\mathit{inf}" in out
    code, out, err = bpdiff("x*1e400", "--x", "1", "--format", "latex")
    assert code == 0 and "\\infty" in out  # the number inf is still ∞


def test_latex_escapes_specials_in_names():
    program = "def my_f(x_) = x_*x_; _a_1 = my_f(a_b_c); q__ = _a_1 + relu(a_b_c)"
    for extra in ([], ["--explain"], ["--locals"], ["--symbolic"]):
        code, out, err = bpdiff(program, "--a_b_c", "1", "--format", "latex", *extra)
        assert code == 0, err
        body = out.split("\n", 1)[1]  # after the % comment line
        for line in body.splitlines():
            stripped = line.replace("\\_", "").replace("\\#", "").replace("\\%", "")
            assert "#" not in stripped and "%" not in stripped, line
            assert all(part.startswith("{") for part in stripped.split("_")[1:]), line


# ---- 6. array sizes, estimated before computing ----------------------------------------

def test_sizes_of_elementwise_matmul_and_reductions():
    from bpdiff.engine.sizes import result_elements, result_shape

    assert result_shape("mul", [(100_000, 1), (1, 100_000)]) == (100_000, 100_000)
    assert result_elements("add", [(3, 1, 5), (4, 1), ()]) == 60
    assert result_shape("matmul", [(7, 3), (3, 2)]) == (7, 2)
    assert result_shape("matmul", [(3,), (3, 2)]) == (2,)
    assert result_shape("matmul", [(7, 3), (3,)]) == (7,)
    assert result_shape("matmul", [(3,), (3,)]) == ()
    assert result_shape("transpose", [(3, 1)]) == (1, 3)
    assert result_elements("sum", [(10, 10)]) == 100  # at most its operand
    assert result_elements("exp", [()]) == 1


def _operands(shapes):
    import numpy as np

    return [np.linspace(0.1, 0.9, int(np.prod(s))).reshape(s) for s in shapes]


@pytest.mark.parametrize("name", ["add", "mul", "div", "pow", "max", "sin", "tanh",
                                  "sigmoid", "matmul", "transpose", "sum", "mean", "softmax",
                                  "logsumexp", "log_softmax", "norm", "norm2", "dot"])
def test_sizes_bound_what_numpy_makes(name):
    """For every pair of small shapes an op accepts, the estimate is at least the size
    NumPy gives (and equal for elementwise ops, @ and transpose)."""
    import itertools

    from bpdiff.engine import tensor
    from bpdiff.engine.ops import BY_NAME
    from bpdiff.engine.sizes import result_elements

    op = BY_NAME[name]
    shapes = [(), (1,), (3,), (2, 1), (1, 3), (2, 3), (3, 2), (4, 1, 3)]
    tried = 0
    for combination in itertools.product(shapes, repeat=op.arity):
        try:
            with tensor.quiet():
                made = tensor.asarray(op.forward(tensor, *_operands(combination)))
        except ValueError:
            continue
        tried += 1
        estimate = result_elements(name, combination)
        assert made.size <= estimate, (combination, made.shape)
        if name in ("add", "mul", "div", "pow", "max", "sin", "tanh", "sigmoid", "matmul",
                    "transpose"):
            assert made.size == estimate, (combination, made.shape)
    assert tried


def test_an_array_too_big_is_refused_with_its_shape(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"x": [[1.0]] * 100_000}))
    started = time.monotonic()
    code, out, err = bpdiff("sum(x * transpose(x))", "--vars", tmp_path / "x.json")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "shape (100000,100000), 10,000,000,000 numbers" in err and "--max-elements" in err
    assert time.monotonic() - started < 60


def test_max_elements_option():
    args = ["sum(x * y)", "--x", "[[1], [2]]", "--y", "[1, 2, 3]"]
    code, out, err = bpdiff(*args, "--max-elements", "5")
    assert "shape (2,3), 6 numbers" in one_line_error(code, out, err)
    code, out, err = bpdiff(*args, "--max-elements", "6", "--json")
    assert code == 0 and json.loads(out)["value"] == 18


@pytest.mark.parametrize("option", [["--gradcheck"], ["--html", "r.html"]])
def test_work_limits_count_array_elements(tmp_path, option):
    x = json.dumps([[0.001]] * 3000)
    code, out, err = bpdiff("sum(tanh(x * x.T))", "--x", x, *option, cwd=tmp_path,
                            timeout=300)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "--force" in err and not (tmp_path / "r.html").exists()


# ---- 8. keyword arguments to a def ----------------------------------------------------

@pytest.mark.parametrize("program, value", [
    ("def f(x) = x*x; f(x=3)", 9),
    ("def f(x, y) = x - y; f(y=2, x=3)", 1),
    ("def f(x, y) = x - y; f(5, y=a)", 3),
])
def test_keyword_arguments_to_a_def(program, value):
    code, out, err = bpdiff(program, "--a", "2", "--json") if "a)" in program else \
        bpdiff(program, "--json")
    assert code == 0, err
    assert json.loads(out)["value"] == value


@pytest.mark.parametrize("program, message, column", [
    ("def f(x, y) = x*y; f(z=2, x=3)", "f(x, y) has no parameter 'z'", 22),
    ("def f(x, y) = x*y; f(y=2)", "f(x, y) takes 2 arguments; 'x' is missing", 20),
    ("def f(x, y) = x*y; f(x=2, 3)", "a keyword argument must come after the positional", 22),
    ("def f(x, y) = x*y; f(2, x=3)", "f() gets 'x' twice", 25),
])
def test_bad_keyword_arguments_to_a_def_get_a_caret(program, message, column):
    code, out, err = bpdiff(program)
    assert code == 2 and out == ""
    assert f"line 1, column {column}: {message}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
def test_help_in_a_narrow_encoding(encoding):
    """Found by the 20,000-input fuzz run: click's own echo turned an ASCII stdout into
    UTF-8 for --help."""
    done = subprocess.run([*_bpdiff(), "--help"], capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONIOENCODING": encoding})
    assert done.returncode == 0
    done.stdout.decode(encoding)  # strict: every byte in the stream's encoding
    assert b"Usage:" in done.stdout
