"""Reports made in the background from the web console: a job row shows its progress while the DOCX and XLSX are
made, then their downloads (audited); a failure says so in Vietnamese and stores no file; a job whose process
died is shown as failed and can be made again; one job at a time per user, scope and period; scopes as in the
chat (a teacher asking for the school gets 403 and no row); the charts of the pages are the user's scope only."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import App
from bot.reports import docx_report
from db import models as m
from tests.conftest import FakeClock
from tests.web.conftest import csrf_of, link_for, origin, sign_in
from tests.web.test_pages import add_students


async def signed_in(web_app: App, client: TestClient[Any, Any], who: str) -> str:
    """Sign `who` in; the CSRF token of their report page."""
    await sign_in(client, await link_for(web_app, who))
    return csrf_of(await (await client.get("/bao-cao")).text())


async def start(client: TestClient[Any, Any], csrf: str, period: str = "2027", scope: str = "mine") -> Any:
    data = {"csrf": csrf, "ky": period, "pham-vi": scope}
    return await client.post("/bao-cao/lap", data=data, headers=origin(client), allow_redirects=False)


async def started(client: TestClient[Any, Any], csrf: str, period: str = "2027", scope: str = "mine") -> str:
    response = await start(client, csrf, period, scope)
    assert response.status == 303, await response.text()
    return str(response.headers["Location"])


async def until_settled(client: TestClient[Any, Any], job: str) -> str:
    """What the page shows once the job stops asking to be polled (done or failed)."""
    for _ in range(400):
        response = await client.get(f"{job}/trang-thai")
        assert response.status == 200
        html = await response.text()
        if "hx-trigger" not in html:
            return html
        await asyncio.sleep(0.05)
    raise AssertionError("the job never ended")


async def count(web_app: App, model: Any, *where: Any) -> int:
    async with web_app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_teacher_makes_the_report_in_the_background_and_downloads_both_files(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    await add_students(web_app, ["Phạm Minh Châu", "Lê Thị An"])
    csrf = await signed_in(web_app, client, "gv")
    job = await started(client, csrf)
    page = await (await client.get(job)).text()
    assert "Báo cáo năm 2027 – Các lớp của thầy/cô" in page
    html = await until_settled(client, job)
    assert "Báo cáo đã lập xong" in html and f'href="{job}/docx"' in html and f'href="{job}/xlsx"' in html
    assert "/bao-cao/bieu-do/2027/theo-thang.svg" in html  # the charts of the report's scope

    docx = await client.get(f"{job}/docx")
    assert docx.status == 200 and docx.headers["Content-Disposition"] == (
        'attachment; filename="bao-cao-2027-lop-7a.docx"'
    )
    document = Document(io.BytesIO(await docx.read()))
    assert "năm 2027" in "\n".join(p.text for p in document.paragraphs)
    assert len(document.inline_shapes) == 3  # the three charts, drawn in the job's worker thread
    xlsx = await client.get(f"{job}/xlsx")
    summary = load_workbook(io.BytesIO(await xlsx.read()))["Tổng hợp"]
    figures = {row[0]: row[1] for row in summary.iter_rows(min_row=4, values_only=True)}
    assert figures["Số học sinh trong các lớp"] == 2

    async with web_app.sessions() as s:
        audit = (await s.execute(select(m.AuditLog.action, m.AuditLog.scope, m.AuditLog.detail))).all()
    made = [(scope, d) for action, scope, d in audit if action == "report.create"]
    assert len(made) == 1 and made[0][0].startswith("classes:") and made[0][1]["period"] == "2027"
    downloads = [d["file"] for action, _s, d in audit if action == "file.download"]
    assert downloads == ["bao-cao-2027-lop-7a.docx", "phu-luc-2027-lop-7a.xlsx"]
    listing = await (await client.get("/bao-cao")).text()
    assert "Báo cáo đã lập" in listing and "đã xong" in listing and f'href="{job}"' in listing


async def test_progress_shows_each_step_and_a_second_click_shows_the_running_job(
    web_app: App, client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = docx_report.build_docx

    def slow_docx(*args: Any) -> bytes:
        assert release.wait(20)
        return real(*args)

    monkeypatch.setattr(docx_report, "build_docx", slow_docx)
    csrf = await signed_in(web_app, client, "gv")
    job = await started(client, csrf)
    for _ in range(400):
        html = await (await client.get(f"{job}/trang-thai")).text()
        if "<strong>Đang ghi tệp Word…</strong>" in html:
            break
        await asyncio.sleep(0.05)
    assert 'hx-trigger="every 1s"' in html and '<li aria-current="step">Đang ghi tệp Word…</li>' in html
    assert html.count("✓ xong") == 2  # the figures and the charts are done
    assert await started(client, csrf) == job  # the same job, not a second one
    assert await count(web_app, m.WebReportJob) == 1
    release.set()
    assert "Báo cáo đã lập xong" in await until_settled(client, job)
    assert await started(client, csrf) != job  # once it is done, a click makes a new one


async def test_a_failing_renderer_says_so_stores_no_file_and_can_be_retried(
    web_app: App, client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> bytes:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(docx_report, "build_docx", broken)
    csrf = await signed_in(web_app, client, "qt")
    job = await started(client, csrf, "2027-H1")
    html = await until_settled(client, job)
    assert 'role="alert"' in html and "Chưa lập được báo cáo." in html and "Chưa có tệp nào được lưu" in html
    assert "the disk is full" not in html  # the cause goes to the log, not to the page
    assert await count(web_app, m.WebFile) == 0
    assert await count(web_app, m.AuditLog, m.AuditLog.action == "report.create") == 0
    assert (await client.get(f"{job}/docx")).status == 404

    monkeypatch.undo()
    retried = await client.post(f"{job}/lai", data={"csrf": csrf}, headers=origin(client), allow_redirects=False)
    assert retried.status == 303 and retried.headers["Location"] != job
    assert "Báo cáo đã lập xong" in await until_settled(client, retried.headers["Location"])
    assert await count(web_app, m.WebFile) == 2


async def test_a_job_whose_process_died_shows_failed_and_is_made_again(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    csrf = await signed_in(web_app, client, "gv")
    async with web_app.uow_factory() as uow:
        gv = await uow.users.by_account("console", "gv")
        assert gv is not None
        then = clock() - dt.timedelta(minutes=6)
        job_id, _new = await uow.web_report_jobs.start(gv.id, "mine", "2027", "year", then, then)
        await uow.web_report_jobs.claim(job_id, then)
        await uow.commit()
    html = await (await client.get(f"/bao-cao/viec/{job_id}")).text()
    assert "Chưa lập được báo cáo." in html and "bị gián đoạn" in html and "hx-trigger" not in html
    assert "không thành công" in await (await client.get("/bao-cao")).text()

    again = await started(client, csrf)
    assert again != f"/bao-cao/viec/{job_id}"
    assert "Báo cáo đã lập xong" in await until_settled(client, again)
    async with web_app.sessions() as s:
        state, error = (
            await s.execute(select(m.WebReportJob.state, m.WebReportJob.error).where(m.WebReportJob.id == job_id))
        ).one()
    assert (state, error) == ("failed", "stale")
    # Retrying the stale job itself works too.
    retried = await client.post(
        f"/bao-cao/viec/{job_id}/lai", data={"csrf": csrf}, headers=origin(client), allow_redirects=False
    )
    assert retried.status == 303


async def test_another_scope_another_users_job_and_a_missing_token_change_nothing(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    async with web_app.uow_factory() as uow:
        school_id = (await uow.schools.list())[0].id
    csrf = await signed_in(web_app, client, "gv")
    for scope in (f"school:{school_id}", "all", "class:999", "school:abc"):
        response = await start(client, csrf, scope=scope)
        assert response.status == 403, scope
    no_token = await client.post("/bao-cao/lap", data={"ky": "2027"}, headers=origin(client), allow_redirects=False)
    assert no_token.status == 403 and "Phiên làm việc đã hết hạn" in await no_token.text()
    bad_period = await start(client, csrf, period="2027-H3")
    assert bad_period.status == 400 and "chọn kỳ báo cáo" in await bad_period.text()
    assert await count(web_app, m.WebReportJob) == 0
    job = await started(client, csrf)
    await until_settled(client, job)

    # The school admin may make the school's report, but not look at the teacher's job.
    client.session.cookie_jar.clear()
    csrf = await signed_in(web_app, client, "qt")
    for path in (job, f"{job}/trang-thai", f"{job}/docx"):
        assert (await client.get(path)).status == 404, path
    theirs = await client.post(f"{job}/lai", data={"csrf": csrf}, headers=origin(client), allow_redirects=False)
    assert theirs.status == 404
    assert await count(web_app, m.WebReportJob) == 1
    assert (await start(client, csrf, scope=f"school:{school_id}")).status == 303


async def test_charts_are_svg_of_the_users_own_scope_and_cached_by_their_figures(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    async with web_app.uow_factory() as uow:
        school_id = (await uow.schools.list())[0].id
    await signed_in(web_app, client, "gv")
    overview = await (await client.get("/")).text()
    assert '<img src="/bao-cao/bieu-do/2027/theo-thang.svg" alt="Biểu đồ cột: lượt tham gia theo tháng."' in overview
    assert "Theo chủ đề" in overview and "An toàn giao thông" in overview  # the topic chart's table
    for name in ("theo-thang", "theo-chu-de", "theo-don-vi"):
        response = await client.get(f"/bao-cao/bieu-do/2027/{name}.svg")
        assert response.status == 200 and response.content_type == "image/svg+xml"
        assert (await response.text()).lstrip().startswith("<?xml") and "<svg" in await response.text()
    etag = response.headers["ETag"]
    again = await client.get("/bao-cao/bieu-do/2027/theo-don-vi.svg", headers={"If-None-Match": etag})
    assert again.status == 304
    assert (await client.get(f"/bao-cao/bieu-do/2027/theo-thang.svg?pham-vi=school:{school_id}")).status == 403
    assert (await client.get("/bao-cao/bieu-do/2027/khac.svg")).status == 404
    assert (await client.get("/bao-cao/bieu-do/2027-H3/theo-thang.svg")).status == 404

    client.session.cookie_jar.clear()
    await signed_in(web_app, client, "btc")
    school = await client.get(f"/bao-cao/bieu-do/2027/theo-thang.svg?pham-vi=school:{school_id}")
    assert school.status == 200


async def test_an_organizer_makes_one_schools_report_from_the_scope_list(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    async with web_app.uow_factory() as uow:
        school = (await uow.schools.list())[0]
    await sign_in(client, await link_for(web_app, "btc"))
    listing = await (await client.get("/bao-cao")).text()
    assert '<label for="pham-vi">Phạm vi báo cáo</label>' in listing
    assert '<option value="mine">Toàn đặc khu</option>' in listing
    assert f'<option value="school:{school.id}">{school.name}</option>' in listing
    job = await started(client, csrf_of(listing), "2027-H1", f"school:{school.id}")
    html = await until_settled(client, job)
    assert f"Báo cáo 6 tháng đầu năm 2027 – {school.name}" in html
    chart = f"/bao-cao/bieu-do/2027-H1/theo-don-vi.svg?pham-vi=school%3A{school.id}"
    assert chart in html  # the charts of that school
    assert (await client.get(chart)).content_type == "image/svg+xml"
    docx = await client.get(f"{job}/docx")
    assert docx.headers["Content-Disposition"] == 'attachment; filename="bao-cao-2027-H1-truong-thcs-thu-nghiem.docx"'
    async with web_app.sessions() as s:
        scopes = (await s.scalars(select(m.AuditLog.scope).where(m.AuditLog.action == "report.create"))).all()
    assert scopes == [f"school:{school.id}"]
