"""Settings are read at the composition root only (issue 16): every other module is handed
its configuration, e.g. the engines' `EngineConfig` by `Container.engine_config`."""

from __future__ import annotations

import ast
from pathlib import Path

from makegood.bootstrap import bootstrap
from makegood.settings import Settings
from makegood.telemetry.engine import EngineConfig
from makegood.telemetry.engines import engine_options

SRC = Path(__file__).resolve().parents[2] / "src" / "makegood"

# bootstrap() reads settings when given none (the CLI's and the web app's root); Alembic's
# env.py is Alembic's own entry point, run outside the application.
ALLOWED = {"bootstrap.py", "settings.py", "store/migrations/env.py"}


def settings_readers(root: Path) -> list[str]:
    """`module:line` of every call or import of get_settings under `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                named = (isinstance(node.func, ast.Name) and node.func.id == "get_settings") or (
                    isinstance(node.func, ast.Attribute) and node.func.attr == "get_settings"
                )
            elif isinstance(node, ast.ImportFrom):
                named = any(alias.name == "get_settings" for alias in node.names)
            else:
                continue
            if named:
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def test_get_settings_is_called_at_the_root_only() -> None:
    outside = [f for f in settings_readers(SRC) if f.rsplit(":", 1)[0] not in ALLOWED]
    assert outside == [], (
        "get_settings() outside the composition root: take the value from the Container "
        f"(bootstrap.py) and pass it down: {outside}"
    )


def test_the_container_builds_the_engine_config_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        duckdb_memory_limit="1GB",
        duckdb_temp_dir=tmp_path / "spill",
        spark_master="spark://cluster:7077",
        spark_driver_memory="3g",
    )
    container = bootstrap(settings)
    try:
        assert container.engine_config == EngineConfig(
            memory_limit="1GB",
            temp_dir=str(tmp_path / "spill"),
            spark_master="spark://cluster:7077",
            spark_driver_memory="3g",
        )
    finally:
        container.engine.dispose()


def test_a_connection_takes_its_limits_from_the_config(tmp_path: Path) -> None:
    conn = EngineConfig(memory_limit="1GB", temp_dir=str(tmp_path)).connect()
    try:
        limit, temp = conn.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        zone = conn.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    finally:
        conn.close()
    assert "953" in limit  # 1GB = 953.6 MiB
    assert temp == str(tmp_path)
    assert zone == "UTC"


def test_spark_options_come_from_the_config_and_master_wins() -> None:
    config = EngineConfig(spark_master="spark://cluster:7077", spark_driver_memory="3g")
    assert engine_options("duckdb", None, config) == {}
    assert engine_options("spark", None, config) == {
        "master": "spark://cluster:7077",
        "driver_memory": "3g",
    }
    assert engine_options("spark", "local[2]", config)["master"] == "local[2]"
    assert engine_options("spark", None) == {"master": None, "driver_memory": None}
