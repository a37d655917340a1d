"""Maps commands, choice actions, free-text steps, deep-link payloads and the two catch-all handlers (group chats,
unexpected text) to the flow functions that handle them. Each feature has routers; the composition root
includes them into the dispatcher's one router."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.core.context import Context

log = logging.getLogger(__name__)

# Every handler takes the context and one string: a command's arguments, an action's argument, the text typed.
Handler = Callable[[Context[Any, Any], str], Awaitable[None]]
ActionHandler = CommandHandler = TextHandler = Handler
H = TypeVar("H", bound=Handler)  # the decorators hand back the function as it is (its own signature)


@dataclass
class Router:
    commands: dict[str, Handler] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    text_steps: dict[str, Handler] = field(default_factory=dict)
    # `/start <prefix>...` deep links: the prefix's handler gets the whole payload.
    payloads: dict[str, Handler] = field(default_factory=dict)
    # Text steps where a child is asked to tell what happened (a letter to the school counsellor): what they type
    # is the answer even when it speaks of being hurt, and the step itself shows the hotlines.
    disclosure_steps: set[str] = field(default_factory=set)
    # Every event in a group chat (learning happens in private chats), and text nobody asked for.
    groups: Handler | None = None
    unexpected_text: Handler | None = None

    def command(self, *names: str) -> Callable[[H], H]:
        def deco(fn: H) -> H:
            for name in names:
                self.commands[name] = fn
            return fn

        return deco

    def action(self, name: str) -> Callable[[H], H]:
        """An action is "name" or "name:argument"; the handler receives the argument."""

        def deco(fn: H) -> H:
            self.actions[name] = fn
            return fn

        return deco

    def text(self, step: str, disclosure: bool = False) -> Callable[[H], H]:
        """Free text expected while the conversation is at `step` ("flow.step"). A `disclosure` step receives
        what a child tells even about being hurt (the distress answer does not take its place) and the text is
        never kept in the stored update; the step must show the hotlines itself."""

        def deco(fn: H) -> H:
            self.text_steps[step] = fn
            if disclosure:
                self.disclosure_steps.add(step)
            return fn

        return deco

    def payload(self, prefix: str) -> Callable[[H], H]:
        """A deep-link payload starting with `prefix` (`/start P_7H2K9QXM`)."""

        def deco(fn: H) -> H:
            self.payloads[prefix] = fn
            return fn

        return deco

    def group_chat(self, fn: H) -> H:
        self.groups = fn
        return fn

    def fallback(self, fn: H) -> H:
        self.unexpected_text = fn
        return fn

    def include(self, other: Router) -> None:
        for mine, theirs in (
            (self.commands, other.commands),
            (self.actions, other.actions),
            (self.text_steps, other.text_steps),
            (self.payloads, other.payloads),
        ):
            duplicate = set(mine) & set(theirs)
            if duplicate:
                raise ValueError(f"registered twice: {sorted(duplicate)}")
            mine.update(theirs)
        self.disclosure_steps |= other.disclosure_steps
        for attr in ("groups", "unexpected_text"):
            theirs_fn = getattr(other, attr)
            if theirs_fn is not None:
                if getattr(self, attr) is not None:
                    raise ValueError(f"registered twice: {attr}")
                setattr(self, attr, theirs_fn)

    async def run_action(self, ctx: Context[Any, Any], action: str) -> None:
        name, _sep, arg = action.partition(":")
        handler = self.actions.get(name)
        if handler is None:
            log.error("no handler for action %s", name)
            raise ctx.stale()
        await handler(ctx, arg)

    def payload_handler(self, payload: str) -> Handler | None:
        """The handler of a deep-link payload (case-insensitive prefix), if a feature registered one."""
        upper = payload.upper()
        for prefix, handler in self.payloads.items():
            if upper.startswith(prefix.upper()):
                return handler
        return None
