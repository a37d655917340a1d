"""A fake Zalo OAuth v4 server (oauth.zaloapp.com) for the OA's token tests, with the reference's wire format.

`POST /v4/oa/access_token`, form-encoded, the app secret in the `secret_key` header; `grant_type` is
`authorization_code` (a code from `consent()`, single use, checked against its PKCE challenge when it has one)
or `refresh_token`. Answers `{access_token, refresh_token, expires_in}` with `expires_in` a quoted string.
Each refresh token works once, like Zalo's: a second use gets `{"error": -14014, ...}` (HTTP 200, as Zalo
answers app errors) and is counted in `reused`. Choices of our own where the reference is silent: a wrong
secret gets error -14004 (a config error, not a dead grant); old access tokens stay valid until they expire.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.runtime.oa_grants import TokenPair

DEAD_REFRESH = -14014
BAD_SECRET = -14004


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class FakeZaloOAuth:
    app_id: str = "3141592653589793238"
    secret: str = "fake-app-secret-key"
    expires_in: str = "3600"  # quoted, as Zalo sends it
    delay: float = 0.0  # seconds a refresh takes (lets two refreshers overlap)
    # Awaited after a refresh token was spent and before the answer leaves (a test may kill the client there).
    on_refresh: Callable[[], Awaitable[None]] | None = None
    refreshes: int = 0  # refreshes that gave a new pair
    reused: int = 0  # refreshes with a spent (or unknown) refresh token
    exchanges: int = 0
    forms: list[dict[str, str]] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (HTTP status, body) to answer
    _refresh_valid: set[str] = field(default_factory=set)
    _refresh_spent: set[str] = field(default_factory=set)
    _access: dict[str, float] = field(default_factory=dict)  # access token -> expiry (monotonic)
    _codes: dict[str, str | None] = field(default_factory=dict)  # code -> PKCE challenge
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> FakeZaloOAuth:
        app = web.Application()
        app.router.add_post("/v4/oa/access_token", self._token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what a test sets up and checks -------------------------------------------------------------------

    def consent(self, code_challenge: str | None = None) -> str:
        """An OA admin granted access: the code Zalo puts in the redirect."""
        code = "code-" + secrets.token_urlsafe(12)
        self._codes[code] = code_challenge
        return code

    def issue(self) -> TokenPair:
        """A pair as an authorization gives it (for tests that start from a stored pair)."""
        body = self._new_pair()
        return TokenPair(body["access_token"], body["refresh_token"], int(body["expires_in"]))

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token stops working (the OA admin withdrew the app's access)."""
        self._refresh_spent |= self._refresh_valid
        self._refresh_valid.clear()

    def access_valid(self, token: str) -> bool:
        expiry = self._access.get(token)
        return expiry is not None and expiry > time.monotonic()

    def expire(self, access_token: str) -> None:
        """The access token stops working before its time (revoked; an OA sharing `access_valid` answers -216)."""
        self._access.pop(access_token, None)

    def refresh_valid(self, token: str) -> bool:
        return token in self._refresh_valid

    # --- the endpoint -------------------------------------------------------------------------------------

    def _new_pair(self) -> dict[str, str]:
        access, refresh = "AT-" + secrets.token_urlsafe(24), "RT-" + secrets.token_urlsafe(24)
        self._access[access] = time.monotonic() + int(self.expires_in)
        self._refresh_valid.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in}

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return web.json_response({"error": -14001, "error_description": "Invalid content type"})
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.forms.append({k: v for k, v in form.items() if k not in ("refresh_token", "code", "code_verifier")})
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            return web.json_response(body, status=status)
        if request.headers.get("secret_key") != self.secret:
            return web.json_response({"error": BAD_SECRET, "error_description": "Invalid secret key"})
        if form.get("app_id") != self.app_id:
            return web.json_response({"error": -14002, "error_description": "Invalid app id"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(form)
        if grant == "refresh_token":
            return await self._refresh(form)
        return web.json_response({"error": -14001, "error_description": "Invalid grant_type"})

    def _exchange(self, form: dict[str, str]) -> web.Response:
        code = form.get("code", "")
        if code not in self._codes:
            return web.json_response({"error": -14019, "error_description": "Invalid authorization code"})
        challenge = self._codes.pop(code)  # single use
        if challenge is not None and challenge_of(form.get("code_verifier", "")) != challenge:
            return web.json_response({"error": -14019, "error_description": "Invalid code verifier"})
        self.exchanges += 1
        return web.json_response(self._new_pair())

    async def _refresh(self, form: dict[str, str]) -> web.Response:
        token = form.get("refresh_token", "")
        if token not in self._refresh_valid:
            self.reused += 1
            return web.json_response({"error": DEAD_REFRESH, "error_description": "Invalid refresh token"})
        self._refresh_valid.discard(token)  # spent now, whether or not the answer reaches the client
        self._refresh_spent.add(token)
        pair = self._new_pair()
        self.refreshes += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.on_refresh is not None:
            await self.on_refresh()
        return web.json_response(pair)
