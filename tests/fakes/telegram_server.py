"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real wire format, for end-to-end tests and benchmarks.

Requests go to `/bot<TOKEN>/<method>` as JSON, urlencoded or multipart bodies (aiogram sends form data with
JSON-encoded complex fields). Every call is recorded with its time. Failures (429 with `retry_after`, 403
"bot was blocked by the user", 400 "message is not modified", ...) can be ordered per method, per chat or for
the n-th call. The real API's limits on text (4096) and callback data (64 bytes) answer 400 as Telegram does."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Fields aiogram sends JSON-encoded inside form data.
_JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "options",
    "allowed_updates",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
}
_INT_FIELDS = {"offset", "limit", "timeout", "message_id", "correct_option_id", "max_connections", "cache_time"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    status: int = 200
    result: Any = None
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or self.params.get("question") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class _Failure:
    method: str
    code: int
    description: str
    chat_id: str | None
    times: int | None  # None: until cleared
    nth: int | None
    retry_after: int | None


class FakeTelegramServer:
    """Start with `await start()`; `.url` is the base for TELEGRAM_API_BASE."""

    def __init__(
        self, token: str = "123456:TEST", bot_id: int = 123456, username: str = "antt_test_bot", host: str = "127.0.0.1"
    ) -> None:
        self.token, self.bot_id, self.username, self.host = token, bot_id, username, host
        self.url = ""
        self.webhook: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (scope json, language) -> commands
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}  # (chat_id, message_id) -> {text, reply_markup}
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1000
        self._new_update = asyncio.Condition()
        self._failures: list[_Failure] = []
        self._counts: dict[str, int] = {}
        self._message_ids: dict[str, itertools.count[int]] = {}
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self._called = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- life cycle -------------------------------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeTelegramServer:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.url = f"http://{self.host}:{sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        async with self._new_update:
            self._new_update.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what tests use -----------------------------------------------------------------------------------------
    def enqueue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an `update_id` is given when missing). Returns the update."""
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
        self._updates.append(update)
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return update

    async def _notify(self) -> None:
        async with self._new_update:
            self._new_update.notify_all()

    def calls(self, method: str | None = None, chat_id: str | int | None = None) -> list[Call]:
        return [
            c
            for c in self._calls
            if (method is None or c.method == method) and (chat_id is None or c.chat_id == str(chat_id))
        ]

    def sent(self, chat_id: str | int | None = None) -> list[Call]:
        """Successful messages to users (sendMessage, editMessageText, sendDocument, sendPoll), in order."""
        kinds = {"sendMessage", "editMessageText", "sendDocument", "sendPoll"}
        return [c for c in self.calls(chat_id=chat_id) if c.method in kinds and c.status == 200]

    def pending_updates(self) -> int:
        return len(self._updates)

    def fail_next(
        self,
        method: str,
        code: int,
        description: str = "",
        *,
        chat_id: str | int | None = None,
        times: int | None = 1,
        nth: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` if given; or only its `nth` call, counting from
        1 over the whole run) with an error. `times=None` keeps failing until `clear_failures()`."""
        if not description:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict: terminated by other getUpdates request",
            }.get(code, "Bad Request: error")
        if code == 429 and retry_after is None:
            retry_after = 1
        self._failures.append(
            _Failure(method, code, description, None if chat_id is None else str(chat_id), times, nth, retry_after)
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until `predicate(server)` is true (checked after every call); fails the test after `timeout`."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self._calls][-20:]}")
            self._called.clear()
            try:
                await asyncio.wait_for(self._called.wait(), min(remaining, 0.2))
            except TimeoutError:
                pass

    # --- update builders ---------------------------------------------------------------------------------------
    def user(self, user_id: int, first_name: str = "An", language_code: str = "vi") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}

    def message_update(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str = "vi",
        update_id: int | None = None,
    ) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "An"
        else:
            chat["title"] = "Lớp 7A"
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id, language_code=language_code),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        update: dict[str, Any] = {"message": message}
        if update_id is not None:
            update["update_id"] = update_id
        return update

    def callback_update(
        self,
        user_id: int,
        data: str,
        message_id: int,
        *,
        chat_id: int | None = None,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        stored = self.messages.get((str(chat_id), message_id), {})
        update: dict[str, Any] = {
            "callback_query": {
                "id": str(next(self._ids) + 10**9),
                "from": self.user(user_id),
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private", "first_name": "An"},
                    "from": {"id": self.bot_id, "is_bot": True, "first_name": "Bot", "username": self.username},
                    "text": stored.get("text", "…"),
                },
            }
        }
        if update_id is not None:
            update["update_id"] = update_id
        return update

    # --- the API -------------------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.read()
            return (json.loads(body) if body else {}), files
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    files[part.name or ""] = bytes(await part.read())  # type: ignore[union-attr]
                    params.setdefault("_filenames", {})[part.name or ""] = part.filename  # type: ignore[union-attr]
                else:
                    params[part.name or ""] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(await request.post())  # type: ignore[arg-type]
        names = params.pop("_filenames", {})
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                # aiogram uploads under a random field name and refers to it; keep it under the parameter's name
                files[key] = files.pop(value[9:])
                params[key] = f"attach://{names.get(value[9:], key)}"
            elif key in _JSON_FIELDS and isinstance(value, str):
                params[key] = json.loads(value)
            elif key in _INT_FIELDS and isinstance(value, str) and value.lstrip("-").isdigit():
                params[key] = int(value)
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        try:
            params, files = await self._params(request)
        except (ValueError, json.JSONDecodeError):
            return _error(400, "Bad Request: can't parse request")
        call = Call(method, params, time.monotonic(), files=files)
        self._calls.append(call)
        self._counts[method] = n = self._counts.get(method, 0) + 1
        try:
            failure = self._failure_for(method, call.chat_id, n)
            if failure is not None:
                call.status = failure.code
                extra = {"parameters": {"retry_after": failure.retry_after}} if failure.code == 429 else {}
                return _error(failure.code, failure.description, **extra)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                call.status = 404
                return _error(404, "Not Found: method not found")
            result = await handler(params)
            if isinstance(result, web.Response):
                call.status = result.status
                return result
            call.result = result
            return web.json_response({"ok": True, "result": result})
        finally:
            self._called.set()

    def _failure_for(self, method: str, chat_id: str | None, n: int) -> _Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            if failure.nth is not None and failure.nth != n:
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Trợ lý ANTT",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getMe(self, _p: dict[str, Any]) -> Any:
        return self._me()

    async def _api_getUpdates(self, p: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
        offset = int(p.get("offset") or 0)
        if offset:  # confirmed: Telegram forgets updates below the offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._new_update:
            while not self._ready(offset) and time.monotonic() < deadline and self._runner is not None:
                try:
                    await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    def _ready(self, offset: int) -> bool:
        return any(u["update_id"] >= offset for u in self._updates)

    async def _api_setWebhook(self, p: dict[str, Any]) -> Any:
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        self.webhook = {
            "url": p.get("url", ""),
            "secret_token": p.get("secret_token"),
            "allowed_updates": p.get("allowed_updates"),
        }
        return True

    async def _api_deleteWebhook(self, p: dict[str, Any]) -> Any:
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        self.webhook = {}
        return True

    async def _api_getWebhookInfo(self, _p: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _check_text(self, text: Any, limit: int = 4096) -> web.Response | None:
        if not text or not str(text).strip():
            return _error(400, "Bad Request: message text is empty")
        if len(str(text).encode("utf-16-le")) // 2 > limit:
            return _error(400, "Bad Request: message is too long")
        return None

    def _check_markup(self, markup: Any) -> web.Response | None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    return _error(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        return None

    def _chat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "first_name": "An"}

    def _store(self, p: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat = str(p["chat_id"])
        counter = self._message_ids.setdefault(chat, itertools.count(1))
        message_id = next(counter)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(p),
            "from": self._me(),
            **extra,
        }
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        self.messages[(chat, message_id)] = {"text": extra.get("text"), "reply_markup": p.get("reply_markup")}
        return message

    async def _api_sendMessage(self, p: dict[str, Any]) -> Any:
        if "chat_id" not in p:
            return _error(400, "Bad Request: chat_id is empty")
        error = self._check_text(p.get("text")) or self._check_markup(p.get("reply_markup"))
        if error is not None:
            return error
        return self._store(p, text=p["text"])

    async def _api_editMessageText(self, p: dict[str, Any]) -> Any:
        error = self._check_text(p.get("text")) or self._check_markup(p.get("reply_markup"))
        if error is not None:
            return error
        key = (str(p.get("chat_id")), int(p.get("message_id") or 0))
        old = self.messages.get(key)
        if old is None:
            return _error(400, "Bad Request: message to edit not found")
        if old["text"] == p["text"] and (old.get("reply_markup") or None) == (p.get("reply_markup") or None):
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message",
            )
        self.messages[key] = {"text": p["text"], "reply_markup": p.get("reply_markup")}
        message = {
            "message_id": key[1],
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": self._chat(p),
            "from": self._me(),
            "text": p["text"],
        }
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        return message

    async def _api_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        key = (str(p.get("chat_id")), int(p.get("message_id") or 0))
        old = self.messages.get(key)
        if old is None:
            return _error(400, "Bad Request: message to edit not found")
        if (old.get("reply_markup") or None) == (p.get("reply_markup") or None):
            return _error(400, "Bad Request: message is not modified")
        old["reply_markup"] = p.get("reply_markup")
        return {"message_id": key[1], "date": int(time.time()), "chat": self._chat(p), "text": old["text"]}

    async def _api_deleteMessage(self, p: dict[str, Any]) -> Any:
        key = (str(p.get("chat_id")), int(p.get("message_id") or 0))
        if self.messages.pop(key, None) is None:
            return _error(400, "Bad Request: message to delete not found")
        return True

    async def _api_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        if len(str(p.get("text") or "")) > 200:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_sendDocument(self, p: dict[str, Any]) -> Any:
        if len(str(p.get("caption") or "")) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        name = str(p.get("document", "attach://file")).removeprefix("attach://")
        return self._store(
            p,
            document={"file_id": f"doc{next(self._ids)}", "file_unique_id": "u", "file_name": name},
            caption=p.get("caption"),
        )

    async def _api_sendPoll(self, p: dict[str, Any]) -> Any:
        options = p.get("options") or []
        if not 2 <= len(options) <= 10:
            return _error(400, "Bad Request: poll must have 2-10 options")
        if len(str(p.get("question") or "")) > 300:
            return _error(400, "Bad Request: poll question length must not exceed 300")
        poll = {
            "id": str(next(self._ids)),
            "question": p.get("question"),
            "options": [{"text": o["text"] if isinstance(o, dict) else o, "voter_count": 0} for o in options],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": str(p.get("is_anonymous", "true")).lower() != "false",
            "type": p.get("type", "regular"),
            "allows_multiple_answers": False,
        }
        if p.get("correct_option_id") is not None:
            poll["correct_option_id"] = p["correct_option_id"]
        return self._store(p, poll=poll)

    async def _api_setMyCommands(self, p: dict[str, Any]) -> Any:
        commands = p.get("commands") or []
        for c in commands:
            if not 1 <= len(c.get("command", "")) <= 32 or not 1 <= len(c.get("description", "")) <= 256:
                return _error(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, str(p.get("language_code") or ""))] = commands
        return True

    async def _api_deleteMyCommands(self, p: dict[str, Any]) -> Any:
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands.pop((scope, str(p.get("language_code") or "")), None)
        return True

    async def _api_close(self, _p: dict[str, Any]) -> Any:
        return True


def _error(code: int, description: str, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description, **extra}, status=code)
