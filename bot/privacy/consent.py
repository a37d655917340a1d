"""The guardian's consent: recorded by a teacher from the signed paper form, or given by the parent through a
one-time parent link on their own account; and withdrawal, which stops processing and queues deletion.
The gate that reads consents is accounts' (`bot.accounts.consent`)."""

from __future__ import annotations

import datetime as dt

from bot.accounts.consent import GUARDIAN, PAPER_FORM, PARENT_LINK, consent_status
from bot.core.codes import new_code
from bot.core.errors import Refusal, UserFacingError
from bot.core.i18n import N_
from bot.core.ports import UserRec
from bot.core.roles import Role
from bot.core.text import normalise_code
from bot.privacy import service as privacy
from bot.privacy.ports import Ctx, PrivacyUnitOfWork

# `/start P_<code>`: Telegram deep-link payloads allow letters, digits, "_" and "-".
PARENT_PREFIX = "P_"
PARENT_LINK_TTL = dt.timedelta(days=14)
BAD_REFERENCE = N_("Số phiếu gồm chữ và số, có ít nhất một chữ số, tối đa 32 ký tự. Thầy/cô gõ lại nhé.")
WITHDRAWN = N_(
    "Gia đình em đã rút lại đồng ý và dữ liệu của em đang chờ xóa, nên không ghi nhận thêm phiếu đồng ý nào."
)


async def record_guardian(
    ctx: Ctx, student_id: int, method: str, reference: str | None = None, recorded_by: int | None = None
) -> bool:
    """Record the guardian's consent; False (and nothing written) when an active one already exists."""
    return await _record_guardian(
        ctx.uow, ctx.user.id, student_id, method, ctx.env.notice_version, ctx.now, reference, recorded_by
    )


async def _record_guardian(
    uow: PrivacyUnitOfWork,
    actor_id: int,
    student_id: int,
    method: str,
    notice_version: str,
    now: dt.datetime,
    reference: str | None = None,
    recorded_by: int | None = None,
) -> bool:
    _child, guardian = await consent_status(uow, student_id)
    if guardian:
        return False
    by = recorded_by if recorded_by is not None else actor_id
    await uow.consents.add(student_id, GUARDIAN, method, notice_version, now, recorded_by=by, reference=reference)
    await uow.audit.add(actor_id, "consent.record", f"user:{student_id}", {"kind": GUARDIAN, "method": method}, now)
    return True


async def erasure_pending(uow: PrivacyUnitOfWork, student_ids: list[int]) -> set[int]:
    """The students among `student_ids` whose data is queued for deletion (after withdrawing their consent)."""
    wanted = set(student_ids)
    return {r.user_id for r in await uow.privacy.requests(status="pending", kind=privacy.ERASE) if r.user_id in wanted}


async def record_paper_form(
    uow: PrivacyUnitOfWork, staff: UserRec, student_id: int, text: str, notice_version: str, now: dt.datetime
) -> tuple[str, bool]:
    """A member of staff saw the guardian's signed paper form: record it under its number, in the chat and in the
    web console alike. The caller has checked that the student is in a class `staff` manages. Refused for a
    reference that is not a form number, and while a withdrawal's deletion is pending (the family said no: an
    old form does not bring the data back). Returns (the reference as stored, False when an active guardian
    consent already existed and nothing was written)."""
    ref = clean_form_reference(text)
    if ref is None:
        raise Refusal(BAD_REFERENCE)
    if await erasure_pending(uow, [student_id]):
        raise Refusal(WITHDRAWN)
    recorded = await _record_guardian(
        uow, staff.id, student_id, PAPER_FORM, notice_version, now, reference=ref, recorded_by=staff.id
    )
    return ref, recorded


def clean_form_reference(text: str) -> str | None:
    """The number of the signed paper form, e.g. "PĐY-7A-012" or "12": 1–32 characters with at least one digit,
    so that nobody types a parent's name here by mistake."""
    ref = " ".join(text.split()).upper()
    if not 1 <= len(ref) <= 32 or not any(ch.isdigit() for ch in ref):
        return None
    if not all(ch.isalnum() or ch in " -_/." for ch in ref):
        return None
    return ref


async def create_parent_link(ctx: Ctx, student: UserRec) -> str:
    """A one-time code a parent opens on their own account; returns what they type: `/start P_<code>`."""
    code = new_code(8)
    while await ctx.uow.parent_links.by_code(code) is not None:
        code = new_code(8)
    await ctx.uow.parent_links.create(code, student.id, ctx.user.id, ctx.now + PARENT_LINK_TTL, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "consent.parent_link", f"user:{student.id}", {}, ctx.now)
    return PARENT_PREFIX + code


async def open_parent_link(ctx: Ctx, raw: str) -> UserRec:
    """The student a parent link is for; refuses used, expired and unknown codes, and the student's own account."""
    _ = ctx._
    code = normalise_code(raw.strip()[len(PARENT_PREFIX) :])
    link = await ctx.uow.parent_links.by_code(code) if 4 <= len(code) <= 16 else None
    if link is None or link.used_by is not None or link.expires_at < ctx.now:
        raise UserFacingError(
            _(
                "Mã dành cho phụ huynh này không đúng, đã được dùng hoặc đã hết hạn. Anh/chị xin mã mới từ giáo "
                "viên nhé."
            )
        )
    if link.student_id == ctx.user.id or (ctx.user.role == Role.STUDENT and ctx.user.onboarded):
        raise UserFacingError(
            _("Mã này dành cho bố mẹ. Em gửi mã cho bố mẹ để bố mẹ mở trên điện thoại của bố mẹ nhé.")
        )
    student = await ctx.uow.users.get(link.student_id)
    if student is None:
        raise UserFacingError(_("Không tìm thấy học sinh của mã này."))
    return student


async def accept_parent_link(ctx: Ctx, raw: str) -> UserRec:
    """The parent tapped "Tôi đồng ý": use the link once and record the guardian's consent."""
    student = await open_parent_link(ctx, raw)
    link = await ctx.uow.parent_links.by_code(normalise_code(raw.strip()[len(PARENT_PREFIX) :]))
    assert link is not None
    if not await ctx.uow.parent_links.mark_used(link.id, ctx.user.id, ctx.now):
        raise UserFacingError(ctx._("Mã dành cho phụ huynh này đã được dùng rồi."))
    await record_guardian(ctx, student.id, PARENT_LINK, recorded_by=ctx.user.id)
    if ctx.user.role == Role.STUDENT and not ctx.user.onboarded:
        # The parent's own account: not a student, joined to no class, linked only through this consent.
        await ctx.uow.users.update(ctx.user.id, role=Role.PARENT, onboarded=True)
        ctx.user.role, ctx.user.onboarded = Role.PARENT, True
    return student


async def withdraw(ctx: Ctx, student_id: int) -> None:
    """Withdraw every active consent of the student: processing stops, and a deletion request is queued."""
    await ctx.uow.consents.withdraw(student_id, ctx.now)
    request = await privacy.open_request(ctx.uow, student_id, ctx.user.id, privacy.WITHDRAW, ctx.now)
    await ctx.uow.privacy.complete_request(request.id, ctx.now)
    await privacy.open_request(ctx.uow, student_id, ctx.user.id, privacy.ERASE, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "consent.withdraw", f"user:{student_id}", {}, ctx.now)
