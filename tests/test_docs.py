"""The docs stay in step with the code: README's commands and function list."""

import re
from pathlib import Path

from bpdiff.engine.ops import function_list

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1).splitlines()
    assert README.index("```sh") < 100
    assert 'pip install . && bpdiff "(a+b)*b^3" --a 7 --b 3' in block[0]
    assert 'pip install ".[test]" && python -m pytest' in block[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "grep -m1 -F 'pip install \".[test]\"' README.md" in ci


def test_readme_lists_every_function():
    language = README.split("## The language")[1].split("## The command line")[0]
    table_rows = [line for line in language.splitlines() if line.startswith("|")]
    listed = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", " ".join(r.split("|")[1] for r in table_rows)))
    for name in re.findall(r"\w+", function_list()):
        assert name in listed, f"README's language table does not mention {name}"
