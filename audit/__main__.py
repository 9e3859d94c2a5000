"""The `audit` command's entry point (`audit ...` and `python -m audit ...`).

Ctrl-C while the command is still starting (importing pandas, Playwright, ...) ends it with
exit code 130 and one line, not a traceback: nothing has been recorded yet. Once the CLI
is loaded, Ctrl-C is the command's business (a run stops safely, a watch stops cleanly).
"""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    sys.stderr.write("interrupted while starting; nothing was recorded\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    signal.signal(signal.SIGTERM, _interrupted_while_starting)
    from audit.cli import main as cli_main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cli_main()


if __name__ == "__main__":
    main()
