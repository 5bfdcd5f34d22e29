"""bpdiff: see backpropagation at work.

    >>> import bpdiff
    >>> r = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    >>> r.value, r.gradient
    (270.0, {'a': 27.0, 'b': 297.0})
"""

from bpdiff.version import __version__

__all__ = ["differentiate", "Result", "Node", "EdgesNotRecorded", "BpdiffError", "__version__",
           "load_ipython_extension"]


def load_ipython_extension(ipython):
    """`%load_ext bpdiff` in IPython or Jupyter: registers the %bpdiff and %%bpdiff
    magics (see bpdiff.notebook)."""
    from bpdiff.notebook import load_ipython_extension as load

    load(ipython)


def __getattr__(name):
    """The API's names, imported on first use: the `bpdiff` command starts (and can be
    interrupted) before any of them is loaded."""
    if name == "differentiate":  # its Result shows itself in notebooks
        from bpdiff.notebook import differentiate

        return differentiate
    if name in ("Result", "Node", "EdgesNotRecorded"):
        from bpdiff import api

        return getattr(api, name)
    if name == "BpdiffError":
        from bpdiff.errors import BpdiffError

        return BpdiffError
    raise AttributeError(f"module 'bpdiff' has no attribute {name!r}")
