"""--format markdown|latex|csv, end to end through the CLI.

Oracles: Markdown is read back with markdown-it-py (GitHub tables) and must give exactly
the text table's cells, with no markup; CSV is read back with the csv module and must
give bpdiff's numbers bit for bit; LaTeX math is read back by SymPy's LaTeX parser and
must equal the bpdiff expression it came from, and every example compiles with pdflatex
(skipped when no TeX engine is installed; the source is checked structurally always).
Golden files in tests/golden/formats/ (BPDIFF_UPDATE_GOLDEN=1 rewrites them).
"""

import csv
import io
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import lark
import pytest
import sympy
from hypothesis import assume, example, given, settings, strategies as st

import bpdiff
from bpdiff.engine import exact
from bpdiff.language.parse import parse
from bpdiff.render import latex, markdown, sheets, table, texmath
from bpdiff.render.explain import explain_text, locals_rows
from bpdiff.render.gradients import symbolic_gradients
from conftest import check_golden, run_main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "formats"
EXAMPLES = ("dag", "advanced_u1_u4", "sigmoid_neuron", "gates_combined", "relu_max")
# Names Markdown and LaTeX could misread, a kink, a max tie and a sigmoid.
AWKWARD = ("x_ = 2; _y_ = 3; w__1 = 0.5; alpha = 1; z1 = -1\n"
           "loss_fn = relu(x_*_y_ - 6) + max(w__1, 0.5) * sigmoid(alpha)^2 / z1")


def cli(*args):
    code, out, err = run_main(*args)
    assert code == 0, err
    return out


def example_path(name):
    return str(ROOT / "examples" / f"{name}.bp")




# ---------------------------------------------------------------------------------------
# Golden files


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_golden_sheets(name, fmt):
    text = cli("-f", example_path(name), "--format", fmt)
    text += "\n" + cli("-f", example_path(name), "--format", fmt, "--explain", "--locals",
                       "--symbolic")
    check_golden(GOLDEN / f"{name}.{'md' if fmt == 'markdown' else 'tex'}", text)


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_csv(name):
    text = "".join(cli("-f", example_path(name), "--format", "csv", *extra)
                   for extra in ([], ["--locals"], ["--symbolic"]))
    check_golden(GOLDEN / f"{name}.csv", text)


def test_format_text_is_the_default():
    assert cli("(a+b)*b^3", "--a", "7", "--b", "3", "--format", "text") == \
        cli("(a+b)*b^3", "--a", "7", "--b", "3")


# ---------------------------------------------------------------------------------------
# Markdown


def markdown_tables(text):
    """Each GitHub table in `text` as rows of cell texts, read by markdown-it-py. Fails
    if a cell holds any markup (emphasis, links, HTML, code)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables, row, in_cell = [], None, False
    for token in tokens:
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            tables[-1].append(tuple(row))
        elif token.type in ("th_open", "td_open"):
            in_cell = True
        elif token.type in ("th_close", "td_close"):
            in_cell = False
        elif token.type == "inline" and in_cell:
            kinds = {child.type for child in token.children}
            assert kinds <= {"text"}, (token.content, kinds)
            row.append("".join(child.content for child in token.children))
    return tables


def markdown_paragraphs(text):
    """The plain text of each paragraph and list item, markup failing the test."""
    from markdown_it import MarkdownIt

    found = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.type == "inline":
            kinds = {child.type for child in token.children} - {"text", "softbreak"}
            assert kinds <= {"strong_open", "strong_close", "em_open", "em_close"}, kinds
            found.append("".join(c.content for c in token.children if c.type == "text"))
    return found


@pytest.mark.parametrize("program, values", [
    (AWKWARD, {}),
    ("(a+b)*b^3", {"a": 7, "b": 3}),
    ("max(a, b)*a*b*a - a", {"a": 1, "b": 1}),
])
def test_markdown_reads_back_as_the_text_table(program, values):
    result = bpdiff.differentiate(program, values, edges=True)
    values = [item for name, value in values.items() for item in (f"--{name}", str(value))]
    text = cli(program, *values, "--format", "markdown")
    (rows,) = markdown_tables(text)
    body, _ = table.rows(result, 6)
    assert rows[0] == table.COLUMNS and rows[1:] == body
    assert table.summary(result, 6) in markdown_paragraphs(text)
    (locals_,) = markdown_tables(cli(program, *values, "--format", "markdown", "--locals"))
    assert locals_[1:] == locals_rows(result, 6)


def test_markdown_explain_keeps_every_line_of_the_narration():
    text = cli("-f", example_path("advanced_u1_u4"), "--format", "markdown", "--explain")
    narration = explain_text(
        bpdiff.differentiate(Path(example_path("advanced_u1_u4")).read_text(), edges=True), 6)
    assert markdown_paragraphs(text) == [line.strip() for line in narration.splitlines()
                                         if line.strip()]
    assert "\n  - ∂u\\_4/∂u\\_2 = 2\\*u\\_2 = -4\n" in text  # nested under its node


def test_markdown_escapes_every_markup_character():
    awkward = "a*b_c|d`e[f]<g>~h\\i"
    assert markdown.escape(awkward) == "a\\*b\\_c\\|d\\`e\\[f\\]\\<g\\>\\~h\\\\i"
    (rows,) = markdown_tables(markdown.pipe_table(("x",), [(awkward,)], set()))
    assert rows == [("x",), (awkward,)]


# ---------------------------------------------------------------------------------------
# CSV


def csv_rows(text):
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_has_full_precision_numbers():
    program = "p = x*y; q = max(p, y) / 3 + log(x - 0.1); q * 0.1"
    result = bpdiff.differentiate(program, x=0.1, y=3)
    rows = csv_rows(cli(program, "--x", "0.1", "--y", "3", "--format", "csv"))
    assert tuple(rows[0]) == sheets.TABLE_CSV_COLUMNS
    assert len(rows) == len(result.graph) + 1
    for row in rows[1:]:
        record = dict(zip(rows[0], row))
        node = int(record["id"])
        assert record["op"] == result.node(node).op
        assert record["label"] == result.node(node).label
        assert record["inputs"] == " ".join(map(str, result.graph.inputs[node]))
        assert record["name"] == (result.graph.name_of.get(node) or "")
        value, grad = result.values[node], result.grads[node]
        assert float(record["value"]) == value or (value != value and record["value"] == "nan")
        assert (record["gradient"] == "") == (grad is None)
        if grad is not None:
            assert float(record["gradient"]) == grad or grad != grad
    by_id = {int(row[0]): row for row in rows[1:]}
    assert by_id[2][4:6] == ["p", "0.30000000000000004"]  # 0.1 * 3, every digit
    assert by_id[8][5:] == ["-inf", "0.1"]  # log(0): a number float() reads, not a string
    assert any(r[1] == "max(p, y)" for r in rows)  # a comma: quoted, read back whole


def test_csv_locals_and_symbolic():
    program = "(a+b)*b^3"
    result = bpdiff.differentiate(program, a=7, b=3, edges=True)
    rows = csv_rows(cli(program, "--a", "7", "--b", "3", "--format", "csv", "--locals"))
    assert tuple(rows[0]) == sheets.LOCALS_CSV_COLUMNS
    assert [(int(r[0]), int(r[1]), int(r[2]), float(r[6]), float(r[7]), float(r[8]))
            for r in rows[1:]] == [(e.source, e.node, e.position, e.local, e.upstream,
                                    e.contribution) for e in result.edges]
    rows = csv_rows(cli(program, "--a", "7", "--b", "3", "--format", "csv", "--symbolic"))
    assert rows == [list(sheets.SYMBOLIC_CSV_COLUMNS), ["a", "∂out/∂a", "b^3"],
                    ["b", "∂out/∂b", "(a + b)*(3*b^2) + b^3"]]


def test_csv_exact_columns():
    rows = csv_rows(cli("1/x^2", "--x", "2", "--exact", "--format", "csv"))
    assert rows[0][-2:] == ["value_exact", "gradient_exact"]
    x = next(r for r in rows if r[1] == "x")
    assert x[-2:] == ["2", "-1/4"] and Fraction(x[-1]) == Fraction(float(x[6]))


def test_csv_of_a_summarised_table_says_what_it_hides_on_stderr():
    program = "+".join(f"x*{k}" for k in range(150))
    code, out, err = run_main(program, "--x", "1", "--format", "csv", "--top", "5")
    assert code == 0
    rows = csv_rows(out)
    assert len(rows) == 1 + 1 + 1 + 5  # header, output, x, top 5
    assert "nodes hidden" in err and "--all" in err
    code, out, err = run_main(program, "--x", "1", "--format", "csv", "--all")
    assert len(csv_rows(out)) == 1 + len(bpdiff.differentiate(program, x=1).graph)
    assert err == ""


# ---------------------------------------------------------------------------------------
# LaTeX


def check_latex(text):
    """Structure every fragment must have: ASCII, balanced braces and environments,
    paired $, the same number of & in every row of a tabular."""
    assert text.isascii(), [c for c in text if not c.isascii()]
    bare = re.sub(r"\\[{}$&%#_]", "", text)
    depth = 0
    for c in bare:
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0
    assert depth == 0
    environments = []
    for kind, name in re.findall(r"\\(begin|end)\{([a-z*]+)\}", text):
        if kind == "begin":
            environments.append(name)
        else:
            assert environments.pop() == name
    assert not environments
    in_tabular, columns = False, None
    for line in bare.splitlines():
        assert line.count("$") % 2 == 0, line
        if line.startswith("\\begin{tabular}"):
            in_tabular, columns = True, len(re.search(r"\{([lr]+)\}", line)[1])
        elif line.startswith("\\end{tabular}"):
            in_tabular = False
        elif in_tabular and line.endswith("\\\\"):
            assert line.count("&") == columns - 1, line


def latex_document(body):
    return ("\\documentclass{article}\n\\usepackage{amsmath,booktabs}\n"
            "\\usepackage[margin=1cm]{geometry}\n\\begin{document}\n"
            + body + "\n\\end{document}\n")


def all_latex():
    """Every example and some awkward programs as LaTeX, each section separately."""
    cases = {name: (Path(example_path(name)).read_text(), {}) for name in EXAMPLES}
    cases.update({
        "awkward": (AWKWARD, {}),
        "nan and inf": ("log(x) + 1/y + sqrt(y)", {"x": 0, "y": 0}),
        "tiny": ("1e-9*x^(-2) + x_in_2", {"x": 3, "x_in_2": 1}),
    })
    for title, (program, values) in cases.items():
        result = bpdiff.differentiate(program, values, edges=True)
        gradients = symbolic_gradients(result)
        for section in ({}, {"explain": True}, {"locals_": True}, {"symbolic": gradients}):
            text, _ = sheets.sheet(result, "latex", 6, **section)
            yield f"{title} {sorted(section)}", text
    big = "+".join(f"x*{k}" for k in range(300))
    text, _ = sheets.sheet(bpdiff.differentiate(big, x=1), "latex", 6)
    yield "summary", text
    rational = bpdiff.differentiate("1/x^2 + exp(x)", {"x": 2}, exact=True)
    yield "exact", sheets.sheet(rational, "latex", 6)[0]


def test_latex_structure():
    for title, text in all_latex():
        try:
            check_latex(text)
        except AssertionError:
            print(title)
            raise
        assert text.startswith(latex.PREAMBLE)


@pytest.mark.skipif(not (shutil.which("pdflatex") or shutil.which("lualatex")),
                    reason="no LaTeX engine (apt-get install texlive-latex-base"
                           " texlive-latex-recommended)")
def test_latex_compiles(tmp_path):
    engine = shutil.which("pdflatex") or shutil.which("lualatex")
    body = "\n".join(f"\\section*{{{texmath.text(title)}}}\n{text}\n\\clearpage"
                     for title, text in all_latex())
    body += "\n" + cli("-f", example_path("dag"), "--format", "latex", "--explain")
    (tmp_path / "sheet.tex").write_text(latex_document(body), encoding="ascii")
    done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"],
                          cwd=tmp_path, capture_output=True, timeout=300, check=False)
    log = (tmp_path / "sheet.log").read_text(errors="replace")
    assert done.returncode == 0, "\n".join(line for line in log.splitlines()
                                           if line.startswith("!") or "l." in line)
    assert (tmp_path / "sheet.pdf").stat().st_size > 1000
    assert "Undefined control sequence" not in log


def test_latex_partial_derivatives_and_names():
    text = cli("-f", example_path("advanced_u1_u4"), "--format", "latex", "--explain")
    assert "\\frac{\\partial y}{\\partial u_{2}} &= \\frac{\\partial y}{\\partial u_{3}}" in text
    assert "&= (4)(-5) + (10)(-4)" in text and "&= -20 + -40 = -60" in text
    assert "\\frac{\\partial u_{4}}{\\partial u_{2}} &= 2 \\cdot u_{2} = -4" in text
    assert "\\begin{align*}" in text and "\\intertext{$u_{2}$, used by $u_{3}$ and $u_{4}$:}" \
        in text


@pytest.mark.parametrize("identifier, expected", [
    ("x", "x"), ("x1", "x_{1}"), ("x_1", "x_{1}"), ("w_12", "w_{12}"),
    ("w_in", "w_{\\mathit{in}}"), ("alpha", "\\alpha"), ("alpha_2", "\\alpha_{2}"),
    ("Omega", "\\Omega"), ("loss", "\\mathit{loss}"), ("loss_fn", "\\mathit{loss}_{\\mathit{fn}}"),
    ("_a_", "\\mathit{\\_a\\_}"), ("w__1", "\\mathit{w\\_\\_1}"), ("out", "\\mathit{out}"),
])
def test_latex_names(identifier, expected):
    assert texmath.name(identifier) == expected


@pytest.mark.parametrize("source, expected", [
    ("#2 * #4", "\\#2 \\cdot \\#4"),
    ("1/(2*sqrt(a))", "\\frac{1}{2 \\cdot \\sqrt{a}}"),
    ("sigmoid(x)*(1 - sigmoid(x))", "\\sigma(x) \\cdot (1 - \\sigma(x))"),
    ("abs(x) + relu(y) + max(a, b)",
     "\\left\\lvert x \\right\\rvert + \\operatorname{relu}(y) + \\max(a, b)"),
    ("exp(x/2)", "\\exp\\left(\\frac{x}{2}\\right)"),
    ("x^(-1)", "x^{-1}"), ("(a^b)^c", "(a^{b})^{c}"), ("2^3^2", "2^{3^{2}}"),
    ("-x^2", "-x^{2}"), ("a - -b", "a - (-b)"), ("-(-x)", "-(-x)"),
    ("1.5e-7*x", "1.5 \\times 10^{-7} \\cdot x"), ("a·b ÷ c − d", "\\frac{a \\cdot b}{c} - d"),
    ("not an expression (", "\\text{not an expression (}"),
])
def test_latex_math(source, expected):
    assert texmath.math(source) == expected


@pytest.mark.parametrize("formatted, expected", [
    ("270", "270"), ("-0.25", "-0.25"), ("1e-7", "1 \\times 10^{-7}"),
    ("-2.5e+12", "-2.5 \\times 10^{12}"), ("nan", "\\mathrm{NaN}"), ("-inf", "-\\infty"),
    ("—", "\\text{---}"), ("-1/4", "-\\frac{1}{4}"), ("≈0.333333", "\\approx 0.333333"),
])
def test_latex_numbers(formatted, expected):
    assert texmath.number(formatted) == expected


def test_latex_text_escapes():
    assert texmath.text("a_b ^ #1 & 50% $x {y} ~ \\") == (
        "a\\_b \\^{} \\#1 \\& 50\\% \\$x \\{y\\} \\~{} \\textbackslash{}")
    assert texmath.text("∂/∂a ≥ 0 → x · σ … ✓") == (
        "\\ensuremath{\\partial}/\\ensuremath{\\partial}a \\ensuremath{\\geq} 0"
        " \\ensuremath{\\to} x \\ensuremath{\\cdot} \\ensuremath{\\sigma} \\ldots{}"
        " \\ensuremath{\\checkmark}")
    assert texmath.text("日") == "[U+65E5]"
    assert texmath.text("--all, ---") == "-{}-all, -{}-{}-"


# SymPy reads the LaTeX back: the printed math must mean what the bpdiff text meant.

def _arithmetic(atoms):
    """bpdiff arithmetic text: + - * / ^ and negation, operands often parenthesised."""
    def extend(inner):
        operand = st.one_of(inner, inner.map(lambda e: f"({e})"))
        binary = st.tuples(operand, st.sampled_from(["+", "-", "*", "/"]), operand).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}")
        power = st.tuples(operand, st.sampled_from(["2", "3", "(-1)", "(-2)", "0"])).map(
            lambda t: f"{t[0]}^{t[1]}")
        negation = operand.map(lambda e: f"-{e}")
        return st.one_of(binary, binary, power, negation)
    return st.recursive(atoms, extend, max_leaves=8)


def _sympy_latex():
    try:
        from sympy.parsing.latex import parse_latex_lark
    except ImportError:  # SymPy before 1.13
        return None
    return parse_latex_lark


@pytest.mark.skipif(_sympy_latex() is None, reason="SymPy has no Lark LaTeX parser")
@settings(max_examples=60, deadline=None)  # SymPy's Earley parser is slow
@given(_arithmetic(st.sampled_from(["a", "b", "c", "2", "3"])))
@example("a - (b - c)")
@example("a / (b / c)")
@example("a / (b * c)")
@example("(a + b) * (a - c)")
@example("-(a + b)^2")
@example("(-a)^3")
@example("2^3^2")
@example("(2^3)^2")
@example("a - -b")
@example("a^(-2) / -(b - c)")
def test_latex_math_means_the_same_as_the_bpdiff_text(source):
    try:
        parse(source)
    except bpdiff.BpdiffError:
        assume(False)  # e.g. `a--b`: not bpdiff syntax
    point = {sympy.Symbol("a"): sympy.Rational(2, 3), sympy.Symbol("b"): sympy.Rational(5, 7),
             sympy.Symbol("c"): sympy.Rational(3, 11)}
    expected = sympy.sympify(source.replace("^", "**"), rational=True).subs(point)
    printed = texmath.math(source)
    read = _sympy_latex()(printed)
    assert not isinstance(read, lark.Tree), (source, printed)  # read one way only
    assume(expected.is_finite)  # not a division by zero
    assert read.subs(point) == expected, (source, printed)


# ---------------------------------------------------------------------------------------
# Usage


@pytest.mark.parametrize("extra, clash", [
    (["--format", "latex", "--json"], "--json"),
    (["--format", "markdown", "--dot"], "pictures"),
    (["--format", "csv", "--explain"], "--explain"),
    (["--format", "csv", "--locals", "--symbolic"], "--locals with --symbolic"),
    (["--format", "latex", "--expect", "a=27"], "--expect"),
    (["--format", "markdown", "--gradcheck"], "--gradcheck"),
    (["--format", "pdf"], "pdf"),
])
def test_usage_errors(extra, clash):
    code, out, err = run_main("(a+b)*b^3", "--a", "7", "--b", "3", *extra)
    assert code == 2 and out == "" and clash in err
