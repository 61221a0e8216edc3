"""One lazily started Spark session per process, configured for exact, quiet, local analysis.

PySpark is an optional extra (`makegood[spark]`); importing this module does not import it.
The session runs `local[*]` unless a master URL is given (the caller passes its
`EngineConfig`'s, from MAKEGOOD_SPARK_MASTER, or --master). Its time
zone is UTC so every timestamp Spark parses or prints is UTC, ANSI SQL mode is kept (bad casts
go through try_cast), the UI is off, and the driver binds to loopback only.
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from makegood.domain.errors import InvalidInput

_lock = threading.Lock()
_session: Any = None
_master: str | None = None

# Small shuffles: a local run has a few cores, and 200 partitions of a few rows each
# cost more in task start-up than the work itself.
LOCAL_SHUFFLE_PARTITIONS = 8
_LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")


def _config(master: str, driver_memory: str | None) -> dict[str, str]:
    local = master.startswith("local")
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(LOCAL_SHUFFLE_PARTITIONS if local else 200),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Parquet written by Spark holds microsecond UTC timestamps, readable by DuckDB and
        # pandas alike (Spark's default INT96 is a legacy encoding).
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG_CONFIG.as_uri()}",
    }
    if local:
        conf["spark.driver.bindAddress"] = "127.0.0.1"
        conf["spark.driver.host"] = "127.0.0.1"
        if driver_memory:
            conf["spark.driver.memory"] = driver_memory
    return conf


def get_spark(master: str | None = None, *, driver_memory: str | None = None) -> Any:
    """The process's Spark session, started on first use, on `master` (default local[*]) with
    `driver_memory` (default Spark's). Callers pass them from their `EngineConfig`
    (MAKEGOOD_SPARK_MASTER, MAKEGOOD_SPARK_DRIVER_MEMORY; telemetry.engines.engine_options).

    Asking for a different master than the running session's raises InvalidInput: a JVM
    hosts one SparkContext, so stop_spark() first.
    """
    global _session, _master
    wanted = master or "local[*]"
    with _lock:
        if _session is not None:
            if wanted != _master:
                raise InvalidInput(
                    f"a Spark session on {_master} is running; cannot also use {wanted}"
                )
            return _session
        try:
            with warnings.catch_warnings():
                # PySpark warns that it does not yet vouch for pandas 3; makegood's Spark
                # engine does not pass data through pandas.
                warnings.simplefilter("ignore", FutureWarning)
                from pyspark.sql import SparkSession
        except ImportError as exc:  # the optional extra is missing
            raise InvalidInput(
                "the Spark engine needs PySpark: install makegood with the 'spark' extra "
                "(pip install 'makegood[spark]'), or use --engine duckdb"
            ) from exc
        # Loopback only in local mode: Spark otherwise looks up the machine's public address.
        if wanted.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder.master(wanted).appName("makegood")
        for key, value in _config(wanted, driver_memory).items():
            builder = builder.config(key, value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _session, _master = session, wanted
        return session


def stop_spark() -> None:
    """Stop the session if one was started (also run at interpreter exit)."""
    global _session, _master
    with _lock:
        if _session is not None:
            _session.stop()
            _session, _master = None, None


atexit.register(stop_spark)
