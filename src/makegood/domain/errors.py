"""Domain errors: each says what went wrong and what to do; edges map them to exits and HTTP."""

from __future__ import annotations


class MakegoodError(Exception):
    """Base of every error a user can cause and fix."""


class InvalidInput(MakegoodError):
    """Input that breaks the data contract; `problems` lists `FILE:LINE: column COL: problem`."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return "\n".join([head, *self.problems])


class NotFound(MakegoodError):
    """A named thing (incident, campaign, account, offer) does not exist."""


class InvalidState(MakegoodError):
    """An action is not allowed in the current state (launching an unapproved draft)."""


class LaunchInterrupted(MakegoodError):
    """A launch lost its database part-way: its committed chunks stand; launching again ends it."""


class OfferUnavailable(MakegoodError):
    """Base for reasons a claim cannot be applied."""


class OfferNotFound(OfferUnavailable):
    """No open or closed offer matches the link."""


class OfferExpired(OfferUnavailable):
    """The claim window has closed."""


class OfferAlreadyClaimed(OfferUnavailable):
    """The credit was applied already (claimed or granted): nothing more to do."""


class OfferRevoked(OfferUnavailable):
    """The link was replaced or the offer withdrawn."""


class AppealLinkInvalid(MakegoodError):
    """An appeal link that is unknown, or whose appeal window has closed."""


class AppealWindowClosed(AppealLinkInvalid):
    """The campaign's appeal window closed: the link no longer files an appeal."""
