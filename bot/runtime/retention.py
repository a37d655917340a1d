"""Retention: deletes personal data nobody needs any more. Run daily (`python -m bot privacy purge`, or a
scheduler calling `purge`). Participation counts for the reports stay, no longer linked to anyone."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections import Counter

from bot.app import App
from bot.core.services import privacy


async def purge(app: App, now: dt.datetime) -> dict[str, int]:
    """Carry out queued deletion requests, delete accounts unused for RETENTION_DAYS, answers and lesson
    progress older than that, and handled platform updates older than RETENTION_INBOX_DAYS."""
    cutoff = now - dt.timedelta(days=app.settings.retention_days)
    inbox_cutoff = now - dt.timedelta(days=app.settings.retention_inbox_days)
    totals: Counter[str] = Counter()
    async with app.uow_factory() as uow:
        for request in await uow.privacy.requests(status="pending", kind=privacy.ERASE):
            if request.user_id is not None:
                await privacy.erase_user(uow, request.user_id, None, now)
                totals["accounts_erased_on_request"] += 1
        for user_id in await uow.privacy.inactive_users(cutoff):
            await privacy.erase_user(uow, user_id, None, now)
            totals["inactive_accounts_erased"] += 1
        totals.update(await uow.privacy.purge_old(cutoff, inbox_cutoff, now))
        await uow.audit.add(None, "privacy.purge", "all", {"rows": dict(totals)}, now)
        await uow.commit()
    return dict(totals)


def _app_without_content() -> App:
    """Maintenance needs the database only, not the lessons (which may be mid-edit)."""
    from bot.app import build_app
    from bot.config import Settings
    from bot.content.loader import Content

    settings = Settings()
    return build_app(settings, content=Content(root=settings.content_dir))


async def _purge_command(_args: argparse.Namespace) -> int:
    from bot.app import utc_now
    from bot.config import Settings
    from db.migrate import upgrade_async

    await upgrade_async(Settings().database_url)
    app = _app_without_content()
    try:
        totals = await purge(app, utc_now())
    finally:
        await app.close()
    print("Đã xóa dữ liệu cá nhân hết hạn lưu giữ.")
    for key, value in sorted(totals.items()):
        print(f"  {key}: {value}")
    return 0


async def _audit_command(_args: argparse.Namespace) -> int:
    app = _app_without_content()
    try:
        async with app.uow_factory() as uow:
            check = await privacy.verify_audit_chain(uow)
    finally:
        await app.close()
    if check.ok:
        print(f"Nhật ký kiểm toán nguyên vẹn ({check.rows} dòng).")
        return 0
    print(f"Nhật ký kiểm toán đã bị sửa: chuỗi băm sai từ dòng id={check.broken_at}.")
    return 1


async def _requests_command(_args: argparse.Namespace) -> int:
    from bot.app import utc_now

    app = _app_without_content()
    now = utc_now()
    try:
        async with app.uow_factory() as uow:
            pending = await uow.privacy.requests(status="pending")
    finally:
        await app.close()
    if not pending:
        print("Không có yêu cầu nào đang chờ.")
        return 0
    for r in pending:
        late = "  QUÁ HẠN" if r.due_at < now else ""
        print(f"#{r.id} {r.kind} tài khoản {r.user_id}: nhận {r.requested_at:%d/%m/%Y}, hạn {r.due_at:%d/%m/%Y}{late}")
    return 1 if any(r.due_at < now for r in pending) else 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`python -m bot privacy purge | requests | verify-audit`."""
    parser = subparsers.add_parser("privacy", help="dữ liệu cá nhân: xóa theo thời hạn, kiểm tra nhật ký")
    sub = parser.add_subparsers(dest="privacy_cmd", required=True)
    sub.add_parser("purge", help="xóa dữ liệu cá nhân hết hạn lưu giữ và các yêu cầu xóa đang chờ").set_defaults(
        func=lambda args: asyncio.run(_purge_command(args))
    )
    sub.add_parser("requests", help="các yêu cầu về dữ liệu đang chờ và hạn xử lý (mục tiêu nội bộ)").set_defaults(
        func=lambda args: asyncio.run(_requests_command(args))
    )
    sub.add_parser("verify-audit", help="kiểm tra chuỗi băm của nhật ký kiểm toán").set_defaults(
        func=lambda args: asyncio.run(_audit_command(args))
    )
