"""The Zalo OA's OAuth v4 calls (oauth.zaloapp.com): the consent URL, the code exchange and the refresh.

Both calls are `POST /v4/oa/access_token`, form-encoded, with the app secret in the `secret_key` header; the
answer is `{access_token, refresh_token, expires_in}` with `expires_in` often a quoted string, or an error
envelope (`{"error": -118, ...}`, often with HTTP 200). Only the codes that mean the grant is dead are
reported as refused; anything else leaves the refresh token to be tried again."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.runtime.oa_grants import GrantRefused, GrantUnavailable, TokenPair

TOKEN_PATH = "/v4/oa/access_token"
PERMISSION_PATH = "/v4/oa/permission"
# invalid_grant (-118), invalid refresh token (-14014), refresh token expired (-220, per some sources).
DEAD_GRANT_CODES = frozenset({-118, -220, -14014})


def permission_url(base: str, app_id: str, redirect_uri: str, code_challenge: str, state: str) -> str:
    """Where an OA admin grants the app access; Zalo sends them back to `redirect_uri` with `code` and `state`."""
    query = {"app_id": app_id, "redirect_uri": redirect_uri, "code_challenge": code_challenge, "state": state}
    return f"{base.rstrip('/')}{PERMISSION_PATH}?{urlencode(query)}"


class ZaloOAuth:
    """The two token calls of one app, on one HTTP client (`aclose` when done)."""

    def __init__(
        self, base: str, app_id: str, app_secret: str, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = base.rstrip("/") + TOKEN_PATH
        self.app_id, self._secret = app_id, app_secret
        self.client = client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def refresh(self, refresh_token: str) -> TokenPair:
        return await self._grant({"refresh_token": refresh_token, "grant_type": "refresh_token"})

    async def exchange(self, code: str, code_verifier: str | None) -> TokenPair:
        form = {"code": code, "grant_type": "authorization_code"}
        if code_verifier:
            form["code_verifier"] = code_verifier
        # A code is worth nothing once refused (single use, minutes long): any error from Zalo is its verdict.
        return await self._grant(form, any_error_refuses=True)

    async def _grant(self, form: dict[str, str], any_error_refuses: bool = False) -> TokenPair:
        try:
            response = await self.client.post(
                self.url, data={"app_id": self.app_id, **form}, headers={"secret_key": self._secret}
            )
        except httpx.HTTPError as exc:  # the URL and the form stay out of the message
            raise GrantUnavailable(f"no answer from the OAuth server ({type(exc).__name__})") from None
        try:
            body: Any = response.json()
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            raise GrantUnavailable(f"unreadable answer from the OAuth server (HTTP {response.status_code})")
        error = body.get("error")
        if error not in (None, 0, "0") or "access_token" not in body:
            described = str(body.get("error_description") or body.get("message") or body.get("error_name") or "")[:200]
            if error not in (None, 0, "0") and (any_error_refuses or _dead(error, body)):
                raise GrantRefused(f"error {error}: {described}")
            raise GrantUnavailable(f"HTTP {response.status_code}, error {error}: {described}")
        try:
            lifetime = body.get("refresh_token_expires_in")
            return TokenPair(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                expires_in=int(str(body["expires_in"]).strip()),
                refresh_expires_in=int(str(lifetime).strip()) if lifetime not in (None, "") else None,
            )
        except (KeyError, ValueError):
            raise GrantUnavailable("the OAuth server's answer lacks a token or its lifetime") from None


def _dead(error: Any, body: dict[str, Any]) -> bool:
    if error == "invalid_grant" or body.get("error_name") == "invalid_grant":
        return True
    try:
        return int(error) in DEAD_GRANT_CODES
    except (TypeError, ValueError):
        return False
