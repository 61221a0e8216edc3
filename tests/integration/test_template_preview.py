"""`makegood template preview` writes one e-mail per call, in every shipped language, from
sample data or a real offer; broken overrides stop it (and the worker) with file and line."""

from __future__ import annotations

import email
from dataclasses import replace
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.store import tables as t
from makegood.store.engine import make_engine
from tests.factories.outbox import Subscriber, seed_campaign
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

SAMPLE_LINK = "http://claims.test/claim/sample-claim-token"
# locale, sample amount (499 minor units of the locale's currency)
SAMPLES = [
    ("en-US", "$4.99"),
    ("es-ES", "4,99 €"),
    ("fr-FR", "4,99 €"),
    ("de-DE", "4,99 €"),
    ("pt-BR", "R$ 4,99"),
    ("ja-JP", "￥499"),
]


@pytest.fixture
def offline(tmp_path: Path, clock: FrozenClock) -> Container:
    """A container whose database is never opened: sample previews need none."""
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)
    return Container(settings=settings, engine=make_engine(settings.database_url), clock=clock)


def preview(box: Container, *args: str) -> Result:
    return CliRunner().invoke(cli, ["template", "preview", *args], obj=box)


def with_settings(box: Container, **changes: object) -> Container:
    return replace(box, settings=box.settings.model_copy(update=changes))


@pytest.mark.parametrize(("locale", "amount"), SAMPLES)
@pytest.mark.parametrize("template", ["offer_claim", "reminder"])
def test_preview_in_every_language_writes_html_and_text(
    offline: Container,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
    amount: str,
    template: str,
) -> None:
    monkeypatch.chdir(tmp_path)

    result = preview(offline, "--locale", locale, "--template", template)

    assert result.exit_code == 0, result.output
    html, text = (Path(line) for line in result.stdout.splitlines())
    assert html == Path(f"template-preview-{locale}.html")
    assert text == Path(f"template-preview-{locale}.txt")
    for part in (html.read_text("utf-8"), text.read_text("utf-8")):
        assert amount in part
        assert SAMPLE_LINK in part
        assert "{{" not in part
    assert f'href="{SAMPLE_LINK}"' in html.read_text("utf-8")


def test_granted_preview_has_no_link(offline: Container, tmp_path: Path) -> None:
    out = tmp_path / "granted"

    result = preview(offline, "--locale", "de-DE", "--template", "offer_granted", "--out", str(out))

    assert result.exit_code == 0, result.output
    text = Path(result.stdout.splitlines()[1]).read_text("utf-8")
    assert "4,99 €" in text
    assert "/claim/" not in text


def test_preview_of_a_campaign_uses_its_offer_and_never_its_token(
    container: Container, tmp_path: Path
) -> None:
    offers = seed_campaign(
        container.engine,
        [Subscriber("acc-us", amount_minor=24), Subscriber("acc-jp", "ja-JP", "JPY", 612)],
        now=container.now(),
        title="Live final blackout",
    )
    with container.engine.connect() as conn:
        campaign_id = conn.execute(
            sa.select(t.offers.c.campaign_id).where(t.offers.c.id == offers[0].offer_id)
        ).scalar_one()
    out = tmp_path / "preview.eml"

    result = preview(container, "--locale", "ja-JP", "--campaign", campaign_id, "--out", str(out))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out)]
    message = email.message_from_bytes(out.read_bytes())
    parts = {p.get_content_type(): _text(p) for p in message.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    for part in parts.values():
        assert "￥612" in part  # the Japanese subscriber's own offer
        assert "Live final blackout" in part
        assert SAMPLE_LINK in part
        for offer in offers:
            assert offer.token is not None
            assert offer.token not in part


def test_preview_of_an_unknown_campaign_exits_3(container: Container, tmp_path: Path) -> None:
    result = preview(container, "--locale", "en-US", "--campaign", "cmp_nope")

    assert result.exit_code == 3
    assert "no campaign cmp_nope" in result.stderr


def test_broken_override_stops_preview_and_worker_naming_file_and_line(
    container: Container, tmp_path: Path
) -> None:
    overrides = tmp_path / "templates"
    broken = overrides / "pt" / "offer.html"
    broken.parent.mkdir(parents=True)
    broken.write_text('{% extends "base.html" %}\n{% block heading %}{% if %}{% endblock %}\n')
    box = with_settings(container, template_dir=overrides)

    shown = preview(box, "--locale", "pt-BR", "--out", str(tmp_path / "p.html"))
    worker = CliRunner().invoke(cli, ["worker", "--once"], obj=box)

    for result in (shown, worker):
        assert result.exit_code == 2
        assert f"{broken}:2: " in result.stderr
        assert "MAKEGOOD_TEMPLATE_DIR" in result.stderr
    assert not (tmp_path / "p.html").exists()


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")
