"""`python -m bpdiff`: the same as the `bpdiff` command."""

from .cli import main

main()
