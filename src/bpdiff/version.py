"""The version of bpdiff: written here only (pyproject.toml reads it)."""

__version__ = "1.0.0"
