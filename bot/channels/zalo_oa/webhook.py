"""The Zalo OA webhook endpoint: check `X-ZEvent-Signature` (SHA-256 of app id + raw body + timestamp + OA
secret key, compared in constant time) and the event's age, store the event in the inbox, and only then answer
200. A forged or stale event gets 401 and nothing is stored; a store failure 500, so Zalo delivers it again."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.zalo_oa.mapping import event_key, is_echo, timestamp_ms
from bot.runtime.payloads import storable

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ZEvent-Signature"
WEBHOOK_PATH = "/zalo-oa/webhook"
MAX_BODY = 256 * 1024  # an event is a few hundred bytes
MAX_AGE_SECONDS = 300  # reference §2.6: reject events more than 5 minutes from now

Submit = Callable[[str, dict[str, Any]], Awaitable[bool]]
Stored = Callable[[dict[str, Any]], Awaitable[None]]


def signature(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    """`mac=` + hex SHA-256 of app id + raw body + timestamp + OA secret key (plain SHA-256, not HMAC)."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret.encode()).hexdigest()
    return f"mac={digest}"


def webhook_app(
    app_id: str,
    secret: str,
    oa_id: str,
    submit: Submit,
    now_ms: Callable[[], int],
    *,
    on_stored: Stored | None = None,
    max_age_seconds: int = MAX_AGE_SECONDS,
    path: str = WEBHOOK_PATH,
) -> web.Application:
    if not app_id or not secret:
        raise ValueError("the OA webhook needs ZALO_OA_APP_ID and ZALO_OA_SECRET_KEY")

    def refuse(why: str) -> web.Response:
        log.warning("zalo oa webhook: event refused (%s)", why)
        return web.json_response({"error": 401, "message": "unauthorized"}, status=401)

    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": 413, "message": "too large"}, status=413)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": 413, "message": "too large"}, status=413)
        try:
            update = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return refuse("not JSON")  # unsigned garbage: nobody's event
        if not isinstance(update, dict) or not isinstance(update.get("timestamp"), str | int):
            return refuse("no timestamp")
        given = request.headers.get(SIGNATURE_HEADER, "").strip()
        expected = signature(app_id, raw, str(update["timestamp"]), secret)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return refuse("signature")
        sent_at = timestamp_ms(update)
        if sent_at is None or abs(now_ms() - sent_at) > max_age_seconds * 1000:
            return refuse("stale")
        key = event_key(update)
        if key is None or is_echo(update, oa_id):
            return web.json_response({"error": 0, "message": "ignored"})  # 200: not sent again
        if not storable(update):
            log.warning("zalo oa webhook: malformed event dropped")
            return web.json_response({"error": 0, "message": "ignored"})
        try:
            await submit(key, update)
        except Exception:
            log.exception("zalo oa webhook: could not store an event; answering 500 so it comes again")
            return web.json_response({"error": 500, "message": "try again"}, status=500)
        if on_stored is not None:
            try:
                await on_stored(update)
            except Exception:  # the event is safe in the inbox; only the window's time is late
                log.exception("zalo oa webhook: could not record the follower's interaction")
        return web.json_response({"error": 0, "message": "ok"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, handle)
    return app
