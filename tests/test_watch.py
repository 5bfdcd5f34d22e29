"""--watch in a subprocess: the first run, a run after each change to the program or a
--vars file, a syntax error shown with its caret while watching goes on, and Ctrl-C
(SIGINT) ending with exit 0 and no traceback; with watchfiles and with the stat
polling used when it is not installed."""

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from bpdiff import watch

WITHOUT_WATCHFILES = ("import sys; sys.modules['watchfiles'] = None;"
                      " from bpdiff.__main__ import main; main()")


class Watched:
    """A running `bpdiff --watch`, its stdout and stderr read line by line."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.err = []
        for name in ("stdout", "stderr"):
            threading.Thread(target=self._read, args=(name,), daemon=True).start()

    def _read(self, name):
        for line in getattr(self.process, name):
            self.lines.put((name, line))

    def until(self, stream, text, timeout=30):
        """The lines up to the first of `stream` holding `text`."""
        seen, end = [], time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                name, line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append((name, line))
            if name == stream and text in line:
                return seen
        raise AssertionError(f"no {text!r} on {stream} in {timeout} s; saw {seen}")

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        time.sleep(0.2)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, rest


@pytest.fixture(params=["watchfiles", "polling"])
def command(request):
    if request.param == "watchfiles":
        pytest.importorskip("watchfiles", reason="watchfiles (the watch extra) is not installed")
        return [sys.executable, "-m", "bpdiff"]
    return [sys.executable, "-c", WITHOUT_WATCHFILES]


def edit(path, text):
    time.sleep(0.3)  # a new modification time even on coarse clocks
    path.write_text(text)


def test_watch_reruns_on_changes_shows_errors_and_ends_at_ctrl_c(command, tmp_path):
    program, values = tmp_path / "p.bp", tmp_path / "v.json"
    program.write_text("L = (a + b) * b\n")
    values.write_text(json.dumps({"a": 1, "b": 2}))
    watched = Watched([*command, "-f", str(program), "--vars", str(values), "--watch",
                       "--json"])
    try:
        first = watched.until("stderr", "watching")
        assert json.loads("".join(line for name, line in first if name == "stdout"))[
            "value"] == 6
        edit(program, "L = (a + b) * b * 10\n")
        seen = watched.until("stdout", '"value": 60')
        edit(values, json.dumps({"a": 2, "b": 2}))
        seen = watched.until("stdout", '"value": 80')
        edit(program, "L = (a + * b\n")
        seen = watched.until("stderr", "^")
        message = "".join(line for name, line in seen if name == "stderr")
        assert "unexpected '*'" in message and "L = (a + * b" in message
        watched.until("stderr", "watching")  # still watching
        edit(program, "L = a * b\n")
        watched.until("stdout", '"value": 4')
    finally:
        code, rest = watched.stop()
    assert code == 0
    assert not any("Traceback" in line or "interrupted" in line for _, line in rest), rest


def test_watch_needs_a_file():
    from conftest import run_main

    code, out, err = run_main("a*b", "--a", "1", "--b", "2", "--watch")
    assert code == 2 and out == "" and "--watch goes with -f FILE" in err


def test_polling_sees_a_change_a_removal_and_a_new_file(tmp_path):
    path = tmp_path / "p.bp"
    path.write_text("a")
    changes = watch.polled([str(path)], interval=0.01)
    path.write_text("ab")
    assert next(changes) is None
    path.unlink()
    assert next(changes) is None
    path.write_text("abc")
    assert next(changes) is None
