"""A fake Zalo Bot API server with the real wire shapes, for tests and benchmarks.

What it mimics (see the Zalo reference): `POST /bot{token}/{method}` with JSON; the `{ok, result}` and
`{ok: false, error_code, description}` envelopes; one update per `getUpdates` call and `error_code` 408 when
nothing arrives before a (short) idle timeout; `getUpdates` refused while a webhook is set; the 2,000-character
limit on `sendMessage`; self-echo (every message the bot sends comes back as an update from the bot's own id);
and 429/403 answers on demand. Deviation: webhook URLs may be plain http (the real platform requires https).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

SECRET_HEADER = "X-Bot-Api-Secret-Token"


def text_update(
    chat_id: str,
    text: str,
    *,
    message_id: str | None = None,
    name: str = "Học Sinh",
    name_field: str = "display_name",
    event_name: str = "message.text.received",
) -> dict[str, Any]:
    """A `message.text.received` update from a user in a private chat (chat id = user id on Zalo)."""
    message: dict[str, Any] = {
        "message_id": message_id or secrets.token_hex(10),
        "date": int(time.time() * 1000),
        "chat": {"id": chat_id, "chat_type": "PRIVATE"},
        "from": {"id": chat_id, name_field: name, "is_bot": False},
    }
    if text:
        message["text"] = text
    return {"event_name": event_name, "message": message}


def image_update(chat_id: str, message_id: str | None = None) -> dict[str, Any]:
    update = text_update(chat_id, "", message_id=message_id, event_name="message.image.received")
    update["message"]["photo_url"] = "https://example.invalid/photo.jpg"
    return update


def sticker_update(chat_id: str, message_id: str | None = None) -> dict[str, Any]:
    update = text_update(chat_id, "", message_id=message_id, event_name="message.sticker.received")
    update["message"]["sticker"] = "abc123"
    return update


@dataclass
class Failure:
    code: int
    description: str
    retry_after: float | None = None
    after: int = 0  # let this many calls succeed first


@dataclass
class FakeZaloServer:
    token: str = "123:TEST"
    idle_timeout: float = 0.3  # the real server waits `timeout` seconds; tests do not want to
    echo: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_statuses: list[int] = field(default_factory=list)
    idle_polls: int = 0  # getUpdates answered 408: the queue was empty when that poll began

    def __post_init__(self) -> None:
        self.bot_id = self.token.split(":", 1)[0]
        self._updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._failures: dict[str, list[Failure]] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ------------------------------------------------------------------------------------

    async def start(self) -> FakeZaloServer:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeZaloServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- what tests use --------------------------------------------------------------------------------

    def enqueue(self, update: dict[str, Any]) -> None:
        """Queue an update for `getUpdates`."""
        self._updates.put_nowait(update)

    def pending_updates(self) -> int:
        return self._updates.qsize()

    def fail_next(
        self,
        method: str,
        code: int,
        times: int = 1,
        description: str = "",
        retry_after: float | None = None,
        after: int = 0,
    ) -> None:
        """Answer `times` calls of `method` (after `after` successful ones) with an error envelope."""
        text = description or {429: "Quota exceeded", 403: "Internal server error"}.get(code, "Error")
        queue = self._failures.setdefault(method, [])
        queue.extend(Failure(code, text, retry_after, after if i == 0 else 0) for i in range(times))

    def sent(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (sendMessage and sendPhoto), optionally only to one chat."""
        return [m for m in self.messages if chat_id is None or m["chat_id"] == chat_id]

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [m.get("text", "") for m in self.sent(chat_id)]

    def method_calls(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    async def post_webhook(
        self, update: dict[str, Any], secret: str | None = None, url: str | None = None, raw: bytes | None = None
    ) -> int:
        """POST an update to the webhook (the registered one unless `url`), as Zalo does; returns the status."""
        assert self._session is not None
        target = url or self.webhook_url
        headers = {"Content-Type": "application/json"}
        value = self.webhook_secret if secret is None else secret
        if value:
            headers[SECRET_HEADER] = value
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": update}
        async with self._session.post(target, headers=headers, **kwargs) as response:
            self.webhook_statuses.append(response.status)
            return response.status

    def deliver(self, update: dict[str, Any]) -> None:
        """As the platform does: to the webhook when one is set, else to `getUpdates`."""
        if self.webhook_url:
            task = asyncio.get_running_loop().create_task(self._post_quietly(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self.enqueue(update)

    async def _post_quietly(self, update: dict[str, Any]) -> None:
        try:
            await self.post_webhook(update)
        except aiohttp.ClientError:
            pass

    # --- the wire --------------------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, description: str, retry_after: float | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=200 if code == 408 else code)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        try:
            payload = await request.json() if request.can_read_body else {}
        except ValueError:
            return self._error(400, "Bad request: body is not JSON")
        payload = payload if isinstance(payload, dict) else {}
        self.calls.append((method, payload))
        queued = self._failures.get(method)
        if queued and queued[0].after:
            queued[0].after -= 1
        elif queued:
            failure = queued.pop(0)
            return self._error(failure.code, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not found: unknown method")
        return await handler(payload)  # type: ignore[no-any-return]

    async def _m_getMe(self, _p: dict[str, Any]) -> web.Response:
        me = {"id": self.bot_id, "account_name": "bot.fake", "account_type": "BASIC", "can_join_groups": False}
        return self._ok(me)

    async def _m_getUpdates(self, p: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return self._error(400, "Bad request: webhook is active, call deleteWebhook before getUpdates")
        try:
            wait = min(float(p.get("timeout", 30)), self.idle_timeout)
        except (TypeError, ValueError):
            return self._error(400, "Bad request: timeout")
        try:
            update = await asyncio.wait_for(self._updates.get(), timeout=wait)
        except TimeoutError:
            self.idle_polls += 1
            return self._error(408, "Request timeout")
        return self._ok(update)

    async def _m_setWebhook(self, p: dict[str, Any]) -> web.Response:
        url, secret = str(p.get("url") or ""), str(p.get("secret_token") or "")
        if not url.startswith(("https://", "http://")) or not 8 <= len(secret) <= 256:
            return self._error(400, "Bad request: url and secret_token (8-256 characters) are required")
        self.webhook_url, self.webhook_secret = url, secret
        return self._ok({"url": url, "updated_at": int(time.time() * 1000)})

    async def _m_deleteWebhook(self, _p: dict[str, Any]) -> web.Response:
        self.webhook_url, self.webhook_secret = "", ""
        return self._ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def _m_getWebhookInfo(self, _p: dict[str, Any]) -> web.Response:
        return self._ok({"url": self.webhook_url, "updated_at": int(time.time() * 1000)})

    async def _m_sendMessage(self, p: dict[str, Any]) -> web.Response:
        chat_id, text = str(p.get("chat_id") or ""), p.get("text")
        if not chat_id or not isinstance(text, str):
            return self._error(400, "Bad request: chat_id and text are required")
        length = len(unicodedata.normalize("NFC", text).encode("utf-16-le")) // 2
        if not 1 <= length <= 2000:
            return self._error(400, "Bad request: text must be 1-2000 characters")
        return self._sent({"method": "sendMessage", "chat_id": chat_id, "text": text})

    async def _m_sendPhoto(self, p: dict[str, Any]) -> web.Response:
        chat_id, photo = str(p.get("chat_id") or ""), str(p.get("photo") or "")
        if not chat_id or not photo.startswith(("http://", "https://")):
            return self._error(400, "Bad request: photo must be an absolute URL")
        return self._sent({"method": "sendPhoto", "chat_id": chat_id, "photo": photo, "text": p.get("caption", "")})

    async def _m_sendChatAction(self, p: dict[str, Any]) -> web.Response:
        if not p.get("chat_id"):
            return self._error(400, "Bad request: chat_id is required")
        return self._ok({"ok": True})

    def _sent(self, record: dict[str, Any]) -> web.Response:
        message_id = secrets.token_hex(10)
        date = int(time.time() * 1000)
        self.messages.append({**record, "message_id": message_id})
        if self.echo:
            self.deliver(
                {
                    "event_name": "message.text.received"
                    if record["method"] == "sendMessage"
                    else "message.image.received",
                    "message": {
                        "message_id": message_id,
                        "date": date,
                        "chat": {"id": record["chat_id"], "chat_type": "PRIVATE"},
                        "from": {"id": self.bot_id, "display_name": "Bot Fake", "is_bot": True},
                        "text": record.get("text", ""),
                    },
                }
            )
        return self._ok({"message_id": message_id, "date": date})
