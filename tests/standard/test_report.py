"""The period reports carry the standard: three schools register, two assess themselves, one is evaluated đạt,
and the chat summary, the DOCX and the XLSX annex say exactly that; a school's report only its own school, a
teacher's none."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook

from bot.app import App
from bot.channels.console.app import ConsoleSession
from tests.standard.helpers import SCHOOLS, district, evaluate, register, self_assess

DEMO = "Trường THCS Thử Nghiệm"


async def test_the_reports_say_how_many_schools_registered_assessed_and_met_the_standard(app: App) -> None:
    await district(app)
    for admin in ("qt", "qt1", "qt2"):
        await register(app, admin)
    await self_assess(app, "qt")
    await self_assess(app, "qt1", not_met=1)
    await evaluate(app, DEMO)

    btc = ConsoleSession(app.dispatcher, user="btc")
    screen = await btc.send("/report 2027")
    assert "🛡️ Tiêu chuẩn ANTT (năm học 2026-2027): 3/4 trường đăng ký, 2 đã tự đánh giá, 1/4 đạt" in screen
    (_docx, docx), (_xlsx, xlsx) = btc.attachments
    text = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "6. Thực hiện tiêu chuẩn “An toàn về an ninh, trật tự” (năm học 2026-2027)" in text
    assert (
        "- Số cơ sở giáo dục đăng ký: 3/4 (đạt 75%); đã tự đánh giá: 2; được đánh giá đạt tiêu chuẩn: 1/4 (đạt 25%)."
        in text
    )
    assert f"- Chưa đăng ký: {SCHOOLS[2]}." in text
    # The report lists schools by name, as its other tables do.
    assert f"- Đã đăng ký, chưa đạt tiêu chuẩn: {', '.join(sorted(SCHOOLS[:2]))}." in text

    wb = load_workbook(io.BytesIO(xlsx))
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=4, values_only=True)}
    assert summary["Số cơ sở giáo dục"] == 4
    assert summary["Cơ sở giáo dục đăng ký tiêu chuẩn “An toàn về ANTT” (năm học 2026-2027)"] == 3
    assert summary["Cơ sở giáo dục đã tự đánh giá"] == 2
    assert summary["Cơ sở giáo dục đạt tiêu chuẩn"] == 1
    assert summary["Tỉ lệ đạt tiêu chuẩn (%)"] == 25.0
    rows = [list(r) for r in wb["Tiêu chuẩn ANTT"].iter_rows(min_row=4, values_only=True)]
    by_name = {r[1]: r[2:] for r in rows}
    assert len(rows) == 4
    assert by_name[DEMO] == ["Có", "Có", "Đã đánh giá: đạt", "20/11/2026"]
    assert by_name[SCHOOLS[0]] == ["Có", "Có", "Đã tự đánh giá", None]
    assert by_name[SCHOOLS[1]] == ["Có", "Chưa", "Đã đăng ký", None]
    assert by_name[SCHOOLS[2]] == ["Chưa", "Chưa", "Chưa đăng ký", None]

    # A school's report counts its own school; a teacher's report has no such line.
    qt = ConsoleSession(app.dispatcher, user="qt")
    assert "🛡️ Tiêu chuẩn ANTT (năm học 2026-2027): 1/1 trường đăng ký, 1 đã tự đánh giá, 1/1 đạt" in await qt.send(
        "/report 2027"
    )
    gv = ConsoleSession(app.dispatcher, user="gv")
    screen = await gv.send("/report 2027")
    assert "📄 Báo cáo" in screen and "Tiêu chuẩn ANTT" not in screen
