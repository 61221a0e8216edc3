"""The keyboard focus ring stands out from what surrounds it: at least 3:1 against every
background it can be drawn on (WCAG 2.2, 1.4.11 Non-text Contrast; issue 12, item 14).

Computed from the stylesheets themselves: the focus colour that applies in each place (the
most specific `:focus` rule there) against the background colours the stylesheet declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "makegood" / "web" / "templates"
CLAIM = (TEMPLATES / "claim.css").read_text(encoding="utf-8")
CONSOLE = (TEMPLATES / "console" / "console.css").read_text(encoding="utf-8")
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """Top-level rules as (selectors, declarations); @media blocks are left out (they only
    change spacing here)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    top = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    found = []
    for selectors, body in RULE.findall(top):
        decls = {}
        for decl in body.split(";"):
            name, sep, value = decl.partition(":")
            if sep:
                decls[name.strip()] = value.strip()
        found.append(([s.strip() for s in selectors.split(",")], decls))
    return found


def colour(css: str, selector: str, *properties: str) -> str:
    """The first hex colour in `selector`'s declaration of one of `properties` (last rule wins)."""
    value = None
    for selectors, decls in rules(css):
        if selector in selectors:
            for prop in properties:
                if prop in decls and HEX.search(decls[prop]):
                    value = HEX.search(decls[prop]).group(0)  # type: ignore[union-attr]
    assert value, f"no {properties} colour for {selector!r}"
    return value


def luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_matches_wcags_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#f2b01e", "#ffffff") == pytest.approx(1.91, abs=0.01)  # the audit's figure


def focus_colour(css: str, *selectors: str) -> str:
    """The outline colour of the first of `selectors` that sets one (most specific first),
    as the browser would pick it."""
    for selector in selectors:
        for selector_list, decls in rules(css):
            if selector in selector_list and any(
                HEX.search(decls.get(p, "")) for p in ("outline", "outline-color")
            ):
                return colour(css, selector, "outline", "outline-color")
    raise AssertionError(f"no focus outline colour for any of {selectors}")


# (stylesheet, where, focus selectors most specific first, background selectors around it)
PLACES = [
    ("claim", "button", ("button:focus-visible",), ("body", "main")),
    ("claim", "text field", ("input[type=text]:focus-visible",), ("body", "main", ".verdict")),
    ("console", "page", (":focus-visible",), ("body", "section")),
    ("console", "header", ("header :focus-visible", ":focus-visible"), ("header",)),
    # The skip link shows over the header, on its own white box.
    ("console", "skip link", (".skip:focus", ":focus-visible"), ("header", ".skip:focus")),
]


@pytest.mark.parametrize(
    ("sheet", "where", "focus", "backgrounds"), PLACES, ids=[f"{p[0]}-{p[1]}" for p in PLACES]
)
def test_focus_ring_has_3_to_1_against_its_backgrounds(
    sheet: str, where: str, focus: tuple[str, ...], backgrounds: tuple[str, ...]
) -> None:
    css = CLAIM if sheet == "claim" else CONSOLE
    ring = focus_colour(css, *focus)
    for selector in backgrounds:
        background = colour(css, selector, "background", "background-color")
        ratio = contrast(ring, background)
        assert ratio >= 3.0, f"{sheet} {where}: {ring} on {selector} {background} is {ratio:.2f}:1"
