"""The consent gate: the child's own agreement (given in the chat) and the guardian's (recorded by the school or
given through a parent link), each with its time and the version of the notice shown. Silence is never consent;
a student whose agreement was withdrawn is not served until they agree again. Recording the guardian's consent,
parent links and withdrawal are privacy's (`bot.privacy.consent`)."""

from __future__ import annotations

from bot.accounts.ports import AccountsUnitOfWork, ConsentRec, Ctx
from bot.core.roles import Role

CHILD = "child"
GUARDIAN = "guardian"
IN_CHAT = "in_chat"
PAPER_FORM = "paper_form"
PARENT_LINK = "parent_link"


async def consent_status(uow: AccountsUnitOfWork, user_id: int) -> tuple[bool, bool]:
    """(child agreed, guardian agreed), counting only consents that were not withdrawn."""
    return status_of(await uow.consents.active(user_id))


def status_of(consents: list[ConsentRec]) -> tuple[bool, bool]:
    """(child agreed, guardian agreed) from a user's consents, counting only those not withdrawn."""
    kinds = {c.kind for c in consents if c.withdrawn_at is None}
    return CHILD in kinds, GUARDIAN in kinds


async def record_child(ctx: Ctx) -> None:
    """The child tapped "Em đồng ý" after reading the notice."""
    await ctx.uow.consents.add(ctx.user.id, CHILD, IN_CHAT, ctx.env.notice_version, ctx.now)


async def require_ready(ctx: Ctx, consents: list[ConsentRec] | None = None) -> bool:
    """Learning needs a finished onboarding and, for a student, the child's own agreement still in force
    (withdrawing it stops all processing). `consents`: the user's active consents, when the caller read them.
    When the user is not ready, they are told why and taken to /start."""
    if ctx.user.onboarded:
        if ctx.user.role != Role.STUDENT:
            return True
        if (status_of(consents) if consents is not None else await consent_status(ctx.uow, ctx.user.id))[0]:
            return True
        ctx.say(ctx._("Em đã rút lại đồng ý nên mình tạm dừng. Nếu em và bố mẹ muốn học tiếp, em đồng ý lại nhé."))
    else:
        ctx.say(ctx._("Em cần bắt đầu và đồng ý với nội quy trước khi học nhé."))
    await ctx.goto("onboarding.start")
    return False
