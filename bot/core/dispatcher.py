"""Routes each incoming event to a flow inside one unit of work, and returns the replies."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.core import safety
from bot.core import text as textmod
from bot.core import understanding as understand
from bot.core.clock import Clock
from bot.core.context import Context, CoreSettings
from bot.core.errors import APOLOGY, STALE, STALE_SHORT, Refusal, UserFacingError
from bot.core.events import EventKind, IncomingEvent
from bot.core.flood import SLOW_DOWN, FloodGuard, FloodRule, Verdict, replies_for
from bot.core.i18n import N_, I18n
from bot.core.ports import UnitOfWork, UnitOfWorkFactory, UserRec
from bot.core.replies import Reply, reply_to_dict
from bot.core.router import Router

log = logging.getLogger(__name__)


class _OwnTransaction(Exception):
    """A member of a group needs a transaction of its own (see `Dispatcher.handle_many`)."""


class _SetApart(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


# (unit of work, user, channel, replies, now, gettext) -> the replies with files a channel cannot carry as links.
FileLinks = Callable[[Any, UserRec, str, list[Reply], dt.datetime, Callable[[str], str]], Awaitable[list[Reply]]]


class Dispatcher:
    # Members of one group that may be set apart (handled alone) before the rest are handled alone too.
    MAX_SET_APART = 3

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        routers: list[Router],
        env: object,
        i18n: I18n,
        clock: Clock,
        settings: CoreSettings | None = None,
        file_links: FileLinks | None = None,
        understanding: understand.Understanding | None = None,
    ) -> None:
        """`routers`: every feature's, in the order the composition root lists them; `env`: what the features
        read besides the database (content, their settings), handed to each flow as `ctx.env`; `file_links`:
        turns the files of a reply into links for channels that cannot carry them (the web console's);
        `understanding`: the word lists and hotlines for free text (without them, only command words)."""
        self.file_links = file_links
        self.uow_factory = uow_factory
        self.env = env
        self.i18n = i18n
        self.clock = clock
        self.settings = settings or CoreSettings()
        self.flood = FloodGuard(FloodRule(self.settings.flood_events, self.settings.flood_seconds))
        self.router = Router()
        for router in routers:
            self.router.include(router)
        self.understanding = understanding
        self._helped_in_flood: set[str] = set()  # accounts given the hotlines while over the flood limit
        if understanding is not None:
            unknown = set(understanding.lexicon.intents) - set(self.router.commands)
            if unknown:
                raise ValueError(f"intents without a command: {sorted(unknown)}")

    async def handle(
        self,
        event: IncomingEvent,
        inbox_id: int | None = None,
        with_commit: Callable[[UnitOfWork], Awaitable[None]] | None = None,
    ) -> list[Reply] | None:
        """Handle one event in one transaction. Raises on unexpected errors (the caller retries or apologises).

        With `inbox_id`, the stored inbound update is marked handled, with its replies, in the same
        transaction: an update is never applied twice, and its replies survive a crash until they are sent.
        Returns None when that update was already handled (by another worker or before a restart).
        `with_commit` adds other writes to this transaction (the inbox marks earlier updates done with it)."""
        if (limited := self._flood_limited(event)) is not None:
            return limited
        return await self._handle_alone(event, inbox_id, with_commit)

    async def handle_many(
        self,
        members: Sequence[tuple[IncomingEvent, int]],
        with_commit: Callable[[UnitOfWork], Awaitable[None]] | None = None,
    ) -> tuple[list[list[Reply] | Exception | None], bool]:
        """Handle stored updates of different users in one transaction (group handling): one BEGIN, one COMMIT.

        Each is applied as `handle` would apply it, one after the other, and all are committed together, or none.
        A member that needs a transaction of its own (a refusal, whose writes must be undone while the others'
        stay; an update already handled elsewhere; an error) rolls the group back; it is then handled alone and
        the others are applied again as a group without it (after `MAX_SET_APART` such members, each is handled
        alone), so the outcome of every member is exactly what `handle` gives it. Returns, per member, its
        replies, None (already handled) or the exception it raised, and whether the writes of `with_commit` were
        committed (with the group, or with a single member handled alone)."""
        outcomes: list[list[Reply] | Exception | None] = [None] * len(members)
        grouped: list[int] = []
        for i, (event, _inbox_id) in enumerate(members):
            if (limited := self._flood_limited(event)) is not None:
                outcomes[i] = limited
            else:
                grouped.append(i)
        alone: list[int] = []
        committed = False
        if len(grouped) == 1:
            alone, grouped = grouped, []
        while len(grouped) > 1 and len(alone) <= self.MAX_SET_APART:
            try:
                async with self.uow_factory() as uow:
                    for i in grouped:
                        event, inbox_id = members[i]
                        try:
                            outcomes[i] = await self._apply(uow, event, inbox_id, grouped=True)
                            await uow.settle()  # the next member starts as after a commit
                        except Exception as exc:
                            raise _SetApart(i) from exc
                    if with_commit is not None:
                        await with_commit(uow)
                    await uow.commit()
            except _SetApart as apart:  # rolled back: that one alone, the others again without it
                log.debug("a member of a group of %s needs its own transaction", len(grouped))
                grouped.remove(apart.index)
                alone.append(apart.index)
                continue
            except Exception as exc:  # the group's own failure (its commit): each alone
                log.debug("group of %s updates handled one by one (%s)", len(grouped), type(exc).__name__)
                break
            committed, grouped = True, []
        alone += grouped
        # Without a group committed, the writes of `with_commit` ride with a lone member (a quiet bot's usual case).
        ride = with_commit if not committed and len(alone) == 1 else None
        for i in sorted(alone):
            event, inbox_id = members[i]
            try:
                outcomes[i] = await self._handle_alone(event, inbox_id, ride)
            except Exception as exc:
                outcomes[i] = exc
            else:
                committed = committed or (ride is not None and outcomes[i] is not None)
        return outcomes, committed

    def _flood_limited(self, event: IncomingEvent) -> list[Reply] | None:
        """The replies for an account over its flood limit (nothing is stored for that event), else None."""
        account = f"{event.address.channel}:{event.address.user_id}"
        verdict = self.flood.check(account, self.clock())
        if verdict is Verdict.ALLOW:
            self._helped_in_flood.discard(account)
            return None
        # A child typing fast about being hurt still gets the hotlines, once per burst (nothing is stored: no
        # transaction is opened for an event over the limit, so this one is not counted).
        understanding = self.understanding
        if (
            understanding is not None
            and event.kind is EventKind.TEXT
            and account not in self._helped_in_flood
            and understand.is_distress(event.text[:_DISTRESS_SCAN], understanding.lexicon)
        ):
            self._helped_in_flood.add(account)
            locale = "en" if (event.locale_hint or "").lower().startswith("en") else "vi"
            gettext = functools.partial(self.i18n.gettext, locale)
            return [Reply(text=safety.distress_message(gettext, locale, "child", understanding))]
        log.info("flood limit: a %s event of a %s account dropped", event.kind.value, event.address.channel)
        return replies_for(verdict, event.kind is EventKind.CHOICE, self.i18n.gettext(None, SLOW_DOWN))

    async def _handle_alone(
        self,
        event: IncomingEvent,
        inbox_id: int | None,
        with_commit: Callable[[UnitOfWork], Awaitable[None]] | None,
    ) -> list[Reply] | None:
        async with self.uow_factory() as uow:
            replies = await self._apply(uow, event, inbox_id, grouped=False)
            if replies is None:
                return None
            if with_commit is not None:
                await with_commit(uow)
            await uow.commit()
            return replies

    async def _apply(
        self, uow: UnitOfWork, event: IncomingEvent, inbox_id: int | None, grouped: bool
    ) -> list[Reply] | None:
        """Apply one event in the transaction of `uow`, without committing. Alone, a refusal rolls back what the
        flow wrote and an update already handled rolls back everything (None); in a group both raise
        `_OwnTransaction` instead, since rolling back would undo the other members too."""
        now = self.clock()
        addr = event.address
        found = await uow.users.for_event(addr.channel, addr.user_id)  # one query for nearly every event
        if found is not None:
            user, conv = found
            # Writing again makes a user reachable again (e.g. after blocking and unblocking the bot).
            await uow.users.set_reachable(addr.channel, addr.user_id, True)
        else:
            existing = await uow.users.by_account(addr.channel, addr.user_id)
            if existing is None:
                locale = "en" if (event.locale_hint or "").lower().startswith("en") else "vi"
                # Someone first seen in a group: their private chat is not the group (on Telegram their id).
                chat_id = addr.chat_id if addr.chat_type == "private" else addr.user_id
                user = await uow.users.create(addr.channel, addr.user_id, chat_id, locale, now)
            else:
                user = existing
                await uow.users.set_reachable(addr.channel, addr.user_id, True)
            conv = await uow.conversations.get(user.id)
        ctx: Context[UnitOfWork, object] = Context(
            uow=uow,
            user=user,
            conv=conv,
            event=event,
            now=now,
            env=self.env,
            settings=self.settings,
            i18n=self.i18n,
            router=self.router,
        )
        try:
            await self._route(ctx)
        except (UserFacingError, Refusal) as exc:
            if grouped:
                raise _OwnTransaction("a refusal") from exc
            await uow.rollback()
            text = exc.translated(ctx._) if isinstance(exc, Refusal) else str(exc)
            ctx.out = [Reply(text=text, toast=text)]
            if ctx.forget_text and inbox_id is not None:  # refused or not, a child's telling is not kept
                await uow.inbox.forget_text(inbox_id, event.text)
        else:
            if self.file_links is not None and any(r.attachments for r in ctx.out):
                ctx.out = await self.file_links(uow, ctx.user, addr.channel, ctx.out, now, ctx._)
            # ctx.user, not user: linking an account moves this conversation to the linked user.
            await uow.conversations.save(ctx.user.id, ctx.conv, now)
            if ctx.forget_text and inbox_id is not None:
                await uow.inbox.forget_text(inbox_id, event.text)
        if inbox_id is not None and not await uow.inbox.mark_handled(
            inbox_id, [reply_to_dict(r) for r in ctx.out], now
        ):
            if grouped:
                raise _OwnTransaction("already handled")
            await uow.rollback()
            return None
        return ctx.out

    async def handle_safely(self, event: IncomingEvent) -> list[Reply]:
        """Like `handle`, but an unexpected error becomes an apology instead of silence."""
        try:
            return await self.handle(event) or []
        except Exception:
            log.exception("handling failed for a %s event on %s", event.kind.value, event.address.channel)
            return [Reply(text=self.i18n.gettext(None, APOLOGY))]

    async def _route(self, ctx: Context[UnitOfWork, object]) -> None:
        event = ctx.event
        _ = ctx._
        if event.address.chat_type == "group":
            if self.router.groups is not None:
                await self.router.groups(ctx, "")
            return
        if event.kind is EventKind.COMMAND:
            await self._command(ctx, event.command, event.args)
            return
        if event.kind is EventKind.CHOICE:
            action = self._action_for_token(ctx, event.token)
            if action is None:
                ctx.say(_(STALE), toast=_(STALE_SHORT))
                return
            ctx.answering_prompt = True
            await self.router.run_action(ctx, action)
            return
        await self._text(ctx, event.text)

    async def _command(self, ctx: Context[UnitOfWork, object], name: str, args: str) -> None:
        handler = self.router.commands.get(name)
        if handler is None:
            _ = ctx._
            ctx.say(_("Mình chưa biết lệnh /{name}. Gõ /help để xem mình làm được gì nhé.").format(name=name[:32]))
            return
        await handler(ctx, args)

    @staticmethod
    def _action_for_token(ctx: Context[UnitOfWork, object], token: str) -> str | None:
        for t, action, _label in ctx.conv.prompt.get("options", []) + ctx.conv.prompt.get("pinned", []):
            if t == token:
                return str(action)
        return None

    async def _text(self, ctx: Context[UnitOfWork, object], text: str) -> None:
        if not text.strip():
            ctx.say(ctx.by_register(_EMPTY, _EMPTY_STAFF))
            return
        options = ctx.conv.prompt.get("options", [])
        labels = [label for _t, _a, label in options]
        text_step = self.router.text_steps.get(ctx.conv.step) if ctx.conv.step else None
        disclosure = text_step is not None and ctx.conv.step in self.router.disclosure_steps
        if disclosure:  # what a child tells there is kept where the step puts it, never in the stored update
            ctx.forget_text = True
        # A child who says they are hurt or in danger is answered first, whatever was pending (which stays as it
        # was). Staff typing into a step (a class name, a contest title) are writing, not telling.
        understanding = self.understanding
        # The whole label of an offered option is an answer in the content's words, not the child's.
        a_label = any(textmod.fold(label) == textmod.fold(text) for label in labels)
        if (
            understanding is not None
            and not a_label
            and not disclosure
            and self._distress(ctx, understanding, text, text_step is not None)
        ):
            await safety.answer_distress(ctx, understanding, text_step is not None)
            return
        if len(text) > ctx.settings.max_text_length:
            ctx.say(ctx.by_register(_TOO_LONG, _TOO_LONG_STAFF).format(n=ctx.settings.max_text_length))
            return
        word = textmod.command_word(text)
        if options:
            idx = textmod.match_choice(text, labels, bool(ctx.conv.prompt.get("lettered")))
            # A command word ("thi", "trợ giúp") is a command, unless it is an option's whole label.
            if idx is not None and (word is None or textmod.fold(labels[idx]) == textmod.fold(text)):
                ctx.answering_prompt = True
                await self.router.run_action(ctx, options[idx][1])
                return
        if text_step is not None:
            await text_step(ctx, text)
            return
        if word is not None:
            await self._command(ctx, word, "")
            return
        with_args = textmod.command_word_with_args(text)
        if with_args is not None:
            await self._command(ctx, *with_args)
            return
        # Intents ("em muốn học bài") wherever no step waits for an answer: on a menu, not in a quiz question.
        if understanding is not None and not ctx.conv.step and not textmod.looks_like_index(text):
            found = understand.intent(text, understanding.lexicon)
            if found is not None:
                await self._command(ctx, found.command, found.argument)
                return
        # On the menu (no flow, no step), text that is nothing of the above gets the short help with the menu.
        if (
            options
            and not ctx.conv.flow
            and not ctx.conv.step
            and self.router.unexpected_text is not None
            and not textmod.looks_like_index(text)
        ):
            await self.router.unexpected_text(ctx, text)
            return
        if options:
            if textmod.looks_like_index(text):
                hint = (
                    ctx.by_register(_PICK_LETTER, _PICK_LETTER_STAFF).format(last=textmod.LETTERS[len(options) - 1])
                    if ctx.conv.prompt.get("lettered")
                    else ctx.by_register(_PICK_NUMBER, _PICK_NUMBER_STAFF).format(n=len(options))
                )
            elif ctx.conv.step or understanding is None:
                hint = ctx.by_register(_PICK_ONE, _PICK_ONE_STAFF)
            else:  # a menu: say what can be typed too
                hint = ctx.by_register(_PICK_OR_TYPE, _PICK_ONE_STAFF)
            ctx.repeat_prompt(hint)
            return
        if self.router.unexpected_text is not None:
            await self.router.unexpected_text(ctx, text)
        else:
            ctx.say(ctx.by_register(_NOT_UNDERSTOOD, _NOT_UNDERSTOOD_STAFF))

    @staticmethod
    def _distress(
        ctx: Context[UnitOfWork, object], understanding: understand.Understanding, text: str, text_step: bool
    ) -> bool:
        if text_step and ctx.is_staff:
            return False
        return understand.is_distress(text[:_DISTRESS_SCAN], understanding.lexicon)


# How much of a long message is read for distress (a platform message is at most about 4,000 characters).
_DISTRESS_SCAN = 4096
_EMPTY = N_("Em chưa gõ gì cả. Gõ /help nếu em cần giúp nhé.")
_EMPTY_STAFF = N_("Thầy/cô chưa gõ gì cả. Gõ /help nếu thầy/cô cần giúp nhé.")
_TOO_LONG = N_("Tin nhắn dài quá rồi. Em gõ ngắn hơn nhé (dưới {n} ký tự).")
_TOO_LONG_STAFF = N_("Tin nhắn dài quá rồi. Thầy/cô gõ ngắn hơn nhé (dưới {n} ký tự).")
_PICK_LETTER = N_("Em chọn một chữ cái từ A đến {last} nhé.")
_PICK_LETTER_STAFF = N_("Thầy/cô chọn một chữ cái từ A đến {last} nhé.")
_PICK_NUMBER = N_("Em chọn một số từ 1 đến {n} nhé.")
_PICK_NUMBER_STAFF = N_("Thầy/cô chọn một số từ 1 đến {n} nhé.")
_PICK_ONE = N_("Mình chưa hiểu ý em. Em chọn một trong các lựa chọn dưới đây nhé.")
_PICK_ONE_STAFF = N_("Mình chưa hiểu ý thầy/cô. Thầy/cô chọn một trong các lựa chọn dưới đây nhé.")
_PICK_OR_TYPE = N_(
    "Mình chưa hiểu ý em. Em có thể gõ “học bài”, “luyện tập”, “thi”, “tiến độ”, hoặc chọn một lựa chọn dưới đây nhé."
)
_NOT_UNDERSTOOD = N_("Mình chưa hiểu ý em. Gõ /help để xem mình làm được gì nhé.")
_NOT_UNDERSTOOD_STAFF = N_("Mình chưa hiểu ý thầy/cô. Thầy/cô gõ /help để xem mình làm được gì nhé.")
