"""Messages the bot cannot read (photos, stickers, voice): a kind note that only text is read, nothing else."""

from __future__ import annotations

from bot.accounts.ports import Ctx
from bot.core.router import Router

router = Router()


@router.command("media.unsupported")
async def on_unsupported(ctx: Ctx, _args: str) -> None:
    _ = ctx._
    text = _("Mình chỉ đọc được tin nhắn chữ thôi. Em gõ chữ giúp mình nhé, hoặc gõ /help để xem mình làm được gì.")
    if ctx.conv.prompt.get("options"):
        ctx.repeat_prompt(text)  # the pending question stays pending, unchanged
    else:
        ctx.say(text)
