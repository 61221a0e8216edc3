# One task runner for developers and CI: what passes here passes there.
# Every target installs what it needs (uv, then the locked environment) on a fresh machine.
export UV_PYTHON_DOWNLOADS := never
UV := python3 -m uv
PYTEST_ARGS ?= -n 2

.PHONY: install demo test lint typecheck pytest format

install:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --all-extras --quiet

demo: install
	$(UV) run makegood demo

lint: install
	$(UV) run ruff check src tests
	$(UV) run ruff format --check src tests

typecheck: install
	$(UV) run mypy

pytest: install
	$(UV) run pytest $(PYTEST_ARGS)

test: lint typecheck pytest

format: install
	$(UV) run ruff check --fix src tests
	$(UV) run ruff format src tests
