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
