"""The Result: declared fields, and edges recorded in the one backward pass when asked."""

from fractions import Fraction

import pytest
from conftest import run_main

import bpdiff
import bpdiff.api
from bpdiff.api import EdgesNotRecorded, Result
from bpdiff.engine.autodiff import backward


def test_every_field_is_declared():
    result = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    assert list(Result.__slots__) == ["text", "graph", "inputs", "values", "grads", "math",
                                      "kink_policy", "nonfinite", "kinks", "exact",
                                      "recorded_edges", "seed", "seed_kind"]
    with pytest.raises(AttributeError):
        result.unknown = 1  # slots: nothing undeclared can be attached


def test_edges_not_asked_for_are_an_error_not_a_second_pass():
    result = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    with pytest.raises(EdgesNotRecorded, match="edges=True"):
        result.edges


def test_recorded_edges_are_those_of_the_backward_pass():
    result = bpdiff.differentiate("(a+b)*b^3", a=7, b=3, edges=True)
    record = []
    backward(result.graph, result.values, record=record)
    assert result.edges == record
    b = result.graph.variables["b"]
    assert sum(e.contribution for e in result.edges if e.source == b) == result.grads[b]


def test_exact_edges_are_the_exact_numbers_rounded():
    result = bpdiff.differentiate("1/x^2 + x/3", {"x": 2}, exact=True, edges=True)
    assert all(type(number) is float for e in result.edges
               for number in (e.local, e.upstream, e.contribution))
    x = result.graph.variables["x"]
    into_x = [e.contribution for e in result.edges if e.source == x]
    assert sum(into_x) == pytest.approx(result.grads[x])
    assert result.exact.grads[x] == Fraction(1, 12)


@pytest.mark.parametrize("options, records", [
    (["--json"], False), ([], False), (["--gradcheck"], False), (["--tree"], False),
    (["--json", "--locals"], True), (["--explain"], True), (["--dot"], True),
    (["--expect", "a=27"], True)])
def test_the_cli_records_edges_only_for_what_reads_them(monkeypatch, options, records):
    asked = []

    def spy(*args, record=None, **kwargs):
        asked.append(record is not None)
        return backward(*args, record=record, **kwargs)

    monkeypatch.setattr(bpdiff.api, "backward", spy)
    code, _, err = run_main("(a+b)*b^3", "--a", "7", "--b", "3", *options)
    assert code == 0, err
    assert asked == [records]


def test_a_program_without_inputs_has_the_seed_at_its_output():
    """∂out/∂out = 1 at the output in the table and JSON (as the HTML report shows it);
    the constants under it keep no gradient."""
    import json

    result = bpdiff.differentiate("2^3^2")
    output = result.graph.output
    assert result.grads[output] == 1
    assert all(g is None for node, g in enumerate(result.grads) if node != output)
    code, out, err = run_main("2^3^2", "--json")
    nodes = {node["id"]: node["grad"] for node in json.loads(out)["nodes"]}
    assert nodes == {3: 1, 2: None, 1: None, 0: None}
    code, out, err = run_main("2^3^2")
    assert out.splitlines()[2].split()[-1] == "1" and out.splitlines()[3].split()[-1] == "—"
    assert bpdiff.differentiate("2^3^2", exact=True).exact.grads[output] == 1
