"""--crosscheck: without PyTorch or JAX it says so and exits 2 (always tested, by blocking
the imports); with them (tests skip where they are not installed) the seed examples and
random programs agree with bpdiff, kinks are compared under the framework's own policy,
and a disagreement exits 1."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from conftest import run_main
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hessian import mixed_programs
from test_random_expressions import programs, values

import bpdiff
from bpdiff.analyses import crosscheck as cc
from bpdiff.engine import ops
from bpdiff.errors import BpdiffError

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "examples").glob("*.bp"))
SCALAR_SEEDS = [p for p in SEEDS if not bpdiff.differentiate(p.read_text()).tensor]
TENSOR_SEEDS = [p for p in SEEDS if p not in SCALAR_SEEDS]
SCHEMA = json.loads((Path(bpdiff.__file__).parent / "schema" / "result.schema.json")
                    .read_text())
KINKED = [("relu(x)", {"x": 0}), ("abs(x)", {"x": 0}), ("sqrt(x)", {"x": 0}),
          ("max(x, y)", {"x": 1, "y": 1}), ("min(x, y)", {"x": 1, "y": 1}),
          ("step(x)", {"x": 0}), ("sign(x)", {"x": 0}), ("arcsin(x)", {"x": 1}),
          ("arccos(x)", {"x": -1}),
          ("relu(x)*y + abs(x - y) + max(x, y)^2", {"x": 0, "y": 0})]


# ---- no framework ---------------------------------------------------------------------

@pytest.fixture
def no_frameworks(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    monkeypatch.setitem(sys.modules, "jax", None)


def test_without_a_framework_the_cli_says_so_and_exits_2(no_frameworks):
    code, out, err = run_main("(a+b)*b^3", "--a", "7", "--b", "3", "--crosscheck")
    assert (code, out) == (2, "")
    assert "--crosscheck needs PyTorch or JAX, and neither can be imported" in err
    assert "Traceback" not in err
    code, out, _ = run_main("(a+b)*b^3", "--a", "7", "--b", "3", "--crosscheck", "--json")
    assert (code, out) == (2, "")


def test_without_a_framework_the_api_raises(no_frameworks):
    r = bpdiff.differentiate("x*y", x=1, y=2)
    with pytest.raises(BpdiffError) as error:
        cc.crosscheck(r)
    assert error.value.exit_code == 2


def test_bad_tolerance_is_an_error():
    code, out, err = run_main("x", "--x", "1", "--crosscheck", "--crosscheck-tol", "-1")
    assert (code, out) == (2, "") and "--crosscheck-tol" in err


# ---- no second table of operations ----------------------------------------------------

class _Anything:
    """Stands in for a framework module: every attribute exists."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self


class _Recorder:
    def __init__(self):
        self.used = set()

    def __getattr__(self, name):
        self.used.add(name)
        return lambda *args: 1.0


def test_the_namespaces_cover_every_function_the_forward_rules_use():
    recorder = _Recorder()
    for prim in ops.SCALAR_PRIMITIVES:  # tensor programs refuse --crosscheck
        prim.forward(recorder, *[1.0] * prim.arity)
    assert recorder.used  # the recorder sees the rules' m.* calls
    assert recorder.used <= set(vars(cc.torch_namespace(_Anything())))
    assert recorder.used <= set(vars(cc.jax_namespace(_Anything())))


@pytest.mark.parametrize("a, b, error", [(1.0, 1.0, 0.0), (0.0, 0.0, 0.0),
                                         (float("nan"), float("nan"), 0.0),
                                         (float("inf"), float("inf"), 0.0),
                                         (float("inf"), 1.0, float("inf")),
                                         (float("nan"), 1.0, float("inf")),
                                         (2.0, 1.0, 0.5), (-1.0, 1.0, 2.0)])
def test_relative_error(a, b, error):
    assert cc.relative_error(a, b) == error


# ---- PyTorch --------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("path", SCALAR_SEEDS, ids=[p.stem for p in SCALAR_SEEDS])
def test_torch_agrees_on_every_seed_example(path):
    _torch()
    check = cc.crosscheck(bpdiff.differentiate(path.read_text()), backends=("torch",))
    assert check.backend == "torch" and check.passed, check
    assert len(check.rows) >= 2  # the value and at least one gradient


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(program=st.one_of(programs(), mixed_programs()), data=st.data())
def test_torch_agrees_on_random_programs(program, data):
    _torch()
    text, _, declared, _ = program
    point = {n: data.draw(values, label=n) for n in sorted(declared)}
    check = cc.crosscheck(bpdiff.differentiate(text, point), backends=("torch",))
    assert check.passed, (text, point, check)


@pytest.mark.parametrize("text, point", KINKED)
@pytest.mark.parametrize("policy", ["pytorch", "jax", "one", "half", "zero"])
def test_torch_agrees_at_kinks_under_its_own_policy(text, point, policy):
    _torch()
    r = bpdiff.differentiate(text, point, kink=policy)
    check = cc.crosscheck(r, backends=("torch",))
    assert check.passed and check.policy == "pytorch", check
    assert check.notes and "kink" in check.notes[0]
    if policy != "pytorch":
        assert "compared as --kink pytorch gives them" in check.notes[0]


def test_torch_cli_table_and_json():
    _torch()
    code, out, err = run_main("(a+b)*b^3", "--a", "7", "--b", "3", "--crosscheck")
    assert code == 0, err
    assert "quantity  bpdiff  torch  rel. error  status" in out
    assert "∂out/∂b      297    297           0  ok" in out
    assert "crosscheck with torch" in out and out.rstrip().endswith(": agree")
    code, out, _ = run_main("relu(x)*y", "--x", "0", "--y", "2", "--crosscheck", "--json",
                            "--kink", "one")
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    section = data["crosscheck"]
    assert section["backend"] == "torch" and section["passed"] and section["kink_policy"] == \
        "pytorch"
    assert [row["name"] for row in section["rows"]] == ["value", "x", "y"]
    assert data["gradient"] == {"x": 2, "y": 0}  # the run's own policy in the result


def test_torch_disagreement_exits_1(monkeypatch):
    torch = _torch()
    real = cc.torch_namespace

    def wrong(module):
        namespace = real(module)
        return SimpleNamespace(**{**vars(namespace), "sin": lambda a: torch.cos(
            a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64))})

    monkeypatch.setattr(cc, "torch_namespace", wrong)
    code, out, err = run_main("sin(x) + y", "--x", "0.5", "--y", "1", "--crosscheck")
    assert code == 1
    assert "FAIL" in out and "FAILED for value, x" in out
    assert "bpdiff: crosscheck failed for value, x" in err


def test_torch_deep_graph():
    _torch()
    depth = 20_000
    r = bpdiff.differentiate("sin(" * depth + "x" + ")" * depth, x=0.5)
    assert cc.crosscheck(r, backends=("torch",)).passed


# ---- JAX ------------------------------------------------------------------------------

def _jax():
    return pytest.importorskip("jax")


@pytest.mark.parametrize("path", SCALAR_SEEDS, ids=[p.stem for p in SCALAR_SEEDS])
def test_jax_agrees_on_every_seed_example(path):
    _jax()
    check = cc.crosscheck(bpdiff.differentiate(path.read_text()), backends=("jax",))
    assert check.backend == "jax" and check.passed, check


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(program=st.one_of(programs(), mixed_programs()), data=st.data())
def test_jax_agrees_on_random_programs(program, data):
    _jax()
    text, _, declared, _ = program
    point = {n: data.draw(values, label=n) for n in sorted(declared)}
    check = cc.crosscheck(bpdiff.differentiate(text, point), backends=("jax",))
    assert check.passed, (text, point, check)


@pytest.mark.parametrize("text, point", KINKED)
def test_jax_agrees_at_kinks_under_its_own_policy(text, point):
    _jax()
    check = cc.crosscheck(bpdiff.differentiate(text, point), backends=("jax",))
    assert check.passed and check.policy == "jax", check
    # abs is where JAX differs from PyTorch: abs'(0) = 1
    if text == "abs(x)":
        assert check.rows[1].other == 1.0 == check.rows[1].bpdiff


def test_torch_rich_table_for_a_terminal():
    _torch()
    from rich.console import Console

    from bpdiff.render.crosscheck import crosscheck_rich

    r = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    console = Console(width=100, record=True, color_system=None)
    for renderable in crosscheck_rich(r, cc.crosscheck(r, backends=("torch",))):
        console.print(renderable)
    text = console.export_text()
    assert "│ ∂out/∂b  │    297 │   297 │          0 │ ok     │" in text
    assert "agree" in text


@pytest.mark.parametrize("path", TENSOR_SEEDS, ids=[p.stem for p in TENSOR_SEEDS])
def test_an_array_program_is_refused_clearly(path):
    """With or without a framework installed: the API says what the CLI says."""
    assert TENSOR_SEEDS
    with pytest.raises(bpdiff.BpdiffError, match="scalar programs, not on arrays"):
        cc.crosscheck(bpdiff.differentiate(path.read_text()))
