"""`python -m bot privacy purge | requests | verify-audit`: retention, pending data requests, the audit chain."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from bot.core.clock import Clock, vn_time
from bot.privacy import service as privacy
from bot.privacy.ports import PrivacyUnitOfWork
from bot.privacy.retention import purge


@dataclass(frozen=True)
class Deps:
    """What these commands use (the database only: the lessons may be mid-edit); the root builds it."""

    uow_factory: Callable[[], PrivacyUnitOfWork]
    clock: Clock
    retention_days: int
    retention_inbox_days: int
    mailbox_retention_days: int | None = None


Opener = Callable[[argparse.Namespace], AbstractAsyncContextManager[Deps]]
Command = Callable[[Deps, argparse.Namespace], Awaitable[int]]


PURGE_NAMES = {
    "accounts_erased_on_request": "tài khoản đã xóa theo yêu cầu",
    "inactive_accounts_erased": "tài khoản lâu không dùng đã xóa",
    "attempt_answers": "câu trả lời đã xóa",
    "quiz_attempts": "bài làm đã xóa",
    "lesson_progress": "tiến độ bài học đã xóa",
    "activity": "lượt tham gia đã bỏ liên kết với người học",
    "inbound_updates": "tin nhận đã xử lý đã xóa",
    "parent_links": "liên kết phụ huynh hết hạn đã xóa",
    "oa_followers": "thời điểm tương tác cũ với Zalo OA đã xóa",
    "mailbox_cases": "thư hộp thư an toàn đã xong, quá hạn lưu giữ, đã xóa",
    "mailbox_messages": "tin trong các thư đó đã xóa",
}


async def cmd_purge(deps: Deps, _args: argparse.Namespace) -> int:
    totals = await purge(
        deps.uow_factory, deps.clock(), deps.retention_days, deps.retention_inbox_days, deps.mailbox_retention_days
    )
    print("Đã xóa dữ liệu cá nhân hết hạn lưu giữ.")
    for key, value in sorted(totals.items()):
        print(f"  {PURGE_NAMES.get(key, key)}: {value}")
    return 0


async def cmd_verify_audit(deps: Deps, _args: argparse.Namespace) -> int:
    async with deps.uow_factory() as uow:
        check = await privacy.verify_audit_chain(uow)
    if check.ok:
        print(f"Nhật ký kiểm toán nguyên vẹn ({check.rows} dòng).")
        return 0
    print(f"Nhật ký kiểm toán đã bị sửa: chuỗi băm sai từ dòng id={check.broken_at}.")
    return 1


REQUEST_NAMES = {"export": "yêu cầu bản sao dữ liệu", "withdraw": "rút lại đồng ý", "erase": "yêu cầu xóa dữ liệu"}


async def cmd_requests(deps: Deps, _args: argparse.Namespace) -> int:
    now = deps.clock()
    async with deps.uow_factory() as uow:
        pending = await uow.privacy.requests(status="pending")
    if not pending:
        print("Không có yêu cầu nào đang chờ.")
        return 0
    for r in pending:
        late = "  QUÁ HẠN" if r.due_at < now else ""
        kind = REQUEST_NAMES.get(r.kind, r.kind)
        received, due = vn_time(r.requested_at, "%d/%m/%Y"), vn_time(r.due_at, "%d/%m/%Y")
        print(f"#{r.id} {kind} – tài khoản {r.user_id}: nhận {received}, hạn {due}{late}")
    return 1 if any(r.due_at < now for r in pending) else 0


def _runner(open_deps: Opener, job: Command) -> Callable[[argparse.Namespace], int]:
    async def run(args: argparse.Namespace) -> int:
        async with open_deps(args) as deps:
            return await job(deps, args)

    return lambda args: asyncio.run(run(args))


def register(subparsers: Any, open_deps: Opener) -> None:
    parser = subparsers.add_parser("privacy", help="dữ liệu cá nhân: xóa theo thời hạn, kiểm tra nhật ký")
    sub = parser.add_subparsers(dest="privacy_cmd", required=True)
    sub.add_parser("purge", help="xóa dữ liệu cá nhân hết hạn lưu giữ và các yêu cầu xóa đang chờ").set_defaults(
        func=_runner(open_deps, cmd_purge)
    )
    sub.add_parser("requests", help="các yêu cầu về dữ liệu đang chờ và hạn xử lý (mục tiêu nội bộ)").set_defaults(
        func=_runner(open_deps, cmd_requests)
    )
    sub.add_parser("verify-audit", help="kiểm tra chuỗi băm của nhật ký kiểm toán").set_defaults(
        func=_runner(open_deps, cmd_verify_audit)
    )
