"""The root command lists its sub-commands without importing them, and the list stays true.

`makegood --help` prints one line per command from `cli.main.COMMANDS`; these tests import
every command's module and check that each line is the command's own short help, and that the
listing and `--help` do not load the heavy libraries a command would.
"""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from makegood.cli.main import COMMANDS, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_line_is_the_commands_own_short_help(name: str) -> None:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, name)
    assert command is not None, f"{name} is listed but no module registers it"
    assert command.get_short_help_str(limit=1_000) == COMMANDS[name][1]


def test_help_and_the_command_list_import_no_engine_or_framework() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from makegood.cli.main import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ('sqlalchemy', 'duckdb', 'pyarrow', 'fastapi', 'pydantic', 'pyspark', 'jinja2')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_command_runs_with_the_collector_on_and_start_ups_objects_frozen() -> None:
    # main() pauses the cyclic garbage collector while the command's modules load; the command
    # itself (a worker, a launch) must run with it on again, the loaded modules frozen.
    probe = (
        "import gc, sys\n"
        "import click\n"
        "from makegood.cli import main\n"
        "@click.command()\n"
        "def probe():\n"
        "    print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "main.db.add_command(probe)\n"
        "sys.argv = ['makegood', 'db', 'probe']\n"
        "main.main()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_what_a_command_leaves_alive_is_frozen_before_the_interpreter_exits() -> None:
    # The interpreter's collections at exit would walk everything the command loaded and made;
    # main() freezes it once the command is over, so they have nothing to walk.
    probe = (
        "import atexit, gc, sys\n"
        "import click\n"
        "from makegood.cli import main\n"
        "kept = []\n"
        "@click.command()\n"
        "def probe():\n"
        "    kept.append([1])\n"
        "    walked = lambda: any(o is kept[0] for o in gc.get_objects())\n"
        "    print(walked())\n"
        "    atexit.register(lambda: print(walked()))\n"
        "main.db.add_command(probe)\n"
        "sys.argv = ['makegood', 'db', 'probe']\n"
        "main.main()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]  # walked while the command runs, not after
