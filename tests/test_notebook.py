"""bpdiff in notebooks: the Result's displays and text methods, the %bpdiff magics, and a
real notebook run by nbclient on an IPython kernel (skipped, with the reason, where no
kernel can start). The browser half (the report inside the HTML display) is in
test_notebook_browser.py."""

import html
import json
import re
import subprocess
import sys

import pytest

import bpdiff
from bpdiff import api
from conftest import run_main

PROGRAM = "(a+b)*b^3"


@pytest.fixture
def result():
    return bpdiff.differentiate(PROGRAM, a=7, b=3)


def test_the_public_differentiate_returns_a_result_that_shows_itself(result):
    assert isinstance(result, bpdiff.Result) and isinstance(result, api.Result)
    assert (result.value, result.gradient) == (270.0, {"a": 27.0, "b": 297.0})
    assert repr(result) == "Result(value=270.0, gradient={'a': 27.0, 'b': 297.0})"
    import inspect
    assert "max_elements" in inspect.signature(bpdiff.differentiate).parameters


def test_text_methods_are_the_commands_outputs(result):
    assert result.table() == run_main(PROGRAM, "--a", "7", "--b", "3")[1]
    assert result.explain() == run_main(PROGRAM, "--a", "7", "--b", "3", "--explain")[1]
    assert result.to_json() == run_main(PROGRAM, "--a", "7", "--b", "3", "--json")[1]
    assert json.loads(result.to_json(explain=True, locals=True)) == json.loads(
        run_main(PROGRAM, "--a", "7", "--b", "3", "--json", "--explain", "--locals")[1])
    assert result.to_dot() == run_main(PROGRAM, "--a", "7", "--b", "3", "--dot")[1]
    assert result.recorded_edges is None  # the views that need edges ran the passes again


def test_show_prints_the_rich_table(result, capsys):
    result.show()
    out = capsys.readouterr().out
    assert "gradient" in out and "297" in out and "∂out/∂b = 297" in out


def test_html_display_has_the_table_and_the_report_in_a_sandboxed_frame(result):
    page = result._repr_html_()
    assert "<style" not in page.split("<iframe", 1)[0]  # nothing styles the notebook
    assert "<script" not in page.split("<iframe", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert cells[:6] == ["5", "#2 * #4", "mul", "#2, #4", "270", "1"]
    assert "∂out/∂a = 27, ∂out/∂b = 297" in page
    frame = re.search(r'<iframe([^>]*)srcdoc="([^"]*)"', page)
    assert 'sandbox="allow-scripts"' in frame[1]  # no allow-same-origin: its own origin
    inner = html.unescape(frame[2])
    assert inner.startswith("<!DOCTYPE html>") and 'id="bpdiff-data"' in inner


def test_html_escapes_the_programs_text():
    result = bpdiff.differentiate("x = 2; y = x*x  # <b>&\"", x=2)
    page = result._repr_html_()
    assert "<b>" not in page.split("<iframe", 1)[0] and "<b>" not in page.split("srcdoc")[1]


def test_markdown_and_latex_displays(result):
    markdown = result._repr_markdown_()
    assert markdown.startswith("| id | label | op |") and "| 5 | #2 \\* #4 | mul |" in markdown
    latex = result._repr_latex_()
    assert latex.startswith("$$\n\\begin{array}") and "\\begin{tabular}" not in latex
    assert "\\frac{\\partial \\mathit{out}}{\\partial b} = 297" in latex
    assert bpdiff.differentiate("sum(x*x)", x=[1.0, 2.0])._repr_latex_() is None


def test_big_graphs_show_a_summary():
    program = "x = 1\n" + "sin(" * 300 + "x" + ")" * 300
    result = bpdiff.differentiate(program)
    page = result._repr_html_()
    assert page.count("<tr>") < 60 and "nodes" in page


def test_load_ext_registers_both_magics():
    registered = []

    class Shell:
        def register_magic_function(self, function, kind, name):
            registered.append((kind, name, function))

    bpdiff.load_ipython_extension(Shell())
    assert [(kind, name) for kind, name, _ in registered] == [("line", "bpdiff"),
                                                              ("cell", "bpdiff")]


def test_magic_runs_the_command(capsys):
    from bpdiff.notebook import run_magic

    assert run_magic('"(a+b)*b^3" --a 7 --b 3') == 0
    out, err = capsys.readouterr()
    assert out == run_main(PROGRAM, "--a", "7", "--b", "3")[1] and err == ""
    assert run_magic("--a 7 --b 3 --json", "c = a + b\nL = c*b^3\n") == 0
    assert json.loads(capsys.readouterr().out)["gradient"] == {"a": 27, "b": 297}


def test_magic_errors_are_the_commands(capsys):
    from bpdiff.notebook import run_magic

    assert run_magic("--a 7", "(a+*b") == 2
    out, err = capsys.readouterr()
    assert out == "" and "^" in err and "Traceback" not in err
    assert run_magic('"a*b" --a 7 --b 3 --expect a=4') == 1
    assert "failed" in capsys.readouterr().err
    assert run_magic('"a*b') == 2 and "bpdiff: error:" in capsys.readouterr().err


def test_import_bpdiff_imports_neither_ipython_nor_the_notebook_module():
    done = subprocess.run([sys.executable, "-c", "import sys, bpdiff; bpdiff.differentiate('a*b',"
                           " a=1, b=2); print(sorted(m for m in ('IPython', 'nbclient', 'rich',"
                           " 'bpdiff.render.html', 'bpdiff.render.notebook') if m in sys.modules))"],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# ---- a real notebook -------------------------------------------------------------------

CELLS = [
    ("code", f"import bpdiff\nr = bpdiff.differentiate({PROGRAM!r}, a=7, b=3)\nr"),
    ("code", "print(r.table(), end='')"),
    ("code", "%load_ext bpdiff"),
    ("code", f'%bpdiff "{PROGRAM}" --a 7 --b 3'),
    ("code", "%%bpdiff --a 7 --b 3 --json\nc = a + b\nL = c*b^3"),
    ("code", "%bpdiff \"(a+*b)\" --a 1 --b 2"),
    ("code", "print('still running')"),
    ("code", "a = 100\n%bpdiff \"x*y\" --x $a --y 2 --json"),
    ("code", "%%bpdiff --a 1 --b 2 --json --quiet\n\\frac{a}{b}"),
]


def test_a_notebook_runs_under_nbclient(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for _, source in CELLS]
    path = tmp_path / "bpdiff.ipynb"
    nbformat.write(notebook, path)
    client = nbclient.NotebookClient(nbformat.read(path, as_version=4), timeout=120,
                                     kernel_name="python3", resources={"metadata": {
                                         "path": str(tmp_path)}})
    try:
        done = client.execute()
    except Exception as error:  # noqa: BLE001 - whatever stops a kernel from starting
        if client.kc is None or "kernel" in f"{type(error).__name__} {error}".lower():
            pytest.skip(f"no IPython kernel could start here: {type(error).__name__}: {error}")
        raise
    outputs = [cell.outputs for cell in done.cells]
    shown = outputs[0][0]["data"]
    assert {"text/html", "text/markdown", "text/latex", "text/plain"} <= set(shown)
    assert "<iframe" in shown["text/html"] and "srcdoc=" in shown["text/html"]
    assert shown["text/plain"] == "Result(value=270.0, gradient={'a': 27.0, 'b': 297.0})"
    table = run_main(PROGRAM, "--a", "7", "--b", "3")[1]
    assert outputs[1][0]["text"] == table
    assert outputs[3] == [{"output_type": "stream", "name": "stdout", "text": table}]
    assert json.loads(outputs[4][0]["text"])["gradient"] == {"a": 27, "b": 297}
    error = outputs[5]
    assert [o["output_type"] for o in error] == ["stream"] and error[0]["name"] == "stderr"
    assert "^" in error[0]["text"] and "Traceback" not in error[0]["text"]
    assert outputs[6][0]["text"] == "still running\n"
    assert json.loads(outputs[7][0]["text"])["value"] == 200  # the line is expanded
    assert json.loads(outputs[8][0]["text"])["value"] == 0.5  # the cell is not
    assert len(outputs[8]) == 1  # --quiet: no note on how the LaTeX was read


def test_html_display_says_what_the_command_warns_about():
    page = bpdiff.differentiate("relu(x) + log(y)", x=0, y=0)._repr_html_()
    head = page.split("<iframe", 1)[0]
    _, _, err = run_main("relu(x) + log(y)", "--x", "0", "--y", "0")
    warned = [line.removeprefix("bpdiff: warning: ") for line in err.splitlines()]
    assert warned and all(f"<p>warning: {html.escape(line)}</p>" in head for line in warned)
