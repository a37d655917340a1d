"""The Zalo OA's OAuth tokens, kept encrypted in the database: a valid access token for the channel, refreshed
a margin before it expires or when the OA refused it, by one process at a time, each refresh token used once.

A refresh holds the cross-process refresh lock (`OATokenRows.refreshing`) from the re-read to the commit:
1. under the lock, re-read the row: another process may have refreshed already; then its token is used;
2. commit a write-ahead record (generation N is being refreshed), so a restart knows a refresh was cut short;
3. send refresh token N to the OAuth server (the lock is still held: no other process can send it too);
4. write pair N+1 and delete the record in one transaction, committed before anything else happens.
A process killed between the server's answer and that commit loses the answer (the refresh token it sent is
spent at the server); the next refresher finds the record, tries refresh token N once more (it still works
when the request never reached the server) and otherwise marks the pair refused with the reason, keeps
handing out the old access token while it lasts, and the operator authorizes again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.core.clock import Clock
from bot.runtime.oa_grants import GrantRefused, Refresh, TokenPair
from bot.runtime.oa_tokens import OAAuthorizationNeeded, OATokenUnavailable

log = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)  # refresh this long before the access token expires
REFRESH_LIFETIME = dt.timedelta(days=90)  # Zalo's refresh tokens, when the answer does not say
RETRY_AFTER = dt.timedelta(seconds=30)  # after a refresh failed without a verdict, while the old token lasts
MIN_REFRESH_INTERVAL = dt.timedelta(seconds=60)  # a token the OA refuses younger than this is not refreshed
AUTHORIZE = "python -m bot zalo-oa authorize"


class OATokenKeyError(RuntimeError):
    """ZALO_OA_TOKEN_KEY is missing, malformed or not the key the stored tokens were sealed with."""


KEY_MISSING = (
    "Thiếu ZALO_OA_TOKEN_KEY: token Zalo OA phải được mã hóa. Tạo khóa bằng lệnh "
    '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"` '
    "và giữ khóa ở nơi an toàn. / ZALO_OA_TOKEN_KEY is missing: the Zalo OA tokens are stored encrypted."
)
KEY_MALFORMED = (
    "ZALO_OA_TOKEN_KEY không hợp lệ (cần khóa Fernet: 44 ký tự base64 url-safe, nhiều khóa cách nhau bằng dấu "
    "phẩy). / ZALO_OA_TOKEN_KEY is not a Fernet key (44 url-safe base64 characters; several: comma-separated)."
)
KEY_WRONG = (
    "ZALO_OA_TOKEN_KEY không mở được token Zalo OA đã lưu (sai khóa?). Bot không chạy và không ghi đè token: "
    "đặt lại đúng khóa cũ (hoặc 'khóa_mới,khóa_cũ' khi đổi khóa). / ZALO_OA_TOKEN_KEY cannot decrypt the stored "
    "Zalo OA tokens (wrong key?). Nothing was overwritten: set the old key back (or 'new_key,old_key')."
)


class TokenCipher:
    """Fernet with one key or several ("new,old": encrypts with the first, decrypts with any)."""

    def __init__(self, setting: str | None) -> None:
        keys = [k.strip() for k in (setting or "").split(",") if k.strip()]
        if not keys:
            raise OATokenKeyError(KEY_MISSING)
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError:
            raise OATokenKeyError(KEY_MALFORMED) from None

    def seal(self, app_id: str, access_token: str, refresh_token: str) -> str:
        blob = json.dumps({"app_id": app_id, "access_token": access_token, "refresh_token": refresh_token})
        return self._fernet.encrypt(blob.encode()).decode()

    def open(self, app_id: str, sealed: str) -> tuple[str, str]:
        """(access token, refresh token); OATokenKeyError with a wrong key or a row sealed for another app."""
        try:
            blob = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            raise OATokenKeyError(KEY_WRONG) from None
        if blob.get("app_id") != app_id:
            raise OATokenKeyError(KEY_WRONG)
        return str(blob["access_token"]), str(blob["refresh_token"])


@dataclass(frozen=True)
class OATokenRow:
    app_id: str
    sealed: str
    generation: int
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime
    authorized_at: dt.datetime
    refreshed_at: dt.datetime | None = None
    refused_at: dt.datetime | None = None
    refused_reason: str | None = None


@dataclass(frozen=True)
class InFlight:
    """The write-ahead record: refresh token of `generation` was being sent at `started_at`."""

    generation: int
    started_at: dt.datetime


class RefreshLock(Protocol):
    """Held by one process at a time for an app id; `row` and `in_flight` are read after taking it."""

    row: OATokenRow | None
    in_flight: InFlight | None

    async def begin_refresh(self, generation: int, now: dt.datetime) -> None:
        """Commit the write-ahead record (durable before the refresh token is sent)."""
        ...

    async def store(self, row: OATokenRow) -> None:
        """Write the row (insert or update) and delete the write-ahead record; committed on return."""
        ...


class OATokenRows(Protocol):
    """The table of sealed pairs (bot/runtime/sql.py); the store never sees SQL."""

    async def read(self, app_id: str) -> OATokenRow | None: ...
    async def in_flight(self, app_id: str) -> InFlight | None: ...
    def refreshing(self, app_id: str) -> contextlib.AbstractAsyncContextManager[RefreshLock]: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class OAStatus:
    """What `zalo-oa status` shows: no secret."""

    stored: bool
    key_ok: bool | None = None  # None: no row to try the key on
    generation: int = 0
    access_expires_at: dt.datetime | None = None
    refresh_expires_at: dt.datetime | None = None
    authorized_at: dt.datetime | None = None
    refreshed_at: dt.datetime | None = None
    refused_at: dt.datetime | None = None
    refused_reason: str | None = None
    in_flight: InFlight | None = None


@dataclass(frozen=True)
class _Current:
    access_token: str
    expires_at: dt.datetime


# A test stops the process at these points (the kill -9 tests); production passes no hook.
Hook = Callable[[str], None]


class OATokenStore:
    """`OATokenSource` for the zalo_oa channel, over `OATokenRows`; `refresh` is the OAuth call."""

    def __init__(
        self,
        rows: OATokenRows,
        app_id: str,
        cipher: TokenCipher,
        refresh: Refresh,
        clock: Clock,
        *,
        margin: dt.timedelta = REFRESH_MARGIN,
        hook: Hook | None = None,
    ) -> None:
        self.rows, self.app_id, self.cipher, self._refresh, self.clock = rows, app_id, cipher, refresh, clock
        self.margin, self._hook = margin, hook or (lambda _point: None)
        self._lock = asyncio.Lock()  # one refresher per process; the rows' lock is for the other processes
        self._current: _Current | None = None
        self._refused: set[str] = set()  # access tokens the OA refused (reported through `expired`)
        self._retry_at: dt.datetime | None = None

    # --- OATokenSource ----------------------------------------------------------------------------------

    async def access_token(self) -> str:
        if (token := self._cached()) is not None:
            return token
        async with self._lock:
            if (token := self._cached()) is not None:
                return token
            return await self._renew()

    async def expired(self, token: str) -> None:
        self._refused.add(token)
        if self._current is not None and self._current.access_token == token:
            self._current = None

    # --- set-up and the commands ------------------------------------------------------------------------

    async def check(self) -> None:
        """At start: OATokenKeyError when the stored pair does not open with the key (nothing is written)."""
        row = await self.rows.read(self.app_id)
        if row is not None:
            self.cipher.open(self.app_id, row.sealed)

    async def status(self) -> OAStatus:
        row = await self.rows.read(self.app_id)
        if row is None:
            return OAStatus(stored=False)
        try:
            self.cipher.open(self.app_id, row.sealed)
            key_ok = True
        except OATokenKeyError:
            key_ok = False
        return OAStatus(
            True,
            key_ok,
            row.generation,
            row.access_expires_at,
            row.refresh_expires_at,
            row.authorized_at,
            row.refreshed_at,
            row.refused_at,
            row.refused_reason,
            await self.rows.in_flight(self.app_id),
        )

    async def save_authorized(self, pair: TokenPair, *, replace_unreadable: bool = False) -> OATokenRow:
        """Store the pair an OA admin's consent gave (`zalo-oa authorize`), under the refresh lock. A stored pair
        that the key cannot open is replaced only with `replace_unreadable` (else OATokenKeyError)."""
        now = self.clock()
        async with self.rows.refreshing(self.app_id) as lock:
            if lock.row is not None and not replace_unreadable:
                self.cipher.open(self.app_id, lock.row.sealed)
            generation = lock.row.generation + 1 if lock.row is not None else 1
            row = self._row(pair, generation, now, authorized_at=now, refreshed_at=None)
            await lock.store(row)
        self._current, self._retry_at = _Current(pair.access_token, row.access_expires_at), None
        return row

    # --- the refresh --------------------------------------------------------------------------------------

    def _cached(self) -> str | None:
        c = self._current
        if c is not None and c.access_token not in self._refused and c.expires_at - self.clock() > self.margin:
            return c.access_token
        return None

    def _fresh(self, row: OATokenRow, access_token: str) -> bool:
        return access_token not in self._refused and row.access_expires_at - self.clock() > self.margin

    def _still_valid(self, row: OATokenRow, access_token: str) -> bool:
        """Usable while no refresh is possible: not refused by the OA and not past its expiry."""
        return access_token not in self._refused and row.access_expires_at > self.clock()

    def _use(self, row: OATokenRow, access_token: str) -> str:
        self._current = _Current(access_token, row.access_expires_at)
        return access_token

    async def _renew(self) -> str:
        row = await self.rows.read(self.app_id)  # without the lock first: another process may have refreshed
        if row is None:
            raise OAAuthorizationNeeded(f"Chưa có token Zalo OA: chạy `{AUTHORIZE}`.")
        access, _ = self.cipher.open(self.app_id, row.sealed)
        if self._fresh(row, access):
            return self._use(row, access)
        if row.refused_at is not None or (self._retry_at is not None and self.clock() < self._retry_at):
            return self._without_refresh(row, access)
        async with self.rows.refreshing(self.app_id) as lock:
            row = lock.row
            if row is None:
                raise OAAuthorizationNeeded(f"Chưa có token Zalo OA: chạy `{AUTHORIZE}`.")
            access, refresh_token = self.cipher.open(self.app_id, row.sealed)
            if self._fresh(row, access):  # refreshed by another process while we waited for the lock
                return self._use(row, access)
            if row.refused_at is not None:
                return self._without_refresh(row, access)
            issued = row.refreshed_at or row.authorized_at
            if access in self._refused and self.clock() - issued < MIN_REFRESH_INTERVAL:
                # Refused right after Zalo issued it: a missing permission (-216 too), not an old token.
                # Refreshing again would not help and would spend a refresh token on every send.
                raise OATokenUnavailable(
                    "Zalo OA: the OA refused an access token issued moments ago; check the app's permissions"
                )
            cut_short = lock.in_flight is not None and lock.in_flight.generation == row.generation
            if cut_short:
                assert lock.in_flight is not None
                log.warning(
                    "Zalo OA: a refresh of token generation %s started at %s stored no answer (the process stopped"
                    " or the call failed); trying that refresh token once more",
                    row.generation,
                    lock.in_flight.started_at.isoformat(timespec="seconds"),
                )
            started = self.clock()
            await lock.begin_refresh(row.generation, started)
            self._hook("before_request")
            try:
                pair = await self._refresh(refresh_token)
            except GrantRefused as exc:
                reason = "Zalo từ chối token làm mới" + (
                    f" (một lần làm mới lúc {started.isoformat(timespec='seconds')} bị ngắt trước khi lưu)"
                    if cut_short
                    else ""
                )
                log.error("Zalo OA: the refresh token was refused (%s); run `%s`", exc, AUTHORIZE)
                await lock.store(replace(row, refused_at=started, refused_reason=reason[:300]))
                return self._without_refresh(replace(row, refused_at=started, refused_reason=reason), access)
            except Exception as exc:
                # No verdict (network, timeout, 5xx): the record stays, so the next refresher knows.
                log.warning("Zalo OA: the token refresh failed, retrying in %ss: %s", RETRY_AFTER.seconds, exc)
                self._retry_at = self.clock() + RETRY_AFTER
                return self._without_refresh(row, access)
            self._hook("after_response")
            new = self._row(pair, row.generation + 1, started, authorized_at=row.authorized_at, refreshed_at=started)
            await lock.store(new)
            self._hook("after_commit")
        self._retry_at = None
        log.info("Zalo OA: access token refreshed (generation %s)", new.generation)
        return self._use(new, pair.access_token)

    def _without_refresh(self, row: OATokenRow, access: str) -> str:
        """The stored access token while it lasts (refresh refused or failing), else why there is none."""
        if self._still_valid(row, access):
            return self._use(row, access)
        if row.refused_at is not None:
            raise OAAuthorizationNeeded(f"{row.refused_reason or 'Zalo từ chối token làm mới'}: chạy `{AUTHORIZE}`.")
        raise OATokenUnavailable("Zalo OA: no valid access token now; the OAuth server did not answer the refresh")

    def _row(
        self,
        pair: TokenPair,
        generation: int,
        issued: dt.datetime,
        *,
        authorized_at: dt.datetime,
        refreshed_at: dt.datetime | None,
    ) -> OATokenRow:
        # Lifetimes count from when the request left: never later than the server's own clock started them.
        refresh_life = dt.timedelta(seconds=pair.refresh_expires_in) if pair.refresh_expires_in else REFRESH_LIFETIME
        return OATokenRow(
            app_id=self.app_id,
            sealed=self.cipher.seal(self.app_id, pair.access_token, pair.refresh_token),
            generation=generation,
            access_expires_at=issued + dt.timedelta(seconds=pair.expires_in),
            refresh_expires_at=issued + refresh_life,
            authorized_at=authorized_at,
            refreshed_at=refreshed_at,
        )
