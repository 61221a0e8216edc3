"""Settings come from MAKEGOOD_<FIELD> in the environment, as pydantic-settings read them:
the name in any case, the value as text, keyword arguments over the environment over the
defaults, other variables ignored, and every value validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from makegood.cli.output import settings_problems
from makegood.settings import Settings


def test_a_variable_sets_its_field_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKEGOOD_DATABASE_POOL_SIZE", "7")
    monkeypatch.setenv("MAKEGOOD_GRANT_AT_EXPIRY", "yes")
    monkeypatch.setenv("MAKEGOOD_TEMPLATE_DIR", "/srv/templates")
    monkeypatch.setenv("MAKEGOOD_SMTP_URL", "")
    settings = Settings()
    assert settings.database_pool_size == 7
    assert settings.grant_at_expiry is True
    assert settings.template_dir == Path("/srv/templates")
    assert settings.smtp_url == ""  # empty is a value, not "unset"


def test_the_name_matches_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("makegood_service_name", "Lower Co")
    monkeypatch.setenv("Makegood_Support_Phone", "+44 20 0000 0000")
    settings = Settings()
    assert (settings.service_name, settings.support_phone) == ("Lower Co", "+44 20 0000 0000")


def test_keyword_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKEGOOD_SERVICE_NAME", "From Env")
    monkeypatch.setenv("MAKEGOOD_SUPPORT_URL", "https://env.example")
    settings = Settings(service_name="From Code")
    assert settings.service_name == "From Code"
    assert settings.support_url == "https://env.example"


def test_other_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKEGOOD_NO_SUCH_SETTING", "x")
    monkeypatch.setenv("SERVICE_NAME", "Unprefixed")
    monkeypatch.setenv("MAKEGOOD_SETTINGS_SERVICE_NAME", "Wrong prefix")
    assert Settings().service_name == "StreamCo"


def test_a_bad_value_is_named_as_the_operator_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("makegood_database_pool_size", "twenty")
    with pytest.raises(ValidationError) as caught:
        Settings()
    [problem] = settings_problems(caught.value)
    assert problem == (
        "MAKEGOOD_DATABASE_POOL_SIZE: Input should be a valid integer, unable to parse string "
        "as an integer"
    )


def test_the_checks_across_settings_see_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAKEGOOD_MAIL_FROM", "not an address")
    with pytest.raises(ValidationError, match="MAKEGOOD_MAIL_FROM must hold"):
        Settings()
