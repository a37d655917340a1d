"""Telegram Mini App logins: the initData a Mini App hands its page, checked with aiogram
(HMAC-SHA256 keyed with "WebAppData" and the bot token) and refused when older than an hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiogram.utils.web_app import safe_parse_webapp_init_data

MAX_AGE = dt.timedelta(hours=1)


Check = Callable[[str, dt.datetime], tuple[str, str] | None]


def init_data_checker(token: str, max_age: dt.timedelta = MAX_AGE) -> Check:
    """A check of initData against the bot's token: (Telegram user id, start parameter) of a genuine and fresh
    login, else None (a wrong hash, a missing field, an auth_date older than `max_age` or in the future)."""

    def check(init_data: str, now: dt.datetime) -> tuple[str, str] | None:
        try:
            data = safe_parse_webapp_init_data(token, init_data)
        except (ValueError, TypeError):  # a wrong signature, or fields that do not parse (pydantic's errors too)
            return None
        if data.user is None:
            return None
        auth = data.auth_date if data.auth_date.tzinfo else data.auth_date.replace(tzinfo=dt.UTC)
        if not now - max_age <= auth <= now + dt.timedelta(minutes=1):
            return None
        return str(data.user.id), data.start_param or ""

    return check
