"""The Tiêu chuẩn ANTT pages: a school admin registers and hands in the self-assessment form, the organizer sees
every school against the target and records the evaluation; another school's admin, a teacher, a missing CSRF
token and a bad form get nothing and change nothing."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from db import models as m
from tests.standard.helpers import SCHOOLS, district, register
from tests.web.conftest import csrf_of, link_for, origin, sign_in


async def rows(app: App) -> list[m.StandardRegistration]:
    async with app.sessions() as s:
        return list((await s.scalars(select(m.StandardRegistration).order_by(m.StandardRegistration.id))).all())


def full_form(app: App, csrf: str, not_met: int = 0) -> dict[str, str]:
    form = {"csrf": csrf}
    assert app.content.standard is not None
    for i, c in enumerate(app.content.standard.criteria):
        form[f"dat-{c.id}"] = "0" if i < not_met else "1"
        form[f"ghi-chu-{c.id}"] = f"Ghi chú {i}"
        form[f"minh-chung-{c.id}"] = f"https://truong.example.vn/{i}\nhttps://drive.example.com/{i}"
    return form


async def test_a_school_admin_registers_and_hands_in_the_self_assessment(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    await district(web_app)
    await sign_in(client, await link_for(web_app, "qt"))
    html = await (await client.get("/tieu-chuan")).text()
    assert "Trạng thái: chưa đăng ký" in html and "Đăng ký tiêu chuẩn" in html
    csrf = csrf_of(html)
    done = await client.post("/tieu-chuan/dang-ky", data={"csrf": csrf}, headers=origin(client))
    html = await done.text()
    assert done.status == 200 and "Trường đã đăng ký tiêu chuẩn năm học này." in html
    assert "Trạng thái: đã đăng ký" in html and 'name="dat-ke-hoach-dang-ky"' in html
    again = await client.post("/tieu-chuan/dang-ky", data={"csrf": csrf}, headers=origin(client))
    assert again.status == 409 and "đã đăng ký tiêu chuẩn năm học 2026-2027 rồi" in await again.text()

    # A criterion without a choice: nothing is kept, what was typed is shown again.
    form = full_form(web_app, csrf, not_met=1)
    del form["dat-bao-cao-dung-han"]
    bad = await client.post("/tieu-chuan/tu-danh-gia", data=form, headers=origin(client))
    text = await bad.text()
    assert bad.status == 422 and "Chưa có gì thay đổi" in text and "cho mọi tiêu chí" in text
    assert "Ghi chú 3" in text
    assert (await rows(web_app))[0].answers == {} and (await rows(web_app))[0].self_assessed_at is None
    # A link that is not one.
    form = full_form(web_app, csrf)
    form["minh-chung-ke-hoach-dang-ky"] = "javascript:alert(1)"
    bad = await client.post("/tieu-chuan/tu-danh-gia", data=form, headers=origin(client))
    assert bad.status == 422 and "http:// hoặc https://" in await bad.text()
    assert (await rows(web_app))[0].answers == {}
    # No CSRF token: refused, nothing kept.
    no_token = {k: v for k, v in full_form(web_app, csrf).items() if k != "csrf"}
    assert (await client.post("/tieu-chuan/tu-danh-gia", data=no_token, headers=origin(client))).status == 403
    assert (await rows(web_app))[0].self_assessed_at is None

    good = await client.post(
        "/tieu-chuan/tu-danh-gia", data=full_form(web_app, csrf, not_met=1), headers=origin(client)
    )
    html = await good.text()
    assert good.status == 200 and "Đã nộp bản tự đánh giá." in html and "Trạng thái: đã tự đánh giá" in html
    saved = (await rows(web_app))[0]
    assert saved.self_assessed_at is not None and len(saved.answers) == len(web_app.content.standard.criteria)  # type: ignore[union-attr]
    assert saved.answers["ke-hoach-dang-ky"] == {
        "met": False,
        "note": "Ghi chú 0",
        "links": ["https://truong.example.vn/0", "https://drive.example.com/0"],
    }


async def test_the_organizer_sees_the_target_and_records_the_evaluation(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    ids = await district(web_app)
    for admin in ("qt", "qt1", "qt2"):
        await register(web_app, admin)
    await sign_in(client, await link_for(web_app, "qt"))
    csrf = csrf_of(await (await client.get("/tieu-chuan")).text())
    await client.post("/tieu-chuan/tu-danh-gia", data=full_form(web_app, csrf), headers=origin(client))

    await sign_in(client, await link_for(web_app, "btc"))
    html = await (await client.get("/tieu-chuan")).text()
    assert "100% cơ sở giáo dục đăng ký và đạt tiêu chuẩn" in html
    assert "<dd>3/4 (75%)</dd>" in html and "<dd>1/4</dd>" in html and "<dd>0/4 (0%)</dd>" in html
    assert f"Chưa đăng ký: {SCHOOLS[2]}" in html
    school = f"/tieu-chuan/truong/{ids['qt']}"
    page = await (await client.get(school)).text()
    assert "https://drive.example.com/3" in page and 'name="ket_qua"' in page
    csrf = csrf_of(page)
    # A day in the future, a result the form does not offer: refused, nothing kept.
    future = {"csrf": csrf, "ket_qua": "dat", "ngay": "2026-12-25", "ghi_chu": ""}
    bad = await client.post(school + "/danh-gia", data=future, headers=origin(client))
    assert bad.status == 422 and "không được sau hôm nay" in await bad.text()
    odd = {"csrf": csrf, "ket_qua": "xuat-sac", "ngay": "2026-11-20", "ghi_chu": ""}
    assert (await client.post(school + "/danh-gia", data=odd, headers=origin(client))).status == 422
    assert all(r.result is None for r in await rows(web_app))
    # A school that has not handed in its self-assessment cannot be evaluated yet.
    early = {"csrf": csrf, "ket_qua": "dat", "ngay": "2026-11-20", "ghi_chu": ""}
    not_yet = await client.post(f"/tieu-chuan/truong/{ids['qt1']}/danh-gia", data=early, headers=origin(client))
    assert not_yet.status == 422 and "chưa nộp bản tự đánh giá" in await not_yet.text()

    good = {"csrf": csrf, "ket_qua": "dat", "ngay": "2026-11-20", "ghi_chu": "Biên bản số 7"}
    done = await client.post(school + "/danh-gia", data=good, headers=origin(client))
    assert done.status == 200 and "Đã ghi kết quả đánh giá." in await done.text()
    html = await (await client.get("/tieu-chuan")).text()
    assert "<dd>1/4 (25%)</dd>" in html and "20/11/2026" in html
    saved = (await rows(web_app))[0]
    assert (saved.result, saved.evaluated_on.isoformat(), saved.evaluation_note) == (
        "dat",
        "2026-11-20",
        "Biên bản số 7",
    )  # type: ignore[union-attr]


async def test_another_school_a_teacher_and_a_school_admin_evaluating_get_nothing(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    ids = await district(web_app)
    await register(web_app, "qt1")
    await sign_in(client, await link_for(web_app, "gv"))
    assert (await client.get("/tieu-chuan")).status == 403
    csrf = csrf_of(await (await client.get("/lop")).text())
    assert (await client.post("/tieu-chuan/dang-ky", data={"csrf": csrf}, headers=origin(client))).status == 403
    assert (await client.get(f"/tieu-chuan/truong/{ids['qt1']}")).status == 403
    assert len(await rows(web_app)) == 1

    # The demo school's admin: another school's page is not there, nor is evaluating their own school.
    await sign_in(client, await link_for(web_app, "qt"))
    other = await client.get(f"/tieu-chuan/truong/{ids['qt1']}")
    assert other.status == 404
    csrf = csrf_of(await (await client.get("/tieu-chuan")).text())
    form = {"csrf": csrf, "ket_qua": "dat", "ngay": "2026-11-20", "ghi_chu": ""}
    assert (
        await client.post(f"/tieu-chuan/truong/{ids['qt1']}/danh-gia", data=form, headers=origin(client))
    ).status == 404
    own = await client.post(f"/tieu-chuan/truong/{ids['qt']}/danh-gia", data=form, headers=origin(client))
    assert own.status == 403
    assert [r.result for r in await rows(web_app)] == [None] and len(await rows(web_app)) == 1
