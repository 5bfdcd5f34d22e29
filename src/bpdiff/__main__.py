"""`python -m bpdiff` and the `bpdiff` script: the command of bpdiff.cli, with Ctrl-C
answered by one line and exit code 130 at any moment, even while bpdiff is still being
imported (so this module imports nothing of bpdiff's at its top).
"""

import gc
import os
import sys


def main():
    """Run the `bpdiff` command in this process and end it with the command's exit code."""
    # The process is bpdiff's own: the cyclic collector, which bpdiff.cli.main turns off
    # for the run, is off already while click and bpdiff are imported (their start-up
    # makes no garbage cycles, and ~2 ms of collections went to rescanning it).
    gc.disable()
    try:
        from bpdiff.cli import main as command_main

        command_main()
    except KeyboardInterrupt:  # between the command's own handlers, or while importing
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            sys.stderr.write("bpdiff: interrupted\n")
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):  # stderr closed
            pass
        os._exit(130)


if __name__ == "__main__":
    main()
