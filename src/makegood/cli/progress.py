"""Progress on standard error for long work: a live line on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def progress_printer(
    label: str, total: int | None = None, every: float = 1.0
) -> Callable[[int], None]:
    """A callback `done -> None` that reports at most once per `every` seconds."""
    tty = sys.stderr.isatty()
    last = [0.0]
    started = time.monotonic()

    def report(done: int) -> None:
        now = time.monotonic()
        if now - last[0] < every and (total is None or done < total):
            return
        last[0] = now
        share = f" ({done / total:.0%})" if total else ""
        rate = done / max(now - started, 1e-9)
        text = f"{label}: {done:,}{f' of {total:,}' if total else ''}{share}, {rate:,.0f}/s"
        if tty:
            sys.stderr.write("\r" + text + "\033[K")
            if total is not None and done >= total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    return report
