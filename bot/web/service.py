"""Signing in from the chat: a one-time link (256 random bits, only its hash stored, 10 minutes, used once),
exchanged by a POST for a session (a new random id, 8 hours) whose forms carry a CSRF token."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from bot.core.ports import UserRec
from bot.core.roles import STAFF
from bot.web.ports import WebSessionRec, WebUnitOfWork

LINK_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(hours=8)
SIGN_IN_PATH = "/dang-nhap"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_sign_in(user: UserRec | None) -> bool:
    """The console is for staff: teachers, school admins and organizers (their scopes are the chat's)."""
    return user is not None and user.onboarded and user.role in STAFF


async def sign_in_link(uow: WebUnitOfWork, user: UserRec, base_url: str, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    await uow.web.add_login(digest(token), user.id, now + LINK_TTL, now)
    return f"{base_url.rstrip('/')}{SIGN_IN_PATH}?t={token}"


async def redeem(uow: WebUnitOfWork, token: str, now: dt.datetime) -> tuple[str, str] | None:
    """Spend the link and open a session: (session id for the cookie, CSRF token), or None for a link that is
    wrong, used or expired, or whose user may no longer sign in."""
    if not token or len(token) > 128:
        return None
    user_id = await uow.web.use_login(digest(token), now)
    user = await uow.users.get(user_id) if user_id is not None else None
    if user is None or not may_sign_in(user):
        return None
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await uow.web.add_session(digest(sid), user.id, csrf, now + SESSION_TTL, now)
    await uow.audit.add(user.id, "web.sign_in", f"user:{user.id}", {}, now)
    return sid, csrf


async def session_user(uow: WebUnitOfWork, sid: str | None, now: dt.datetime) -> tuple[UserRec, WebSessionRec] | None:
    if not sid or len(sid) > 128:
        return None
    session = await uow.web.find_session(digest(sid), now)
    user = await uow.users.get(session.user_id) if session is not None else None
    if session is None or user is None or not may_sign_in(user):
        return None
    return user, session


def csrf_ok(session: WebSessionRec, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())
