"""Progress on stderr (bpdiff.progress) and --quiet: a long run on a terminal (a pty) shows
its phases with counts of nodes, then clears them; piped stderr gets nothing, and
--quiet silences progress, notes and warnings but not errors."""

import json
import os
import pty
import re
import subprocess
import sys

import pytest

from bpdiff.progress import Progress
from conftest import run_main


@pytest.fixture(scope="module")
def big_program(tmp_path_factory):
    """A program of 400,000 nodes: a few seconds from reading to writing."""
    lines = ["x0 = 0.5"] + [f"x{i} = sin(x{i - 1}) * 1.01 + x{i - 1}*0.5"
                            for i in range(1, 100_000)]
    path = tmp_path_factory.mktemp("progress") / "big.bp"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_on_terminal(args, stdout):
    """bpdiff in a subprocess whose stderr is a pseudo-terminal: (exit code, what it
    wrote to the terminal)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "bpdiff", *args], stdout=stdout,
                               stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    written = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        written += chunk
    os.close(master)
    return process.wait(timeout=120), written.decode("utf-8", "replace")


def test_a_long_run_shows_its_phases_on_a_terminal(big_program, tmp_path):
    out = tmp_path / "out.json"
    with open(out, "w") as stdout:
        code, shown = run_on_terminal(["-f", str(big_program), "--json"], stdout)
    assert code == 0
    shown_phases = re.findall(r"bpdiff: ([a-z]+)(?:: ([0-9,]+) (nodes|characters))?", shown)
    order = ["working", "reading", "parsing", "forward", "backward", "writing"]
    seen = [order.index(phase) for phase, _, _ in shown_phases]
    assert seen and seen == sorted(seen), shown[-800:]  # the phases, in their order
    nodes = f"{400_000 - 1:,}"
    assert {(count, unit) for phase, count, unit in shown_phases if phase in order[3:]} == {
        (nodes, "nodes")}  # which phases a run shows depends on the machine's speed
    assert shown.rstrip("\r\n").endswith("\x1b[2K")  # cleared at the end
    assert json.loads(out.read_text())["value"] is not None  # stdout is the JSON alone


def test_quiet_and_piped_stderr_show_no_progress(big_program, tmp_path):
    with open(tmp_path / "out.json", "w") as stdout:
        code, shown = run_on_terminal(["-f", str(big_program), "--json", "--quiet"], stdout)
    assert code == 0 and shown == ""
    done = subprocess.run([sys.executable, "-m", "bpdiff", "-f", str(big_program), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""


def test_a_short_run_shows_nothing_even_on_a_terminal(tmp_path):
    with open(tmp_path / "out.txt", "w") as stdout:
        code, shown = run_on_terminal(["(a+b)*b^3", "--a", "7", "--b", "3"], stdout)
    assert code == 0 and shown == ""


def test_quiet_silences_notes_and_warnings_but_not_errors():
    code, out, err = run_main("relu(x)", "--x", "0")
    assert code == 0 and "warning" in err
    quiet = run_main("relu(x)", "--x", "0", "--quiet")
    assert quiet == (0, out, "")
    code, out, err = run_main("relu(x", "--x", "0", "-q")
    assert code == 2 and out == "" and "^" in err
    code, out, err = run_main("a*b", "--a", "1", "--b", "2", "--expect", "a=5", "-q")
    assert code == 1 and "failed" in err


def test_the_display_follows_the_phases_and_stops_when_the_block_ends():
    progress = Progress(enabled=False)
    with progress:
        progress("forward", 1200)
        assert progress.phase == "forward: 1,200 nodes"
        progress("parsing", 3, "characters")
        assert progress.phase == "parsing: 3 characters"
    assert progress._display is None and progress._timer is None
