"""Shell completion through click's mechanism, driven as the shells drive it: the
_BPDIFF_COMPLETE, COMP_WORDS and COMP_CWORD variables, in a subprocess of the installed
command (bash, zsh and fish instructions)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BPDIFF = shutil.which("bpdiff") or str(Path(sys.executable).with_name("bpdiff"))
NEURON = ROOT / "examples" / "sigmoid_neuron.bp"


def complete(words, shell="bash", cword=None, cwd=None):
    """(type, value) pairs bpdiff offers for the command line `words` (the last one
    being completed)."""
    line = ["bpdiff", *words]
    env = {**os.environ, "_BPDIFF_COMPLETE": f"{shell}_complete",
           "COMP_WORDS": " ".join(line),
           "COMP_CWORD": str(len(line) - 1) if cword is None else cword}
    done = subprocess.run([BPDIFF], env=env, capture_output=True, text=True, timeout=60,
                          cwd=cwd)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    if shell == "zsh":  # type, value, help: one per line
        lines = done.stdout.splitlines()
        return [(lines[k], lines[k + 1]) for k in range(0, len(lines), 3)]
    items = [line.split("\t")[0] for line in done.stdout.splitlines() if line]
    return [tuple(item.split(",", 1)) for item in items]


def values(items):
    return [value for _, value in items]


def test_options():
    assert values(complete(["--si"])) == ["--sig"]
    assert {"--expect", "--explain", "--exact"} <= set(values(complete(["--ex"])))


def test_choices():
    assert values(complete(["--format", ""])) == ["text", "markdown", "latex", "csv"]


@pytest.mark.parametrize("option", ["-f", "--file", "--vars", "--problems", "--lib",
                                    "--html", "--html-practice", "--render", "--answers"])
def test_file_options_complete_file_names(option):
    assert complete([option, "exam"]) == [("file", "exam")]


def test_function_names_at_the_end_of_the_program():
    assert values(complete(["sigmoid(w*x)+tan"])) == ["sigmoid(w*x)+tan", "sigmoid(w*x)+tanh"]
    assert "sig" not in values(complete(["sig"]))
    assert {"sigma", "sigmoid", "sign"} <= set(values(complete(["sig"])))


def test_function_names_defined_in_the_program_and_kink_policies():
    # a program with spaces is one quoted word for the shell
    assert "def sq(x) = x*x; sq(a) + sq" in values(complete(['"def sq(x) = x*x; sq(a) + s']))
    assert values(complete(["--kink", "j"])) == ["jax"]


def test_function_names_from_a_lib(tmp_path):
    lib = tmp_path / "gates.bp"
    lib.write_text("def gate_mul(a, b) = a*b\ndef gate_add(a, b) = a + b\n")
    assert values(complete(["--lib", str(lib), "gate_"])) == ["gate_add", "gate_mul"]


def test_the_programs_inputs_after_a_file():
    offered = values(complete(["-f", str(NEURON), "--"]))
    assert {"--w0", "--x0", "--w1", "--x1", "--w2"} <= set(offered)
    assert values(complete(["-f", str(NEURON), "--w"])) == ["--wrt", "--watch", "--w0", "--w1",
                                                             "--w2"]
    # inputs already given are not offered again; the --NAME VALUE pairs do not confuse click
    offered = values(complete(["-f", str(NEURON), "--w0", "2", "--x0=1", "--set", "w1=3",
                               "--"]))
    assert "--w0" not in offered and "--x0" not in offered and "--w1" not in offered
    assert "--x1" in offered and "--json" in offered


def test_the_programs_inputs_after_a_program_argument():
    assert "--b" in values(complete(["(a+b)*b^3", "--a", "7", "--"]))
    assert values(complete(["no(", "--"])) == values(complete(["--"]))  # does not parse


def test_zsh_and_fish():
    assert ("plain", "--sig") in complete(["--si"], shell="zsh")
    assert ("plain", "--sig") in complete(["--si"], shell="fish", cword="--si")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_source_scripts(shell):
    env = {**os.environ, "_BPDIFF_COMPLETE": f"{shell}_source"}
    done = subprocess.run([BPDIFF], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "_bpdiff_completion" in done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_registers_the_completion():
    script = 'eval "$(_BPDIFF_COMPLETE=bash_source bpdiff)" && complete -p bpdiff'
    env = {**os.environ, "PATH": f"{Path(BPDIFF).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "_bpdiff_completion" in done.stdout


def test_normal_start_does_not_load_completion():
    code = ("import sys; from bpdiff.cli import main\n"
            "try: main(['a*b', '--a', '1', '--b', '2'])\n"
            "except SystemExit: pass\n"
            "assert 'click.shell_completion' not in sys.modules\n"
            "assert 'bpdiff.render.completion' not in sys.modules\n"
            "assert 'bpdiff.render.help' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
