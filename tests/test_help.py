"""--help in sections with examples, --help-all and `bpdiff help TOPIC` (the README's own
sections), through the installed command."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from bpdiff.cli import command
from bpdiff.render import help as bpdiff_help
from conftest import run_main

ROOT = Path(__file__).resolve().parents[1]
BPDIFF = shutil.which("bpdiff") or str(Path(sys.executable).with_name("bpdiff"))


def test_every_option_has_a_section():
    missing = [param.opts for param in command.params if isinstance(param, click.Option)
               and bpdiff_help.section_of(param) is None]
    assert missing == [], "add these options to bpdiff.render.help.OPTION_SECTIONS"
    assert set(bpdiff_help.OPTION_SECTIONS.values()) <= set(bpdiff_help.SECTION_ORDER)
    every = {opt for param in command.params for opt in param.opts}
    stale = [key for key in bpdiff_help.OPTION_SECTIONS if key != "PROGRAM"
             and key not in every]
    assert stale == []


def test_help_is_in_sections_with_inputs_first():
    code, out, err = run_main("--help")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert "--NAME VALUE" in lines[0]
    assert any("--a 7 --b 3" in line for line in lines[:8])
    headings = [line[:-1] for line in lines if line and not line[0].isspace()
                and line.endswith(":")]
    assert headings == list(bpdiff_help.SECTION_ORDER)
    assert out.count("Examples:") == len(bpdiff_help.EXAMPLES)
    # each option sits in its own section
    section = None
    for line in lines:
        if line.endswith(":") and not line[0:1].isspace():
            section = line[:-1]
        elif line.startswith("  --sig "):
            assert section == "Check answers"
        elif line.startswith("  --quiz "):
            assert section == "Teaching"


def test_the_examples_run(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "BROWSER": "true %s"}  # --open: a browser that does nothing
    for section, examples in bpdiff_help.EXAMPLES.items():
        for example in examples:
            done = subprocess.run(example.replace("bpdiff ", shlex.quote(BPDIFF) + " ", 1)
                                  if not example.startswith("echo") else
                                  example.replace("| bpdiff", "| " + shlex.quote(BPDIFF)),
                                  shell=True, cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, (section, example, done.stderr)


@pytest.mark.parametrize("topic", list(bpdiff_help.TOPICS))
def test_help_topics_are_readme_sections(topic):
    code, out, err = run_main("help", topic)
    heading, _ = bpdiff_help.TOPICS[topic]
    assert code == 0 and out.startswith(heading + "\n"), err
    readme = (ROOT / "README.md").read_text("utf-8")
    assert out.strip() in readme  # the README's text, not a copy
    assert len(out.splitlines()) > 5


def test_help_without_a_topic_lists_them():
    code, out, err = run_main("help")
    assert code == 0 and all(topic in out for topic in bpdiff_help.TOPICS)


def test_unknown_topic_and_programs_named_help():
    code, out, err = run_main("help", "jsno")
    assert code == 2 and out == "" and "no help topic 'jsno'" in err and "json" in err
    code, out, err = run_main("help", "--set", "help=3")  # an input named help
    assert code == 0 and out.splitlines()[-1] == "help = 3;  ∂help/∂help = 1"
    code, out, err = run_main("help * 2", "--set", "help=3")
    assert code == 0 and "∂out/∂help = 2" in out
    code, out, err = run_main("help")  # the topics, not "no value for help"
    assert "Topics:" in out


def test_help_all_holds_every_topic():
    code, out, err = run_main("--help-all")
    assert code == 0 and out.startswith("Usage: bpdiff")
    for topic, (heading, _) in bpdiff_help.TOPICS.items():
        assert f"bpdiff help {topic}" in out and heading in out


def test_topics_come_from_the_installed_metadata_outside_the_tree(monkeypatch):
    """Installed from a wheel there is no README.md beside the package: the text is the
    distribution's description, the same README."""
    import importlib.metadata

    monkeypatch.setattr(bpdiff_help, "__file__", "/nonexistent/a/b/help.py")
    description = importlib.metadata.metadata("bpdiff").get_payload()
    assert bpdiff_help.readme_text() == description
    assert "### JSON" in description


def test_help_in_a_process_is_plain():
    done = subprocess.run([BPDIFF, "help", "kinks"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("### Conventions at kinks")
