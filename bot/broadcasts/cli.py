"""Command line for bulk work on classes and broadcasts: `python -m bot class ...` and `python -m bot broadcast ...`.

The terminal acts as the school's operator: no role checks (whoever runs it has the database)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.accounts.ports import ClassRec
from bot.broadcasts import roster
from bot.broadcasts import service as broadcasts
from bot.broadcasts.ports import BroadcastsUnitOfWork
from bot.broadcasts.roster_xlsx import RosterFileError, read_roster
from bot.broadcasts.sender import BroadcastSender
from bot.content.loader import Content
from bot.core.clock import VN_TZ, Clock, vn_time
from bot.core.delivery import Transport
from bot.core.errors import Refusal
from bot.core.text import normalise_code


@dataclass(frozen=True)
class Deps:
    """What these commands use; the composition root builds it."""

    uow_factory: Callable[[], BroadcastsUnitOfWork]
    clock: Clock
    content: Content
    # `broadcast send`: the transports of the channels that have a token (none: an empty dict), and a sender.
    open_transports: Callable[[], AbstractAsyncContextManager[dict[str, Transport]]]
    make_sender: Callable[[dict[str, Transport]], BroadcastSender]


Opener = Callable[[argparse.Namespace], AbstractAsyncContextManager[Deps]]
Command = Callable[[Deps, argparse.Namespace], Awaitable[int]]


def register(sub: Any, open_deps: Opener) -> None:
    """Adds the `class` and `broadcast` commands to the main parser's subcommands."""
    klass = sub.add_parser("class", help="lớp học và danh sách lớp")
    k_sub = klass.add_subparsers(dest="class_cmd", required=True)
    imp = k_sub.add_parser("import-roster", help="nhập danh sách lớp từ tệp Excel (họ và tên, mã học sinh)")
    imp.add_argument("--class-code", required=True, help="mã lớp")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_runner(open_deps, cmd_import_roster))
    k_sub.add_parser("list", help="các lớp, mã lớp, số học sinh").set_defaults(func=_runner(open_deps, cmd_class_list))

    bc = sub.add_parser("broadcast", help="gửi bài cho lớp")
    b_sub = bc.add_subparsers(dest="broadcast_cmd", required=True)
    create = b_sub.add_parser("create", help="tạo một lần gửi bài (bài học hoặc luyện tập) cho một hay nhiều lớp")
    what = create.add_mutually_exclusive_group(required=True)
    what.add_argument("--lesson", help="mã bài học")
    what.add_argument("--practice", metavar="TOPIC", help="chủ đề luyện tập")
    create.add_argument("--class-code", action="append", required=True, help="mã lớp (có thể lặp lại)")
    create.add_argument("--at", help="gửi lúc (ISO, giờ Việt Nam nếu không ghi múi giờ), ví dụ 2026-12-01T07:00")
    create.add_argument("--due", help="hạn hoàn thành (YYYY-MM-DD)")
    create.set_defaults(func=_runner(open_deps, cmd_broadcast_create))
    b_sub.add_parser("list", help="các lần gửi gần đây").set_defaults(func=_runner(open_deps, cmd_broadcast_list))
    status = b_sub.add_parser("status", help="tình trạng gửi và tiến độ học của một lần gửi")
    status.add_argument("id", type=int)
    status.set_defaults(func=_runner(open_deps, cmd_broadcast_status))
    remind = b_sub.add_parser("remind", help="nhắc các em chưa hoàn thành (một lần mỗi ngày)")
    remind.add_argument("id", type=int)
    remind.set_defaults(func=_runner(open_deps, cmd_broadcast_remind))
    b_sub.add_parser("send", help="gửi các tin đang chờ đến khi hết hàng đợi").set_defaults(
        func=_runner(open_deps, cmd_broadcast_send)
    )


def _runner(open_deps: Opener, job: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return asyncio.run(_with_deps(open_deps, job, args))

    return run


async def _with_deps(open_deps: Opener, job: Command, args: argparse.Namespace) -> int:
    async with open_deps(args) as deps:
        try:
            return await job(deps, args)
        except Refusal as exc:
            print(str(exc))
            return 1


async def _class_by_code(uow: BroadcastsUnitOfWork, code: str) -> ClassRec:
    klass = await uow.classes.by_code(normalise_code(code))
    if klass is None or klass.archived:
        raise Refusal("Không tìm thấy lớp có mã {code}.", code=code)
    return klass


async def cmd_import_roster(deps: Deps, args: argparse.Namespace) -> int:
    try:
        raw = read_roster(args.file)
    except (RosterFileError, OSError) as exc:
        print(exc if isinstance(exc, RosterFileError) else f"Không mở được tệp {args.file}.")
        return 1
    async with deps.uow_factory() as uow:
        klass = await _class_by_code(uow, args.class_code)
        result = await roster.import_roster(uow, None, klass.id, raw, deps.clock())
        if result.errors:
            for err in result.errors:
                print(err)
            print("Không ghi gì vì có lỗi. Thầy/cô sửa các dòng trên rồi nhập lại nhé.")
            return 1
        await uow.commit()
    print(f"Lớp {klass.name}: đã thêm {result.added} học sinh, {result.already_there} em đã có trong danh sách.")
    return 0


async def cmd_class_list(deps: Deps, _args: argparse.Namespace) -> int:
    async with deps.uow_factory() as uow:
        for school in await uow.schools.list():
            for c in await uow.classes.for_school(school.id):
                members = await uow.classes.member_count(c.id)
                entries = await uow.rosters.entries(c.id)
                print(
                    f"{c.join_code}\t{c.name}\tkhối {c.grade}\t{c.school_year}\t{school.name}\t"
                    f"{members} đã vào lớp\t{len(entries)} trong danh sách"
                )
    return 0


def _parse_at(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    at = dt.datetime.fromisoformat(text)
    return (at if at.tzinfo else at.replace(tzinfo=VN_TZ)).astimezone(dt.UTC)


async def cmd_broadcast_create(deps: Deps, args: argparse.Namespace) -> int:
    try:
        send_at = _parse_at(args.at)
        due_on = dt.date.fromisoformat(args.due) if args.due else None
    except ValueError:
        print("Ngày giờ không đúng dạng. Ví dụ: --at 2026-12-01T07:00 --due 2026-12-08")
        return 1
    kind, ref = ("lesson", args.lesson) if args.lesson else ("practice", args.practice)
    async with deps.uow_factory() as uow:
        class_ids = [(await _class_by_code(uow, code)).id for code in args.class_code]
        bc, plan = await broadcasts.create_broadcast(
            uow, None, kind, ref, class_ids, deps.content, deps.clock(), send_at=send_at, due_on=due_on
        )
        await uow.commit()
    when = vn_time(bc.send_at)
    print(
        f"Đã tạo lần gửi #{bc.id}: “{plan.title}” cho {', '.join(plan.class_names)}; {plan.students} học sinh "
        f"({plan.unreachable} em không liên lạc được); gửi lúc {when}."
    )
    return 0


async def cmd_broadcast_list(deps: Deps, _args: argparse.Namespace) -> int:
    async with deps.uow_factory() as uow:
        for b in await uow.broadcasts.list_recent():
            counts = await uow.broadcasts.status_counts(b.id)
            kind = "nhắc bài" if b.parent_id else KIND_NAMES.get(b.kind, b.kind)
            title = broadcasts.title_of(deps.content, b.kind, b.ref)
            print(f"#{b.id}\t{vn_time(b.send_at, '%d/%m/%Y %H:%M')}\t{kind}\t{title}\t{_counts_text(counts)}")
    return 0


KIND_NAMES = {"lesson": "bài học", "practice": "luyện tập"}
STATUS_NAMES = {
    "sent": "đã gửi",
    "pending": "đang chờ",
    "sending": "đang gửi",
    "blocked": "bị chặn",
    "unreachable": "không liên lạc được",
    "unknown": "không rõ",
    "failed": "lỗi",
}


def _counts_text(counts: dict[str, int]) -> str:
    # In the order of the names above (what a teacher looks for first), any other status last, as "khác".
    order = list(STATUS_NAMES)
    keys = sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k))
    return ", ".join(f"{STATUS_NAMES.get(k, 'khác')} {counts[k]}" for k in keys)


async def cmd_broadcast_status(deps: Deps, args: argparse.Namespace) -> int:
    async with deps.uow_factory() as uow:
        bc = await uow.broadcasts.get(args.id)
        if bc is None:
            print(f"Không có lần gửi #{args.id}.")
            return 1
        view = await broadcasts.progress(uow, bc)
        counts = await uow.broadcasts.status_counts(bc.id)
    t = view.total
    print(f"#{bc.id} “{broadcasts.title_of(deps.content, bc.kind, bc.ref)}”")
    print(f"Tin: {_counts_text(counts)}")
    print(
        f"Học sinh: {t.students}; đã nhận {t.delivered}, đã mở {t.opened}, hoàn thành {t.completed}, "
        f"không liên lạc được {t.unreachable}, đang chờ {t.waiting}, không rõ {t.unknown}, lỗi {t.failed}"
    )
    return 0


async def cmd_broadcast_remind(deps: Deps, args: argparse.Namespace) -> int:
    async with deps.uow_factory() as uow:
        n = await broadcasts.send_reminder(uow, None, args.id, deps.clock())
        await uow.commit()
    print(f"Đã xếp gửi lời nhắc tới {n} học sinh.")
    return 0


async def cmd_broadcast_send(deps: Deps, _args: argparse.Namespace) -> int:
    async with deps.open_transports() as transports:
        if not transports:
            print("Không có kênh nào để gửi (cần TELEGRAM_BOT_TOKEN hoặc ZALO_BOT_TOKEN).")
            return 1
        sent = await deps.make_sender(transports).run_until_empty()
    print(f"Đã gửi {sent} tin.")
    return 0
