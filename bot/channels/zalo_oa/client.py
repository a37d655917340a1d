"""A thin async client for the Zalo OA Open API: the bare `access_token` header, the `{error, message, data}`
envelope (errors come back with HTTP 200), one refresh-and-retry on a refused token, uploads by multipart."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bot.runtime.oa_tokens import OATokenSource

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://openapi.zalo.me"
SEND_PATH = "/v3.0/oa/message/cs"
UPLOAD_PATHS = {"image": "/v2.0/oa/upload/image", "file": "/v2.0/oa/upload/file"}
MAX_TEXT = 2000
# The access token is invalid or expired: refresh once and try again (reference §2.2; the sources differ on
# which of the three means which, so all three are treated alike).
TOKEN_ERRORS = frozenset({-216, -217, -220})
RATE_LIMITED = -32  # "reached limit call api"
# The follower cannot be reached now (reference §2.5, §2.7): not sent, and not tried again in a loop.
NOT_FOLLOWING, OUTSIDE_WINDOW, NIGHT_BAN, RESTRICTED = -213, -230, -234, -244
UNREACHABLE_NOW = frozenset({NOT_FOLLOWING, OUTSIDE_WINDOW, NIGHT_BAN, RESTRICTED})
TRANSIENT = frozenset({RATE_LIMITED, 429, 500, 502, 503, 504})


class OAError(Exception):
    """Base of the client's errors. Messages never contain the access token."""


class OAApiError(OAError):
    """The API answered a non-zero `error` (or an HTTP error without the envelope)."""

    def __init__(self, code: int, message: str, path: str = "") -> None:
        self.code, self.message, self.path = code, message[:200], path
        super().__init__(f"{path or 'zalo oa'}: {code} {self.message}".strip())

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT

    @property
    def unreachable_now(self) -> bool:
        return self.code in UNREACHABLE_NOW


class OANetworkError(OAError):
    """The request did not get an answer (connection refused, timeout, broken response)."""


@dataclass(frozen=True)
class Sent:
    message_id: str


class OAClient:
    """One instance per OA. `tokens` hands out the access token (the OAuth store behind it refreshes)."""

    def __init__(
        self,
        tokens: OATokenSource,
        base_url: str = DEFAULT_BASE,
        *,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.tokens = tokens
        self._base = base_url.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)
        for name in ("httpx", "httpcore"):  # request lines name the user; keep them out of the log
            logger = logging.getLogger(name)
            if logger.level < logging.WARNING:
                logger.setLevel(logging.WARNING)

    def __repr__(self) -> str:
        return f"OAClient(base={self._base!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, path: str, *, json: dict[str, Any] | None = None, files: Any = None) -> dict[str, Any]:
        """POST to `path`; returns `data`. A refused token is reported to the store once and the call made again."""
        token = await self.tokens.access_token()
        try:
            return await self._call_once(path, token, json, files)
        except OAApiError as exc:
            if exc.code not in TOKEN_ERRORS:
                raise
            log.warning("zalo oa %s: access token refused (%s); refreshing once", path, exc.code)
            await self.tokens.expired(token)
        return await self._call_once(path, await self.tokens.access_token(), json, files)

    async def _call_once(self, path: str, token: str, json: dict[str, Any] | None, files: Any) -> dict[str, Any]:
        try:
            response = await self._http.post(
                f"{self._base}{path}", headers={"access_token": token}, json=json, files=files
            )
        except httpx.HTTPError as exc:
            raise OANetworkError(f"{path}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "error" not in body:
            if response.status_code >= 400:
                raise OAApiError(response.status_code, f"HTTP {response.status_code}", path)
            raise OANetworkError(f"{path}: malformed response (HTTP {response.status_code})")
        code = _int(body.get("error"))
        if code == 0:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        raise OAApiError(code if code is not None else -1, str(body.get("message") or ""), path)

    # --- the methods -------------------------------------------------------------------------------------

    async def send(self, user_id: str, message: dict[str, Any]) -> Sent:
        """A consultation message (`message/cs`): text, buttons, an image or a file already uploaded."""
        data = await self.call(SEND_PATH, json={"recipient": {"user_id": user_id}, "message": message})
        return Sent(str(data.get("message_id", "")))

    async def upload(self, kind: str, filename: str, content: bytes, mime_type: str) -> str:
        """Upload an image or a file; the id a message then sends it by (`attachment_id` or `token`)."""
        data = await self.call(UPLOAD_PATHS[kind], files={"file": (filename, content, mime_type)})
        found = data.get("attachment_id") or data.get("token")
        if not found:
            raise OANetworkError(f"{UPLOAD_PATHS[kind]}: no attachment id in the answer")
        return str(found)


def text_length(text: str) -> int:
    """Length as Zalo may count it: UTF-16 code units (an emoji counts 2), the cautious reading."""
    return len(text.encode("utf-16-le")) // 2


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
