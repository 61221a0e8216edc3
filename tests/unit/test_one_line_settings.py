"""Settings quoted in every e-mail (service name, support phone and URL) are one line: a CR, LF
or NUL there is refused at start, naming the setting (issue 12, item 13)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from makegood.cli.output import settings_problems
from makegood.settings import Settings


@pytest.mark.parametrize("name", ["service_name", "support_phone", "support_url"])
def test_a_line_break_in_an_e_mail_setting_is_refused(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{name: "StreamCo\r\nBcc: everyone@example.com"})
    [problem] = settings_problems(caught.value)
    assert problem.startswith(f"MAKEGOOD_{name.upper()}: ")
    assert "one line" in problem
    assert "Bcc" not in problem


def test_plain_values_start() -> None:
    assert Settings(service_name="Stream Co — Europe").service_name == "Stream Co — Europe"
