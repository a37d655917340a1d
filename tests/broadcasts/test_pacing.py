"""The broadcast sender's pacing on a virtual clock: the overall rate per second, the interval between two
messages to one chat, the per-minute limit of a group chat, and a pause after the platform says "too many"."""

from __future__ import annotations

import datetime as dt
import itertools

from bot.broadcasts.sender import DEFAULT_LIMITS, ChannelLimits, RateLimiter

T0 = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)


def send_all(limiter: RateLimiter, chats: list[tuple[str, bool]]) -> list[dt.datetime]:
    """Send to each chat in turn as soon as the limiter allows; the times the messages went."""
    now, sent = T0, []
    for chat, is_group in chats:
        wait = limiter.wait(chat, is_group, now)
        assert wait >= 0
        now += dt.timedelta(seconds=wait)
        assert limiter.wait(chat, is_group, now) == 0
        limiter.record(chat, is_group, now)
        sent.append(now)
    return sent


def most_in(window: dt.timedelta, times: list[dt.datetime]) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_many_students_go_at_the_overall_rate_and_no_faster() -> None:
    limits = DEFAULT_LIMITS["telegram"]
    sent = send_all(RateLimiter(limits), [(f"user{i}", False) for i in range(100)])
    assert most_in(dt.timedelta(seconds=1), sent) == limits.per_second
    assert sent[-1] - sent[0] < dt.timedelta(seconds=100 / limits.per_second)  # and no slower than it needs


def test_one_chat_waits_its_interval_between_messages() -> None:
    sent = send_all(RateLimiter(ChannelLimits(per_second=25, chat_interval=1.0)), [("user1", False)] * 4)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sent)] == [1.0, 1.0, 1.0]


def test_a_group_chat_gets_at_most_its_messages_per_minute() -> None:
    limits = ChannelLimits(per_second=25, chat_interval=0.0, group_per_minute=20)
    sent = send_all(RateLimiter(limits), [("class-group", True)] * 45)
    assert most_in(dt.timedelta(minutes=1), sent) == 20
    assert sent[-1] - sent[0] >= dt.timedelta(minutes=2)


def test_a_pause_holds_every_chat_until_it_ends_and_never_shortens() -> None:
    limiter = RateLimiter(DEFAULT_LIMITS["zalo"])
    until = T0 + dt.timedelta(seconds=30)
    limiter.pause(until)
    limiter.pause(T0 + dt.timedelta(seconds=5))  # an earlier end does not cut the pause short
    assert limiter.wait("anyone", False, T0) == 30
    assert limiter.wait("someone-else", True, until) == 0
