"""bpdiff: see backpropagation at work.

    >>> import bpdiff
    >>> r = bpdiff.differentiate("(a+b)*b^3", a=7, b=3)
    >>> r.value, r.gradient
    (270.0, {'a': 27.0, 'b': 297.0})
"""

from bpdiff.api import EdgesNotRecorded, Node, Result, differentiate
from bpdiff.errors import BpdiffError
from bpdiff.version import __version__

__all__ = ["differentiate", "Result", "Node", "EdgesNotRecorded", "BpdiffError", "__version__"]
