"""A fake Zalo OA Open API server with the wire format of the reference (§2), for tests.

What it mimics: `POST /v3.0/oa/message/cs` and `POST /v2.0/oa/upload/{image,file}` with the bare
`access_token` header; every answer HTTP 200 with the `{error, message, data}` envelope; -216 for a missing,
unknown or expired token; -32 beyond `rate_per_second` calls within one second (`rate_clock`); -230 for a
user who has not interacted within 7 days, -213 for one who unfollowed; text up to 2,000 characters, at most
5 buttons; uploads (jpg/png up to 1 MB, files up to 5 MB of the types in `file_types`) then sent by the id they
got. It also builds signed webhook events (`X-ZEvent-Signature: mac=sha256(app_id+body+timestamp+secret)`)
and posts them to the bot; every event from a user counts as their interaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

WINDOW = dt.timedelta(days=7)
IMAGE_EXT = {"jpg", "jpeg", "png"}


def sign(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    return "mac=" + hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


@dataclass
class FakeOAServer:
    clock: Callable[[], dt.datetime]
    app_id: str = "360846524940903967"
    secret: str = "oa-secret-key-for-tests"
    oa_id: str = "579745863508352884"
    rate_per_second: int = 10
    # The per-second limit's own clock (seconds): real time, or a test's fake time for paced senders.
    rate_clock: Callable[[], float] = time.monotonic
    file_types: frozenset[str] = frozenset({"pdf", "doc", "docx", "xlsx"})
    host: str = "127.0.0.1"
    port: int = 0
    webhook_url: str = ""
    tokens: set[str] = field(default_factory=set)
    # accepted messages: {"user_id", "message", "at", "message_id", "token"}
    sent: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[str, int]] = field(default_factory=list)  # (path, error) answered
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"kind", "filename", "content"}
    last_interaction: dict[str, dt.datetime] = field(default_factory=dict)
    unfollowed: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    # Tokens valid besides `tokens`: e.g. the fake OAuth server's `access_valid`, so both fakes agree.
    accepts: Callable[[str], bool] | None = None

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._calls: deque[float] = deque()

    # --- life cycle ---------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeOAServer:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v2.0/oa/upload/{kind}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- tokens (what the OAuth side would hand out) -----------------------------------------------------

    def issue_token(self) -> str:
        token = "oa-at-" + secrets.token_urlsafe(12)
        self.tokens.add(token)
        self.tokens_issued += 1
        return token

    def expire_all_tokens(self) -> None:
        self.tokens.clear()

    # --- what the tests read ------------------------------------------------------------------------------

    def messages(self, user_id: str | None = None) -> list[dict[str, Any]]:
        return [s["message"] for s in self.sent if user_id is None or s["user_id"] == user_id]

    def texts(self, user_id: str | None = None) -> list[str]:
        return [m["text"] for m in self.messages(user_id) if "text" in m]

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        payload = message.get("attachment", {}).get("payload", {})
        return list(payload.get("buttons", [])) if payload.get("template_type") == "button" else []

    def files(self, user_id: str) -> list[dict[str, Any]]:
        """The uploads sent to `user_id` as files or images, in order."""
        out = []
        for m in self.messages(user_id):
            attachment = m.get("attachment", {})
            payload = attachment.get("payload", {})
            found = payload.get("token") if attachment.get("type") == "file" else None
            if payload.get("template_type") == "media":
                found = payload["elements"][0].get("attachment_id")
            if found:
                out.append(self.uploads[found])
        return out

    # --- webhook events ------------------------------------------------------------------------------------

    def now_ms(self) -> str:
        return str(int(self.clock().timestamp() * 1000))

    def text_event(
        self, user_id: str, text: str, msg_id: str | None = None, timestamp: str | None = None
    ) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "user_id_by_app": "app-" + user_id,
            "event_name": "user_send_text",
            "sender": {"id": user_id},
            "recipient": {"id": self.oa_id},
            "message": {"msg_id": msg_id or secrets.token_hex(10), "text": text},
            "timestamp": timestamp or self.now_ms(),
        }

    def follow_event(self, user_id: str, name: str = "follow") -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "oa_id": self.oa_id,
            "event_name": name,
            "follower": {"id": user_id},
            "source": "oa_profile",
            "timestamp": self.now_ms(),
        }

    def echo_event(self, user_id: str, text: str) -> dict[str, Any]:
        event = self.text_event(user_id, text)
        event.update(event_name="oa_send_text", sender={"id": self.oa_id}, recipient={"id": user_id})
        return event

    async def post_event(
        self, event: dict[str, Any], *, signature: str | None = None, secret: str | None = None
    ) -> int:
        """POST a webhook event as Zalo does (signed unless `signature` is given); returns the HTTP status."""
        body = json.dumps(event, ensure_ascii=False).encode()
        if event.get("event_name", "").startswith("user_send_") or event.get("event_name") == "follow":
            who = (event.get("sender") or event.get("follower") or {}).get("id")
            if who:
                self.last_interaction[who] = self.clock()
                self.unfollowed.discard(who)
        if event.get("event_name") == "unfollow":
            self.unfollowed.add(event["follower"]["id"])
        header = (
            signature
            if signature is not None
            else sign(self.app_id, body, str(event["timestamp"]), secret or self.secret)
        )
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.webhook_url, data=body, headers={"X-ZEvent-Signature": header, "Content-Type": "application/json"}
            ) as response:
                return response.status

    # --- the API -------------------------------------------------------------------------------------------

    def _error(self, path: str, code: int, message: str) -> web.Response:
        self.errors.append((path, code))
        return web.json_response({"error": code, "message": message})

    def _gate(self, request: web.Request) -> web.Response | None:
        """The access token, then the per-second limit (both checked on every call, as the OA does)."""
        token = request.headers.get("access_token", "")
        if token not in self.tokens and not (self.accepts is not None and self.accepts(token)):
            return self._error(request.path, -216, "Access token is invalid")
        now = self.rate_clock()
        while self._calls and self._calls[0] <= now - 1.0:
            self._calls.popleft()
        if len(self._calls) >= self.rate_per_second:
            return self._error(request.path, -32, "Your application/OA reached limit call api")
        self._calls.append(now)
        return None

    async def _send(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            user_id = str(body["recipient"]["user_id"])
            message = body["message"]
        except (ValueError, KeyError, TypeError):
            return self._error(request.path, -201, "Invalid parameter")
        if user_id in self.unfollowed:
            return self._error(request.path, -213, "User has not followed OA")
        last = self.last_interaction.get(user_id)
        if last is None or self.clock() - last > WINDOW:
            return self._error(request.path, -230, "User has not interacted with the OA in the past 7 days")
        text = message.get("text", "")
        if len(text.encode("utf-16-le")) // 2 > 2000:
            return self._error(request.path, -210, "Text is too long")
        attachment = message.get("attachment")
        if attachment is None and not text:
            return self._error(request.path, -201, "Invalid parameter: empty message")
        if attachment is not None and not self._valid_attachment(attachment):
            return self._error(request.path, -201, "Invalid parameter: attachment")
        message_id = secrets.token_hex(10)
        token = request.headers["access_token"]
        self.sent.append(
            {"user_id": user_id, "message": message, "at": self.clock(), "message_id": message_id, "token": token}
        )
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user_id}}
        )

    def _valid_attachment(self, attachment: dict[str, Any]) -> bool:
        payload = attachment.get("payload") or {}
        if attachment.get("type") == "file":
            return self.uploads.get(payload.get("token", ""), {}).get("kind") == "file"
        if attachment.get("type") != "template":
            return False
        if payload.get("template_type") == "button":
            buttons = payload.get("buttons") or []
            return 1 <= len(buttons) <= 5 and all(
                len(b.get("title", "")) <= 100 and b.get("type") in {"oa.query.hide", "oa.query.show", "oa.open.url"}
                for b in buttons
            )
        if payload.get("template_type") == "media":
            element = (payload.get("elements") or [{}])[0]
            return self.uploads.get(element.get("attachment_id", ""), {}).get("kind") == "image"
        return False

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        kind = request.match_info["kind"]
        form = await request.post()
        upload = form.get("file")
        if kind not in ("image", "file") or not isinstance(upload, web.FileField):
            return self._error(request.path, -201, "Invalid parameter")
        content = upload.file.read()
        ext = upload.filename.rsplit(".", 1)[-1].lower()
        allowed, limit = (IMAGE_EXT, 1024 * 1024) if kind == "image" else (self.file_types, 5 * 1024 * 1024)
        if ext not in allowed:
            return self._error(request.path, -201, "File type is not supported")
        if len(content) > limit:
            return self._error(request.path, -210, "File is too large")
        found = secrets.token_hex(12)
        self.uploads[found] = {"kind": kind, "filename": upload.filename, "content": content}
        key = "attachment_id" if kind == "image" else "token"
        return web.json_response({"error": 0, "message": "Success", "data": {key: found}})
