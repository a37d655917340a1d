"""The contest page in a real headless Chromium (Debian's `chromium`, driven by Playwright; no browser is ever
downloaded): a student opens the one-time link the chat sent, takes the whole attempt, reloads in the middle,
loses the network and gets it back (answers kept on the phone and stored once), answers the prediction and reads
the result; another student starts on the page and finishes in the chat. Skipped, saying why, without Chromium."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot.app import App
from db import models as m
from db import models_page as mp
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.page_helpers import add_students, page_link, sign_init_data, telegram_fields
from tests.web.test_browser import CHROMIUM, FLAGS, REQUIRED

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="no Chromium here (Debian: apt-get install chromium)"),
]
playwright = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")


async def answers_of(app: App, name: str) -> dict[int, int]:
    """The stored answers of the student's attempt: seq -> how many rows (the constraint allows one)."""
    async with app.sessions() as s:
        rows = (
            await s.execute(
                select(m.AttemptAnswer.seq, func.count())
                .join(m.QuizAttempt, m.QuizAttempt.id == m.AttemptAnswer.attempt_id)
                .join(m.User, m.User.id == m.QuizAttempt.user_id)
                .where(m.User.display_name == name)
                .group_by(m.AttemptAnswer.seq)
            )
        ).all()
    return {int(r[0]): int(r[1]) for r in rows}


async def answer_visible(page: Any, option: int = 0) -> None:
    """Choose an option of the question on screen; the page moves to the next unanswered one."""
    section = page.locator("section.q:visible")
    title = await section.locator("h2").inner_text()
    await section.locator(".opt").nth(option).click()
    await playwright.expect(page.locator("section.q:visible h2")).not_to_have_text(title)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_student_takes_the_attempt_on_the_page_through_a_reload_and_a_lost_network(
    web_app: App, page_served: str, clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    bình, an = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    token = await page_link(bình)

    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 640})  # a small phone
        page = await context.new_page()
        acks: list[int] = []
        page.on(
            "response",
            lambda r: acks.append(r.status) if r.url.endswith("/thi/api/answer") and r.status == 200 else None,
        )
        await page.goto(f"{page_served}/thi/vao?t={token}")  # the script presses the button at once
        await page.wait_for_url(f"{page_served}/thi/")
        assert await page.get_by_text("Thí sinh: Trần Văn Bình").is_visible()
        await page.get_by_role("button", name="Thi chính thức").click()
        await playwright.expect(page.locator("#timer")).to_contain_text("còn 14 phút")  # the server's 15 minutes
        assert await page.locator("#nav .n").count() == 6  # five questions and the prediction

        await answer_visible(page, 0)
        await answer_visible(page, 1)
        await playwright.expect(page.locator("#nav .n.done")).to_have_count(2)
        assert await answers_of(web_app, "Trần Văn Bình") == {0: 1, 1: 1}

        # A reload in the middle: the answers are there, and the page goes on at the first unanswered question.
        await page.reload()
        await playwright.expect(page.locator("#nav .n.done")).to_have_count(2)
        assert await page.locator("section.q:visible h2").inner_text() == "Câu 3/5"
        assert await page.locator('#q1 .opt[aria-pressed="true"]').count() == 1

        # The network goes: two answers wait on the phone, marked so.
        await context.set_offline(True)
        await answer_visible(page, 2 if await page.locator("#q2 .opt").count() > 2 else 0)
        await answer_visible(page, 0)
        await playwright.expect(page.locator("#q3 .state")).to_have_text("⚠️ Chưa gửi được, sẽ gửi lại khi có mạng")
        await playwright.expect(page.locator("#sync")).to_have_text("Còn 2 câu chưa gửi được, sẽ gửi lại khi có mạng.")
        assert await answers_of(web_app, "Trần Văn Bình") == {0: 1, 1: 1}
        kept = await page.evaluate("Object.keys(localStorage).map(k => JSON.parse(localStorage[k]).length)")
        assert kept == [2]

        # It comes back: both are sent, each once.
        await context.set_offline(False)
        await playwright.expect(page.locator("#q3 .state")).to_have_text("✔️ Đã lưu", timeout=10_000)
        await playwright.expect(page.locator("#nav .n.done")).to_have_count(4)
        await playwright.expect(page.locator("#sync")).to_have_text("")
        assert await answers_of(web_app, "Trần Văn Bình") == {0: 1, 1: 1, 2: 1, 3: 1}

        # The last question, then the prediction: not before every answer is saved.
        await answer_visible(page, 0)
        assert await page.locator("section.q:visible h2").inner_text() == "🔮 Câu hỏi dự đoán"
        await playwright.expect(page.locator("#missing")).to_have_text("")
        await page.get_by_label("Em gõ một số (ví dụ: 25), rồi bấm “Nộp bài”.").fill("12")
        await page.get_by_role("button", name="Nộp bài").click()
        await page.wait_for_url(f"{page_served}/thi/?ket-qua=*")
        assert await page.get_by_role("heading", name="📨 Em đã nộp bài.").is_visible()
        assert await page.get_by_text("Dự đoán của em: 12.").is_visible()
        assert await page.get_by_text("câu đúng.").is_visible()
        assert await page.evaluate("localStorage.length") == 0
        assert acks == [200] * 5  # five answers acknowledged, none twice
        async with web_app.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(mp.PageAnswerKey)) == 5
            assert await s.scalar(select(func.count()).select_from(m.SecurityEvent)) == 0

        # Another student starts on the page and finishes in the chat.
        other = await browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 640})
        an_page = await other.new_page()
        await an_page.goto(f"{page_served}/thi/vao?t={await page_link(an)}")
        await an_page.wait_for_url(f"{page_served}/thi/")
        await an_page.get_by_role("button", name="Thi chính thức").click()
        await answer_visible(an_page, 0)
        await answer_visible(an_page, 0)
        await playwright.expect(an_page.locator("#nav .n.done")).to_have_count(2)
        clock.advance(minutes=1)
        await an.say("/thi")
        assert "Em đang làm dở bài thi" in an.text and "Câu 3/5 · ⏳ còn 14 phút 0 giây" in an.text
        for _ in range(3):
            await an.tap_token(an.options[0][0])
        assert "🔮" in an.text
        await an.say("4")
        assert "Em đã nộp bài" in an.text and "Dự đoán của em: 4." in an.text
        await an_page.reload()
        assert await an_page.get_by_text("Em còn 0 lượt thi chính thức.").is_visible()
        assert await answers_of(web_app, "Lê Thị An") == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1}
        await browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_page_opens_as_a_telegram_mini_app(web_app: App, page_served: str, clock: FakeClock) -> None:
    """Telegram opens the Mini App with its initData in the address's fragment; the page hands it to the server."""
    await make_contest(web_app, contest_def(clock()))
    await add_students(web_app, ["Trần Văn Bình"], channel="telegram")
    async with web_app.sessions() as s:
        account = (await s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.channel == "telegram"))).one()
        account.external_id = "777001"
        round_id = (await s.scalars(select(m.ContestRound.id))).one()
        await s.commit()
    init_data = sign_init_data(telegram_fields("777001", clock()))
    forged = sign_init_data(telegram_fields("777001", clock()), token="1:another-bot")

    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 640})
        page = await context.new_page()
        await page.goto(f"{page_served}/thi/tg?r={round_id}#tgWebAppData={quote(forged)}&tgWebAppVersion=7.0")
        await playwright.expect(page.locator("#notice")).to_contain_text("đã được dùng, đã hết hạn hoặc không đúng")
        page = await context.new_page()  # a new opening (the same address again would only change its fragment)
        await page.goto(f"{page_served}/thi/tg?r={round_id}#tgWebAppData={quote(init_data)}&tgWebAppVersion=7.0")
        await page.wait_for_url(f"{page_served}/thi/")
        assert await page.get_by_text("Họ và tên: Trần Văn Bình").is_visible()
        await page.get_by_role("button", name="Đúng, em đăng ký").click()
        await playwright.expect(page.get_by_role("button", name="Thi chính thức")).to_be_visible()
        await browser.close()
