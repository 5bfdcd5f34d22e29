"""The files the command writes (--html, --html-practice, --render, --answers): a line on
stderr naming each and its size, --open for the pages (through $BROWSER, as the system
browser would be), and no table on stdout unless --table asks for it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpdiff.outputs import size_text
from conftest import run_main

BPDIFF = shutil.which("bpdiff") or str(Path(sys.executable).with_name("bpdiff"))
PROGRAM = ("(a+b)*b^3", "--a", "7", "--b", "3")


def test_html_says_where_and_how_big_and_prints_no_table(tmp_path):
    page = tmp_path / "report.html"
    code, out, err = run_main(*PROGRAM, "--html", str(page))
    assert code == 0 and out == ""
    size = -(-page.stat().st_size // 1024)
    assert err == f"bpdiff: wrote {page} ({size} KB)\n"


def test_table_asks_for_the_table_too(tmp_path):
    page = tmp_path / "p.html"
    code, out, err = run_main(*PROGRAM, "--html-practice", str(page), "--table")
    assert code == 0 and "out = 270" in out and f"wrote {page}" in err
    code, out, err = run_main(*PROGRAM, "--explain", "--table")
    assert "Forward pass" in out and "out = 270" in out
    code, out, err = run_main(*PROGRAM, "--json", "--table")
    assert code == 2 and out == "" and "--table goes with" in err


def test_json_beside_html_still_prints(tmp_path):
    code, out, err = run_main(*PROGRAM, "--json", "--html", str(tmp_path / "r.html"))
    assert code == 0 and out.startswith("{") and "wrote" in err


def test_answers_and_render_say_what_they_wrote(tmp_path):
    key = tmp_path / "key.toml"
    code, out, err = run_main("--quiz", "1", "--seed", "1", "--answers", str(key))
    assert code == 0 and "bpdiff quiz" in out and f"wrote {key} (" in err
    if shutil.which("dot"):
        picture = tmp_path / "g.svg"
        code, out, err = run_main(*PROGRAM, "--render", str(picture))
        assert code == 0 and out == "" and f"wrote {picture} (" in err


def test_open_goes_with_a_page():
    code, out, err = run_main(*PROGRAM, "--open")
    assert code == 2 and "--open goes with --html or --html-practice" in err


def _recorder(tmp_path):
    record = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{record}"\n')
    script.chmod(0o755)
    return f"{script} %s", record


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for the browser")
def test_open_starts_the_browser_on_the_page(tmp_path):
    browser, record = _recorder(tmp_path)
    env = {**os.environ, "BROWSER": browser}
    done = subprocess.run([BPDIFF, *PROGRAM, "--html", "r.html", "--html-practice", "p.html",
                           "--open"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert record.read_text().split() == [(tmp_path / "r.html").resolve().as_uri(),
                                          (tmp_path / "p.html").resolve().as_uri()]
    assert "wrote r.html (" in done.stderr and "wrote p.html (" in done.stderr


@pytest.mark.skipif(os.name != "posix", reason="a POSIX environment")
def test_open_without_a_browser_warns(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["BROWSER"] = str(tmp_path / "no-such-browser") + " %s"
    env["PATH"] = str(tmp_path)  # no xdg-open, no www-browser
    done = subprocess.run([sys.executable, "-m", "bpdiff", *PROGRAM, "--html", "r.html",
                           "--open"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert "no web browser could be started: open r.html yourself" in done.stderr


def test_sizes_read_as_people_read_them():
    assert [size_text(n) for n in (0, 1, 1023, 1024, 1025, 34 * 1024, 5 * 2**20)] == [
        "0 bytes", "1 byte", "1023 bytes", "1 KB", "2 KB", "34 KB", "5.0 MB"]
