"""A thin async client for the Zalo Bot API: JSON POSTs to `{base}/bot{token}/{method}`, the `{ok, result}`
envelope, timeouts, bounded retries with backoff for transient errors, and a token that never leaks."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://bot-api.zaloplatforms.com"
MAX_TEXT = 2000
# On Zalo, 403 is a transient "internal server error" (not Telegram's "blocked"); 429 is the quota.
TRANSIENT_CODES = frozenset({403, 429, 500, 502, 503, 504})
POLL_IDLE = 408
_TOKEN_IN_PATH = re.compile(r"/bot[^/\s\"']+")


def redact(text: str) -> str:
    """Hide any `/bot<token>` path segment, wherever a URL ends up in text."""
    return _TOKEN_IN_PATH.sub("/bot<token>", text)


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "/bot" in record.getMessage():
            record.msg, record.args = redact(record.getMessage()), None
        return True


def quiet_http_loggers() -> None:
    """httpx logs every request URL (with the token in it) at INFO: keep it at WARNING and redact anyway."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _RedactFilter) for f in logger.filters):
            logger.addFilter(_RedactFilter())


class ZaloError(Exception):
    """Base of the client's errors. Messages never contain the token."""


class ZaloApiError(ZaloError):
    """The API answered `{ok: false, error_code, description}` (or an HTTP error without an envelope)."""

    def __init__(self, code: int, description: str, method: str = "", retry_after: float | None = None) -> None:
        self.code, self.description, self.method, self.retry_after = code, redact(description), method, retry_after
        super().__init__(f"{method or 'zalo'}: {code} {self.description}".strip())

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT_CODES


class ZaloUnauthorized(ZaloApiError):
    """401: the bot token is wrong or revoked. Nothing will work until an operator fixes it."""


class ZaloNetworkError(ZaloError):
    """The request did not get an answer (connection refused, timeout, broken response)."""


@dataclass(frozen=True)
class BotInfo:
    id: str
    account_name: str
    account_type: str = ""


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    date: int | None = None


@dataclass(frozen=True)
class WebhookInfo:
    url: str
    updated_at: int | None = None


Sleep = Callable[[float], Awaitable[None]]


class ZaloClient:
    """One instance per bot token. `retries` bounds how often a transient failure is tried again."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not token or ":" not in token:
            raise ValueError("the Zalo bot token looks wrong (expected '<bot id>:<secret>')")
        quiet_http_loggers()
        self._token = token
        self._base = base_url.rstrip("/")
        self.timeout, self.retries = timeout, retries
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self._sleep = sleep
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)

    @property
    def token_bot_id(self) -> str:
        """The bot id is the part of the token before the colon (`getMe` confirms it)."""
        return self._token.split(":", 1)[0]

    def __repr__(self) -> str:
        return f"ZaloClient(base={self._base!r}, bot={self.token_bot_id!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number `attempt + 1`: the server's hint, or exponential."""
        if retry_after is not None and retry_after > 0:
            return min(float(retry_after), self.backoff_max)
        return min(self.backoff_base * 2**attempt, self.backoff_max)

    async def call(
        self,
        method: str,
        payload: dict[str, Any] | None = None,
        *,
        read_timeout: float | None = None,
        retries: int | None = None,
    ) -> Any:
        """POST one method; returns `result`. Transient failures are retried `retries` times with backoff."""
        budget = self.retries if retries is None else retries
        attempt = 0
        while True:
            try:
                return await self._call_once(method, payload, read_timeout)
            except ZaloUnauthorized:
                log.critical("zalo %s: 401 unauthorized – check ZALO_BOT_TOKEN", method)
                raise
            except ZaloApiError as exc:
                if not exc.transient or attempt >= budget:
                    raise
                delay = self.backoff(attempt, exc.retry_after)
                log.warning("zalo %s: %s, retrying in %.1fs", method, exc.code, delay)
            except ZaloNetworkError as exc:
                if attempt >= budget:
                    raise
                delay = self.backoff(attempt)
                log.warning("zalo %s: %s, retrying in %.1fs", method, exc, delay)
            attempt += 1
            await self._sleep(delay)

    async def _call_once(self, method: str, payload: dict[str, Any] | None, read_timeout: float | None) -> Any:
        timeout = httpx.Timeout(self.timeout, read=read_timeout) if read_timeout else httpx.USE_CLIENT_DEFAULT
        try:
            response = await self._http.post(
                f"{self._base}/bot{self._token}/{method}", json=payload or {}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            # The exception text may carry the URL; keep only its kind.
            raise ZaloNetworkError(f"{method}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "ok" not in body:
            status = response.status_code
            if status == 401:
                raise ZaloUnauthorized(401, "Unauthorized", method)
            if status >= 400:
                raise ZaloApiError(status, f"HTTP {status}", method)
            raise ZaloNetworkError(f"{method}: malformed response (HTTP {status})")
        if body.get("ok"):
            return body.get("result")
        code = _int(body.get("error_code")) or response.status_code
        description = str(body.get("description") or "")
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        retry_after = _float(params.get("retry_after")) if params else None
        if code == 401:
            raise ZaloUnauthorized(code, description, method)
        raise ZaloApiError(code, description, method, retry_after)

    # --- the methods -------------------------------------------------------------------------------------

    async def get_me(self) -> BotInfo:
        result = await self.call("getMe")
        if not isinstance(result, dict) or "id" not in result:
            raise ZaloNetworkError("getMe: unexpected result")
        return BotInfo(str(result["id"]), str(result.get("account_name", "")), str(result.get("account_type", "")))

    async def get_updates(self, poll_seconds: int = 30) -> list[dict[str, Any]]:
        """Long-poll once. Zalo returns one update per call (accepted as a list too); 408 means nothing came.

        Not retried here: the polling loop owns the pacing, and a retried poll could lose nothing anyway."""
        try:
            payload = {"timeout": str(poll_seconds)}
            result = await self.call("getUpdates", payload, read_timeout=poll_seconds + 5, retries=0)
        except ZaloApiError as exc:
            if exc.code == POLL_IDLE:
                return []
            raise
        if isinstance(result, dict):
            return [result]
        if isinstance(result, list):
            return [u for u in result if isinstance(u, dict)]
        return []

    async def set_webhook(self, url: str, secret_token: str) -> WebhookInfo:
        if not 8 <= len(secret_token) <= 256:
            raise ValueError("the webhook secret must be 8–256 characters")
        result = await self.call("setWebhook", {"url": url, "secret_token": secret_token})
        return _webhook_info(result)

    async def delete_webhook(self) -> WebhookInfo:
        return _webhook_info(await self.call("deleteWebhook"))

    async def get_webhook_info(self) -> WebhookInfo:
        return _webhook_info(await self.call("getWebhookInfo"))

    async def send_message(self, chat_id: str, text: str, *, retries: int | None = None) -> SentMessage:
        if not 1 <= text_length(text) <= MAX_TEXT:
            raise ValueError(f"sendMessage text must be 1–{MAX_TEXT} characters")
        return _sent(await self.call("sendMessage", {"chat_id": chat_id, "text": text}, retries=retries))

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str = "", *, retries: int | None = None
    ) -> SentMessage:
        """Zalo fetches the photo itself: only an absolute http(s) URL it can reach works."""
        if not re.match(r"^https?://[^/\s]+", photo_url):
            raise ValueError("sendPhoto needs an absolute http(s) URL")
        payload: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption[:MAX_TEXT]
        return _sent(await self.call("sendPhoto", payload, retries=retries))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action}, retries=0)


def text_length(text: str) -> int:
    """Length as Zalo may count it: UTF-16 code units (an emoji counts 2), the cautious reading."""
    return len(text.encode("utf-16-le")) // 2


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _webhook_info(result: Any) -> WebhookInfo:
    data = result if isinstance(result, dict) else {}
    return WebhookInfo(str(data.get("url") or ""), _int(data.get("updated_at")))


def _sent(result: Any) -> SentMessage:
    data = result if isinstance(result, dict) else {}
    return SentMessage(str(data.get("message_id", "")), _int(data.get("date")))
