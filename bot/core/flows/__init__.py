"""Conversation flows, one file each; `default_routers()` lists them for the dispatcher."""

from __future__ import annotations

import importlib

from bot.core.router import Router

# One module per flow; each has a `router`. Order matters only for readability: names never overlap.
FLOW_MODULES = (
    "menu",
    "onboarding",
    "help",
    "lessons",
    "practice",
    "progress",
    "staff",
    "groups",
    "media",
    "link",
    "contests",
    "assigned",
    "classes",
    "reports",
    "privacy",
)


def default_routers() -> list[Router]:
    return [importlib.import_module(f"bot.core.flows.{name}").router for name in FLOW_MODULES]
