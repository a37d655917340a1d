"""Reports from the web console: the periods the office names, the current one first; the DOCX and the XLSX of
the user's own scope, audited; a period that does not exist is a clear page."""

from __future__ import annotations

import io
from typing import Any

from aiohttp.test_utils import TestClient
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from db import models as m
from tests.web.conftest import link_for, sign_in


async def test_a_teacher_downloads_the_report_of_the_current_year(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "gv"))
    listing = await (await client.get("/bao-cao")).text()
    # On 28/11/2026 the current reporting year is 2027 (16/11/2026 – 15/11/2027): it comes first.
    assert listing.index("Cả năm 2027") < listing.index("6 tháng đầu năm 2027") < listing.index("Cả năm 2026")
    docx = await client.get("/bao-cao/2027.docx")
    assert docx.status == 200 and docx.headers["Content-Disposition"].endswith('.docx"')
    text = "\n".join(p.text for p in Document(io.BytesIO(await docx.read())).paragraphs)
    assert "BÁO CÁO" in text.upper() and "năm 2027" in text
    xlsx = await client.get("/bao-cao/2027.xlsx")
    assert xlsx.status == 200 and load_workbook(io.BytesIO(await xlsx.read())).sheetnames
    async with web_app.sessions() as s:
        rows = (
            await s.execute(select(m.AuditLog.action, m.AuditLog.scope).where(m.AuditLog.action == "report.create"))
        ).all()
    assert len(rows) == 2 and all(scope.startswith("classes:") for _a, scope in rows)  # the teacher's classes only


async def test_a_period_that_does_not_exist_is_a_clear_page(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "qt"))
    response = await client.get("/bao-cao/2026-H3.docx")
    assert response.status == 404 and "Không tìm thấy trang này" in await response.text()
    async with web_app.sessions() as s:
        assert (await s.scalars(select(m.AuditLog.id).where(m.AuditLog.action == "report.create"))).all() == []
