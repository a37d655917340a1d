"""Conversation flows, one file each; `default_routers()` lists them for the dispatcher."""

from __future__ import annotations

from bot.core.router import Router


def default_routers() -> list[Router]:
    from bot.core.flows import help, lessons, menu, onboarding, practice, privacy, progress, staff

    return [
        menu.router,
        onboarding.router,
        help.router,
        lessons.router,
        practice.router,
        progress.router,
        staff.router,
        privacy.router,
    ]
