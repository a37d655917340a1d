"""A fast fake Telegram Bot API for load tests: it serves getUpdates from a queue (or posts to a webhook),
answers the send methods at once, and records every reply with its time, so a driver can play many students.

With `limits` (`TelegramLimits`) it also keeps Telegram's published pace as Telegram does: a call to a chat
beyond about 30 a second overall or 1 a second in one chat (after a short burst) is answered 429 with
`retry_after`, is not delivered (not recorded, not shown to the student) and must be sent again. The pace
counts every call addressed to a chat (messages, edits, files); `answerCallbackQuery` is not counted, as
Telegram publishes no limit for it."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ReplyHook = Callable[[str, int, dict[str, Any]], None]


@dataclass
class Recorded:
    method: str
    chat_id: int
    at: float
    payload: dict[str, Any]


@dataclass
class TelegramLimits:
    """Telegram's published pace (core.telegram.org/bots/faq): about 30 messages a second overall, 1 a second
    in one chat (short bursts allowed: `chat_burst`)."""

    per_second: int = 30
    chat_per_second: float = 1.0
    chat_burst: int = 3

    def __post_init__(self) -> None:
        self._made: deque[float] = deque()
        self._chat_tat: dict[int, float] = {}
        self.refused = 0
        self.accepted: list[float] = []  # when each counted call was let through

    def retry_after(self, chat_id: int, now: float) -> int:
        """0 when the call may go (it is counted); else the whole seconds to wait, as Telegram answers."""
        made = self._made
        while made and made[0] <= now - 1.0:
            made.popleft()
        wait = made[0] + 1.0 - now if len(made) >= self.per_second else 0.0
        interval = 1.0 / self.chat_per_second
        tat = max(self._chat_tat.get(chat_id, 0.0), now)
        wait = max(wait, tat - interval * (self.chat_burst - 1) - now)
        if wait > 0:
            self.refused += 1
            return max(math.ceil(wait), 1)
        made.append(now)
        self._chat_tat[chat_id] = tat + interval
        self.accepted.append(now)
        return 0


@dataclass
class FakeBotApi:
    host: str = "127.0.0.1"
    port: int = 0
    on_reply: ReplyHook | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    delivered_at: dict[int, float] = field(default_factory=dict)  # update_id -> when the bot fetched it
    errors: int = 0
    limits: TelegramLimits | None = None  # None: every call is answered at once

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(1)
        self._new = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._ids)
        update["update_id"] = update_id
        self.updates.append(update)
        self._new.set()
        return update_id

    def next_update_id(self) -> int:
        return next(self._ids)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        data = await request.post()
        out: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    out[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            out[key] = value
        return out

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "getMe":
            return _ok({"id": 42, "is_bot": True, "first_name": "Bench", "username": "bench_bot"})
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "deleteMyCommands", "close", "logOut"):
            return _ok(True)
        if method == "getWebhookInfo":
            return _ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})
        chat_id = int(params.get("chat_id") or 0)
        now = time.perf_counter()
        if self.limits is not None and chat_id:
            wait = self.limits.retry_after(chat_id, now)
            if wait:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {wait}",
                        "parameters": {"retry_after": wait},
                    },
                    status=429,
                )
        self.recorded.append(Recorded(method, chat_id, now, params))
        if self.on_reply is not None:
            self.on_reply(method, chat_id, params)
        if method == "answerCallbackQuery":
            return _ok(True)
        message = {
            "message_id": next(self._msg_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": str(params.get("text", ""))[:50],
        }
        return _ok(message)

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            # Confirmed updates are dropped, as Telegram does.
            keep = 0
            while keep < len(self.updates) and self.updates[keep]["update_id"] < offset:
                keep += 1
            del self.updates[:keep]
        if not self.updates and timeout:
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), timeout=min(timeout, 5))
            except TimeoutError:
                pass
        batch = self.updates[:limit]
        now = time.perf_counter()
        for u in batch:
            self.delivered_at.setdefault(u["update_id"], now)
        return _ok(batch)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def message_update(chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "HS"}
    return {
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                if text.startswith("/")
                else {}
            ),
        }
    }


def callback_update(chat_id: int, message_id: int, data: str, query_id: int) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "HS"}
    return {
        "callback_query": {
            "id": str(query_id),
            "from": user,
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "q",
            },
        }
    }
