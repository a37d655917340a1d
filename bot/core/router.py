"""Maps commands, choice actions and free-text steps to the flow functions that handle them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.context import Context

ActionHandler = Callable[[Context, str], Awaitable[None]]
CommandHandler = Callable[[Context, str], Awaitable[None]]
TextHandler = Callable[[Context, str], Awaitable[None]]


@dataclass
class Router:
    commands: dict[str, CommandHandler] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    text_steps: dict[str, TextHandler] = field(default_factory=dict)

    def command(self, *names: str) -> Callable[[CommandHandler], CommandHandler]:
        def deco(fn: CommandHandler) -> CommandHandler:
            for name in names:
                self.commands[name] = fn
            return fn

        return deco

    def action(self, name: str) -> Callable[[ActionHandler], ActionHandler]:
        """An action is "name" or "name:argument"; the handler receives the argument."""

        def deco(fn: ActionHandler) -> ActionHandler:
            self.actions[name] = fn
            return fn

        return deco

    def text(self, step: str) -> Callable[[TextHandler], TextHandler]:
        """Free text expected while the conversation is at `step` ("flow.step")."""

        def deco(fn: TextHandler) -> TextHandler:
            self.text_steps[step] = fn
            return fn

        return deco

    def include(self, other: Router) -> None:
        for mine, theirs in (
            (self.commands, other.commands),
            (self.actions, other.actions),
            (self.text_steps, other.text_steps),
        ):
            duplicate = set(mine) & set(theirs)
            if duplicate:
                raise ValueError(f"registered twice: {sorted(duplicate)}")
            mine.update(theirs)
