"""`python -m bot zalo-oa authorize | status`: an OA admin's consent turned into stored (encrypted) tokens, and
what is stored, without a secret."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import secrets
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.core.clock import Clock, vn_time
from bot.runtime.oa_grants import GrantRefused, GrantUnavailable, TokenPair
from bot.runtime.oa_token_store import OATokenKeyError, OATokenStore


@dataclass(frozen=True)
class Deps:
    """What the commands use; the composition root builds it from the ZALO_OA_* settings."""

    store: OATokenStore
    exchange: Callable[[str, str | None], Awaitable[TokenPair]]  # (code, code_verifier) -> the first pair
    permission_url: Callable[[str, str], str]  # (code_challenge, state) -> the consent page
    clock: Clock
    app_id: str


Opener = Callable[[argparse.Namespace], AbstractAsyncContextManager[Deps]]


class SetupError(RuntimeError):
    """A setting the command needs is missing: the message says which."""


def require(settings: dict[str, object]) -> None:
    """SetupError naming the ZALO_OA_* settings that are empty."""
    missing = [name for name, value in settings.items() if not value]
    if missing:
        raise SetupError(
            "Chưa đặt " + ", ".join(missing) + " (trong .env hoặc biến môi trường); xem README, mục Zalo Official "
            "Account. / Missing setting(s): " + ", ".join(missing) + "."
        )


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge): 43 characters of base64url(32 random bytes), then base64url(SHA-256)
    without padding, as Zalo's own SDK builds them (no code_challenge_method parameter)."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def code_from(pasted: str, state: str) -> str | None:
    """The code in what the admin pasted: the whole address Zalo sent them to (its `state` must be ours), or
    the code alone. None when there is none, or the address belongs to another consent."""
    text = pasted.strip()
    if not text:
        return None
    if "://" not in text and "code=" not in text:
        return text if " " not in text else None
    query = parse_qs(urlsplit(text).query if "://" in text else text.lstrip("?"))
    got_state = query.get("state", [None])[0]
    if got_state is not None and got_state != state:
        return None
    code = query.get("code", [""])[0].strip()
    return code or None


async def cmd_authorize(deps: Deps, args: argparse.Namespace) -> int:
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    print("Cấp quyền cho bot dùng Official Account (OA) của trường:")
    print("1. Người quản trị OA mở địa chỉ sau (đăng nhập Zalo), chọn OA và bấm Cho phép:")
    print(f"   {deps.permission_url(challenge, state)}")
    print("2. Zalo chuyển sang trang gọi lại (callback); sao chép cả địa chỉ trên thanh trình duyệt và dán vào đây.")
    sys.stdout.flush()
    pasted = await asyncio.to_thread(sys.stdin.readline)
    code = code_from(pasted, state)
    if code is None:
        print(
            "Không thấy mã cấp quyền (code) trong nội dung đã dán, hoặc địa chỉ thuộc một lần cấp quyền khác. "
            "Chưa lưu gì; chạy lại lệnh và dán đúng địa chỉ Zalo chuyển về.",
            file=sys.stderr,
        )
        return 1
    try:
        pair = await deps.exchange(code, verifier)
    except GrantRefused as exc:
        refused = f"Zalo từ chối mã cấp quyền ({exc}). Mã chỉ dùng được một lần và trong vài phút: chạy lại lệnh."
        print(refused, file=sys.stderr)
        return 1
    except GrantUnavailable as exc:
        print(f"Không đổi được mã cấp quyền ({exc}). Chưa lưu gì; thử lại sau ít phút.", file=sys.stderr)
        return 1
    try:
        row = await deps.store.save_authorized(pair, replace_unreadable=args.replace)
    except OATokenKeyError as exc:
        print(f"{exc}\nNếu khóa cũ đã mất, chạy lại với --replace để thay token cũ bằng token mới.", file=sys.stderr)
        return 2
    print(
        f"Đã lưu quyền truy cập của Official Account (app {deps.app_id}), token được mã hóa. Token truy cập dùng đến "
        f"{vn_time(row.access_expires_at)}; bot tự làm mới trước khi hết hạn. Cần cấp quyền lại trước khoảng "
        f"{vn_time(row.refresh_expires_at, '%d/%m/%Y')} nếu bot không chạy lần nào đến lúc đó."
    )
    return 0


async def cmd_status(deps: Deps, _args: argparse.Namespace) -> int:
    status = await deps.store.status()
    if not status.stored:
        print(f"Chưa có token Zalo OA cho app {deps.app_id}: chạy `python -m bot zalo-oa authorize`.")
        return 1
    now = deps.clock()
    lines = [f"Zalo OA, app {deps.app_id}: đã lưu token (lần thứ {status.generation}, mã hóa)."]
    if status.key_ok is False:
        lines.append("  KHÓA SAI: ZALO_OA_TOKEN_KEY không mở được token đã lưu; bot sẽ không chạy kênh OA.")
    assert status.access_expires_at is not None and status.authorized_at is not None
    left = "còn hạn" if status.access_expires_at > now else "đã hết hạn"
    lines.append(f"  Token truy cập: {left}, đến {vn_time(status.access_expires_at)}")
    refreshed = vn_time(status.refreshed_at) if status.refreshed_at else "chưa lần nào"
    lines.append(f"  Làm mới lần cuối: {refreshed}; cấp quyền lúc {vn_time(status.authorized_at)}")
    if status.refresh_expires_at is not None:
        lines.append(f"  Token làm mới dùng được đến khoảng {vn_time(status.refresh_expires_at, '%d/%m/%Y')}")
    if status.refused_at is not None:
        lines.append(f"  CẦN CẤP QUYỀN LẠI: {status.refused_reason} ({vn_time(status.refused_at)}).")
    elif status.in_flight is not None:
        lines.append(
            f"  Một lần làm mới lúc {vn_time(status.in_flight.started_at)} chưa lưu được kết quả (tiến trình dừng "
            "giữa chừng); lần làm mới sau sẽ thử lại."
        )
    print("\n".join(lines))
    return 0 if status.key_ok and status.refused_at is None else 1


def register(sub: Any, opener: Opener) -> None:
    group = sub.add_parser("zalo-oa", help="Zalo Official Account: cấp quyền, xem token")
    g_sub = group.add_subparsers(dest="oa_cmd", required=True)
    authorize = g_sub.add_parser("authorize", help="cấp quyền cho bot dùng OA (in địa chỉ, nhận mã, lưu token)")
    authorize.add_argument(
        "--replace", action="store_true", help="thay cả token cũ mà khóa hiện tại không mở được (khi khóa cũ đã mất)"
    )
    authorize.set_defaults(func=_runner(opener, cmd_authorize))
    g_sub.add_parser("status", help="đã có token chưa, hết hạn lúc nào (không in bí mật)").set_defaults(
        func=_runner(opener, cmd_status)
    )


def _runner(opener: Opener, command: Callable[[Deps, argparse.Namespace], Awaitable[int]]) -> Callable[..., int]:
    def run(args: argparse.Namespace) -> int:
        async def go() -> int:
            async with opener(args) as deps:
                return await command(deps, args)

        try:
            return asyncio.run(go())
        except (SetupError, OATokenKeyError) as exc:
            print(str(exc), file=sys.stderr)
            return 2

    return run
