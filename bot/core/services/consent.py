"""Consent: the child's own agreement and the guardian's (paper form or parent link), each with its time and
the version of the notice shown; withdrawal stops processing and queues deletion. Silence is never consent."""

from __future__ import annotations

import datetime as dt

from bot.core.context import Context, UserFacingError
from bot.core.ports import ConsentRec, UnitOfWork, UserRec
from bot.core.services.codes import new_code
from bot.core.text import normalise_code

CHILD = "child"
GUARDIAN = "guardian"
IN_CHAT = "in_chat"
PAPER_FORM = "paper_form"
PARENT_LINK = "parent_link"
# `/start P_<code>`: Telegram deep-link payloads allow letters, digits, "_" and "-".
PARENT_PREFIX = "P_"
PARENT_LINK_TTL = dt.timedelta(days=14)


async def consent_status(uow: UnitOfWork, user_id: int) -> tuple[bool, bool]:
    """(child agreed, guardian agreed), counting only consents that were not withdrawn."""
    return status_of(await uow.consents.active(user_id))


def status_of(consents: list[ConsentRec]) -> tuple[bool, bool]:
    """(child agreed, guardian agreed) from a user's consents, counting only those not withdrawn."""
    kinds = {c.kind for c in consents if c.withdrawn_at is None}
    return CHILD in kinds, GUARDIAN in kinds


async def record_child(ctx: Context) -> None:
    """The child tapped "Em đồng ý" after reading the notice."""
    await ctx.uow.consents.add(ctx.user.id, CHILD, IN_CHAT, ctx.settings.notice_version, ctx.now)


async def record_guardian(
    ctx: Context, student_id: int, method: str, reference: str | None = None, recorded_by: int | None = None
) -> bool:
    """Record the guardian's consent; False (and nothing written) when an active one already exists."""
    _child, guardian = await consent_status(ctx.uow, student_id)
    if guardian:
        return False
    by = recorded_by if recorded_by is not None else ctx.user.id
    await ctx.uow.consents.add(
        student_id, GUARDIAN, method, ctx.settings.notice_version, ctx.now, recorded_by=by, reference=reference
    )
    await ctx.uow.audit.add(
        ctx.user.id, "consent.record", f"user:{student_id}", {"kind": GUARDIAN, "method": method}, ctx.now
    )
    return True


def clean_form_reference(text: str) -> str | None:
    """The number of the signed paper form, e.g. "PĐY-7A-012" or "12": 1–32 characters with at least one digit,
    so that nobody types a parent's name here by mistake."""
    ref = " ".join(text.split()).upper()
    if not 1 <= len(ref) <= 32 or not any(ch.isdigit() for ch in ref):
        return None
    if not all(ch.isalnum() or ch in " -_/." for ch in ref):
        return None
    return ref


async def create_parent_link(ctx: Context, student: UserRec) -> str:
    """A one-time code a parent opens on their own account; returns what they type: `/start P_<code>`."""
    code = new_code(8)
    while await ctx.uow.parent_links.by_code(code) is not None:
        code = new_code(8)
    await ctx.uow.parent_links.create(code, student.id, ctx.user.id, ctx.now + PARENT_LINK_TTL, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "consent.parent_link", f"user:{student.id}", {}, ctx.now)
    return PARENT_PREFIX + code


def is_parent_code(args: str) -> bool:
    return args.strip().upper().startswith(PARENT_PREFIX)


async def open_parent_link(ctx: Context, raw: str) -> UserRec:
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
    if link.student_id == ctx.user.id or (ctx.user.role == "student" and ctx.user.onboarded):
        raise UserFacingError(
            _("Mã này dành cho bố mẹ. Em gửi mã cho bố mẹ để bố mẹ mở trên điện thoại của bố mẹ nhé.")
        )
    student = await ctx.uow.users.get(link.student_id)
    if student is None:
        raise UserFacingError(_("Không tìm thấy học sinh của mã này."))
    return student


async def accept_parent_link(ctx: Context, raw: str) -> UserRec:
    """The parent tapped "Tôi đồng ý": use the link once and record the guardian's consent."""
    student = await open_parent_link(ctx, raw)
    link = await ctx.uow.parent_links.by_code(normalise_code(raw.strip()[len(PARENT_PREFIX) :]))
    assert link is not None
    if not await ctx.uow.parent_links.mark_used(link.id, ctx.user.id, ctx.now):
        raise UserFacingError(ctx._("Mã dành cho phụ huynh này đã được dùng rồi."))
    await record_guardian(ctx, student.id, PARENT_LINK, recorded_by=ctx.user.id)
    if ctx.user.role == "student" and not ctx.user.onboarded:
        # The parent's own account: not a student, joined to no class, linked only through this consent.
        await ctx.uow.users.update(ctx.user.id, role="parent", onboarded=True)
        ctx.user.role, ctx.user.onboarded = "parent", True
    return student


async def withdraw(ctx: Context, student_id: int) -> None:
    """Withdraw every active consent of the student: processing stops, and a deletion request is queued."""
    from bot.core.services import privacy

    await ctx.uow.consents.withdraw(student_id, ctx.now)
    request = await privacy.open_request(ctx.uow, student_id, ctx.user.id, privacy.WITHDRAW, ctx.now)
    await ctx.uow.privacy.complete_request(request.id, ctx.now)
    await privacy.open_request(ctx.uow, student_id, ctx.user.id, privacy.ERASE, ctx.now)
    await ctx.uow.audit.add(ctx.user.id, "consent.withdraw", f"user:{student_id}", {}, ctx.now)
