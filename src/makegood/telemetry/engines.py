"""Which engine computes a cohort or a detection: DuckDB (default) or Spark (optional extra).

Both take the same arguments and give the same results; Spark's functions also take
`master` (default local[*]) and `driver_memory`. Spark's modules are imported only when asked
for. Their configuration comes from the caller's `EngineConfig` (`Container.engine_config`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from makegood.domain.errors import InvalidInput

if TYPE_CHECKING:
    # Only named: every command with --engine imports this module, `campaign approve` too.
    from makegood.telemetry.engine import EngineConfig

ENGINES = ("duckdb", "spark")

# engine -> (module, function) for each computation
_COHORT = {
    "duckdb": ("makegood.telemetry.cohort", "compute_cohort"),
    "spark": ("makegood.telemetry.spark", "compute_cohort_spark"),
}
_DECIDE = {
    "duckdb": ("makegood.telemetry.eligibility", "decide_in_duckdb"),
    "spark": ("makegood.telemetry.spark_eligibility", "decide_in_spark"),
}
_DETECT = {
    "duckdb": ("makegood.telemetry.detect_duckdb", "detect_duckdb"),
    "spark": ("makegood.telemetry.spark_detect", "detect_spark"),
}


def _load(table: dict[str, tuple[str, str]], engine: str, what: str) -> Callable[..., Any]:
    if engine not in table:
        raise InvalidInput(f"--engine {engine!r}: use one of {', '.join(ENGINES)}")
    module_name, function = table[engine]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InvalidInput(
            f"--engine {engine}: {what} on {engine} is not available here ({exc.name} is "
            f"missing; install the package's '{engine}' extra)"
        ) from exc
    found: Callable[..., Any] | None = getattr(module, function, None)
    if found is None:
        raise InvalidInput(f"--engine {engine}: {what} on {engine} is not available here")
    return found


def cohort_function(engine: str) -> Callable[..., Any]:
    """compute_cohort of `engine` (signature of telemetry.cohort.compute_cohort)."""
    return _load(_COHORT, engine, "the cohort")


def decide_function(engine: str) -> Callable[..., Any]:
    """The bulk eligibility of `engine` (signature of telemetry.eligibility.decide_in_duckdb)."""
    return _load(_DECIDE, engine, "eligibility")


def detect_function(engine: str) -> Callable[..., Any]:
    """detect_duckdb's counterpart on `engine` (signature of telemetry.detect_duckdb)."""
    return _load(_DETECT, engine, "detection")


def engine_options(
    engine: str, master: str | None, config: EngineConfig | None = None
) -> dict[str, Any]:
    """Keyword arguments only one engine takes: Spark's master (--master, else the config's
    MAKEGOOD_SPARK_MASTER, else local[*]) and driver memory."""
    if master and engine != "spark":
        raise InvalidInput("--master applies to --engine spark only")
    if engine != "spark":
        return {}
    return {
        "master": master or (config.spark_master if config else None),
        "driver_memory": config.spark_driver_memory if config else None,
    }
