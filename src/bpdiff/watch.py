"""`--watch`: run the command now and again whenever one of its files changes, until
Ctrl-C, which ends the watch cleanly (exit 0).

Changes come from `watchfiles` (the optional extra `watch`) when it is installed; it
watches the files' folders, so an editor that saves by writing a new file and renaming
it is seen too. Without it, each file's (modification time, size, inode) is read every
POLL_SECONDS. The command itself (what to run, how errors are shown) is the caller's:
this module runs a function and imports only bpdiff.terminal.
"""

import os
import sys

POLL_SECONDS = 0.2
CLEAR_SCREEN = "\x1b[H\x1b[2J"


def watch(paths, run, quiet=False):
    """Call `run()` now and after every change to one of `paths` (None entries
    ignored), clearing a terminal first; return 0 at Ctrl-C."""
    paths = [path for path in paths if path is not None]
    try:
        updates = changes(paths)  # polling: the files as they are before the first run
        _run(run, paths, quiet)
        for _ in updates:
            _run(run, paths, quiet)
    except KeyboardInterrupt:
        return 0
    return 0


def _run(run, paths, quiet):
    from bpdiff.terminal import say

    if sys.stdout.isatty():
        sys.stdout.write(CLEAR_SCREEN)
        sys.stdout.flush()
    run()
    if not quiet:
        say(f"bpdiff: watching {', '.join(paths)} (Ctrl-C to stop)")


def changes(paths):
    """An endless iterator that yields (None) once after each change to `paths`."""
    try:
        import watchfiles
    except ImportError:
        return polled(paths)
    return _notified(watchfiles, paths)


def _notified(watchfiles, paths):
    targets = {os.path.realpath(path) for path in paths}
    folders = sorted({os.path.dirname(target) for target in targets})
    for _ in watchfiles.watch(*folders, watch_filter=lambda _change, path:
                              os.path.realpath(path) in targets, raise_interrupt=True,
                              debounce=200, step=50):
        yield None


def polled(paths, interval=POLL_SECONDS):
    """changes() by reading each file's status every `interval` seconds, from their
    status now."""
    return _polling(paths, [_status(path) for path in paths], interval)


def _polling(paths, seen, interval):
    import time

    while True:
        time.sleep(interval)
        now = [_status(path) for path in paths]
        if now != seen:
            seen = now
            yield None


def _status(path):
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino
