"""The Zalo Official Account's OAuth tokens as the channel sees them: a valid access token on request.

The store behind it (encrypted at rest, single-use refresh tokens rotated in one transaction, one refresher
across processes) is wired in by the composition root; the channel knows only this port."""

from __future__ import annotations

from typing import Protocol


class OATokenSource(Protocol):
    async def access_token(self) -> str:
        """A valid access token, refreshed first when it expires within a safety margin.

        Raises `OAAuthorizationNeeded` when no usable token is left (an OA admin must run the authorize command),
        `OATokenUnavailable` when none is valid now but none is lost (the OAuth server did not answer)."""
        ...

    async def expired(self, token: str) -> None:
        """The OA refused `token` as invalid or expired (-216/-217/-220): the next `access_token()` refreshes,
        once however many callers (and processes) saw the same refusal."""
        ...


class OAAuthorizationNeeded(RuntimeError):
    """The OA has no valid refresh token: `python -m bot zalo-oa authorize` must be run again."""


class OATokenUnavailable(RuntimeError):
    """No valid access token right now, but none is lost: the OAuth server did not answer (try again later)."""
