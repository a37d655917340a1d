"""The Zalo client against the fake Zalo server: envelope, polling, webhook calls, retries, no token leaks."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import AsyncIterator

import pytest

from bot.channels.zalo.client import ZaloApiError, ZaloClient, ZaloNetworkError, ZaloUnauthorized
from tests.fakes.zalo_server import FakeZaloServer, text_update

TOKEN = "123:SECRETtokenVALUE"


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer(token=TOKEN, idle_timeout=0.05) as server:
        yield server


@pytest.fixture
async def client(zalo: FakeZaloServer) -> AsyncIterator[tuple[ZaloClient, RecordingSleep]]:
    sleep = RecordingSleep()
    async with ZaloClient(TOKEN, zalo.url, sleep=sleep, retries=3, backoff_base=1.0) as c:
        yield c, sleep


async def test_get_me_and_one_update_per_poll(zalo: FakeZaloServer, client: tuple[ZaloClient, RecordingSleep]) -> None:
    c, _ = client
    me = await c.get_me()
    assert me.id == "123" and me.account_type == "BASIC"
    assert await c.get_updates(poll_seconds=30) == []  # 408: nothing arrived, not an error
    zalo.enqueue(text_update("u1", "xin chào"))
    zalo.enqueue(text_update("u2", "hi"))
    first = await c.get_updates(poll_seconds=30)
    second = await c.get_updates(poll_seconds=30)
    assert [u["message"]["text"] for u in first + second] == ["xin chào", "hi"]
    assert zalo.calls[1] == ("getUpdates", {"timeout": "30"})  # a string, as the docs show


async def test_send_message_and_the_2000_character_limit(
    zalo: FakeZaloServer, client: tuple[ZaloClient, RecordingSleep]
) -> None:
    c, sleep = client
    sent = await c.send_message("u1", "Chào em")
    assert sent.message_id and zalo.texts("u1") == ["Chào em"]
    with pytest.raises(ValueError):
        await c.send_message("u1", "x" * 2001)
    with pytest.raises(ZaloApiError) as err:  # the server enforces it too
        await c.call("sendMessage", {"chat_id": "u1", "text": "x" * 2001})
    assert err.value.code == 400 and sleep.delays == []  # a bad request is not retried
    photo = await c.send_photo("u1", "https://example.org/a.png", caption="Ảnh")
    assert photo.message_id and zalo.sent("u1")[-1]["photo"] == "https://example.org/a.png"
    with pytest.raises(ValueError):
        await c.send_photo("u1", "file:///etc/passwd")
    await c.send_chat_action("u1")


async def test_webhook_calls_and_polling_refused_while_a_webhook_is_set(
    zalo: FakeZaloServer, client: tuple[ZaloClient, RecordingSleep]
) -> None:
    c, _ = client
    with pytest.raises(ValueError):
        await c.set_webhook("https://bot.example.org/zalo/webhook", "short")
    info = await c.set_webhook("https://bot.example.org/zalo/webhook", "s" * 16)
    assert info.url == "https://bot.example.org/zalo/webhook"
    assert (await c.get_webhook_info()).url == info.url
    with pytest.raises(ZaloApiError) as err:
        await c.get_updates()
    assert err.value.code == 400
    assert (await c.delete_webhook()).url == ""
    assert await c.get_updates() == []


async def test_429_backs_off_exponentially_or_as_told_then_succeeds(
    zalo: FakeZaloServer, client: tuple[ZaloClient, RecordingSleep]
) -> None:
    c, sleep = client
    zalo.fail_next("sendMessage", 429, times=2)
    await c.send_message("u1", "một")
    assert zalo.method_calls("sendMessage") == 3 and sleep.delays == [1.0, 2.0]
    zalo.fail_next("sendMessage", 429, retry_after=7)
    await c.send_message("u1", "hai")
    assert sleep.delays[-1] == 7.0 and zalo.texts("u1") == ["một", "hai"]


async def test_403_is_transient_on_zalo_and_retries_are_bounded(
    zalo: FakeZaloServer, client: tuple[ZaloClient, RecordingSleep]
) -> None:
    c, sleep = client
    zalo.fail_next("sendMessage", 403)
    await c.send_message("u1", "ba")
    assert zalo.method_calls("sendMessage") == 2 and zalo.texts("u1") == ["ba"]
    zalo.fail_next("sendMessage", 403, times=10)
    with pytest.raises(ZaloApiError) as err:
        await c.send_message("u1", "bốn")
    assert err.value.code == 403 and err.value.transient
    assert zalo.method_calls("sendMessage") == 2 + 4  # one try and three retries
    assert len(sleep.delays) == 1 + 3


async def test_a_bad_token_stops_loudly_and_never_shows_the_token(
    zalo: FakeZaloServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sleep = RecordingSleep()
    async with ZaloClient("123:WRONGsecretXYZ", zalo.url, sleep=sleep) as bad:
        caplog.set_level(logging.INFO, logger="httpx")  # even if someone turns request logging on
        with pytest.raises(ZaloUnauthorized) as err:
            await bad.get_me()
    assert sleep.delays == [] and any(r.levelno == logging.CRITICAL for r in caplog.records)
    assert "WRONGsecretXYZ" not in str(err.value) + caplog.text
    assert "/bot<token>/getMe" in caplog.text  # httpx's request line, redacted


async def test_network_errors_are_retried_and_leak_no_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleep = RecordingSleep()
    async with ZaloClient(TOKEN, f"http://127.0.0.1:{port}", sleep=sleep, retries=2) as c:
        with pytest.raises(ZaloNetworkError) as err:
            await c.send_message("u1", "xin chào")
        text = "".join(traceback.format_exception(err.value)) + caplog.text + repr(c)
    assert len(sleep.delays) == 2
    assert "SECRETtokenVALUE" not in text and "ConnectError" in text
