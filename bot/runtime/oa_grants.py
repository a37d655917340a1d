"""What the Zalo OA's OAuth server gives the token store, and how a call to it fails.

The HTTP call itself is the channel's (`bot/channels/zalo_oa/oauth.py`); the composition root hands the store
its `refresh` function, so the store knows the grant only by these types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenPair:
    """A new access token (valid `expires_in` seconds) and the single-use refresh token that replaces the old."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int | None = None  # when the server says; else the documented 90 days

    def __repr__(self) -> str:  # never a token in a log line or a traceback
        return f"TokenPair(expires_in={self.expires_in})"


class GrantRefused(Exception):
    """The server refused the refresh token or the code as invalid, expired or used (invalid_grant, -118,
    -14014): it will never work again; an OA admin must authorize again."""


class GrantUnavailable(Exception):
    """The call failed without a verdict on the grant (network, timeout, HTTP 5xx, rate limit, an answer we
    cannot read): the refresh token may or may not have been used."""


# refresh(refresh_token) -> the new pair
Refresh = Callable[[str], Awaitable[TokenPair]]
