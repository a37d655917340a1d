"""The standard in the chat: three schools register, two assess themselves, one is evaluated đạt, and the
organizer's view says exactly that; who may do what; bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.channels.console.app import ConsoleSession
from db import models as m
from tests.core.test_console_flows import option_number
from tests.standard.helpers import SCHOOLS, district, evaluate, register, self_assess

DEMO = "Trường THCS Thử Nghiệm"


async def rows(app: App) -> list[m.StandardRegistration]:
    async with app.sessions() as s:
        return list((await s.scalars(select(m.StandardRegistration).order_by(m.StandardRegistration.id))).all())


async def test_three_register_two_assess_one_is_evaluated_and_the_district_view_says_so(app: App) -> None:
    await district(app)
    for admin in ("qt", "qt1", "qt2"):
        screen = await register(app, admin)
        assert "✅ Trường đã đăng ký tiêu chuẩn năm học 2026-2027." in screen and "Trạng thái: đã đăng ký" in screen
    screen = await self_assess(app, "qt")
    assert "✅ Đã nộp bản tự đánh giá." in screen and "Trạng thái: đã tự đánh giá" in screen
    await self_assess(app, "qt1", not_met=2)
    screen = await evaluate(app, DEMO)
    assert f"✅ Đã ghi kết quả: {DEMO} – Đạt (ngày 20/11/2026)." in screen

    btc = ConsoleSession(app.dispatcher, user="btc")
    screen = await btc.send("/tieuchuan")
    assert "🎯 Chỉ tiêu: 100% cơ sở giáo dục đăng ký và đạt tiêu chuẩn." in screen
    assert "Đã đăng ký: 3/4 trường (75%) · Đã tự đánh giá: 2 · Đạt: 1/4 trường (25%)" in screen
    assert f"• {DEMO}: đã đánh giá: đạt (20/11/2026)" in screen
    assert f"• {SCHOOLS[0]}: đã tự đánh giá" in screen
    assert f"• {SCHOOLS[1]}: đã đăng ký" in screen
    assert f"• {SCHOOLS[2]}: chưa đăng ký" in screen
    assert f"Chưa đăng ký: {SCHOOLS[2]}" in screen
    assert f"Đã đăng ký, chưa đạt: {SCHOOLS[0]}, {SCHOOLS[1]}" in screen

    # The organizer reads a school's answers, notes and evidence links.
    screen = await btc.send(option_number(screen, SCHOOLS[0]))
    assert "❌" in screen and "Đang hoàn thiện" in screen and "🔗 https://truong.example.vn/minh-chung/1" in screen

    saved = await rows(app)
    assert [(r.result, r.self_assessed_at is not None) for r in saved] == [("dat", True), (None, True), (None, False)]
    assert sum(not a["met"] for a in saved[1].answers.values()) == 2
    async with app.sessions() as s:
        actions = list(await s.scalars(select(m.AuditLog.action).where(m.AuditLog.action.like("standard.%"))))
    assert sorted(actions) == sorted(["standard.register"] * 3 + ["standard.self_assess"] * 2 + ["standard.evaluate"])

    # Once evaluated, the school's self-assessment is closed.
    qt = ConsoleSession(app.dispatcher, user="qt")
    screen = await qt.send("/tieuchuan")
    assert "Kết quả đánh giá: Đạt, ngày 20/11/2026. BB số 12" in screen and "Tự đánh giá" not in screen


async def test_teachers_and_students_get_nothing_and_admins_only_their_school(app: App) -> None:
    ids = await district(app)
    gv = ConsoleSession(app.dispatcher, user="gv")
    screen = await gv.send("/tieuchuan")
    assert "dành cho quản trị trường và ban tổ chức" in screen
    assert "Tiêu chuẩn ANTT" not in await gv.send("/menu")
    hs = ConsoleSession(app.dispatcher, user="hs")
    await hs.send("/start")
    assert "dành cho quản trị trường và ban tổ chức" in await hs.send("/tieuchuan")
    await register(app, "qt1")
    # A school admin sees and changes only their own school: the organizer's buttons are not theirs.
    qt = ConsoleSession(app.dispatcher, user="qt")
    screen = await qt.send("/tieuchuan")
    assert "Trường: Trường THCS Thử Nghiệm" in screen and SCHOOLS[0] not in screen
    assert (await rows(app))[0].school_id == ids["qt1"]
    assert len(await rows(app)) == 1


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(app: App) -> None:
    await district(app)
    await register(app, "qt")
    qt = ConsoleSession(app.dispatcher, user="qt")
    screen = await qt.send("/tieuchuan")
    assert "Đăng ký tiêu chuẩn" not in screen and len(await rows(app)) == 1
    screen = await qt.send(option_number(screen, "Tự đánh giá"))
    screen = await qt.send(option_number(screen, "Chưa đạt"))
    long_note = "quá dài " * 100
    screen = await qt.send(long_note)
    assert "Ghi chú dài quá 500 ký tự" in screen and "Tiêu chí 1/" not in screen
    links = " ".join(f"https://a.example.vn/{i}" for i in range(6))
    screen = await qt.send(links)
    assert "tối đa 5 đường dẫn" in screen
    assert (await rows(app))[0].answers == {}
    screen = await qt.send("Có biên bản https://a.example.vn/bb")
    assert "Tiêu chí 2/" in screen
    assert (await rows(app))[0].answers["ke-hoach-dang-ky"] == {
        "met": False,
        "note": "Có biên bản",
        "links": ["https://a.example.vn/bb"],
    }
    # Handing in with criteria left is not offered, and the evaluator cannot record a result yet.
    screen = await qt.send("/tieuchuan")
    screen = await qt.send(option_number(screen, "Xem và nộp"))
    assert "Còn 11 tiêu chí chưa trả lời." in screen and "Nộp bản tự đánh giá" not in screen
    btc = ConsoleSession(app.dispatcher, user="btc")
    screen = await btc.send("/tieuchuan")
    screen = await btc.send(option_number(screen, "Thử Nghiệm"))
    assert "Trường chưa nộp bản tự đánh giá." in screen and "Ghi kết quả" not in screen


async def test_the_evaluation_date_must_be_a_real_day_not_in_the_future(app: App) -> None:
    await district(app)
    await register(app, "qt")
    await self_assess(app, "qt")
    btc = ConsoleSession(app.dispatcher, user="btc")
    screen = await btc.send("/tieuchuan")
    screen = await btc.send(option_number(screen, "Thử Nghiệm"))
    screen = await btc.send(option_number(screen, "Ghi kết quả: Chưa đạt"))
    screen = await btc.send("31/2/2026")
    assert "ngày/tháng/năm" in screen
    screen = await btc.send("1/12/2026")
    assert "không được sau hôm nay" in screen
    screen = await btc.send(option_number(screen, "Hôm nay"))
    screen = await btc.send(option_number(screen, "Bỏ qua"))
    assert "Chưa đạt (ngày 28/11/2026)" in screen
    async with app.sessions() as s:
        n = await s.scalar(
            select(func.count()).select_from(m.StandardRegistration).where(m.StandardRegistration.result == "chua_dat")
        )
    assert n == 1
