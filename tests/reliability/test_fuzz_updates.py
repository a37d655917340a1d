"""Fuzzing (Hypothesis) of what the platforms send: arbitrary JSON, mutated real updates, truncated and oversized
bodies. The parsers never raise (they return an event or None); the webhooks answer 200, 400 or 413 — never 5xx
for a malformed body, which Telegram and Zalo would resend forever; what is stored is handled or dropped by
the real inbox worker, which survives all of it."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import App
from bot.channels.telegram import mapping as tg
from bot.channels.telegram.webhook import SECRET_HEADER as TG_HEADER
from bot.channels.telegram.webhook import make_webhook_app
from bot.channels.zalo import mapping as zl
from bot.channels.zalo.webhook import SECRET_HEADER as ZL_HEADER
from bot.channels.zalo.webhook import webhook_app as zalo_webhook_app
from bot.core.events import IncomingEvent
from bot.core.replies import Reply
from db import models as m
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.reliability

SECRET = "fuzz-secret-0123456789-abcdefghijklmnop"
FAST = settings(max_examples=300, deadline=None)
WITH_DB = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

_fake = FakeTelegramServer()
TG_FIXTURES: list[dict[str, Any]] = [
    {"update_id": 10, **_fake.message_update(42, "/start K7M2QX")},
    {"update_id": 11, **_fake.message_update(42, "Đáp án B", chat_id=-100, chat_type="supergroup")},
    {"update_id": 12, **_fake.callback_update(42, "tok_abc", 7)},
]
ZL_FIXTURES: list[dict[str, Any]] = [
    {
        "event_name": "message.text.received",
        "message": {
            "message_id": "m1",
            "date": 1764300000000,
            "text": "/thi",
            "from": {"id": "u42", "display_name": "An", "is_bot": False},
            "chat": {"id": "u42", "chat_type": "PRIVATE"},
        },
    },
    {
        "event_name": "message.image.received",
        "message": {"message_id": "m2", "from": {"id": "u42"}, "chat": {"id": "g1", "chat_type": "GROUP"}},
    },
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
# Keys the parsers look at, so mutations reach the interesting branches.
KEYS = st.sampled_from(
    ["update_id", "message", "callback_query", "from", "chat", "id", "type", "text", "data", "is_bot", "message_id",
     "event_name", "result", "chat_type", "language_code", "caption", "entities", "date"]
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, fixtures: list[dict[str, Any]]) -> dict[str, Any]:
    """A real update with a few random edits: a value replaced, a key removed or added, a string truncated."""
    doc = copy.deepcopy(draw(st.sampled_from(fixtures)))
    for _ in range(draw(st.integers(1, 4))):
        node: Any = doc
        while isinstance(node, dict) and node and draw(st.booleans()):
            child = node[draw(st.sampled_from(sorted(node)))]
            if not isinstance(child, dict) or not child:
                break
            node = child
        if not isinstance(node, dict):
            continue
        action = draw(st.sampled_from(["replace", "delete", "add", "truncate"]))
        key = draw(st.sampled_from(sorted(node))) if node else draw(KEYS)
        if action == "replace" or not node:
            node[key] = draw(json_values)
        elif action == "delete":
            node.pop(key, None)
        elif action == "add":
            node[draw(KEYS)] = draw(json_values)
        elif isinstance(node.get(key), str):
            node[key] = node[key][: draw(st.integers(0, len(node[key])))]
    return doc


updates_tg = st.one_of(mutated(TG_FIXTURES), json_values)
updates_zl = st.one_of(mutated(ZL_FIXTURES), json_values)


@FAST
@given(updates_tg)
def test_telegram_parsing_never_raises(payload: Any) -> None:
    event = tg.parse_update(payload, "antt_test_bot")
    assert event is None or isinstance(event, IncomingEvent)


@FAST
@given(updates_zl)
def test_zalo_parsing_never_raises(body: Any) -> None:
    for update in zl.unwrap(body):
        zl.external_id(update)
        event = zl.parse_update(update, "bot1")
        assert event is None or isinstance(event, IncomingEvent)


# --- the webhooks, with the real inbox and worker --------------------------------------------------------------
def bodies(updates: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON documents, the same cut short, and bytes that are not JSON (or not UTF-8) at all."""
    encoded = updates.map(lambda v: json.dumps(v, ensure_ascii=False, allow_nan=True).encode())
    return st.one_of(
        encoded,
        st.tuples(encoded, st.integers(0, 200)).map(lambda t: t[0][: t[1]]),
        st.binary(max_size=300),
    )


class Harness:
    """An inbox worker of one channel whose replies are only counted (the transport is tested elsewhere)."""

    def __init__(self, app: App, channel: str, parse: Any) -> None:
        self.sent: list[list[Reply]] = []

        async def send(_event: IncomingEvent, replies: list[Reply]) -> None:
            self.sent.append(replies)

        self.worker = app.inbox_worker(channel, "123", parse, send, max_attempts=2, retry_base_seconds=0.01)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Harness:
        self.task = asyncio.create_task(self.worker.run(self.stop, grace_seconds=5))
        await self.worker.started.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task  # the worker returns normally: it survived everything it was given


@pytest.fixture
async def tg_client(app: App) -> AsyncIterator[tuple[TestClient, Harness]]:
    async with Harness(app, "telegram", tg.make_parser("antt_test_bot")) as harness:

        async def store(update_id: int, payload: dict[str, Any]) -> bool:
            return await harness.worker.submit(str(update_id), payload)

        client = TestClient(TestServer(make_webhook_app(SECRET, store, "/tg")))
        await client.start_server()
        try:
            yield client, harness
        finally:
            await client.close()


@pytest.fixture
async def zl_client(app: App) -> AsyncIterator[tuple[TestClient, Harness]]:
    async with Harness(app, "zalo", lambda update: zl.parse_update(update, "bot1")) as harness:
        client = TestClient(TestServer(zalo_webhook_app(SECRET, "bot1", harness.worker.submit, "/zl")))
        await client.start_server()
        try:
            yield client, harness
        finally:
            await client.close()


async def settled(app: App, harness: Harness) -> dict[str, int]:
    await asyncio.wait_for(harness.worker.idle(), 30)
    async with app.sessions() as s:
        rows = (await s.execute(select(m.InboundUpdate.status, func.count()).group_by(m.InboundUpdate.status))).all()
    return dict(rows)  # type: ignore[arg-type]


@WITH_DB
@given(body=bodies(updates_tg))
async def test_telegram_webhook_never_answers_5xx_to_a_malformed_body(
    app: App, tg_client: tuple[TestClient, Harness], body: bytes
) -> None:
    client, harness = tg_client
    resp = await client.post("/tg", data=body, headers={TG_HEADER: SECRET, "Content-Type": "application/json"})
    assert resp.status in (200, 400), (resp.status, body[:200])
    assert set(await settled(app, harness)) <= {"done", "dead"}


@WITH_DB
@given(body=bodies(updates_zl))
async def test_zalo_webhook_never_answers_5xx_to_a_malformed_body(
    app: App, zl_client: tuple[TestClient, Harness], body: bytes
) -> None:
    client, harness = zl_client
    resp = await client.post("/zl", data=body, headers={ZL_HEADER: SECRET, "Content-Type": "application/json"})
    assert resp.status in (200, 400), (resp.status, body[:200])
    assert set(await settled(app, harness)) <= {"done", "dead"}


async def test_oversized_bodies_are_refused_before_reading(
    app: App, tg_client: tuple[TestClient, Harness], zl_client: tuple[TestClient, Harness]
) -> None:
    big = json.dumps({"update_id": 1, "message": {"text": "x" * (2 * 1024 * 1024)}}).encode()
    for client, path, header in ((tg_client[0], "/tg", TG_HEADER), (zl_client[0], "/zl", ZL_HEADER)):
        resp = await client.post(path, data=big, headers={header: SECRET, "Content-Type": "application/json"})
        assert resp.status == 413
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(m.InboundUpdate))).scalar_one() == 0


async def test_nul_characters_and_deep_nesting_are_dropped_not_retried(
    app: App, tg_client: tuple[TestClient, Harness], zl_client: tuple[TestClient, Harness]
) -> None:
    """Bodies PostgreSQL cannot store (a NUL character, a NaN or infinite number, which Python's JSON parser
    accepts) or Python cannot decode (nesting deeper than the recursion limit) would make the store fail on every
    redelivery: they are refused with 400 or dropped."""
    nul_tg = {**TG_FIXTURES[0], "message": {**TG_FIXTURES[0]["message"], "text": "a\x00b"}}
    nul_zl = {**ZL_FIXTURES[0], "event_name": "message.text.received\x00"}
    inf_tg = {**TG_FIXTURES[0], "message": {**TG_FIXTURES[0]["message"], "x": float("-inf")}}
    nan_zl = {**ZL_FIXTURES[0], "x": float("nan")}
    deep = b"[" * 100_000 + b"]" * 100_000
    tg, zl = tg_client[0], zl_client[0]
    bad_tg = (json.dumps(nul_tg).encode(), json.dumps(inf_tg).encode(), deep, json.dumps({"update_id": 1e400}).encode())
    for body in bad_tg:
        resp = await tg.post("/tg", data=body, headers={TG_HEADER: SECRET, "Content-Type": "application/json"})
        assert resp.status == 400
    for body, status in ((json.dumps(nul_zl).encode(), 200), (json.dumps(nan_zl).encode(), 200), (deep, 400)):
        resp = await zl.post("/zl", data=body, headers={ZL_HEADER: SECRET, "Content-Type": "application/json"})
        assert resp.status == status
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(m.InboundUpdate))).scalar_one() == 0
