"""The Bot API calls made for every reply, posted as JSON through aiogram's own HTTP session.

Through `Bot.edit_message_text(...)` and the like, aiogram builds a pydantic model of the call, sends it as form
data, and validates Telegram's answer into a `Message` model that the transport never reads. Against the fake Bot
API that costs about 2.5 times the CPU of posting the same JSON and reading `ok` (`bench/README.md`). Here the
call goes out as JSON on the same connection pool, the same URL and the same timeout as aiogram's, and a refusal is
still raised as aiogram's own exception (the session's `check_response` classifies it), so the rate limiter treats
429, 403, 400, 5xx and network errors exactly as before.
"""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiohttp import ClientError, ClientTimeout

_JSON = {"Content-Type": "application/json"}


class BotApiCalls:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._timeout = ClientTimeout(total=float(bot.session.timeout))

    async def __call__(self, method: type[TelegramMethod[Any]], params: dict[str, Any]) -> Any:
        """Posts `params` (the Bot API's own JSON field names, no None values) to `method`; returns the raw
        `result` of a successful call, raises as aiogram would otherwise."""
        session = self.bot.session
        http = await session.create_session()  # type: ignore[attr-defined]  # aiogram's AiohttpSession
        url = session.api.api_url(token=self.bot.token, method=method.__api_method__)
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with http.post(url, data=body, headers=_JSON, timeout=self._timeout) as resp:
                status, raw = resp.status, await resp.read()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method(**params), message="Request timeout error") from exc
        except ClientError as exc:
            raise TelegramNetworkError(method=method(**params), message=f"{type(exc).__name__}: {exc}") from exc
        if status == 200:
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is True:
                return answer.get("result")
        # Not a success: let aiogram classify it (retry_after, 403, 400, 5xx ...) and raise its exception.
        session.check_response(bot=self.bot, method=method(**params), status_code=status, content=raw.decode())
        raise TelegramAPIError(method=method(**params), message=f"unexpected answer (HTTP {status})")
