"""`makegood template preview`: one e-mail rendered from sample data or a campaign's offer.

The rendering, the sample data and the files written are notify/preview.py's.
"""

from __future__ import annotations

from makegood.bootstrap import Container
from makegood.notify.preview import (
    PREVIEW_TEMPLATES,
    Preview,
    campaign_notice,
    sample_notice,
)
from makegood.notify.render import render_offer_email


def render_preview(
    container: Container, *, locale: str, template: str, campaign_id: str | None = None
) -> Preview:
    """Render one e-mail of `template` in `locale`: sample data, or one offer of a campaign
    (NotFound when the campaign does not exist or has no offers)."""
    message_template = PREVIEW_TEMPLATES[template]
    notice = sample_notice(message_template, locale, container.now())
    offer_id = None
    if campaign_id is not None:
        with container.uow() as uow:
            offer_id, notice = campaign_notice(
                uow, campaign_id, message_template, locale, container.now()
            )
    return Preview(render_offer_email(notice, container.settings), notice, offer_id)
