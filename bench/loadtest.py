"""Load harness: a fast fake Bot API in this process, the bot under test in another (pinned to its own core),
and simulated students in groups.

A group either answers in a *closed loop* (each student taps the next button as soon as the bot's reply
arrives: what one core can take) or in an *open loop* (`rate`: the group's answers are released on a Poisson
schedule at that many per second, each to a student who has seen its question and waits for its turn; the
students' registration and start, before their first answer, is a separate phase, measured apart). A group
without a first text only receives: a broadcast's recipients.

Prints updates/s, bot CPU µs per update, update-to-reply latency p50/p99, peak RSS, errors and duplicates, and
for each open-loop group the offered and achieved rates, for each recipient group the messages/s."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.fake_botapi import FakeBotApi, TelegramLimits, callback_update, message_update

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
FIRST_CHAT_ID = 100_000  # the seed's first student (bench/seed.py)


@dataclass
class Student:
    chat_id: int
    taps_left: int
    outstanding: int | None = None  # update id waiting for its reply
    sent_at: float = 0.0
    done: bool = False
    stage: int = 0  # a scenario's own progress marker
    answers: int = 0  # contest answers tapped
    is_answer: bool = False  # the outstanding update is an answer (released on the schedule in an open loop)
    pending: tuple[int, str] | None = None  # open loop: (message id, callback data) waiting for its slot
    received: int = 0  # messages received (a broadcast's recipients)
    ready: bool = False  # open loop: has waited for a slot once (its setup phase is over)


# A scenario's student: given a reply (method, params) and the student's state, what to do next:
# ("answer", callback_data) an answer (released on the schedule in an open loop, at once in a closed one),
# ("tap", callback_data) any other tap, ("text", text), ("done", ""), or None to wait for another reply.
React = Callable[[Student, str, dict[str, Any], random.Random], tuple[str, str] | None]


@dataclass
class Group:
    """Students who behave alike. `rate`: answers per second offered over the group (open loop); None: closed
    loop. `first_text` None: the group only receives messages (a broadcast's recipients)."""

    name: str
    students: int
    first_text: str | None
    react: React | None = None
    taps: int = 100  # updates after the first one, at most
    rate: float | None = None


def percentile(values: list[float], q: float) -> float:
    s = sorted(values) or [0.0]
    return s[min(len(s) - 1, int(len(s) * q))]


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values or [0.0]) * 1000:>6.1f} ms  p99 {percentile(values, 0.99) * 1000:>7.1f} ms"


@dataclass
class Part:
    """One group's figures. Replies: `updates` answered in the measured phase, their latencies from the update
    being made available to the bot (getUpdates return or webhook POST) to the reply (`latencies`), and from the
    student's tap to the reply, waiting in the API's queue included (`waits`); in an open loop only answers
    count there. Recipients: `updates` is the chats reached, `times` when each message arrived."""

    group: Group
    updates: int = 0
    latencies: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    errors: int = 0
    duplicates: int = 0
    finished: int = 0
    offered: int = 0  # open loop: answers released
    answers: int = 0  # answers tapped (sent to the bot)
    missed: int = 0  # open loop: slots with no student ready (all waiting for a reply)
    released: list[float] = field(default_factory=list)  # open loop: when each answer was released
    last_reply: float = 0.0
    times: list[float] = field(default_factory=list)  # recipients: arrival of every message
    cpu: list[float] = field(default_factory=list)  # recipients: bot CPU at the first and at the last chat reached

    def line(self, alone: bool) -> str:
        g = self.group
        if g.first_text is None:
            t = sorted(self.times)
            span = t[-1] - t[0] if len(t) > 1 else 0.0
            rate = (len(t) - 1) / span if span else 0.0
            cpu = (self.cpu[1] - self.cpu[0]) / max(len(t) - 1, 1) * 1e6 if len(self.cpu) == 2 else 0.0
            return (
                f"  {g.name}: {self.updates}/{g.students} chats reached, {len(t)} messages in {span:.1f} s = "
                f"{rate:.1f} msg/s (most in any 1 s: {max_in_window(t, 1.0)}), "
                + (f"{cpu:.0f} µs bot CPU/msg, " if alone else "")
                + f"chats reached twice {self.duplicates}, missed {g.students - self.updates}"
            )
        out = f"  {g.name}: {self.updates} updates, {self.finished}/{g.students} students finished"
        if g.rate:
            r = sorted(self.released)
            offered = (len(r) - 1) / (r[-1] - r[0]) if len(r) > 1 and r[-1] > r[0] else 0.0
            span = self.last_reply - r[0] if r else 0.0
            out += (
                f"; offered {self.offered} answers at {offered:.0f}/s (target {g.rate:.0f}/s), "
                f"{self.missed} slots with nobody ready; {len(self.latencies)} answered, "
                f"{len(self.latencies) / max(span, 1e-9):.0f}/s; update→reply {ms(self.latencies)}, "
                f"tap→reply {ms(self.waits)}"
            )
        return out


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
    parts: list[Part] = field(default_factory=list)
    setup: str = ""  # the open loop's registration phase, measured apart
    machine: str = ""  # the cores' use while measuring

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def open_loop(self) -> bool:
        return any(p.group.rate for p in self.parts)

    def ratio(self, baseline: Result | None) -> float:
        return self.rate / baseline.rate if baseline and baseline.rate else 1.0

    def line(self, baseline: Result | None = None) -> str:
        head = (
            f"{self.name:<38} {self.updates:>7} upd {self.rate:>8.0f} upd/s  "
            f"{self.cpu_seconds / max(self.updates, 1) * 1e6:>6.0f} µs/upd  {ms(self.latencies)}  "
            f"RSS {self.peak_rss_mb:>5.0f} MB  err {self.errors}  dup {self.duplicates}  "
            + (f"ratio {self.ratio(baseline):5.2f}×" if not self.open_loop else "(open loop: no ratio)")
        )
        if all(p.group.first_text is None for p in self.parts):  # a broadcast alone: its line says it all
            head = f"{self.name:<38} RSS {self.peak_rss_mb:>5.0f} MB"
        lines = [head]
        if self.machine:
            lines.append(self.machine)
        if self.setup:
            lines.append(f"  setup (before the first answer, not in the figures above): {self.setup}")
        if len(self.parts) > 1 or any(p.group.rate or p.group.first_text is None for p in self.parts):
            lines += [p.line(len(self.parts) == 1) for p in self.parts]
        return "\n".join(lines)


def max_in_window(times: list[float], width: float) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def core_busy() -> dict[int, float]:
    """Busy seconds of each core since boot (/proc/stat: user, nice, system, irq, softirq, steal)."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *ticks = line.split()
        if name.startswith("cpu") and name != "cpu":
            t = [int(x) for x in ticks]
            out[int(name[3:])] = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) / CLK_TCK
    return out


def machine_line(
    busy0: dict[int, float],
    busy1: dict[int, float],
    bot_cpu: float,
    driver_cpu: float,
    seconds: float,
    core: str,
    lag: float,
) -> str:
    """How busy the cores were while measuring, and by whom: on a shared machine, the other jobs' share."""
    mine = {int(c) for c in core.split(",") if c.strip().isdigit()}
    pct = {c: (busy1[c] - busy0.get(c, 0.0)) / max(seconds, 1e-9) * 100 for c in busy1}
    bot_cores = sum(pct[c] for c in pct if c in mine)
    rest = sum(pct[c] for c in pct if c not in mine)
    bot = bot_cpu / max(seconds, 1e-9) * 100
    driver = driver_cpu / max(seconds, 1e-9) * 100
    return (
        f"  machine while measuring: bot's core(s) {sorted(mine)} busy {bot_cores:.0f}% (the bot {bot:.0f}%), "
        f"other core(s) busy {rest:.0f}% (this driver {driver:.0f}%); other jobs "
        f"≈{bot_cores + rest - bot - driver:.0f}% of a core; driver loop lag max {lag * 1000:.0f} ms"
    )


async def loop_lag(out: list[float], tick: float = 0.01) -> None:
    """The driver's own delay (a stalled driver would release answers late and read replies late)."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(tick)
        out[0] = max(out[0], time.perf_counter() - t - tick)


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem_mb(pid: int, key: str = "VmHWM") -> float:
    """VmHWM: the peak resident set size; VmRSS: the current one."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
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


def tapper(prefer: str | None = None) -> React:
    """A student who answers every keyboard (practice, the baseline): each tap is an answer."""

    def react(_st: Student, _method: str, params: dict[str, Any], rng: random.Random) -> tuple[str, str] | None:
        picked = pick_button(params, rng, prefer)
        return None if picked is None else ("answer", picked)

    return react


def start_bots(cmd: list[str], env: dict[str, str], ports: list[int], stderr: IO[bytes]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            cmd,
            env={**env, "WEBHOOK_PORT": str(port), "WEBHOOK_HOST": "127.0.0.1"},
            cwd=env.get("BENCH_CWD", str(ROOT)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        for port in ports
    ]


def stop_bots(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if os.environ.get("BENCH_PROFILE"):
            proc.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
        else:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


async def run_load(
    name: str,
    bot_cmd: list[str],
    env: dict[str, str],
    groups: list[Group],
    core: str = "1",
    webhook_url: str | None = None,
    settle: float = 0.0,
    limit: float = 3600.0,
    stall: float = 60.0,
    procs: int = 1,
    duration: float | None = None,
    during: Callable[[], Awaitable[None]] | None = None,
    api_limits: TelegramLimits | None = None,
) -> Result:
    """With `webhook_url` ("http://127.0.0.1:{port}/tg"), `procs` bot processes listen on ports 18080, 18081, ...
    and the driver spreads the updates over them; CPU and peak RSS are the sums over the processes.

    Groups get consecutive chat ids from FIRST_CHAT_ID, in order (the seed's students). The measured phase starts
    at the first reply, or with open-loop groups once each of their students waits to answer its first question;
    `during` is started then (e.g. a broadcast created while the students answer). The run ends when every
    student has finished and every recipient got its message, when nothing has arrived for `stall` seconds, or
    after `limit` seconds. With `duration`, open-loop answers are released for that many seconds only; the run
    then ends once every update sent has its reply (students waiting for a slot are not errors). `api_limits`:
    the fake Bot API keeps Telegram's pace (429 with `retry_after` beyond it)."""
    rng = random.Random(7)
    api = FakeBotApi(limits=api_limits)
    roster: dict[int, Student] = {}
    group_of: dict[int, Part] = {}
    parts = [Part(g) for g in groups]
    chat = FIRST_CHAT_ID
    for part in parts:
        for _ in range(part.group.students):
            roster[chat] = Student(chat, part.group.taps)
            group_of[chat] = part
            chat += 1
    pools: dict[str, deque[Student]] = {p.group.name: deque() for p in parts if p.group.rate}
    paced = sum(p.group.students for p in parts if p.group.rate)
    ready = 0  # open-loop students waiting for their first slot (or finished) during the setup phase
    setup_lat: list[float] = []
    measuring = False
    remaining = sum(p.group.students for p in parts)  # students not finished plus recipients not reached
    done = asyncio.Event()
    query_ids = iter(range(1, 10**9))
    webhook_queue: asyncio.Queue[dict[str, Any]] | None = asyncio.Queue() if webhook_url else None
    all_procs: list[subprocess.Popen] = []

    def send(update: dict[str, Any]) -> int:
        if webhook_queue is not None:
            update["update_id"] = api.next_update_id()
            webhook_queue.put_nowait(update)
            return int(update["update_id"])
        return api.push(update)

    def finish_one() -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            done.set()

    def tap(st: Student, message_id: int, data: str, is_answer: bool) -> None:
        group_of[st.chat_id].answers += is_answer
        st.taps_left -= 1
        st.is_answer = is_answer
        st.outstanding = send(callback_update(st.chat_id, message_id, data, next(query_ids)))
        st.sent_at = time.perf_counter()

    def on_message(part: Part, st: Student, method: str) -> None:
        if method != "sendMessage":
            return
        st.received += 1
        part.times.append(time.perf_counter())
        if st.received == 2:
            part.duplicates += 1
        if st.received > 1:
            return
        part.updates += 1
        if part.updates == 1 or part.updates == part.group.students:
            part.cpu.append(sum(proc_cpu(p.pid) for p in all_procs))
        finish_one()

    def on_reply(method: str, chat_id: int, params: dict[str, Any]) -> None:
        nonlocal ready
        st = roster.get(chat_id)
        if st is None or st.done:
            return
        part = group_of[chat_id]
        g = part.group
        if g.first_text is None:
            on_message(part, st, method)
            return
        if method not in ("sendMessage", "editMessageText"):
            return
        assert g.react is not None
        action = g.react(st, method, params, rng)
        if action is None:
            return
        kind, data = action
        now = time.perf_counter()
        if st.outstanding is not None:
            latency = now - api.delivered_at.get(st.outstanding, st.sent_at)
            if not measuring:
                setup_lat.append(latency)
            elif not g.rate or st.is_answer:
                part.latencies.append(latency)
                part.waits.append(now - st.sent_at)
                part.last_reply = now
            if measuring:
                part.updates += 1
            st.outstanding = None
        elif st.sent_at:
            part.duplicates += 1  # a second keyboard for the same tap
            return
        if st.taps_left <= 0 or kind == "done":
            st.done = True
            part.finished += 1
            if g.rate and not st.ready:
                st.ready = True
                ready += 1
            finish_one()
            return
        message_id = int(params.get("message_id") or 1)
        if kind == "answer" and g.rate:
            st.pending = (message_id, data)
            pools[g.name].append(st)
            st.sent_at = now
            if not st.ready:  # this student's first answer: its setup phase is over
                st.ready = True
                ready += 1
            return
        if kind == "text":
            st.taps_left -= 1
            st.is_answer = False
            st.outstanding = send(message_update(chat_id, data))
            st.sent_at = now
        else:
            tap(st, message_id, data, kind == "answer")

    async def release(part: Part) -> None:
        """The group's answers, on a Poisson schedule at `rate` per second, each to the student who has waited
        longest; a slot with nobody ready is counted and lost (students only answer what they have seen)."""
        g = part.group
        assert g.rate
        pool = pools[g.name]
        clock = random.Random(11)
        due = time.perf_counter()
        end = due + duration if duration else float("inf")
        while part.finished < g.students and due < end:
            due += clock.expovariate(g.rate)
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if not pool:
                part.missed += 1
                continue
            st = pool.popleft()
            assert st.pending is not None
            (message_id, data), st.pending = st.pending, None
            part.offered += 1
            part.released.append(time.perf_counter())
            tap(st, message_id, data, True)

    api.on_reply = on_reply
    await api.start()
    env = {
        **os.environ,
        **env,
        "TELEGRAM_API_BASE": api.url,
        "TELEGRAM_BOT_TOKEN": "123456:BENCH",
        "PYTHONPATH": str(ROOT),
    }
    cmd = ["taskset", "-c", core, *bot_cmd] if core else bot_cmd
    ports = [18080 + i for i in range(procs)]
    stderr = tempfile.TemporaryFile()
    all_procs += start_bots([c.replace("{API}", api.url) for c in cmd], env, ports, stderr)
    tasks: list[asyncio.Task[Any]] = []

    def check_alive() -> None:
        for p in all_procs:
            if p.poll() is not None:
                stderr.seek(0)
                raise RuntimeError(f"bot exited ({p.returncode}): {stderr.read().decode(errors='replace')[-3000:]}")

    async def wait_until(condition: Callable[[], bool]) -> None:
        seen, quiet_since = -1, time.perf_counter()
        while not condition() and time.perf_counter() - started < limit:
            check_alive()
            if len(api.recorded) != seen:
                seen, quiet_since = len(api.recorded), time.perf_counter()
            elif time.perf_counter() - quiet_since > stall:
                return
            await asyncio.sleep(0.01)

    try:
        if webhook_url and webhook_queue is not None:
            urls = [webhook_url.format(port=port) for port in ports]
            tasks.append(
                asyncio.create_task(_post_webhook(urls, webhook_queue, env.get("TELEGRAM_WEBHOOK_SECRET", ""), api))
            )
        await asyncio.sleep(settle)
        started = time.perf_counter()
        for st in roster.values():
            first = group_of[st.chat_id].group.first_text
            if first is not None:
                st.sent_at = time.perf_counter()
                st.outstanding = send(message_update(st.chat_id, first))
        # Wait for the bot to come up and serve the first replies before measuring CPU.
        await wait_until(lambda: bool(api.recorded))
        setup = ""
        if paced:
            t_setup, cpu_setup = time.perf_counter(), sum(proc_cpu(p.pid) for p in all_procs)
            await wait_until(lambda: ready >= paced)
            elapsed = time.perf_counter() - t_setup
            cpu = sum(proc_cpu(p.pid) for p in all_procs) - cpu_setup
            rss = sum(proc_mem_mb(p.pid) for p in all_procs)
            setup = (
                f"{ready}/{paced} students ready to answer, {len(setup_lat)} updates in {elapsed:.1f} s "
                f"({len(setup_lat) / max(elapsed, 1e-9):.0f}/s, {cpu / max(len(setup_lat), 1) * 1e6:.0f} "
                f"µs CPU/upd), {ms(setup_lat)}, peak RSS {rss:.0f} MB"
            )
        cpu0 = sum(proc_cpu(p.pid) for p in all_procs)
        gc.collect()
        gc.freeze()  # the driver's own collector pauses (a large heap of students and updates) stay out
        busy0, driver0, lag = core_busy(), time.process_time(), [0.0]
        tasks.append(asyncio.create_task(loop_lag(lag)))
        t0 = time.perf_counter()
        measuring = True
        releases = [asyncio.create_task(release(p)) for p in parts if p.group.rate]
        tasks += releases
        if during is not None:
            tasks.append(asyncio.create_task(during()))

        def over() -> bool:
            if done.is_set():
                return True
            if duration is None or not all(t.done() for t in releases):
                return False
            reached = all(p.updates == p.group.students for p in parts if p.group.first_text is None)
            return reached and all(s.outstanding is None for s in roster.values())

        await wait_until(over)
        if any(p.group.first_text is None for p in parts):
            await asyncio.sleep(2)  # a message sent twice would come right after the first
        replies = [p for p in parts if p.group.first_text is not None]
        counted = replies or parts  # a broadcast alone: its messages
        last = max((t for p in parts for t in p.times), default=t0)
        elapsed = (time.perf_counter() if replies else last) - t0
        cpu = sum(proc_cpu(p.pid) for p in all_procs) - cpu0
        machine = machine_line(
            busy0, core_busy(), cpu, time.process_time() - driver0, time.perf_counter() - t0, core, lag[0]
        )
        rss = sum(proc_mem_mb(p.pid) for p in all_procs)
        for p in parts:
            # Students stuck: not finished, and not waiting for their slot (a --duration run stops them there).
            p.errors = (
                sum(1 for cid, s in roster.items() if group_of[cid] is p and not s.done and s.pending is None)
                if p in replies
                else 0
            )
        return Result(
            name,
            sum(p.updates for p in counted),
            elapsed,
            cpu,
            [x for p in replies for x in p.latencies],
            rss,
            sum(p.errors for p in replies),
            sum(p.duplicates for p in parts),
            {
                "rss_now_mb": sum(proc_mem_mb(p.pid, "VmRSS") for p in all_procs),
                "calls_to_chats": [r.at for r in api.recorded if r.chat_id],
                "calls_by_method": dict(Counter(r.method for r in api.recorded)),
                "refused_429": api.limits.refused if api.limits else 0,
                # From the first update the bot fetched to the last student finished (the bot's start-up out).
                "round_seconds": t0 + elapsed - min(api.delivered_at.values(), default=t0),
                "question_edits": sum(
                    1 for r in api.recorded if r.method == "editMessageText" and "Câu " in str(r.payload.get("text"))
                ),
            },
            parts,
            setup,
            machine,
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.to_thread(stop_bots, all_procs)
        stderr.close()
        await api.stop()


async def _post_webhook(
    urls: list[str], queue: asyncio.Queue[dict[str, Any]], secret: str, api: FakeBotApi, connections: int = 40
) -> None:
    import aiohttp

    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker(url: str) -> None:
            while True:
                update = await queue.get()
                for _ in range(600):  # the bot may still be starting
                    api.delivered_at[update["update_id"]] = time.perf_counter()  # the update is made available
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
