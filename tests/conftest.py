"""Shared test settings: a deterministic hypothesis profile for CI."""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100)
settings.load_profile("ci")


def run_main(*args):
    """bpdiff's main() in-process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from bpdiff.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as done:
            return done.code, out.getvalue(), err.getvalue()
    raise AssertionError("main() returned instead of exiting")


def check_golden(path, text):
    """Compare `text` with golden file `path` (a pathlib.Path), or (re)write it when
    BPDIFF_UPDATE_GOLDEN=1."""
    import os

    if os.environ.get("BPDIFF_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"no golden file {path}; create it with BPDIFF_UPDATE_GOLDEN=1"
    assert text == path.read_bytes().decode("utf-8")


def substitute_op(monkeypatch, op):
    """Put `op` (an altered Primitive) in the primitive table in place of the op of
    its name, everywhere a program or a call finds ops, for one test."""
    from bpdiff.engine import ops
    from bpdiff.language import notation

    old = ops.BY_NAME[op.name]
    monkeypatch.setitem(ops.BY_NAME, op.name, op)
    if op.name in ops.FUNCTIONS:
        monkeypatch.setitem(ops.FUNCTIONS, op.name, op)
    for spelling, found in notation.CALLABLE.items():
        if found is old:
            monkeypatch.setitem(notation.CALLABLE, spelling, op)
