"""A command's wall time and its own peak memory, measured from a small process.

Linux keeps a process's peak resident memory (ru_maxrss) across exec, and a process starts
with the memory of the one it was forked from: a command started by a benchmark that holds
hundreds of MiB (DuckDB's floor, a world's files) reported at least that much. Before this
helper, bench/pipeline.py showed 521 MiB for a launch whose own peak was 134 MiB. Started from
this small process instead, the figure is the command's own; the time is taken here too, so
this process's start-up is not counted.

`run(argv, env=..., capture=...)` starts `python measured.py REPORT COMMAND...` and returns
the command's seconds, peak MiB, exit code and (when captured) standard output; the command's
standard error goes to the benchmark's.
"""

# Commands are the benchmarks' own.
# ruff: noqa: S603

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    returncode: int
    stdout: str = ""


def run(
    argv: Sequence[str], env: Mapping[str, str] | None = None, capture: bool = True
) -> Measured:
    """Run `argv` from a small process of its own: its time, peak memory and exit code."""
    with tempfile.TemporaryDirectory(prefix="mg-measured-") as folder:
        report = os.path.join(folder, "report.json")
        child = subprocess.run(
            [sys.executable, __file__, report, *argv],
            env=None if env is None else dict(env),
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            check=False,
        )
        with open(report, encoding="utf-8") as file:
            figures = json.load(file)
    out = child.stdout.decode() if capture else ""
    return Measured(figures["seconds"], figures["peak_kib"] / 1024, figures["returncode"], out)


def _main(report: str, argv: list[str]) -> None:
    began = time.perf_counter()
    returncode = subprocess.call(argv)
    seconds = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(report, "w", encoding="utf-8") as file:
        json.dump({"seconds": seconds, "peak_kib": peak_kib, "returncode": returncode}, file)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2:])
