"""What every page shares: the console's dependencies and rendering a template in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.content.loader import Content
from bot.core.clock import Clock, vn_time
from bot.core.i18n import N_, I18n
from bot.core.ports import UserRec
from bot.reports.options import ReportOptions
from bot.web.ports import WebSessionRec


@dataclass(frozen=True)
class WebDeps:
    """What the console uses: units of work (and those for long reads), the clock, the catalogs, its public
    address, and what the pages read (report options for the periods, the content for the lessons to send)."""

    uow_factory: Callable[[], Any]
    # Units of work for long reads that must not hold the writer (see `db.session.create_read_engine`).
    reader: Callable[[], Any]
    clock: Clock
    i18n: I18n
    base_url: str
    reports: ReportOptions
    content: Content
    # The Telegram bot's username once its channel has started (join links t.me/<bot>?start=<class code>).
    bot_username: Callable[[], str | None] = lambda: None
    # The version of the privacy notice a consent recorded here is given under, as in the chat (`Env`).
    notice_version: str = ""
    # Checks a Telegram Mini App's initData for the contest page (from the Telegram channel; None: no token).
    check_init_data: Callable[[str, Any], tuple[str, str] | None] | None = None
    # Transactions that may write at once (the contest page's answer groups): 1 on SQLite, 2 on PostgreSQL.
    writers: int = 1


DEPS = web.AppKey("deps", WebDeps)
NOT_FOUND = N_("Không tìm thấy trang này, hoặc thầy/cô không có quyền xem.")
USER = web.RequestKey("user", UserRec)  # the signed-in user, set by the security middleware
SESSION = web.RequestKey("session", WebSessionRec)


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A rendered page in the signed-in user's language (Vietnamese before sign-in)."""
    deps = request.app[DEPS]
    user: UserRec | None = request.get(USER)
    locale = user.locale if user is not None else "vi"
    session: WebSessionRec | None = request.get(SESSION)

    def gettext(message: str) -> str:
        return deps.i18n.gettext(locale, message)

    base = {
        "_": gettext,
        "user": user,
        "csrf": session.csrf if session else "",
        "vn": vn_time,
        "path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, base | context, status=status)


def refusal(request: web.Request, status: int, message: str, title: str = "") -> web.Response:
    """A page that says why nothing was done; `message` and `title` are message ids (`N_`), shown translated."""
    deps = request.app[DEPS]
    user: UserRec | None = request.get(USER)
    locale = user.locale if user is not None else "vi"
    text = deps.i18n.gettext(locale, message)
    return page(
        request, "message.html", status=status, title=deps.i18n.gettext(locale, title) if title else text, message=text
    )
