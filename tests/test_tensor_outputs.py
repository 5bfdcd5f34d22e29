"""Tensor programs through the other outputs: --parse, --format, --only, pictures."""

import csv
import io
import json

from conftest import run_main

PROGRAM = "examples/tensor_two_layer.bp"


def test_parse_echo_reads_array_literals_back_as_written():
    code, out, err = run_main("-f", PROGRAM, "--parse")
    assert code == 0, err
    assert "W = [[0.5, -0.3], [0.2, 0.4]]   (input with a default)" in out
    assert "h = tanh((W @ x) + b)" in out


def test_markdown_table_has_the_shape_column():
    code, out, err = run_main("-f", PROGRAM, "--format", "markdown")
    assert code == 0, err
    header, rule, first = out.splitlines()[:3]
    assert header == "| id | label | op | inputs | shape | value | gradient |"
    assert first.count("|") == header.count("|")


def test_csv_gives_arrays_as_nested_lists_at_full_precision():
    code, out, err = run_main("-f", PROGRAM, "--format", "csv")
    assert code == 0, err
    rows = {row["label"]: row for row in csv.DictReader(io.StringIO(out))}
    _, json_out, _ = run_main("-f", PROGRAM, "--json")
    gradient = json.loads(json_out)["gradient"]["W"]
    assert json.loads(rows["W"]["gradient"]) == gradient


def test_latex_refuses_arrays_with_exit_2():
    code, out, err = run_main("-f", PROGRAM, "--format", "latex")
    assert code == 2 and out == ""
    assert "--format latex works on scalar programs" in err


def test_only_named_and_pictures_work_on_arrays():
    code, out, err = run_main("-f", PROGRAM, "--only", "named")
    assert code == 0, err
    assert [line.split()[1] for line in out.splitlines()[2:8]] == ["L", "y", "h", "ys", "a", "V"]
    code, out, err = run_main("-f", PROGRAM, "--dot")
    assert code == 0, err
    assert "W @ x" in out and "∂L/∂#7 @ xᵀ" in out


def test_html_report_shows_each_node_value_and_gradient_in_place(tmp_path):
    page = tmp_path / "report.html"
    code, out, err = run_main("-f", PROGRAM, "--html", str(page))
    assert code == 0, err
    text = page.read_text()
    _, json_out, _ = run_main("-f", PROGRAM, "--json")
    assert "[[-0.0363993, 0.0363993], [0.198312, -0.198312]]" in text  # ∂L/∂W, not a shape
    assert '<td class="num vv">[[0.5, -0.3], [0.2, 0.4]]</td>' in text
    assert "= —" not in text.split("<svg")[1].split("</svg>")[0]  # edges say what they add


def test_explain_and_pictures_print_shapes():
    args = ("h = relu(W @ x + b); L = sum(h)", "--W", "[[1,2],[3,4]]", "--x", "[1,-1]",
            "--b", "[1,3]")
    code, out, _ = run_main(*args, "--explain")
    assert code == 0
    assert "  #2 = W @ x = [[1, 2], [3, 4]] @ [1, -1] = [-1, -1]   shape (2,)" in out
    assert "  W = [[1, 2], [3, 4]]   (input)   shape (2,2)" in out
    code, out, _ = run_main(*args, "--tree")
    assert "#0 W  var  shape (2,2)  value [[1, 2], [3, 4]]  grad [[0, 0], [1, -1]]" in out
    code, out, _ = run_main(*args, "--mermaid")
    assert "x<br/>#1 var<br/>shape (2,)<br/>value [1, -1]<br/>grad [3, 4]" in out
    code, out, _ = run_main(*args, "--dot")
    assert '<TD ALIGN="LEFT">shape</TD><TD ALIGN="RIGHT">(2,2)</TD>' in out


def test_seed_style_implicit_product_of_a_matrix_warns_but_stays_elementwise():
    # the seeds write Wx for W @ x; on arrays an implicit product is elementwise (NumPy's
    # rule), so bpdiff computes it as written and says how to get the matrix product
    code, out, err = run_main("L = sum(tanh(W x + b))", "--W", "[[1,2],[3,4]]", "--x",
                              "[1,-1]", "--b", "[0,1]")
    assert code == 0
    assert "W * x is an elementwise product" in err and "write @" in err
    _, explicit, _ = run_main("L = sum(tanh(W * x + b))", "--W", "[[1,2],[3,4]]", "--x",
                              "[1,-1]", "--b", "[0,1]")
    assert out.splitlines()[-1] == explicit.splitlines()[-1]
    code, out, err = run_main("L = sum(W * x + 2x)", "--W", "[[1,2],[3,4]]", "--x", "[1,-1]")
    assert code == 0 and "elementwise product" not in err  # written *, or a number: no warning
