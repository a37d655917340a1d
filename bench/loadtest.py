"""Load harness: a fast fake Bot API in this process, the bot under test in another (pinned to its own core),
and N simulated students who each tap the next button as soon as the bot's reply arrives.

Prints updates/s, bot CPU µs per update, update-to-reply latency p50/p99, peak RSS, errors and duplicates."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fake_botapi import FakeBotApi, callback_update, message_update

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Student:
    chat_id: int
    taps_left: int
    outstanding: int | None = None  # update id waiting for its reply
    sent_at: float = 0.0
    done: bool = False
    stage: int = 0  # a scenario's own progress marker
    answers: int = 0  # contest answers tapped


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]
    peak_rss_mb: float
    errors: int
    duplicates: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def line(self, baseline: Result | None = None) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        ratio = f"{self.rate / baseline.rate:5.2f}×" if baseline and baseline.rate else "  1.00×"
        return (f"{self.name:<38} {self.updates:>7} upd {self.rate:>8.0f} upd/s  "
                f"{self.cpu_seconds / max(self.updates, 1) * 1e6:>6.0f} µs/upd  p50 {p50:>6.1f} ms  p99 {p99:>7.1f} ms  "
                f"RSS {self.peak_rss_mb:>5.0f} MB  err {self.errors}  dup {self.duplicates}  ratio {ratio}")


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pick_button(params: dict[str, Any], rng: random.Random, prefer: str | None = None) -> str | None:
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not rows:
        return None
    buttons = [b for row in rows for b in row if b.get("callback_data")]
    if prefer:
        for b in buttons:
            if prefer in b.get("text", ""):
                return str(b["callback_data"])
    # Never tap "back to menu" style buttons when a quiz answer is expected: take the first four.
    return str(rng.choice(buttons[: min(4, len(buttons))])["callback_data"]) if buttons else None


# A scenario's student: given a reply (method, params) and the student's state, what to do next:
# ("tap", callback_data), ("text", text), ("done", ""), or None to wait for another reply.
React = Callable[[Student, str, dict[str, Any], random.Random], tuple[str, str] | None]


async def run_load(name: str, bot_cmd: list[str], env: dict[str, str], students: int, taps: int,
                   first_text: str, prefer: str | None = None, core: str = "1", warmup_taps: int = 0,
                   webhook_url: str | None = None, settle: float = 0.0, timeout: float = 600.0,
                   react: React | None = None, procs: int = 1) -> Result:
    """With `webhook_url` ("http://127.0.0.1:{port}/tg"), `procs` bot processes listen on ports 18080, 18081, ...
    and the driver spreads the updates over them; CPU and peak RSS are the sums over the processes."""
    rng = random.Random(7)
    api = FakeBotApi()
    roster = {100_000 + i: Student(100_000 + i, taps) for i in range(students)}
    latencies: list[float] = []
    counted = 0
    duplicates = 0
    finished = 0
    done = asyncio.Event()
    query_ids = iter(range(1, 10**9))
    seen_ids: set[int] = set()
    webhook_queue: asyncio.Queue[dict[str, Any]] | None = asyncio.Queue() if webhook_url else None

    def send(update: dict[str, Any]) -> int:
        if webhook_queue is not None:
            update["update_id"] = api.next_update_id()
            webhook_queue.put_nowait(update)
            return int(update["update_id"])
        return api.push(update)

    def on_reply(method: str, chat_id: int, params: dict[str, Any]) -> None:
        nonlocal counted, duplicates, finished
        st = roster.get(chat_id)
        if st is None or st.done or method not in ("sendMessage", "editMessageText"):
            return
        if react is not None:
            action = react(st, method, params, rng)
            if action is None:
                return
            kind, data = action
        else:
            kind, picked = "tap", pick_button(params, rng, prefer)
            if picked is None:
                return
            data = picked
        now = time.perf_counter()
        if st.outstanding is not None:
            start = api.delivered_at.get(st.outstanding, st.sent_at) if webhook_queue is None else st.sent_at
            latencies.append(now - start)
            counted += 1
            st.outstanding = None
        elif st.sent_at:
            duplicates += 1  # a second keyboard for the same tap
        if st.taps_left <= 0 or kind == "done":
            st.done = True
            finished += 1
            if finished == len(roster):
                done.set()
            return
        st.taps_left -= 1
        if kind == "text":
            st.outstanding = send(message_update(chat_id, data))
        else:
            message_id = int(params.get("message_id") or 1)
            st.outstanding = send(callback_update(chat_id, message_id, data, next(query_ids)))
        st.sent_at = time.perf_counter()

    api.on_reply = on_reply
    await api.start()
    env = {**os.environ, **env, "TELEGRAM_API_BASE": api.url, "TELEGRAM_BOT_TOKEN": "123456:BENCH",
           "PYTHONPATH": str(ROOT)}
    cmd = ["taskset", "-c", core, *bot_cmd] if core else bot_cmd
    ports = [18080 + i for i in range(procs)]
    all_procs = [
        subprocess.Popen([c.replace("{API}", api.url) for c in cmd],
                         env={**env, "WEBHOOK_PORT": str(port), "WEBHOOK_HOST": "127.0.0.1"},
                         cwd=env.get("BENCH_CWD", str(ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in ports]
    proc = all_procs[0]
    poster: asyncio.Task[None] | None = None
    try:
        if webhook_url and webhook_queue is not None:
            urls = [webhook_url.format(port=port) for port in ports]
            poster = asyncio.create_task(_post_webhook(urls, webhook_queue, env.get("TELEGRAM_WEBHOOK_SECRET", "")))
        await asyncio.sleep(settle)
        t0 = time.perf_counter()
        cpu0: float | None = None
        for chat_id in roster:
            roster[chat_id].sent_at = time.perf_counter()
            roster[chat_id].outstanding = send(message_update(chat_id, first_text))
        # Wait for the bot to come up and serve the first replies before measuring CPU.
        while cpu0 is None:
            if proc.poll() is not None:
                raise RuntimeError(f"bot exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            if counted or api.recorded:
                cpu0 = sum(proc_cpu(p.pid) for p in all_procs)
                t0 = time.perf_counter()
                base = counted
            await asyncio.sleep(0.01)
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            pass
        elapsed = time.perf_counter() - t0
        cpu = sum(proc_cpu(p.pid) for p in all_procs) - cpu0
        rss = sum(proc_peak_rss_mb(p.pid) for p in all_procs)
        errors = sum(1 for s in roster.values() if not s.done)
        return Result(name, counted - base, elapsed, cpu, latencies, rss, errors, duplicates,
                      {"answers_sent": sum(s.answers for s in roster.values())})
    finally:
        if poster:
            poster.cancel()
        for proc in all_procs:
            if os.environ.get("BENCH_PROFILE"):
                proc.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            else:
                proc.terminate()
        for proc in all_procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await api.stop()


async def _post_webhook(urls: list[str], queue: asyncio.Queue[dict[str, Any]], secret: str,
                        connections: int = 40) -> None:
    import aiohttp

    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker(url: str) -> None:
            while True:
                update = await queue.get()
                for _ in range(600):  # the bot may still be starting
                    try:
                        async with session.post(url, json=update, headers=headers) as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(connections)))


def baseline_cmd() -> list[str]:
    return [sys.executable, str(ROOT / "bench" / "baseline_bot.py"), "{API}"]
