"""The contest scenario: N students each register, start the official attempt, tap 20 answers and type a
prediction, against the example contest with its first round opened by the organizer's command line."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.loadtest import ROOT, Student
from db import models as m
from db.session import create_engine

CONTEST_FILE = ROOT / "content" / "quizzes" / "contests" / "ngay-hoi-2027.yaml"


def open_contest(database_url: str, workdir: Path) -> None:
    """`python -m bot contest create` then `contest open` (round 1), as an organizer would."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    for args in (["create", str(CONTEST_FILE)], ["open", "ngay-hoi-2027", "--round", "1"]):
        subprocess.run(
            [sys.executable, "-m", "bot", "contest", *args], env=env, cwd=workdir, check=True, stdout=subprocess.DEVNULL
        )


def _buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    return [b for row in rows or [] for b in row if b.get("callback_data")]


def react(
    st: Student, _method: str, params: dict[str, Any], rng: random.Random, limit: int = 20
) -> tuple[str, str] | None:
    """One student's next step, from the bot's reply. After `limit` answers the student stops and leaves the
    attempt open (the open-attempts scenario)."""
    text = str(params.get("text", ""))
    if st.stage == 2:
        return ("done", "")  # the result after the prediction
    if "dự đoán" in text.lower():
        st.stage = 2
        return ("text", str(rng.randint(0, 500)))
    buttons = _buttons(params)
    for wanted in ("Đúng, em đăng ký", "Thi chính thức"):
        for b in buttons:
            if wanted in b.get("text", ""):
                return ("tap", str(b["callback_data"]))
    answers = [b for b in buttons if b.get("text") in ("A", "B", "C", "D")]  # lettered options
    if text.startswith("Câu ") or "\nCâu " in text:
        if st.answers >= limit:
            return ("done", "")
        answers = answers or buttons[:4]
        st.answers += 1
        st.stage = 1
        return ("answer", str(rng.choice(answers)["callback_data"]))
    return None


async def stored_answers(database_url: str) -> dict[str, int]:
    """What the database holds after the run: answers, answers stored twice, finished and open attempts."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            official = m.QuizAttempt.kind == "contest"  # practice quizzes (the mixed scenario) store answers too
            stored = select(func.count()).select_from(m.AttemptAnswer).join(m.QuizAttempt).where(official)
            answers = (await conn.execute(stored)).scalar_one()
            finished = (
                await conn.execute(select(func.count()).where(official, m.QuizAttempt.finished_at.is_not(None)))
            ).scalar_one()
            still_open = (
                await conn.execute(select(func.count()).where(official, m.QuizAttempt.finished_at.is_(None)))
            ).scalar_one()
            dup = (
                await conn.execute(
                    select(func.count()).select_from(
                        select(m.AttemptAnswer.attempt_id, m.AttemptAnswer.seq)
                        .group_by(m.AttemptAnswer.attempt_id, m.AttemptAnswer.seq)
                        .having(func.count() > 1)
                        .subquery()
                    )
                )
            ).scalar_one()
        return {
            "answers": int(answers),
            "finished": int(finished),
            "duplicate_answers": int(dup),
            "open": int(still_open),
        }
    finally:
        await engine.dispose()


def check(database_url: str) -> dict[str, int]:
    return asyncio.run(stored_answers(database_url))
