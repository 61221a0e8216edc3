# One task runner for developers and CI: what passes here passes there.
# Every target installs what it needs (uv, then the locked environment) on a fresh machine.
export UV_PYTHON_DOWNLOADS := never
# Byte-code compiled once at install: this machine sets PYTHONDONTWRITEBYTECODE, so without it
# every command (and every test subprocess) compiles SQLAlchemy, pydantic and makegood anew
# (makegood --help: 2.2 s; a command with nothing to do: 1.6 s of CPU, 0.5 s compiled).
export UV_COMPILE_BYTECODE := 1
UV := python3 -m uv
# The interpreter: the distribution's CPython 3.11 where there is one. Debian builds it with
# profile-guided optimisation and LTO, and links libpython statically: importing what a command
# needs takes about 11% less CPU than with a default source build (pyenv's: no PGO, a shared
# libpython), so every command starts sooner (bench/startup.py). Elsewhere uv picks a 3.11 from
# PATH. UV_PYTHON given by the caller wins. Only a whole installation counts: Debian's
# python3.11-minimal alone has the same path without most of the standard library.
ifndef UV_PYTHON
UV_PYTHON := $(shell /usr/bin/python3.11 -c 'import ssl, sqlite3, ctypes, zoneinfo' >/dev/null 2>&1 && echo /usr/bin/python3.11)
endif
ifneq ($(UV_PYTHON),)
export UV_PYTHON
endif
PYTEST_ARGS ?= -n 2

.PHONY: install system-deps demo test lint typecheck pytest format

install:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --all-extras --quiet
	@$(UV) run --frozen python -m compileall -q src >/dev/null

demo: install
	$(UV) run makegood demo

lint: install
	$(UV) run ruff check src tests
	$(UV) run ruff format --check src tests
	$(UV) run lint-imports

typecheck: install
	$(UV) run mypy

# Chromium, a Japanese font and Java for the browser, HTML-checker and Spark tests (apt-get).
system-deps:
	bash .ci/system-deps

pytest: install system-deps
	$(UV) run pytest $(PYTEST_ARGS)

test: lint typecheck pytest

format: install
	$(UV) run ruff check --fix src tests
	$(UV) run ruff format src tests
