"""The Zalo webhook endpoint: check the secret (constant time) before reading the body, store the update in
the inbox, and only then answer 200. A store failure answers 500 so Zalo can deliver again."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.zalo.mapping import external_id, is_self_echo, unwrap
from bot.runtime.payloads import storable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/zalo/webhook"
MAX_BODY = 256 * 1024  # a text update is a few hundred bytes

Submit = Callable[[str, dict[str, Any]], Awaitable[bool]]


def valid_secret(secret: str | None) -> bool:
    return secret is not None and 8 <= len(secret) <= 256


def webhook_app(secret: str, bot_id: str, submit: Submit, path: str = WEBHOOK_PATH) -> web.Application:
    if not valid_secret(secret):
        raise ValueError("ZALO_WEBHOOK_SECRET must be 8–256 characters")
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.json_response({"ok": False, "description": "unauthorized"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"ok": False, "description": "too large"}, status=413)
        try:
            body = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"ok": False, "description": "too large"}, status=413)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return web.json_response({"ok": False, "description": "not JSON"}, status=400)
        for update in unwrap(body):
            key = external_id(update)
            if key is None or is_self_echo(update, bot_id):
                continue  # nothing to do: answered 200 so it is not sent again
            if not storable(update):
                log.warning("zalo webhook: malformed update dropped")
                continue
            try:
                await submit(key, update)
            except Exception:
                log.exception("zalo webhook: could not store an update; answering 500 so it comes again")
                return web.json_response({"ok": False, "description": "try again"}, status=500)
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, handle)
    return app
