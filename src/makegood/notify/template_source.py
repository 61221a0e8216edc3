"""Where e-mail and SMS templates come from: the package, or an operator's override folder.

An operator sets MAKEGOOD_TEMPLATE_DIR to a folder with the package's layout
(``<language>/offer.txt``, ``<language>/offer.html``, ``reminder.*``, ``short.txt``, and
``base.html`` at the top). A file there replaces the packaged file of the same name; a file not
there falls back to the packaged one, so an operator overrides only what they change. A
language folder of their own (``nl/offer.txt``) adds a language.

Mistakes in an override (a syntax error, an unknown variable, an ``{% extends %}`` of a file
that does not exist) become a ``TemplateFault`` naming the file and the line, so start-up and
``makegood template preview`` can say exactly what to fix.
"""

from __future__ import annotations

import traceback
from functools import lru_cache
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)

from makegood.domain.errors import InvalidInput

TEMPLATE_SUFFIXES = (".txt", ".html")


class TemplateFault(InvalidInput):
    """A template that cannot be compiled or rendered; `problems` are ``FILE:LINE: what``."""


@lru_cache(maxsize=8)  # called once per message: resolving a path costs system calls
def template_key(template_dir: Path | None) -> str | None:
    """The cache key of a template folder (its absolute path), None for the packaged ones."""
    return str(template_dir.expanduser().resolve()) if template_dir is not None else None


@lru_cache(maxsize=8)
def environment(template_key: str | None) -> Environment:
    """The Jinja2 environment for a template folder key (see ``template_key``)."""
    packaged = PackageLoader("makegood.notify", "templates")
    loader: BaseLoader = packaged
    if template_key is not None:
        loader = ChoiceLoader([FileSystemLoader(template_key), packaged])
    return Environment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates do not change while a process runs; checking their files on every render
        # costs a stat() per template per message.
        auto_reload=False,
    )


@lru_cache(maxsize=8)
def available_templates(template_key: str | None) -> frozenset[str]:
    """Every template name ("ja/offer.txt") found in the package or the override folder."""
    return frozenset(environment(template_key).list_templates())


def override_files(template_dir: Path) -> list[str]:
    """Template names present in an override folder, sorted ("base.html", "ja/offer.txt")."""
    root = template_dir.expanduser()
    if not root.is_dir():
        raise TemplateFault(
            f"MAKEGOOD_TEMPLATE_DIR {root} is not a folder: create it with the layout of "
            "makegood/notify/templates (<language>/offer.txt, ...) or unset the setting"
        )
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.suffix in TEMPLATE_SUFFIXES
    )


def fault(exc: Exception, template_name: str) -> TemplateFault:
    """`exc`, raised while compiling or rendering `template_name`, as a TemplateFault that
    names the file and line where the problem is (the template's own file when known)."""
    where = _location(exc) or (template_name, None)
    file, line = where
    at = f"{file}:{line}" if line is not None else file
    what = exc.message if isinstance(exc, TemplateError) and exc.message else str(exc)
    if isinstance(exc, TemplateNotFound):
        what = f"template {exc.name!r} not found (in the override folder or the package)"
    kind = "syntax error" if isinstance(exc, TemplateSyntaxError) else "error"
    line_text = f", line {line}" if line is not None else ""
    return TemplateFault(
        f"e-mail template {file}{line_text}: {kind}: {what}", problems=[f"{at}: {what}"]
    )


def _location(exc: Exception) -> tuple[str, int | None] | None:
    if isinstance(exc, TemplateSyntaxError) and (exc.filename or exc.name):
        return str(exc.filename or exc.name), exc.lineno
    # Jinja2 rewrites tracebacks so that frames of template code carry the template's file
    # name and line: the innermost such frame is where the error is.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(TEMPLATE_SUFFIXES):
            return frame.filename, frame.lineno
    return None
