"""A district round's results on the console: a hundred rows a page, in ranking order, and a page that follows the
stored entries (one removed is gone at the next visit, even while the page's results are kept)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select

from bot.app import App
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import add_official_attempt, contest_def, make_contest
from tests.web.conftest import link_for, sign_in

NAME = re.compile(r'<th scope="row">(Học sinh \d+)</th>')


async def closed_round(app: App, clock: FakeClock, n: int) -> int:
    """A closed round `n` students took: student i scored 20 - i % 21 (ties broken by time)."""
    now = clock()
    contest_id = await make_contest(app, contest_def(now, questions=20))
    async with app.sessions() as s:
        round_id = (await s.scalars(select(m.ContestRound.id).where(m.ContestRound.contest_id == contest_id))).one()
        for i in range(n):
            started = now - dt.timedelta(minutes=30) + dt.timedelta(seconds=i)
            answered = [started + dt.timedelta(seconds=10 * (q + 1)) for q in range(20)]
            await add_official_attempt(s, contest_id, round_id, f"Học sinh {i:03d}", started, answered, 20 - i % 21)
        await s.commit()
    async with app.uow_factory() as uow:
        await uow.contests.update_round(round_id, status="closed", closed_at=now)
        await uow.commit()
    return round_id


async def test_a_large_round_is_shown_a_hundred_rows_a_page(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    round_id = await closed_round(web_app, clock, 130)
    await sign_in(client, await link_for(web_app, "btc"))
    path = f"/hoi-thi/vong/{round_id}"

    first = await (await client.get(path)).text()
    names = NAME.findall(first)
    assert len(names) == 100 and "Trang 1/2: hạng 1–" in first and "130 bài" in first
    assert names[0] == "Học sinh 000" and 'href="?trang=2"' in first and "Trang trước" not in first

    second = await (await client.get(path + "?trang=2")).text()
    rest = NAME.findall(second)
    assert len(rest) == 30 and not set(rest) & set(names) and "Trang 2/2" in second
    assert 'href="?trang=1"' in second and "Trang sau" not in second
    assert NAME.findall(await (await client.get(path + "?trang=99")).text()) == rest  # past the end: the last page
    assert NAME.findall(await (await client.get(path + "?trang=abc")).text()) == names  # not a number: the first

    # A student's data is deleted (their registration goes with it): the next visit no longer shows them.
    async with web_app.sessions() as s:
        await s.execute(delete(m.ContestRegistration).where(m.ContestRegistration.display_name == "Học sinh 000"))
        await s.commit()
    after = await (await client.get(path)).text()
    assert "Học sinh 000" not in after and "129 bài" in after


def pages_of(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


async def test_one_certificate_or_every_one_as_its_own_file_in_a_zip(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    round_id = await closed_round(web_app, clock, 12)  # everyone passes: 10 prizes, 2 certificates of completion
    await sign_in(client, await link_for(web_app, "btc"))
    base = f"/hoi-thi/vong/{round_id}"
    page = await (await client.get(base)).text()
    assert f'href="{base}/giay-khen/1.pdf"' in page and f'href="{base}/giay-khen.zip"' in page
    assert "1/GK-" in page and "1/GCN-" in page  # the numbers the certificates carry

    one = await client.get(f"{base}/giay-khen/1.pdf")
    body = await one.read()
    assert one.status == 200 and body.startswith(b"%PDF") and pages_of(body) == 1
    assert "hoc-sinh-000" in one.headers["Content-Disposition"]  # its holder, in plain letters

    every = await client.get(f"{base}/giay-khen.zip")
    archive = zipfile.ZipFile(io.BytesIO(await every.read()))
    names = archive.namelist()
    assert every.status == 200 and len(names) == 12 and len(set(names)) == 12
    assert names[0].startswith("1-gk-") and names[0].endswith("hoc-sinh-000.pdf")
    assert all(pages_of(archive.read(n)) == 1 for n in names)

    for missing in ("0", "13", "99"):
        response = await client.get(f"{base}/giay-khen/{missing}.pdf")
        assert response.status == 404 and "không có giấy khen" in await response.text()
    async with web_app.sessions() as s:
        audit = (await s.scalars(select(m.AuditLog.detail).where(m.AuditLog.action == "contest.export"))).all()
    assert [(a["format"], a.get("files"), a.get("place")) for a in audit] == [("pdf", None, 1), ("zip", 12, None)]


async def test_a_teacher_gets_no_certificate(web_app: App, client: TestClient[Any, Any], clock: FakeClock) -> None:
    round_id = await closed_round(web_app, clock, 3)
    await sign_in(client, await link_for(web_app, "gv"))
    for path in ("giay-khen/1.pdf", "giay-khen.zip"):
        assert (await client.get(f"/hoi-thi/vong/{round_id}/{path}")).status == 403
    async with web_app.sessions() as s:
        assert not (await s.scalars(select(m.AuditLog.id).where(m.AuditLog.action == "contest.export"))).all()
