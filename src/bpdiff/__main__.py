"""`python -m bpdiff`: the same as the `bpdiff` command."""

from bpdiff.cli import main

main()
