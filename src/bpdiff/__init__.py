"""bpdiff: see backpropagation at work.

    >>> import bpdiff
    >>> r = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    >>> r.value, r.gradient
    (270.0, {'a': 27.0, 'b': 297.0})
"""

__version__ = "1.0.0"

from .api import Node, Result, differentiate  # noqa: E402
from .errors import BpdiffError  # noqa: E402

__all__ = ["differentiate", "Result", "Node", "BpdiffError", "__version__"]
