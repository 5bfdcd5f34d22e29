"""Progress on stderr for long runs: which phase the command is in (reading, parsing,
forward, backward, writing) and how big it is, drawn by rich's progress display once a
run has taken DELAY seconds, and only when stderr is a terminal.

The command passes a Progress to bpdiff.api.differentiate as its `progress` callback
(the passes never print; they only say which phase starts). rich is imported when the
display starts, never for a short run; the command imports this module only when stderr
is a terminal. Imports nothing of bpdiff's.
"""

import sys
import threading

DELAY = 1.0  # seconds: a shorter run shows nothing


class Progress:
    """A callback `progress(phase, count, unit)` and a context manager: inside the
    `with` block, after DELAY seconds, the current phase shows on stderr (a spinner,
    'forward pass: 120,001 nodes', the time taken); it is cleared when the block ends,
    by an error or Ctrl-C too. Disabled (a no-op) when `enabled` is false."""

    def __init__(self, enabled=True, delay=DELAY):
        self.enabled = enabled
        self.delay = delay
        self.phase = "working"
        self._lock = threading.Lock()
        self._timer = None
        self._display = None
        self._task = None
        self._ended = False

    def __enter__(self):
        if self.enabled:
            self._timer = threading.Timer(self.delay, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._ended = True
            if self._timer is not None:
                self._timer.cancel()
            self._stop()
        return False

    def __call__(self, phase, count=None, unit="nodes"):
        """Say that `phase` starts, on `count` things (`unit`). The display stops
        before the output is written to a terminal (stdout's text would mix with it)."""
        text = phase if count is None else f"{phase}: {count:,} {unit}"
        with self._lock:
            self.phase = text
            if self._display is None:
                return
            if phase == "writing" and sys.stdout.isatty():
                self._stop()
            else:
                self._display.update(self._task, description=text)

    def _start(self):
        from rich.console import Console
        from rich.progress import Progress as Display
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._ended:
                return
            display = Display(SpinnerColumn(), TextColumn("bpdiff: {task.description}", markup=False),
                              TimeElapsedColumn(), console=Console(stderr=True),
                              transient=True, redirect_stdout=False, redirect_stderr=True)
            self._task = display.add_task(self.phase, total=None)
            display.start()
            self._display = display

    def _stop(self):
        if self._display is not None:
            self._display.stop()
            self._display = None
