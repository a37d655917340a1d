"""Files for Zalo, which carries none: the report an organizer asks for in the chat arrives as links to the web
console, made for them and valid for a day; on Telegram the files go as they are, with the links beside them."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat
from tests.web.conftest import BASE_URL

FILE_LINK = re.compile(re.escape(BASE_URL) + r"(/tep/[A-Za-z0-9_-]+)")


async def organizer(app: App, channel: str, external_id: str) -> Chat:
    async with app.uow_factory() as uow:
        user = await uow.users.create(channel, external_id, external_id, "vi", app.clock(), role="organizer")
        await uow.users.update(user.id, display_name="Phòng VH-XH", onboarded=True)
        await uow.commit()
    return Chat(app, channel, external_id)


async def test_a_zalo_organizer_gets_the_report_as_links_that_last_a_day(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    chat = await organizer(web_app, "zalo", "z-org")
    await chat.say("/baocao 2027")
    (report,) = [r for r in chat.replies if "Báo cáo" in r.text and "/tep/" in r.text]
    assert report.attachments == () and report.link_preview is False
    assert "24 giờ" in report.text and "đừng chuyển cho người khác" in report.text
    paths = FILE_LINK.findall(report.text)
    assert len(paths) == 2  # the report and its annex
    docx = await client.get(paths[0])  # no sign-in: the link is the key
    assert docx.status == 200 and (await docx.read())[:2] == b"PK"
    assert docx.headers["Content-Disposition"].endswith('.docx"')
    async with web_app.sessions() as s:
        stored = (await s.scalars(select(m.WebFile.token_hash))).all()
        audit = (await s.scalars(select(m.AuditLog.action).where(m.AuditLog.action == "file.download"))).all()
    assert len(stored) == 2 and not any(p.rsplit("/", 1)[1] in stored for p in paths)  # only hashes kept
    assert audit == ["file.download"]
    clock.advance(hours=24, seconds=1)
    gone = await client.get(paths[1])
    assert gone.status == 404 and "quá 24 giờ" in await gone.text()
    assert (await client.get("/tep/khong-co-tep-nay-aaaaaaaaaaaaaaaa")).status == 404


async def test_on_telegram_the_files_go_with_the_links_beside_them(web_app: App) -> None:
    chat = await organizer(web_app, "telegram", "777")
    await chat.say("/baocao 2027")
    (report,) = [r for r in chat.replies if r.attachments]
    assert [a.filename.rsplit(".", 1)[1] for a in report.attachments] == ["docx", "xlsx"]
    assert len(FILE_LINK.findall(report.text)) == 2
