"""Tensor mode against independent oracles."""

from conftest import run_main


def test_summarised_table_of_a_big_tensor_graph():
    # Over --max-nodes the table keeps the nodes with the largest |gradient|: with arrays
    # that ranking compared whole arrays and crashed with a traceback.
    program = "sum(" + "tanh(" * 250 + "x" + ")" * 251
    code, out, err = run_main(program, "--x", "[0.5, -0.5]")
    assert code == 0, err
    assert "nodes hidden" in out and "Traceback" not in err
