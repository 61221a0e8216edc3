"""Single-line text a person types that ends up in e-mails and pages (an incident's title)."""

from __future__ import annotations

import re

from makegood.domain.errors import InvalidInput

# C0 and C1 controls (CR, LF, NUL, tab, ESC...), DEL, and the Unicode line and paragraph
# separators: none belongs in a one-line field, and CR/LF could shape an e-mail's text.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def single_line(value: str, field: str) -> str:
    """`value` unchanged; InvalidInput naming `field` when it holds a line break or another
    control character."""
    found = _NOT_ONE_LINE.search(value)
    if found is not None:
        raise InvalidInput(
            f"{field}: must be one line of text; it holds a control character "
            f"(U+{ord(found.group()):04X}, e.g. a line break or NUL): remove it"
        )
    return value
