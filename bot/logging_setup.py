"""Keeps secrets and personal data out of the logs: every log record is redacted when it is made (configured
tokens and secrets, anything shaped like a bot token, database passwords), and chatty libraries that would
log SQL parameters or request URLs are held at WARNING."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

# Telegram (and Zalo Bot) tokens: "<digits>:<35 or so url-safe characters>".
BOT_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
# "scheme://user:password@host" -> keep the user, hide the password.
URL_PASSWORD_RE = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
REDACTED = "[REDACTED]"
# SQL statements with their parameters (names, typed text), request lines with tokens in the URL.
QUIET_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg", "httpx", "httpcore", "aiohttp.access")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is removed whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = BOT_TOKEN_RE.sub(REDACTED, text)
        return URL_PASSWORD_RE.sub(lambda m: m.group("head") + REDACTED + "@", text)

    def record(self, record: logging.LogRecord) -> logging.LogRecord:
        """Render the message once, redacted; the same for the exception text and the stack."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self(record.exc_text)
        if record.stack_info:
            record.stack_info = self(record.stack_info)
        return record


def secrets_of(settings: Any) -> list[str]:
    """The secret values in the settings: tokens, webhook secrets, the database password."""
    out = []
    names = ("telegram_bot_token", "zalo_bot_token", "telegram_webhook_secret", "zalo_webhook_secret")
    for name in (*names, "zalo_oa_app_secret", "zalo_oa_token_key"):
        value = getattr(settings, name, None)
        if value is not None:
            out.append(value.get_secret_value() if hasattr(value, "get_secret_value") else str(value))
    match = re.search(r"://[^:/@\s]*:([^@\s]+)@", str(getattr(settings, "database_url", "")))
    if match:
        out.append(match.group(1))
    return out


def install_redaction(settings: Any = None, extra_secrets: Iterable[str] = ()) -> Callable[[], None]:
    """Redact every log record from now on, whichever handler writes it. Returns a function that undoes it."""
    redactor = Redactor([*(secrets_of(settings) if settings is not None else []), *extra_secrets])
    previous = logging.getLogRecordFactory()
    base = getattr(previous, "_unredacted", previous)  # installing twice replaces, never stacks

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redactor.record(base(*args, **kwargs))

    factory._unredacted = base  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

    def undo() -> None:
        logging.setLogRecordFactory(previous)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    return undo
