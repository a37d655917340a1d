"""Creating a contest from the web console: by the form or by uploading its YAML file (the terminal's format),
through the same definition and the same service as `python -m bot contest create`. Every error is named in
Vietnamese beside its field, or by its field and line in the file, and nothing is stored; only organizers may,
and only with the form's CSRF token."""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.broadcasts.roster_xlsx import write_roster
from bot.contests import cli
from bot.contests.loader import load_contest
from bot.core.clock import VN_TZ
from db import models as m
from tests.conftest import FakeClock
from tests.web.conftest import csrf_of, link_for, origin, sign_in

EXAMPLE = Path(__file__).resolve().parents[2] / "content" / "quizzes" / "contests" / "ngay-hoi-2027.yaml"
TITLE = "Hội thi Tìm hiểu pháp luật – Ngày hội 19/8"
TEXT_BOXES = {
    "title",
    "id",
    "questions",
    "time_limit_minutes",
    "official_attempts",
    "prizes.nhat",
    "certificates.place",
}


def local(clock: FakeClock, days: float, hour: int) -> str:
    """A wall-clock time in Vietnam as a datetime-local field sends it."""
    day = (clock() + dt.timedelta(days=days)).astimezone(VN_TZ)
    return day.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


async def contests_stored(app: App) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(m.Contest)) or 0)


async def demo_ids(app: App) -> tuple[int, int]:
    async with app.sessions() as s:
        klass = (await s.scalars(select(m.SchoolClass))).one()
        return klass.school_id, klass.id


async def open_form(client: TestClient[Any, Any]) -> tuple[str, dict[str, Any]]:
    """The form page and the fields it opens with (text boxes, chosen radio buttons and options)."""
    response = await client.get("/hoi-thi/moi")
    assert response.status == 200
    page = await response.text()
    fields: dict[str, Any] = {}
    for name, value in re.findall(r'<input id="[^"]+" name="([^"]+)" type="[^"]+" value="([^"]*)"', page):
        fields[name] = html.unescape(value)
    for name, value in re.findall(r'<input type="radio" name="([^"]+)" value="([^"]+)" checked>', page):
        fields[name] = value
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected>', body)
        if chosen:
            fields[name] = chosen.group(1)
    if 'name="practice" value="1" checked' in page:
        fields["practice"] = "1"
    fields["csrf"] = csrf_of(page)
    return page, fields


def good_form(fields: dict[str, Any], clock: FakeClock) -> dict[str, Any]:
    return fields | {
        "title": TITLE,
        "rounds.0.opens_at": local(clock, 1, 7),
        "rounds.0.closes_at": local(clock, 7, 21),
        "questions": "5",
        "certificates.place": "Đông Hòa",
    }


def form_data(fields: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in fields.items():
        out += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return out


async def post_form(client: TestClient[Any, Any], fields: dict[str, Any]) -> Any:
    return await client.post("/hoi-thi/moi", data=form_data(fields), headers=origin(client), allow_redirects=False)


def error_beside(page: str, field: str) -> str:
    """The error shown under a field (its id follows the field's name), and the field points to it."""
    fid = "f-" + field.replace(".", "-")
    found = re.search(rf'<p class="error" id="e-{re.escape(fid)}">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field}:\n{page}"
    assert re.search(rf'id="{re.escape(fid)}"', page)
    assert f"e-{fid}" in page.replace(f'id="e-{fid}"', "", 1), f"{field} does not point to its error"
    return html.unescape(found.group(1))


async def test_an_organizer_creates_a_contest_from_the_form(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    school_id, class_id = await demo_ids(web_app)
    await sign_in(client, await link_for(web_app, "btc"))
    listing = await (await client.get("/hoi-thi")).text()
    assert 'href="/hoi-thi/moi"' in listing
    page, fields = await open_form(client)
    # The form opens with the definition's own defaults.
    assert (fields["questions"], fields["time_limit_minutes"], fields["prizes.nhat"], fields["prizes.nhi"]) == (
        "20",
        "15",
        "1",
        "2",
    )
    assert fields["certificates.issuer"] == "Ban Tổ chức Hội thi" and fields["prediction.target"] == "all_correct_count"
    assert "Trường THCS" in page or "Trường" in page  # the schools to choose from
    chosen = good_form(fields, clock) | {
        "rounds.1.opens_at": local(clock, 8, 7),
        "rounds.1.closes_at": local(clock, 14, 21),
        "mix.topics": ["ma-tuy", "an-toan-giao-thong"],
        "mix.difficulty.1": "2",
        "scope.schools": [str(school_id)],
        "scope.classes": [str(class_id)],
        "scope.grades": ["7"],
        "prediction.question": "Theo em, có bao nhiêu bạn đúng cả 5 câu?",
        "prizes.khuyen_khich": "5",
        "prizes.min_score": "3",
        "collective.unit": "class",
        "collective.by": "rate",
        "certificates.signer_title": "Trưởng ban Tổ chức",
        "certificates.number_prefix": "BTC",
    }
    created = await post_form(client, chosen)
    assert created.status == 303, await created.text()
    async with web_app.sessions() as s:
        contest = (await s.scalars(select(m.Contest))).one()
        rounds = (await s.scalars(select(m.ContestRound).order_by(m.ContestRound.number))).all()
        audit = (await s.scalars(select(m.AuditLog).where(m.AuditLog.action == "contest.create"))).one()
    assert created.headers["Location"] == f"/hoi-thi/{contest.id}?xong=tao"
    assert contest.slug == "hoi-thi-tim-hieu-phap-luat-ngay-hoi-19-8"  # made from the title
    d = contest.definition
    assert d["questions"] == 5 and d["mix"] == {"topics": ["ma-tuy", "an-toan-giao-thong"], "difficulty": {"1": 2}}
    assert d["scope"] == {"schools": [school_id], "classes": [class_id], "grades": [7], "bands": []}
    assert d["prizes"]["khuyen_khich"] == 5 and d["prizes"]["min_score"] == 3 and d["prizes"]["min_percent"] == 50
    assert d["collective"] == {"unit": "class", "by": "rate", "top": 3}
    assert d["certificates"]["number_prefix"] == "BTC" and d["prediction"]["question"].endswith("5 câu?")
    # The times are Vietnam's, as written in the form.
    opens = dt.datetime.fromisoformat(chosen["rounds.0.opens_at"]).replace(tzinfo=VN_TZ)
    assert [r.name for r in rounds] == ["Đợt 1", "Đợt 2"]
    assert rounds[0].opens_at.replace(tzinfo=dt.UTC) == opens.astimezone(dt.UTC)
    assert audit.actor_id is not None and audit.detail == {"slug": contest.slug, "rounds": 2}

    shown = html.unescape(await (await client.get(created.headers["Location"])).text())
    assert f"Đã tạo hội thi “{TITLE}” với 2 đợt thi." in shown
    assert "07:00 " in shown and "chưa mở" in shown and f'href="/hoi-thi/vong/{rounds[0].id}"' in shown
    assert "Giải cá nhân mỗi đợt" in shown and "python -m bot" not in shown
    assert "7A" in shown  # the class it is limited to, by name


async def test_the_form_and_the_file_make_the_same_definition(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock, tmp_path: Path
) -> None:
    """The form is a way to write the file: what it stores is what the terminal's loader reads from the file."""
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    assert (await post_form(client, good_form(fields, clock) | {"id": "tu-bieu-mau"})).status == 303
    async with web_app.sessions() as s:
        stored = (await s.scalars(select(m.Contest))).one().definition
    rounds = [
        {"name": "Đợt 1", "opens_at": f"{local(clock, 1, 7)}:00+07:00", "closes_at": f"{local(clock, 7, 21)}:00+07:00"}
    ]
    path = tmp_path / "tu-bieu-mau.yaml"
    lines = [f"id: tu-bieu-mau\ntitle: {TITLE}\nquestions: 5\nrounds:\n"]
    lines += [
        f"  - name: {r['name']}\n    opens_at: {r['opens_at']}\n    closes_at: {r['closes_at']}\n" for r in rounds
    ]
    lines.append("certificates:\n  place: Đông Hòa\n")
    path.write_text("".join(lines), encoding="utf-8")
    assert load_contest(path).model_dump(mode="json") == stored


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Mục này không được để trống."),
        ({"id": "Ngày Hội!"}, "id", "Mã chỉ gồm chữ thường không dấu"),
        ({"rounds.0.opens_at": "", "rounds.0.closes_at": ""}, "rounds", "Cần ít nhất một đợt thi"),
        ({"rounds.0.closes_at": "OPENS-1H"}, "rounds.0.closes_at", "Giờ đóng phải sau giờ mở."),
        ({"rounds.0.closes_at": "thứ hai"}, "rounds.0.closes_at", "Ngày giờ chưa đúng"),
        ({"rounds.0.closes_at": ""}, "rounds.0.closes_at", "Chưa điền mục này."),
        ({"rounds.0.name": "Đ" * 201}, "rounds.0.name", "Dài quá 200 ký tự."),
        ({"rounds.1.opens_at": "OPENS+1D", "rounds.1.closes_at": "OPENS+9D"}, "rounds.1.opens_at", "Đợt 2 mở trước"),
        ({"questions": "0"}, "questions", "Cần một số từ 1 trở lên."),
        ({"questions": "mười"}, "questions", "Cần một số nguyên"),
        ({"questions": ""}, "questions", "Chưa điền mục này."),
        ({"time_limit_minutes": "500"}, "time_limit_minutes", "Cần một số không lớn hơn 180."),
        ({"official_attempts": "11"}, "official_attempts", "không lớn hơn 10"),
        ({"mix.difficulty.1": "4", "mix.difficulty.3": "3"}, "mix.difficulty", "(7) nhiều hơn số câu mỗi bài (5)"),
        ({"mix.difficulty.2": "-1"}, "mix.difficulty.2", "Cần một số từ 0 trở lên."),
        ({"mix.topics": ["khong-co"]}, "mix.topics", "Không có chủ đề khong-co"),
        ({"prediction.target": "doan-bua"}, "prediction.target", "Chỉ nhận một trong các giá trị"),
        ({"prizes.nhat": "-1"}, "prizes.nhat", "Cần một số từ 0 trở lên."),
        ({"prizes.min_percent": "150"}, "prizes.min_percent", "không lớn hơn 100"),
        ({"collective.unit": "huyen"}, "collective.unit", "Chỉ nhận một trong các giá trị: 'school', 'class'"),
        ({"collective.top": ""}, "collective.top", "Chưa điền mục này."),
        ({"scope.grades": ["13"]}, "scope.grades", "không lớn hơn 12"),
        ({"scope.schools": ["999"]}, "scope.schools", "Không có trường số 999"),
        ({"scope.classes": ["999"]}, "scope.classes", "Không có lớp số 999"),
        ({"certificates.number_prefix": "gk pgd"}, "certificates.number_prefix", "Ký hiệu chỉ gồm chữ in hoa"),
        ({"certificates.signer_name": "Lê Văn Tám"}, "certificates.signer_title", "cần cả chức vụ người ký"),
        ({"certificates.issuer": ""}, "certificates.issuer", "Cần ghi cơ quan, đơn vị cấp giấy."),
        ({"certificates.place": "x" * 81}, "certificates.place", "Dài quá 80 ký tự."),
    ],
)
async def test_each_field_error_is_shown_beside_its_field_and_nothing_is_stored(
    web_app: App,
    client: TestClient[Any, Any],
    clock: FakeClock,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    sent = good_form(fields, clock)
    opens = dt.datetime.fromisoformat(sent["rounds.0.opens_at"])
    for name, value in changes.items():  # times relative to the first round's opening
        if isinstance(value, str) and value.startswith("OPENS"):
            shift = {"OPENS-1H": dt.timedelta(hours=-1), "OPENS+1D": dt.timedelta(days=1)}.get(value)
            value = (opens + (shift or dt.timedelta(days=9))).strftime("%Y-%m-%dT%H:%M")
        sent[name] = value
    response = await post_form(client, sent)
    page = await response.text()
    assert response.status == 422
    assert message in error_beside(page, field)
    assert "Chưa tạo được hội thi" in page and 'role="alert"' in page
    assert f'href="#f-{field.replace(".", "-")}"' in page  # the summary links to the field
    assert await contests_stored(web_app) == 0
    # What was written in a box stays there, to be corrected.
    if field in TEXT_BOXES and sent[field].strip():
        assert f'value="{html.escape(sent[field])}"' in page or html.escape(sent[field]) in page


async def test_several_errors_are_all_named_at_once(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    sent = good_form(fields, clock) | {"title": "", "questions": "0", "rounds.0.closes_at": local(clock, 0, 1)}
    response = await post_form(client, sent)
    page = await response.text()
    assert response.status == 422 and "còn 3 lỗi" in page
    assert "không được để trống" in error_beside(page, "title")  # no code is asked for: it is made from the title
    assert "Giờ đóng phải sau giờ mở." in error_beside(page, "rounds.0.closes_at")
    assert "từ 1 trở lên" in error_beside(page, "questions")
    assert 'id="e-f-id"' not in page


async def test_a_code_already_taken_is_named_beside_the_code(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    assert (await post_form(client, good_form(fields, clock))).status == 303
    again = await post_form(client, good_form(fields, clock))
    page = await again.text()
    assert again.status == 422
    assert "Đã có hội thi mã “hoi-thi-tim-hieu-phap-luat-ngay-hoi-19-8”." in error_beside(page, "id")
    assert await contests_stored(web_app) == 1


def upload(data: bytes, csrf: str | None, name: str = "hoi-thi.yaml") -> FormData:
    form = FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field("tep", io.BytesIO(data), filename=name)
    return form


async def post_file(client: TestClient[Any, Any], data: bytes, csrf: str | None) -> Any:
    return await client.post("/hoi-thi/tai-len", data=upload(data, csrf), headers=origin(client), allow_redirects=False)


async def test_an_organizer_uploads_the_example_file(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    created = await post_file(client, EXAMPLE.read_bytes(), fields["csrf"])
    assert created.status == 303, await created.text()
    async with web_app.sessions() as s:
        contest = (await s.scalars(select(m.Contest))).one()
        rounds = (await s.scalars(select(m.ContestRound))).all()
    assert contest.slug == "ngay-hoi-2027" and len(rounds) == 2
    assert contest.definition == load_contest(EXAMPLE).model_dump(mode="json")  # as the terminal would store it
    shown = await (await client.get(created.headers["Location"])).text()
    assert "Đã tạo hội thi" in shown and "Đợt 2" in shown

    again = await post_file(client, EXAMPLE.read_bytes(), fields["csrf"])
    text = plain(await again.text())
    assert again.status == 422 and "id (dòng 3): Đã có hội thi mã “ngay-hoi-2027”." in text
    assert await contests_stored(web_app) == 1


def plain(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def line_with(text: str, start: str, after: int = 0) -> int:
    """The number (from 1) of the first line beginning with `start` (stripped) after line `after`."""
    lines = text.splitlines()
    return next(i for i in range(after, len(lines)) if lines[i].strip().startswith(start)) + 1


async def test_every_error_of_a_file_is_named_by_its_field_and_line(web_app: App, client: TestClient[Any, Any]) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("closes_at: 2027-08-18T21:00:00+07:00", "closes_at: 2027-08-12T06:00:00+07:00")
    text = text.replace("questions: 20", "questions: hai mươi\nsố_câu: 20")
    text = text.replace("  by: rate ", "  by: everyone ")
    text = text.replace("  schools: []", "  schools: [999]")
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    response = await post_file(client, text.encode(), fields["csrf"])
    page = html.unescape(await response.text())
    assert response.status == 422 and "chưa có gì được lưu" in page
    items = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", page, re.S)]
    second_round = line_with(text, "- name: Đợt 2")
    expected = [
        f"rounds.1.closes_at (dòng {line_with(text, 'closes_at', second_round)}): Giờ đóng phải sau giờ mở.",
        f"questions (dòng {line_with(text, 'questions:')}): Cần một số nguyên, ví dụ 20.",
        f"collective.by (dòng {line_with(text, 'by: everyone')}): Chỉ nhận một trong các giá trị",
        f"số_câu (dòng {line_with(text, 'số_câu')}): Không có mục này trong định nghĩa hội thi",
    ]
    for want in expected:
        assert any(item.startswith(want) for item in items), (want, items)
    assert await contests_stored(web_app) == 0

    # Once the file's own errors are fixed, the stored data is checked too: the school does not exist.
    fixed = EXAMPLE.read_text(encoding="utf-8").replace("  schools: []", "  schools: [999]")
    response = await post_file(client, fixed.encode(), fields["csrf"])
    page = plain(await response.text())
    assert response.status == 422
    assert f"scope.schools.0 (dòng {line_with(fixed, 'schools:')}): Không có trường số 999" in page
    assert await contests_stored(web_app) == 0


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"id: ngay-hoi\ntitle: [chua dong\nrounds: []\n", 400, "Tệp không đọc được như YAML ở dòng"),
        (write_roster([("Trần Văn Bình", "HS01")]), 400, "Đây không phải tệp YAML"),
        (b"id: x\n" + b"#" * (70 * 1024), 413, "Tệp quá lớn"),
        (b"", 400, "chọn tệp YAML"),
        (b"- ngay-hoi\n- 2027\n", 422, "Tệp phải là một bảng các mục của hội thi"),
        (b"# chi co ghi chu\n", 422, "Tệp trống"),
        (b"id: x\nrounds:\n  - opens_at: 2027-13-45\n", 400, "Tệp không đọc được như YAML"),
        (b"id: ngay-hoi\ntitle: Hoi thi\nrounds: []\n", 422, "Cần ít nhất một đợt thi"),
    ],
)
async def test_a_bad_upload_is_a_clear_page_and_stores_nothing(
    web_app: App, client: TestClient[Any, Any], data: bytes, status: int, message: str
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    response = await post_file(client, data, fields["csrf"])
    page = html.unescape(await response.text())
    assert response.status == status and message in page, page
    assert 'role="alert"' in page and "<html" in page  # the page itself, to upload again
    assert await contests_stored(web_app) == 0


async def test_a_body_over_the_console_limit_is_a_vietnamese_page(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    response = await post_file(client, b"a" * (3 * 1024 * 1024), fields["csrf"])
    assert response.status == 413 and "quá lớn" in await response.text()
    assert await contests_stored(web_app) == 0


@pytest.mark.parametrize("user", ["gv", "qt"])
async def test_teachers_and_school_admins_cannot_create_a_contest(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock, user: str
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    await sign_in(client, await link_for(web_app, user))
    csrf = csrf_of(await (await client.get("/")).text())
    assert (await client.get("/hoi-thi/moi")).status == 403
    by_form = await post_form(client, good_form(fields, clock) | {"csrf": csrf})
    by_file = await post_file(client, EXAMPLE.read_bytes(), csrf)
    assert by_form.status == 403 and by_file.status == 403
    assert "dành cho ban tổ chức" in await by_form.text()
    assert await contests_stored(web_app) == 0


async def test_no_contest_is_made_without_the_forms_token(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    _page, fields = await open_form(client)
    no_token = good_form(fields, clock)
    del no_token["csrf"]
    assert (await post_form(client, no_token)).status == 403
    assert (await post_form(client, no_token | {"csrf": "x" * 43})).status == 403
    assert (await post_file(client, EXAMPLE.read_bytes(), None)).status == 403
    elsewhere = await client.post(
        "/hoi-thi/moi",
        data=form_data(good_form(fields, clock)),
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert elsewhere.status == 403
    assert await contests_stored(web_app) == 0


async def test_a_contest_that_does_not_exist_is_a_clear_page(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    for path in ("/hoi-thi/999", "/hoi-thi/99999999999999999999"):
        response = await client.get(path)
        assert response.status == 404 and "Không tìm thấy trang này" in await response.text()


async def test_the_terminal_refuses_what_the_console_refuses(
    web_app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One set of rules: `python -m bot contest create` refuses a scope naming a school that does not exist."""
    path = tmp_path / "hoi-thi.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("  schools: []", "  schools: [999]"), "utf-8")
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="cmd"), open_deps=lambda _args: web_app.contest_cli())
    async with web_app.contest_cli() as deps:
        assert await cli.dispatch(deps, parser.parse_args(["contest", "create", str(path)])) == 1
    assert "Không có trường số 999 trong hệ thống." in capsys.readouterr().out
    assert await contests_stored(web_app) == 0
