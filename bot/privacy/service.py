"""Data rights and accountability: requests with target dates, a copy of one's data, deletion, the audit
trail of exports, the audit chain check, and who may act for which student."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bot.core import mime
from bot.core.audit import audit_hash
from bot.core.ports import UnitOfWork, UserRec
from bot.core.replies import Attachment
from bot.privacy.ports import Ctx, PrivacyRequestRec, PrivacyUnitOfWork

EXPORT = "export"
WITHDRAW = "withdraw"
ERASE = "erase"
# Internal targets for completing each kind of request, in days. They follow secondary summaries of
# NĐ 356/2025 (copy 10, withdrawal 15, deletion 20) that still have to be checked against the official text,
# so they are never shown to users as legal deadlines. We finish export and deletion at once anyway.
TARGET_DAYS = {EXPORT: 10, WITHDRAW: 15, ERASE: 20}
# A child's letters to the school counsellor are given to the child only (what a child tells about home must
# not reach home through a copy a parent asks for); the copy says so.
MAILBOX_NOT_INCLUDED = (
    "Thư của học sinh gửi hộp thư an toàn (thầy/cô tư vấn) chỉ có trong bản sao học sinh tự yêu cầu. / "
    "Letters to the school counsellor are only in the copy the student asks for themselves."
)


async def open_request(
    uow: PrivacyUnitOfWork, user_id: int, requested_by: int | None, kind: str, now: dt.datetime
) -> PrivacyRequestRec:
    return await uow.privacy.add_request(user_id, requested_by, kind, now, now + dt.timedelta(days=TARGET_DAYS[kind]))


async def audit_export(
    uow: UnitOfWork,
    actor_id: int | None,
    action: str,
    scope: str,
    rows: int,
    data: bytes,
    now: dt.datetime,
    channel: str = "",
    fields: list[str] | None = None,
) -> None:
    """One audit row for an export or a report: who, what, which scope, how many rows, a hash of the output.
    Exports and reports elsewhere call this too; it stores no personal data, only ids and counts."""
    detail: dict[str, Any] = {"rows": rows, "sha256": hashlib.sha256(data).hexdigest(), "channel": channel}
    if fields:
        detail["fields"] = list(fields)
    await uow.audit.add(actor_id, action, scope, detail, now)


async def export_attachment(ctx: Ctx, user: UserRec) -> Attachment:
    """Every row about `user`, as one JSON file; the request and the audit row are written with it."""
    own = ctx.user.id == user.id
    data = await ctx.uow.privacy.export(user.id, own_copy=own)
    payload: dict[str, Any] = {
        "generated_at": ctx.now.isoformat(),
        "notice_version": ctx.env.notice_version,
        "user_id": user.id,
        "tables": data,
    }
    if not own:  # said in every copy made for someone else, whether or not there are letters
        payload["not_included"] = MAILBOX_NOT_INCLUDED
    content = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    request = await open_request(ctx.uow, user.id, ctx.user.id, EXPORT, ctx.now)
    await ctx.uow.privacy.complete_request(request.id, ctx.now)
    rows = sum(len(v) for v in data.values())
    await audit_export(
        ctx.uow, ctx.user.id, "privacy.export", f"user:{user.id}", rows, content, ctx.now, ctx.event.address.channel
    )
    return Attachment(f"du-lieu-cua-toi-{user.id}.json", content, mime.JSON)


async def erase_user(uow: PrivacyUnitOfWork, user_id: int, actor_id: int | None, now: dt.datetime) -> dict[str, int]:
    """Delete the user's personal data now; close their pending deletion requests; audit with counts only."""
    counts = await uow.privacy.erase(user_id)
    pending = [r for r in await uow.privacy.requests(status="pending", kind=ERASE) if r.user_id == user_id]
    if not pending:
        pending = [await open_request(uow, user_id, actor_id, ERASE, now)]
    for request in pending:
        await uow.privacy.complete_request(request.id, now)
    await uow.audit.add(actor_id, "privacy.erase", f"user:{user_id}", {"rows": counts}, now)
    return counts


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    broken_at: int | None = None  # id of the first row that does not match


async def verify_audit_chain(uow: UnitOfWork) -> ChainCheck:
    """Recompute the chain: an edited, inserted or deleted past row breaks it from that row on."""
    prev: str | None = None
    rows = await uow.audit.chain()
    for row in rows:
        expected = audit_hash(prev, row.at, row.actor_id, row.action, row.scope, row.detail)
        if row.prev_hash != prev or row.hash != expected:
            return ChainCheck(False, len(rows), row.id)
        prev = row.hash
    return ChainCheck(True, len(rows))
