"""Who someone is to the product, and the one check that a feature is theirs to use."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.core.errors import UserFacingError
from bot.core.i18n import N_

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.ports import UserRec


class Role(StrEnum):
    """Stored in `users.role`. A str enum: `user.role == Role.TEACHER` compares the stored text."""

    STUDENT = "student"
    TEACHER = "teacher"
    SCHOOL_ADMIN = "school_admin"
    ORGANIZER = "organizer"
    PARENT = "parent"


# Staff of a school (they manage classes); with the organizer, everyone who is not a student or a parent.
SCHOOL_STAFF: frozenset[Role] = frozenset({Role.TEACHER, Role.SCHOOL_ADMIN})
STAFF: frozenset[Role] = SCHOOL_STAFF | {Role.ORGANIZER}

ROLE_NAMES: dict[str, str] = {
    Role.SCHOOL_ADMIN: N_("quản trị trường"),
    Role.TEACHER: N_("giáo viên"),
    Role.ORGANIZER: N_("ban tổ chức"),
    Role.STUDENT: N_("học sinh"),
    Role.PARENT: N_("phụ huynh"),
}

FOR_STAFF_ONLY = N_("Chức năng này chỉ dành cho thầy cô và ban tổ chức.")


def has_role(user: UserRec, *roles: Role) -> bool:
    return user.role in roles


def is_staff(user: UserRec) -> bool:
    return user.role in STAFF


def require_role(ctx: Context[Any, Any], *roles: Role, message: str = FOR_STAFF_ONLY) -> None:
    """Refuse (with `message`, a message id translated for the user) unless the user has one of `roles`."""
    if ctx.user.role not in roles:
        raise UserFacingError(ctx._(message))
