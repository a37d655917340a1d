"""PRIV-3/PRIV-4: /privacy explains; a copy of every row about a person (found through the foreign keys, so
new tables are covered); deletion everywhere, keeping only anonymous counts; retention removes old data."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.privacy.retention import purge
from bot.privacy.service import verify_audit_chain
from bot.privacy.sql import personal_data_links
from db import models as m
from db.base import Base
from tests.reliability.helpers import code_in, new_student, option_number, user_id_of

pytestmark = pytest.mark.reliability

NAME = "Phạm Thị Riêng"
EXTERNAL = "hs-7f3q9"
TYPED = "Em tên là Phạm Thị Riêng, lớp 7A"


async def practise(session: ConsoleSession, right: int = 5) -> str:
    screen = await session.send("/practice")
    screen = await session.send(option_number(screen, "ma túy"))
    for i in range(5):
        screen = await session.send(option_number(screen, "Đáp án đúng" if i < right else "sai một"))
    return screen


async def store_update(app: App, external_id: str, sender: str, text: str, status: str = "done") -> None:
    """A platform update as a channel stores it in the inbox (payload shaped like Telegram's)."""
    async with app.sessions() as s:
        s.add(
            m.InboundUpdate(
                channel="console",
                bot_id="test",
                external_id=external_id,
                payload={"message": {"from": {"id": sender}, "chat": {"id": sender}, "text": text}},
                status=status,
                attempts=0,
                received_at=app.clock(),
            )
        )
        await s.commit()


async def everything(app: App) -> str:
    """Every row of every table, as text."""
    parts = []
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                parts.append(json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False))
    return "\n".join(parts)


async def activity_totals(app: App) -> Counter[tuple[object, ...]]:
    async with app.sessions() as s:
        rows = (await s.execute(select(m.Activity))).scalars().all()
    totals: Counter[tuple[object, ...]] = Counter()
    for r in rows:
        totals[(r.kind, r.school_id, r.class_id, r.topic, "n")] += 1
        totals[(r.kind, r.school_id, r.class_id, r.topic, "value")] += r.value or 0
    return totals


async def test_privacy_explains_what_why_who_how_long_and_the_rights(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs", demo.class_code, NAME)
    screen = await student.send("quyền riêng tư")  # the Vietnamese words work like /privacy
    for part in ("Mình lưu", "Để làm gì", "Ai xem được", "Giữ bao lâu", "365 ngày", "Quyền của em và bố mẹ"):
        assert part in screen
    assert "91/2025/QH15" in screen and "Điều 24" in screen
    assert "Nghị định" not in screen and "NĐ 356" not in screen  # unverified timings are never cited to users
    for option in ("Nhận bản sao dữ liệu", "Rút lại đồng ý", "Xóa dữ liệu của em"):
        option_number(screen, option)


def test_the_personal_data_map_is_generated_from_the_foreign_keys() -> None:
    links = personal_data_links()
    direct = {t.name for t in Base.metadata.sorted_tables for fk in t.foreign_keys if fk.column.table.name == "users"}
    assert direct <= set(links)
    assert "attempt_answers" in links  # reached through quiz attempts, which the user owns
    # A table added later is picked up without anyone listing it.
    md = MetaData()
    Table("users", md, Column("id", Integer, primary_key=True))
    Table("contest_entries", md, Column("id", Integer, primary_key=True), Column("user_id", ForeignKey("users.id")))
    assert list(personal_data_links(md)) == ["contest_entries"]


async def test_a_student_gets_a_copy_of_every_row_about_them(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, EXTERNAL, demo.class_code, NAME)
    uid = await user_id_of(app, EXTERNAL)
    await practise(student, right=3)
    screen = await student.send("/privacy")
    await student.send(option_number(screen, "Mã để bố mẹ đồng ý"))
    await store_update(app, "u1", EXTERNAL, TYPED)
    await store_update(app, "u2", "someone-else", "không phải của em")

    screen = await student.send("/privacy")
    screen = await student.send(option_number(screen, "Nhận bản sao dữ liệu"))
    assert "📎 du-lieu-cua-toi-" in screen
    (filename, content), *_ = student.attachments
    assert filename.endswith(".json")
    data = json.loads(content)
    tables = data["tables"]
    # Every table with a foreign key path from users, plus the two without one: the audit log (what they did)
    # and stored platform updates (matched by their account inside the payload).
    assert set(tables) == set(personal_data_links()) | {"users", "audit_log", "inbound_updates"}
    assert tables["users"][0]["display_name"] == NAME
    for table in ("channel_accounts", "memberships", "consents", "quiz_attempts", "attempt_answers", "activity"):
        assert tables[table], f"{table} is empty in the copy"
    assert all(row["user_id"] == uid for row in tables["quiz_attempts"])
    assert len(tables["attempt_answers"]) == 5 and sum(a["correct"] for a in tables["attempt_answers"]) == 3
    assert tables["parent_links"][0]["student_id"] == uid
    assert [u["payload"]["message"]["text"] for u in tables["inbound_updates"]] == [TYPED]
    assert "không phải của em" not in content.decode()

    # The export is tracked as a request and audited with scope, row count and a hash of the file.
    async with app.sessions() as s:
        audit = (await s.execute(select(m.AuditLog).where(m.AuditLog.action == "privacy.export"))).scalar_one()
        request = (await s.execute(select(m.PrivacyRequest).where(m.PrivacyRequest.kind == "export"))).scalar_one()
    assert audit.actor_id == uid and audit.scope == f"user:{uid}" and len(audit.detail["sha256"]) == 64
    assert audit.detail["rows"] == sum(len(v) for v in tables.values())
    assert (request.status, request.due_at - request.requested_at) == ("done", dt.timedelta(days=10))


async def test_deletion_removes_personal_data_everywhere_and_keeps_anonymous_counts(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, EXTERNAL, demo.class_code, NAME)
    uid = await user_id_of(app, EXTERNAL)
    await practise(student, right=4)
    screen = await student.send("/lessons")
    await student.send(option_number(screen, "An toàn giao thông"))
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/consent")
    screen = await teacher.send(option_number(screen, "7A"))
    screen = await teacher.send(option_number(screen, NAME))
    screen = await teacher.send(option_number(screen, "Đã có phiếu"))
    await teacher.send("12")
    await store_update(app, "u1", EXTERNAL, TYPED)
    await store_update(app, "u2", "someone-else", "tin của bạn khác")
    totals = await activity_totals(app)
    assert NAME in await everything(app) and TYPED in await everything(app)

    screen = await student.send("/privacy")
    screen = await student.send(option_number(screen, "Xóa dữ liệu của em"))
    assert "không lấy lại được" in screen
    screen = await student.send(option_number(screen, "Xóa hết"))
    assert "Đã xóa dữ liệu" in screen

    text = await everything(app)
    for identifier in (NAME, EXTERNAL, TYPED):
        assert identifier not in text, identifier
    assert "tin của bạn khác" in text  # other people's data untouched
    async with app.sessions() as s:
        for name, links in personal_data_links().items():
            if name in ("audit_log", "privacy_requests"):
                continue  # they keep the id of the emptied account; they hold no personal data
            table = Base.metadata.tables[name]
            for link in links:
                if link.parent.name == "users":
                    hit = (await s.execute(select(table).where(link.column == uid))).mappings().first()
                    if name == "conversations" and hit is not None:
                        # The handler of the deletion itself leaves an empty conversation state behind.
                        assert (hit["flow"], hit["step"], hit["data"], hit["prompt"]) == ("", "", {}, {})
                        continue
                    assert hit is None, f"{name}.{link.column.name} still points at the erased user"
        user = await s.get(m.User, uid)
        assert user is not None and user.display_name is None and user.school_id is None and not user.onboarded
        request = (await s.execute(select(m.PrivacyRequest).where(m.PrivacyRequest.kind == "erase"))).scalar_one()
        assert request.status == "done" and request.completed_at == app.clock()
    # Reports keep their numbers: the same activity, no longer linked to the student.
    assert await activity_totals(app) == totals
    async with app.uow_factory() as uow:
        assert (await verify_audit_chain(uow)).ok

    # Writing again starts from nothing: a new, empty account.
    screen = await student.send("/start")
    assert "Em chọn ngôn ngữ" in screen
    assert await user_id_of(app, EXTERNAL) != uid


async def test_a_parent_can_get_a_copy_of_and_delete_their_childs_data(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs", demo.class_code, NAME)
    uid = await user_id_of(app, "hs")
    screen = await student.send("/privacy")
    code = code_in(await student.send(option_number(screen, "Mã để bố mẹ đồng ý")))
    parent = ConsoleSession(app.dispatcher, user="ph")
    screen = await parent.send(f"/start {code}")
    await parent.send(option_number(screen, "Tôi đồng ý"))
    screen = await parent.send("/privacy")
    screen = await parent.send(option_number(screen, f"Dữ liệu của con: {NAME}"))
    screen = await parent.send(option_number(screen, "Nhận bản sao dữ liệu của con"))
    data = json.loads(parent.attachments[-1][1])
    assert data["user_id"] == uid and data["tables"]["users"][0]["display_name"] == NAME
    screen = await parent.send("/privacy")
    screen = await parent.send(option_number(screen, f"Dữ liệu của con: {NAME}"))
    screen = await parent.send(option_number(screen, "Xóa dữ liệu của con"))
    screen = await parent.send(option_number(screen, "Xóa hết"))
    assert "Đã xóa dữ liệu của con" in screen
    assert NAME not in await everything(app)


async def test_retention_purge_removes_old_personal_data_and_keeps_the_report_totals(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    demo = await seed_demo(app.uow_factory, app.clock)
    gone = await new_student(app, "hs-old", demo.class_code, "Lê Văn Cũ")
    stays = await new_student(app, "hs-new", demo.class_code, "Võ Thị Mới")
    await practise(gone, right=2)
    await practise(stays, right=5)
    await store_update(app, "old-1", "hs-old", "tin nhắn cũ")
    await store_update(app, "old-2", "hs-new", "tin cũ của bạn mới")
    clock.advance(days=400)
    await practise(stays, right=1)
    await store_update(app, "new-1", "hs-new", "tin nhắn mới")
    await store_update(app, "new-2", "hs-new", "chưa xử lý", status="pending")
    gone_id, stays_id = await user_id_of(app, "hs-old"), await user_id_of(app, "hs-new")
    totals = await activity_totals(app)

    result = await purge(app.uow_factory, clock(), app.settings.retention_days, app.settings.retention_inbox_days)
    assert result["inactive_accounts_erased"] == 1

    text = await everything(app)
    for old in ("Lê Văn Cũ", "hs-old", "tin nhắn cũ", "tin cũ của bạn mới"):
        assert old not in text, old
    for kept in ("Võ Thị Mới", "tin nhắn mới", "chưa xử lý"):
        assert kept in text, kept
    async with app.sessions() as s:
        attempts = (await s.execute(select(m.QuizAttempt))).scalars().all()
        assert [(a.user_id, a.score) for a in attempts] == [(stays_id, 1)]  # the recent attempt only
        old_activity = await s.execute(select(m.Activity).where(m.Activity.at < clock() - dt.timedelta(days=365)))
        assert {a.user_id for a in old_activity.scalars()} == {None}
        assert gone_id not in set((await s.execute(select(m.Activity.user_id))).scalars())
    assert await activity_totals(app) == totals
    # Running it again changes nothing more.
    again = await purge(app.uow_factory, clock(), app.settings.retention_days, app.settings.retention_inbox_days)
    assert not {k: v for k, v in again.items() if v}
    assert await activity_totals(app) == totals


def test_the_cli_lists_pending_requests_and_purge_carries_them_out(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.__main__ import main
    from bot.app import unit_of_work_factory
    from db.migrate import upgrade
    from db.session import create_engine, session_factory

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    upgrade(url)
    now = dt.datetime.now(dt.UTC)

    async def queue_deletion() -> None:
        engine = create_engine(url)
        try:
            async with unit_of_work_factory(session_factory(engine))() as uow:
                user = await uow.users.create("console", "hs-cli", "hs-cli", "vi", now)
                await uow.users.update(user.id, display_name="Hồ Văn Dòng", onboarded=True)
                await uow.privacy.add_request(user.id, user.id, "erase", now, now + dt.timedelta(days=20))
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(queue_deletion())
    assert main(["privacy", "requests"]) == 0
    assert "yêu cầu xóa dữ liệu – tài khoản 1" in capsys.readouterr().out
    assert main(["privacy", "purge"]) == 0
    out = capsys.readouterr().out
    assert "tài khoản đã xóa theo yêu cầu: 1" in out and "_" not in out
    assert main(["privacy", "requests"]) == 0
    assert "Không có yêu cầu nào đang chờ" in capsys.readouterr().out
    assert main(["privacy", "verify-audit"]) == 0
    assert "nguyên vẹn" in capsys.readouterr().out
