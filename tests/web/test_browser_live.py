"""The live round's big screen in a real headless Chromium: the organizer starts the round from the form, the
screen shows the first question and counts down, then turns to the standings by itself (Server-Sent Events) when
the question's time is over, with the class's rate of correct answers. Skipped, saying why, without Chromium."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.app import App
from bot.live import service as live_svc
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.conftest import link_for
from tests.web.test_browser import CHROMIUM, FLAGS, SCREENSHOTS, check_page, playwright, served  # noqa: F401
from tests.web.test_live_screen import _live, _register_and_join, _round_and_class

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_big_screen_follows_the_live_round_by_itself(
    web_app: App,
    served: str,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    await make_contest(web_app, contest_def(clock(), title="Hội thi An toàn giao thông", questions=5))
    rid, contest_id, class_id = await _round_and_class(web_app)
    token = await link_for(web_app, "btc")
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        await page.goto(f"{served}/dang-nhap?t={token}")
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url(f"{served}/")
        await page.goto(f"{served}/hoi-thi/vong/{rid}")
        await page.get_by_role("link", name="Vòng trực tiếp…").click()
        await check_page(page, shots, "vong-truc-tiep")
        await page.locator(f'input[name="class"][value="{class_id}"]').check()
        await page.get_by_label("Số giây cho mỗi câu").fill("20")
        await page.get_by_role("button", name="Bắt đầu vòng trực tiếp").click()
        assert await page.get_by_role("status").filter(has_text="Câu 1 bắt đầu lúc").is_visible()

        live = await _live(web_app, rid)
        (first, second) = await _register_and_join(web_app, contest_id, live, 2)
        clock.now = live.starts_at + dt.timedelta(seconds=2)
        await page.get_by_role("link", name="Mở màn hình lớn").click()
        title = page.locator("#live-title")
        await playwright.expect(title).to_have_text("Câu 1/5")
        qid, order = live.questions[0]
        question = web_app.content.question(qid)
        assert question is not None
        assert await page.locator("#live-question h2").inner_text() == f"Câu 1: {question.stem}"
        seconds = int(await page.locator("#live-seconds").inner_text())
        assert 0 < seconds <= 18
        await check_page(page, shots, "man-hinh-lon-cau-hoi")

        async with web_app.uow_factory() as uow:
            await live_svc.answer(uow, web_app.content, live, first, 0, order.index(question.answer), clock())
            await uow.commit()
        clock.now = live.starts_at + dt.timedelta(seconds=21)  # the question's time is over
        await playwright.expect(title).to_have_text("Bảng xếp hạng sau câu 1/5", timeout=5_000)
        row = page.locator("#live-classes tbody tr").first
        await playwright.expect(row).to_contain_text("50%")  # one of the two who joined answered right
        await playwright.expect(row).to_contain_text("2/")
        await check_page(page, shots, "man-hinh-lon-xep-hang")
        assert second
        await browser.close()
