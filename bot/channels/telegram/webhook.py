"""Webhook mode: an aiohttp endpoint that checks the secret header (constant time, before reading the body),
stores the update in the inbox and only then answers 200; a failed store answers 500 so Telegram retries."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from bot.channels.telegram.settings import TelegramSettings
from bot.runtime.payloads import storable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{32,256}")

Store = Callable[[int, dict[str, Any]], Awaitable[bool]]


class WebhookConfigError(RuntimeError):
    pass


def checked_settings(settings: TelegramSettings, token: str) -> tuple[str, str, str]:
    """(url, path, secret) or a clear error: webhook mode never runs without a strong secret."""
    url = settings.telegram_webhook_url or ""
    if settings.telegram_webhook_secret is None:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: webhook mode refuses to start "
            "without a secret (32-256 characters: A-Z a-z 0-9 _ -)."
        )
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not _SECRET_RE.fullmatch(secret):
        raise WebhookConfigError("TELEGRAM_WEBHOOK_SECRET must be 32-256 characters from A-Z a-z 0-9 _ -.")
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise WebhookConfigError("TELEGRAM_WEBHOOK_URL must be a full URL, e.g. https://bot.example.edu.vn/telegram")
    if token in url or token.partition(":")[2] in url:
        raise WebhookConfigError("the bot token must not appear in TELEGRAM_WEBHOOK_URL (the secret header is used).")
    return url, parsed.path or "/", secret


def make_webhook_app(secret: str, store: Store, path: str) -> web.Application:
    expected = secret.encode()

    async def on_update(request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, expected):
            return web.Response(status=401, text="Unauthorized")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="Payload Too Large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Payload Too Large")
        try:
            data = json.loads(body)
            update_id = data["update_id"]
        except (ValueError, TypeError, KeyError, RecursionError):
            data, update_id = None, None
        if type(update_id) is not int or not 0 <= update_id < 2**63 or not storable(data):
            # Malformed: 400 rather than 5xx, so Telegram does not resend it forever.
            log.warning("malformed Telegram webhook body dropped")
            return web.Response(status=400, text="Bad Request")
        try:
            await store(update_id, data)
        except Exception:
            log.exception("could not store a Telegram update; answering 500 so Telegram retries")
            return web.Response(status=500, text="Try again")
        return web.json_response({})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, on_update)
    return app
