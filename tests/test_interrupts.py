"""Ctrl-C in the middle of writing an output (--html, --answers, --render) and while the
progress display is up: exit 130, one line on stderr, no traceback, no half-written or
temporary file left, an old file kept whole. (test_hardening covers Ctrl-C at the
rename, while importing and while computing.)"""

import os
import signal
import subprocess
import sys
import time

import pytest

from test_hardening import bpdiff, with_hook

INTERRUPT_MID_WRITE = """
    import builtins
    _open = builtins.open

    class HalfWritten:
        def __init__(self, handle):
            self.handle = handle
        def write(self, text):
            self.handle.write(text[:len(text) // 2])
            self.handle.flush()
            raise KeyboardInterrupt  # Ctrl-C half-way through the file
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.handle.close()

    def open(file, mode="r", *args, **kwargs):
        handle = _open(file, mode, *args, **kwargs)
        if "w" in mode and str(file).endswith(".tmp"):
            return HalfWritten(handle)
        return handle

    builtins.open = open
"""


@pytest.mark.parametrize("old", [None, "OLD FILE"], ids=["new", "existing"])
@pytest.mark.parametrize("args", [
    ["(a+b)*b^3", "--a", "7", "--b", "3", "--html"],
    ["--quiz", "2", "--seed", "1", "--answers"]], ids=["html", "answers"])
def test_ctrl_c_half_way_through_a_file(tmp_path, args, old):
    target = tmp_path / "out.file"
    if old is not None:
        target.write_text(old)
    code, out, err = bpdiff(*args, target, env=with_hook(tmp_path, INTERRUPT_MID_WRITE))
    assert (code, err) == (130, "bpdiff: interrupted\n")
    expected = ["hooks"] + ([] if old is None else ["out.file"])
    assert sorted(p.name for p in tmp_path.iterdir()) == expected  # no temporary file
    if old is not None:
        assert target.read_text() == old


SLOW_DOT = """#!/bin/sh
# a Graphviz that writes half a picture, then takes its time
out=""
while [ $# -gt 0 ]; do case "$1" in -o) shift; out="$1";; esac; shift; done
printf '<svg>half' > "$out"
exec sleep 60
"""


def test_ctrl_c_while_dot_draws(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "dot").write_text(SLOW_DOT)
    (tmp_path / "dot").chmod(0o755)
    target = folder / "graph.svg"
    target.write_text("OLD PICTURE")
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen([sys.executable, "-m", "bpdiff", "a*b", "--a", "1", "--b", "2",
                                "--render", str(target)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".tmp") and p.stat().st_size for p in folder.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (130, "", "bpdiff: interrupted\n")
    assert sorted(p.name for p in folder.iterdir()) == ["graph.svg"]
    assert target.read_text() == "OLD PICTURE"


def test_ctrl_c_with_the_progress_display_up(tmp_path):
    import pty

    program = tmp_path / "big.bp"
    program.write_text("x0 = 0.5\n" + "".join(f"x{i} = sin(x{i - 1}) * 1.01 + x{i - 1}\n"
                                              for i in range(1, 200_000)))
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    report = tmp_path / "r.html"
    process = subprocess.Popen([sys.executable, "-m", "bpdiff", "-f", str(program), "--html",
                                str(report), "--force"], stdout=subprocess.DEVNULL,
                               stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    written = b""
    while b"bpdiff: " not in written:  # the display is up
        written += os.read(master, 1 << 16)
    process.send_signal(signal.SIGINT)
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        written += chunk
    os.close(master)
    assert process.wait(timeout=60) == 130
    text = written.decode("utf-8", "replace")
    assert text.count("bpdiff: interrupted") == 1 and "Traceback" not in text
    assert text.rstrip().endswith("bpdiff: interrupted")
    assert "\x1b[?25h" in text  # the cursor shown again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bp"]
