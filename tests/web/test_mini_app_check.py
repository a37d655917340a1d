"""Telegram Mini App initData, checked by the Telegram channel's checker: a genuine, fresh login gives the Telegram
user and the start parameter; a wrong hash, another bot's signature, a missing field or an old login gives None."""

from __future__ import annotations

import datetime as dt

from bot.channels.telegram.webapp import init_data_checker
from tests.web.page_helpers import TOKEN, sign_init_data, telegram_fields

NOW = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)


def test_a_genuine_fresh_login_is_accepted() -> None:
    check = init_data_checker(TOKEN)
    data = sign_init_data(telegram_fields("42", NOW - dt.timedelta(minutes=59), start_param="7"))
    assert check(data, NOW) == ("42", "7")
    assert check(sign_init_data(telegram_fields("42", NOW)), NOW) == ("42", "")


def test_forged_incomplete_and_old_logins_are_refused() -> None:
    check = init_data_checker(TOKEN)
    good = sign_init_data(telegram_fields("42", NOW))
    assert check(good.replace("first_name%22%3A%22", "first_name%22%3A%22X"), NOW) is None  # changed after signing
    assert check(good.rsplit("&hash=", 1)[0], NOW) is None  # no hash
    assert check(sign_init_data(telegram_fields("42", NOW), token="1:other"), NOW) is None  # another bot
    assert check(sign_init_data({"auth_date": int(NOW.timestamp())}), NOW) is None  # no user
    assert check(sign_init_data({"user": {"id": 42, "first_name": "A"}}), NOW) is None  # no auth_date
    assert check(sign_init_data(telegram_fields("42", NOW - dt.timedelta(minutes=61))), NOW) is None  # too old
    assert check(sign_init_data(telegram_fields("42", NOW + dt.timedelta(minutes=5))), NOW) is None  # in the future
    assert check("not a query string", NOW) is None
