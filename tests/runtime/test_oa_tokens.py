"""The Zalo OA token store through the real composition (`bot.app.oa_token_source`) against the fake OAuth
server: encrypted at rest, refreshed before expiry and on the OA's refusal, once across two stores on two
engines, and never losing or reusing a refresh token, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.app import oa_token_source
from bot.runtime.oa_token_store import OATokenKeyError, OATokenStore
from bot.runtime.oa_tokens import OAAuthorizationNeeded, OATokenUnavailable
from db.migrate import upgrade_async
from db.session import create_engine
from tests.conftest import FakeClock
from tests.fakes.zalo_oauth import FakeZaloOAuth
from tests.runtime.oa_kit import KEY, oa_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOAuth]:
    server = await FakeZaloOAuth().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def db(database_url: str) -> str:
    await upgrade_async(database_url)
    return database_url


@pytest.fixture
def now_clock() -> FakeClock:
    return FakeClock(dt.datetime.now(dt.UTC))


async def _raw_rows(url: str) -> list[dict[str, object]]:
    engine = create_engine(url, fast_path=False)
    try:
        async with engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(text("SELECT * FROM oa_tokens"))]
    finally:
        await engine.dispose()


async def _authorized(store: OATokenStore, fake: FakeZaloOAuth) -> str:
    pair = fake.issue()
    await store.save_authorized(pair)
    return pair.access_token


async def test_the_pair_is_stored_encrypted_and_served_without_a_refresh(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        pair = fake.issue()
        await store.save_authorized(pair)
        assert await store.access_token() == pair.access_token
    [row] = await _raw_rows(db)
    stored = " ".join(str(v) for v in row.values())
    assert pair.access_token not in stored and pair.refresh_token not in stored
    assert pair.access_token.encode() in Fernet(KEY.encode()).decrypt(str(row["sealed"]).encode())
    # A new process (another store) serves the same token from the database, still without a refresh.
    async with oa_token_source(oa_settings(db, fake), now_clock) as (again, _):
        assert await again.access_token() == pair.access_token
    assert fake.refreshes == 0 and fake.forms == []


async def test_refreshed_a_margin_before_expiry_with_the_form_zalo_expects(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        first = await _authorized(store, fake)
        now_clock.advance(minutes=54)  # 6 minutes left: still used
        assert await store.access_token() == first and fake.refreshes == 0
        now_clock.advance(minutes=2)  # 4 minutes left: refreshed before it expires
        second = await store.access_token()
        assert second != first and fake.access_valid(second) and fake.refreshes == 1
        assert fake.forms == [{"app_id": fake.app_id, "grant_type": "refresh_token"}]  # + the token, kept out
        assert await store.access_token() == second and fake.refreshes == 1
        status = await store.status()
        assert status.generation == 2 and status.refreshed_at == now_clock.now and status.in_flight is None
        assert status.access_expires_at == now_clock.now + dt.timedelta(seconds=3600)  # "3600", a quoted string
        assert status.refresh_expires_at == now_clock.now + dt.timedelta(days=90)


async def test_a_refusal_by_the_oa_refreshes_once_and_a_late_report_changes_nothing(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        first = await _authorized(store, fake)
        now_clock.advance(minutes=10)
        await store.expired(first)
        second = await store.access_token()
        assert second != first and fake.refreshes == 1
        await store.expired(first)  # another send that had the old token reports it late
        assert await store.access_token() == second and fake.refreshes == 1
        # Refused moments after it was issued (a missing permission gives -216 too): no refresh on every send.
        await store.expired(second)
        with pytest.raises(OATokenUnavailable, match="permissions"):
            await store.access_token()
        assert fake.refreshes == 1
        now_clock.advance(minutes=2)
        assert await store.access_token() not in (first, second) and fake.refreshes == 2
    assert fake.reused == 0


@pytest.mark.parametrize("trigger", ["expired", "near_expiry"])
async def test_two_stores_on_two_engines_refresh_once(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock, trigger: str
) -> None:
    """Two processes' stores (two engines, two OAuth clients) ask together: one refresh at the server, the
    other store waits on the lock, re-reads and uses the new pair; the spent refresh token is never sent again."""
    fake.delay = 0.3  # the first refresher is still waiting for Zalo when the second asks
    async with (
        oa_token_source(oa_settings(db, fake), now_clock) as (one, _),
        oa_token_source(oa_settings(db, fake), now_clock) as (two, _),
    ):
        first = await _authorized(one, fake)
        assert await two.access_token() == first
        if trigger == "expired":
            now_clock.advance(minutes=10)
            await one.expired(first)
            await two.expired(first)
        else:
            now_clock.advance(minutes=56)
        got = await asyncio.gather(one.access_token(), two.access_token(), one.access_token(), two.access_token())
    assert len(set(got)) == 1 and got[0] != first and fake.access_valid(got[0])
    assert fake.refreshes == 1 and fake.reused == 0


async def test_a_wrong_key_refuses_to_start_and_overwrites_nothing(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        first = await _authorized(store, fake)
    now_clock.advance(minutes=10)
    [before] = await _raw_rows(db)
    other = Fernet.generate_key().decode()
    with pytest.raises(OATokenKeyError, match="ZALO_OA_TOKEN_KEY không mở được"):
        async with oa_token_source(oa_settings(db, fake, key=other), now_clock):
            pass
    # Unchecked (as the commands open it): a refresh and a new authorization refuse too, and write nothing.
    async with oa_token_source(oa_settings(db, fake, key=other), now_clock, check=False) as (wrong, _):
        await wrong.expired(first)
        with pytest.raises(OATokenKeyError):
            await wrong.access_token()
        with pytest.raises(OATokenKeyError):
            await wrong.save_authorized(fake.issue())
    assert await _raw_rows(db) == [before] and fake.refreshes == 0
    for missing in (None, ""):
        with pytest.raises(OATokenKeyError, match="Thiếu ZALO_OA_TOKEN_KEY"):
            async with oa_token_source(oa_settings(db, fake, key=missing), now_clock):
                pass
    with pytest.raises(OATokenKeyError, match="không hợp lệ"):
        async with oa_token_source(oa_settings(db, fake, key="not-a-fernet-key"), now_clock):
            pass
    # The right key still opens it; an explicit replacement (the old key lost) is the only overwrite.
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        assert await store.access_token() == first
    async with oa_token_source(oa_settings(db, fake, key=other), now_clock, check=False) as (wrong, _):
        pair = fake.issue()
        await wrong.save_authorized(pair, replace_unreadable=True)
        assert await wrong.access_token() == pair.access_token


async def test_a_new_key_beside_the_old_one_opens_old_rows_and_seals_new_ones(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    new = Fernet.generate_key().decode()
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        first = await _authorized(store, fake)
    async with oa_token_source(oa_settings(db, fake, key=f"{new},{KEY}"), now_clock) as (both, _):
        assert await both.access_token() == first
        now_clock.advance(minutes=56)
        second = await both.access_token()
    async with oa_token_source(oa_settings(db, fake, key=new), now_clock) as (only_new, _):
        assert await only_new.access_token() == second


async def test_a_refused_refresh_token_keeps_the_old_access_token_while_it_lasts_then_asks_for_consent(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        first = await _authorized(store, fake)
        fake.revoke_refresh_tokens()
        now_clock.advance(minutes=56)
        assert await store.access_token() == first  # 4 minutes left: still served
        assert fake.reused == 1
        status = await store.status()
        assert status.refused_at is not None and "từ chối" in (status.refused_reason or "")
        assert await store.access_token() == first and fake.reused == 1  # not tried again
    async with oa_token_source(oa_settings(db, fake), now_clock) as (restarted, _):
        assert await restarted.access_token() == first and fake.reused == 1
        now_clock.advance(minutes=5)
        with pytest.raises(OAAuthorizationNeeded, match="zalo-oa authorize"):
            await restarted.access_token()
        # A new consent brings it back.
        pair = fake.issue()
        await restarted.save_authorized(pair)
        assert await restarted.access_token() == pair.access_token
        assert (await restarted.status()).refused_at is None
    assert fake.refreshes == 0 and fake.reused == 1


async def test_no_answer_keeps_the_old_token_and_the_refresh_is_tried_again_later(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        first = await _authorized(store, fake)
        fake.fail_next = [(500, {"error": -1, "message": "Internal error"}), (200, {"error": -32, "message": "limit"})]
        now_clock.advance(minutes=56)
        assert await store.access_token() == first
        assert (await store.status()).in_flight is not None  # the record says a refresh was tried
        now_clock.advance(seconds=10)
        assert await store.access_token() == first and len(fake.forms) == 1  # waits before trying again
        now_clock.advance(seconds=25)
        assert await store.access_token() == first and len(fake.forms) == 2  # rate limited: still no verdict
        now_clock.advance(seconds=31)
        second = await store.access_token()
        assert second != first and fake.refreshes == 1 and (await store.status()).in_flight is None
        # With no valid token left and no answer, the caller learns it is temporary, not a lost authorization.
        fake.fail_next = [(502, {})]
        now_clock.advance(minutes=2)
        await store.expired(second)
        with pytest.raises(OATokenUnavailable, match="did not answer"):
            await store.access_token()
        assert fake.fail_next == [] and len(fake.forms) == 4
    assert fake.reused == 0


async def test_without_a_stored_pair_the_channel_is_told_to_authorize(
    db: str, fake: FakeZaloOAuth, now_clock: FakeClock
) -> None:
    async with oa_token_source(oa_settings(db, fake), now_clock) as (store, _):
        with pytest.raises(OAAuthorizationNeeded, match="zalo-oa authorize"):
            await store.access_token()
        assert (await store.status()).stored is False
