"""The outgoing limiter on a virtual clock: ~25/s overall, 1/s per chat after a small burst, 20/min per group,
and a 429 pause that holds every send."""

from __future__ import annotations

from bot.channels.telegram.ratelimit import RateLimiter


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_sends_keep_to_the_global_chat_and_group_limits() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(clock=vt.clock, sleep=vt.sleep)
    sent: dict[str, list[float]] = {}
    # A broadcast to 300 students interleaved with a busy student and a class group.
    for i in range(300):
        for chat, group in ((f"s{i}", False), ("busy", False), ("-100group", True)):
            if chat == "-100group" and i % 5:
                continue
            await limiter.acquire(chat, group)
            sent.setdefault(chat, []).append(vt.now)
    everything = [t for times in sent.values() for t in times]
    assert max_in_window(everything, 1.0) <= 25
    assert max_in_window(sent["busy"], 1.0) <= 3  # a small burst, then one a second
    assert max_in_window(sent["busy"][3:], 1.0) <= 1
    assert max_in_window(sent["-100group"], 60.0) <= 20
    assert len(everything) == 300 + 300 + 60


async def test_a_429_pause_holds_every_chat() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(clock=vt.clock, sleep=vt.sleep)
    await limiter.acquire("a")
    limiter.pause(3.0)
    for chat in ("a", "b", "c"):
        await limiter.acquire(chat)
        assert vt.now >= 3.0


async def test_replies_to_a_users_own_action_keep_only_the_per_chat_limit() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(clock=vt.clock, sleep=vt.sleep)
    # 200 students answer at the same moment: every reply may go now, none waits for the overall bucket.
    for i in range(200):
        await limiter.acquire(f"s{i}", bulk=False)
    assert vt.now == 0.0
    # The same student tapping fast still gets the per-chat limit: a burst of 3, then one a second.
    times = [0.0]
    for _ in range(6):
        await limiter.acquire("s0", bulk=False)
        times.append(vt.now)
    assert max_in_window(times, 1.0) <= 3 and max_in_window(times[3:], 1.0) <= 1 and vt.now >= 4.0


async def test_replies_leave_the_overall_budget_to_broadcasts() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(clock=vt.clock, sleep=vt.sleep)
    sent: list[float] = []
    for i in range(100):
        await limiter.acquire(f"r{i}", bulk=False)  # replies do not use up the broadcast's budget
        await limiter.acquire(f"b{i}")
        sent.append(vt.now)
    assert max_in_window(sent, 1.0) <= 25
    # The same 100 broadcast messages without the replies take exactly as long (~4 s at 25/s).
    alone = VirtualTime()
    limiter = RateLimiter(clock=alone.clock, sleep=alone.sleep)
    for i in range(100):
        await limiter.acquire(f"b{i}")
    assert vt.now == alone.now < 100 / 25 * 1.1
