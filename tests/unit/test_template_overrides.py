"""Operators override templates from MAKEGOOD_TEMPLATE_DIR: an override is used, a missing one
falls back to the packaged file, and a broken one is reported with its file and line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from makegood.notify.preview import check_templates
from makegood.notify.render import render_offer_email, render_short_text
from makegood.notify.template_source import TemplateFault
from makegood.settings import Settings
from tests.factories.notices import LINK, SETTINGS, notice

NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def with_dir(root: Path) -> Settings:
    return SETTINGS.model_copy(update={"template_dir": root})


def test_override_is_used_and_the_rest_falls_back_to_the_package(tmp_path: Path) -> None:
    write(
        tmp_path,
        "fr/offer.txt",
        "{% set subject %}Geste commercial : {{ amount }}{% endset %}"
        "Bonjour de l'opérateur. {{ amount }} -> {{ claim_url }}\n",
    )
    settings = with_dir(tmp_path)

    french = render_offer_email(notice("fr-FR"), settings)
    german = render_offer_email(notice("de-DE"), settings)
    packaged_german = render_offer_email(notice("de-DE"), SETTINGS)

    assert french.subject == "Geste commercial : 0,30 €"
    assert french.text == f"Bonjour de l'opérateur. 0,30 € -> {LINK}\n"
    # offer.html was not overridden: the packaged French HTML, with the override's subject.
    assert "Geste commercial : 0,30 €" in french.html
    assert f'href="{LINK}"' in french.html
    assert german == packaged_german


def test_override_of_the_shared_layout_and_a_new_language(tmp_path: Path) -> None:
    packaged_base = Path(__file__).parents[2] / "src/makegood/notify/templates/base.html"
    # The shared layout is the frame every HTML e-mail is drawn in.
    frame = (packaged_base.parent / "email_frame.html").read_text(encoding="utf-8")
    write(tmp_path, "email_frame.html", frame.replace("<body", "<!-- operator layout -->\n<body"))
    for name in ("offer.txt", "offer.html", "reminder.txt", "reminder.html", "short.txt"):
        english = (packaged_base.parent / "en" / name).read_text(encoding="utf-8")
        write(tmp_path, f"sv/{name}", english.replace("Hello,", "Hej,"))
    settings = with_dir(tmp_path)

    swedish = render_offer_email(notice("sv-SE"), settings)
    short = render_short_text(notice("sv-SE"), settings).text

    assert swedish.language == "sv"
    assert swedish.text.startswith("Hej,")
    assert "<!-- operator layout -->" in swedish.html
    assert "0,30 €" in swedish.text  # Swedish formatting of the amount
    assert LINK in short
    check_templates(settings, NOW)  # a sound folder passes


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = write(
        tmp_path,
        "ja/offer.txt",
        "{% set subject %}件名{% endset %}\n本文\n{% if granted %}\n{{ amount }\n{% endif %}\n",
    )
    settings = with_dir(tmp_path)

    with pytest.raises(TemplateFault) as at_render:
        render_offer_email(notice("ja-JP"), settings)
    with pytest.raises(TemplateFault) as at_start:
        check_templates(settings, NOW)

    assert f"{broken}, line 4: syntax error" in str(at_render.value)
    assert at_start.value.problems == [f"{broken}:4: unexpected '}}'"]
    assert "MAKEGOOD_TEMPLATE_DIR" in str(at_start.value)


def test_unknown_variable_is_found_at_start_up_with_its_line(tmp_path: Path) -> None:
    broken = write(
        tmp_path,
        "es/reminder.html",
        '{% extends "base.html" %}\n{% block heading %}\n{{ no_such_value }}\n{% endblock %}\n',
    )

    with pytest.raises(TemplateFault) as caught:
        check_templates(with_dir(tmp_path), NOW)

    assert caught.value.problems == [f"{broken}:3: 'no_such_value' is undefined"]


def test_missing_override_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateFault, match="is not a folder"):
        check_templates(with_dir(tmp_path / "nowhere"), NOW)
