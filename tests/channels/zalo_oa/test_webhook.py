"""The OA webhook: only events signed with the OA's key and fresh get in; each is stored before the 200 and
answered once however often Zalo delivers it; the OA's own echoes are dropped."""

from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import select

from bot.app import App
from bot.channels.zalo_oa.mapping import event_key
from db import models_oa
from tests.channels.zalo_oa.conftest import OABot
from tests.fakes.zalo_oa import sign


async def test_a_forged_stale_or_wrongly_signed_event_gets_401_and_nothing_is_stored(app: App, oa_bot: OABot) -> None:
    fake = oa_bot.fake
    event = fake.text_event("ou9", "/start")
    body = json.dumps(event, ensure_ascii=False).encode()
    wrong_key = await oa_bot.post(event, secret="not-the-oa-secret")
    no_header = await oa_bot.post(event, signature="")
    # Signed over other bytes (a forged body with a valid-looking mac).
    forged = await oa_bot.post(
        {**event, "message": {**event["message"], "text": "/help"}},
        signature=sign(fake.app_id, body, str(event["timestamp"]), fake.secret),
    )
    # Correctly signed, but six minutes old: a replay.
    stale = fake.text_event("ou9", "/start", timestamp=str(int(app.clock().timestamp() * 1000) - 6 * 60 * 1000))
    replay = await oa_bot.post(stale)
    assert [wrong_key, no_header, forged, replay] == [401, 401, 401, 401]
    assert await oa_bot.stored() == 0 and fake.sent == []
    async with app.sessions() as s:
        assert (await s.execute(select(models_oa.OAFollower))).first() is None  # no interaction recorded either

    assert await oa_bot.post(event) == 200  # the same event, rightly signed, gets in
    assert await oa_bot.stored() == 1 and "Tiếng Việt" in [b["title"] for b in oa_bot.last_buttons("ou9")]


async def test_the_same_event_twice_gets_one_reply_and_echoes_are_dropped(app: App, oa_bot: OABot) -> None:
    fake = oa_bot.fake
    event = fake.text_event("ou8", "/help", msg_id="msg-dup-1")
    statuses = await asyncio.gather(oa_bot.post(event), oa_bot.post(event))
    assert statuses == [200, 200]
    await oa_bot.post(event)  # and once more, later (Zalo's retry after 30 s)
    assert len(fake.messages("ou8")) == 1 and "111" in fake.texts("ou8")[0]
    assert await oa_bot.post(fake.echo_event("ou8", "an OA message")) == 200
    assert await oa_bot.stored() == 1 and len(fake.messages("ou8")) == 1


async def test_the_webhook_answers_well_within_two_seconds(app: App, oa_bot: OABot) -> None:
    events = [oa_bot.fake.text_event(f"ou{i}", "/help") for i in range(10)]
    start = time.monotonic()
    for event in events:
        assert await oa_bot.fake.post_event(event) == 200
    assert (time.monotonic() - start) / 10 < 0.5
    oa_bot.keys.update(str(event_key(e)) for e in events)
    await oa_bot.settle()
    assert len(oa_bot.fake.messages()) == 10
