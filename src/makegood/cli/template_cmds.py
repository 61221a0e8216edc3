"""`makegood template preview`: see an e-mail as subscribers will, overrides included."""

from __future__ import annotations

from pathlib import Path

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, say
from makegood.notify.preview import (
    PREVIEW_TEMPLATES,
    check_templates,
    default_preview_path,
    write_preview,
)
from makegood.services.template_preview import render_preview


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""
    cli.add_command(template)


@click.group()
def template() -> None:
    """E-mail templates (packaged, or overridden from MAKEGOOD_TEMPLATE_DIR)."""


@template.command("preview")
@click.option("--locale", required=True, help="BCP 47 locale of the reader, e.g. ja-JP.")
@click.option("--campaign", "campaign_id", help="Use a real offer of this campaign.")
@click.option(
    "--template",
    "template_name",
    type=click.Choice(["offer_claim", "offer_granted", "reminder"]),
    default="offer_claim",
    show_default=True,
    help="Which e-mail.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write: NAME.eml for one MIME message, otherwise NAME.html and NAME.txt "
    "(default ./template-preview-<locale>.html and .txt).",
)
@handles_errors
def preview(locale: str, campaign_id: str | None, template_name: str, out: Path | None) -> None:
    """Render one e-mail (HTML and text) in a locale and print the file path(s).

    Without --campaign the figures are sample data in the locale's currency. The claim link
    always carries a sample token: real tokens never leave the outbox. Template mistakes in
    MAKEGOOD_TEMPLATE_DIR are reported with their file and line (exit 2).
    """
    box = container()
    check_templates(box.settings, box.now())
    result = render_preview(
        box, locale=locale, template=PREVIEW_TEMPLATES[template_name], campaign_id=campaign_id
    )
    source = f"offer {result.offer_id}" if result.offer_id else "sample data"
    say(
        f"template preview: {template_name} in {locale} "
        f"(template language {result.rendered.language}, {source})"
    )
    for path in write_preview(result, out or default_preview_path(locale), box.settings, box.now()):
        click.echo(str(path))
