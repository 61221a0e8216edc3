"""The directory `serve --workers N` keeps its metrics in, so every worker reports one total.

prometheus_client's multiprocess mode writes each process's figures to files in
PROMETHEUS_MULTIPROC_DIR and adds them up at scrape time. The variable must be set before
prometheus_client is first imported (it picks its storage then), so this module imports none
of it, and `serve` enters `shared_metrics_dir` before it builds or imports the app.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from makegood.domain.errors import InvalidInput

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The files prometheus_client's multiprocess mode writes (counter_<pid>.db, histogram_...).
_FIGURE_FILES = "*_*.db"


@contextmanager
def shared_metrics_dir(workers: int) -> Iterator[Path | None]:
    """With several workers (or PROMETHEUS_MULTIPROC_DIR set), a directory for their figures,
    emptied of an earlier run's: the operator's, or a private one made here and removed on
    exit. One worker without the variable needs none (None)."""
    given = os.environ.get(VARIABLE)
    if given:
        path = Path(given)
        if not path.is_dir() or not os.access(path, os.W_OK):
            raise InvalidInput(
                f"{VARIABLE}={given} is not a writable directory: create it (empty, for this "
                "server's metrics only) or unset it to let `makegood serve` make its own"
            )
        # Figures left by an earlier run would be added to this run's.
        for stale in path.glob(_FIGURE_FILES):
            stale.unlink(missing_ok=True)
        yield path
        return
    if workers == 1:
        yield None
        return
    private = Path(tempfile.mkdtemp(prefix="makegood-metrics-"))
    os.environ[VARIABLE] = str(private)
    try:
        yield private
    finally:
        os.environ.pop(VARIABLE, None)
        shutil.rmtree(private, ignore_errors=True)
