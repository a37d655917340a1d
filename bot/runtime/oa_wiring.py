"""The Zalo OA's token source until the OAuth token store is configured: every send asks for authorization."""

from __future__ import annotations

from bot.runtime.oa_tokens import OAAuthorizationNeeded


class UnwiredTokenSource:
    """No token yet: the channel still takes events (they wait in the inbox), and its sends are retried later."""

    async def access_token(self) -> str:
        raise OAAuthorizationNeeded("the Zalo OA has no access token yet: run `python -m bot zalo-oa authorize`")

    async def expired(self, token: str) -> None:
        return None
