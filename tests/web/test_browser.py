"""The web console in a real headless Chromium (Debian's `chromium`, driven by Playwright; no browser is ever
downloaded): sign in with the link the bot sent in the chat, read the overview, create a contest from the form
(a mistake named beside its field first), open its round, watch it, read the results and download them; make a
report and watch its progress, then open the DOCX; every page of each role's menu; keyboard focus and text
contrast checked on every page. Skipped, saying why, without Chromium."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.app import App
from bot.broadcasts.roster_xlsx import write_roster
from bot.core import activity
from bot.core.clock import VN_TZ
from bot.reports import docx_report
from tests.conftest import FakeClock
from tests.web.conftest import link_for
from tests.web.test_pages import add_students, sit
from tests.web.test_students import demo_class, join, roster

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# CI sets REQUIRE_BROWSER=1 where it installed Chromium: then a missing browser fails instead of skipping.
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="no Chromium here (Debian: apt-get install chromium)"),
]
playwright = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")
# Where screenshots go: a temporary folder, or SCREENSHOTS=docs/screenshots to refresh the README's.
SCREENSHOTS = os.environ.get("SCREENSHOTS")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CONTRAST = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""


async def check_page(page: Any, shots: Path, name: str) -> None:
    assert await page.evaluate(CONTRAST) == []
    assert await page.evaluate(UNLABELLED) == []
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def vn_local(clock: FakeClock, days: int, hour: int) -> str:
    """A day and hour in Vietnam as a datetime-local field takes it."""
    day = (clock() + dt.timedelta(days=days)).astimezone(VN_TZ)
    return day.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_organizer_signs_in_from_the_chat_creates_a_contest_and_downloads_the_results(
    web_app: App, served: str, clock: FakeClock, tmp_path: Path
) -> None:
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    chats = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An", "Phạm Minh Châu"])
    token = await link_for(web_app, "btc")

    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(
            accept_downloads=True, locale="vi-VN", viewport={"width": 1280, "height": 800}
        )
        page = await context.new_page()
        await page.goto(f"{served}/dang-nhap?t={token}")
        await check_page(page, shots, "dang-nhap")
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url(f"{served}/")
        assert await page.get_by_role("heading", name="Tổng quan", level=1).is_visible()
        await wait_for_charts(page)
        await check_page(page, shots, "tong-quan")

        # The keyboard reaches the skip link first, then the menu.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == "Bỏ qua, đến nội dung chính"
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == "Tổng quan"

        # The organizer creates the contest from the form; a mistake is named beside its field first.
        await page.get_by_role("link", name="Hội thi").click()
        assert await page.get_by_text("Chưa có hội thi nào.").is_visible()
        await page.get_by_role("link", name="Tạo hội thi mới").click()
        await page.get_by_label("Tên hội thi").fill("Hội thi Tìm hiểu pháp luật 2026")
        await page.locator("#f-rounds-0-opens_at").fill(vn_local(clock, 1, 7))
        await page.locator("#f-rounds-0-closes_at").fill(vn_local(clock, 1, 6))  # before it opens
        await page.get_by_label("Số câu mỗi bài").fill("5")
        await page.get_by_label("Số câu đúng để nhận giấy chứng nhận").fill("4")
        await page.get_by_label("Địa danh ghi trên giấy").fill("Đông Hòa")
        await page.get_by_role("button", name="Tạo hội thi").click()
        assert await page.get_by_role("alert").filter(has_text="Chưa tạo được hội thi").is_visible()
        closes = page.locator("#f-rounds-0-closes_at")
        assert await closes.get_attribute("aria-invalid") == "true"
        assert await page.locator("#e-f-rounds-0-closes_at").inner_text() == "Giờ đóng phải sau giờ mở."
        assert await page.get_by_label("Tên hội thi").input_value() == "Hội thi Tìm hiểu pháp luật 2026"  # kept
        await check_page(page, shots, "tao-hoi-thi-loi")
        await closes.fill(vn_local(clock, 7, 21))
        await page.get_by_role("button", name="Tạo hội thi").click()
        assert await page.get_by_role("status").filter(has_text="Đã tạo hội thi").is_visible()
        assert await page.get_by_role("heading", name="Hội thi Tìm hiểu pháp luật 2026").is_visible()
        await check_page(page, shots, "hoi-thi-moi-tao")

        # It opens tomorrow; the organizer opens it now, and students take it.
        await page.get_by_role("link", name="Trang của đợt").first.click()
        await page.get_by_role("button", name="Mở vòng thi").click()
        assert await page.get_by_role("status").filter(has_text="Đã mở").is_visible()
        await sit(chats[0], right=5)
        await sit(chats[1], right=2)

        await page.get_by_role("link", name="Hội thi", exact=True).click()
        assert await page.get_by_role("heading", name="Hội thi Tìm hiểu pháp luật 2026").is_visible()
        await check_page(page, shots, "hoi-thi")
        await page.get_by_role("link", name="Xem kết quả").first.click()
        rows = page.locator("table", has=page.locator("caption", has_text="Xếp hạng")).locator("tbody tr")
        assert await rows.count() == 2
        assert "Trần Văn Bình" in await rows.nth(0).inner_text()
        await check_page(page, shots, "ket-qua")

        async with page.expect_download() as info:
            await page.get_by_role("link", name="Tải kết quả (Excel)").click()
        download = await info.value
        data = await asyncio.to_thread(Path(await download.path()).read_bytes)
        cells = {str(c.value) for row in load_workbook(io.BytesIO(data)).worksheets[0].iter_rows() for c in row}
        assert {"Trần Văn Bình", "Lê Thị An"} <= cells

        # The live progress moves by itself (htmx, every 5 s) when another student starts.
        started = page.locator('#live td[data-count="started"]')
        registered = page.locator('#live td[data-count="registered"]')
        await playwright.expect(started).to_have_text("2")
        await chats[2].say("/thi")
        await chats[2].tap("Đúng, em đăng ký")
        await playwright.expect(registered).to_have_text("3", timeout=12_000)
        assert await started.inner_text() == "2"  # registered, not started yet
        await chats[2].tap("Thi chính thức")
        await playwright.expect(started).to_have_text("3", timeout=12_000)

        # Closing asks first; the page then says it is closed.
        await page.get_by_role("link", name="Đóng vòng thi…").click()
        await page.get_by_role("button", name="Xác nhận: Đóng vòng thi").click()
        assert await page.get_by_role("status").filter(has_text="Đã đóng").is_visible()
        await check_page(page, shots, "da-dong")

        await page.get_by_role("button", name="Đăng xuất").click()
        assert await page.get_by_role("heading", name="Thầy/cô đã đăng xuất").is_visible()
        await page.goto(f"{served}/hoi-thi")
        assert await page.get_by_role("heading", name="Thầy/cô cần đăng nhập").is_visible()
        await browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_teacher_uploads_a_roster_with_a_bad_row_and_makes_the_report(
    web_app: App, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    sheet = tmp_path / "danh-sach-7A.xlsx"
    sheet.write_bytes(write_roster([("Trần Văn Bình", "HS01"), ("", "HS02")]))
    await practise(web_app, await add_students(web_app, ["Phạm Minh Châu", "Lê Thị An", "Võ Thị Hoa"]))
    # Writing the Word file takes a moment here, so the page shows that step while it happens.
    real = docx_report.build_docx

    def slow_docx(*args: Any) -> bytes:
        time.sleep(2.5)
        return real(*args)

    monkeypatch.setattr(docx_report, "build_docx", slow_docx)
    token = await link_for(web_app, "gv")
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(
            accept_downloads=True, locale="vi-VN", viewport={"width": 1280, "height": 800}
        )
        page = await context.new_page()
        await page.goto(f"{served}/dang-nhap?t={token}")
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.get_by_role("link", name="Lớp học").click()
        await check_page(page, tmp_path, "lop")
        await page.get_by_label("Danh sách lớp").set_input_files(str(sheet))
        await page.get_by_role("button", name="Tải lên").click()
        assert await page.get_by_role("alert").is_visible()
        assert await page.get_by_text("Dòng 3: thiếu họ và tên.").is_visible()

        await page.get_by_role("link", name="Báo cáo").click()
        await wait_for_charts(page)
        await check_page(page, tmp_path, "bao-cao")
        await page.get_by_role("button", name="Lập báo cáo 2027", exact=True).click()
        # The progress moves by itself (htmx, every second), then the downloads and the charts appear.
        await playwright.expect(page.get_by_role("status")).to_have_text("Đang ghi tệp Word…", timeout=15_000)
        assert await page.locator("#job li", has_text="Đang vẽ biểu đồ…").filter(has_text="xong").count() == 1
        word = page.get_by_role("link", name="Tải báo cáo (Word)")
        await playwright.expect(word).to_be_visible(timeout=20_000)
        await wait_for_charts(page)
        await check_page(page, shots, "bao-cao")
        async with page.expect_download() as info:
            await word.click()
        data = await asyncio.to_thread(Path(await (await info.value).path()).read_bytes)
        document = Document(io.BytesIO(data))
        assert "năm 2027" in "\n".join(par.text for par in document.paragraphs)
        assert len(document.inline_shapes) == 3
        await browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_teacher_confirms_a_student_and_records_a_guardians_paper_form(
    web_app: App, served: str, tmp_path: Path
) -> None:
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    class_id = await demo_class(web_app)
    await roster(web_app, class_id, [("Nguyễn Văn An", "HS01"), ("Nguyễn Văn An", "HS02"), ("Lê Thị Bình", "HS03")])
    await join(web_app, "an", "Nguyễn Văn An", class_id)
    await join(web_app, "binh", "Lê Thị Bình", class_id)
    await join(web_app, "khoa", "Trần Minh Khoa", class_id)
    token = await link_for(web_app, "gv")
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await (await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})).new_page()
        await page.goto(f"{served}/dang-nhap?t={token}")
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.get_by_role("link", name="Lớp học").click()
        await page.get_by_role("link", name="Học sinh: xác nhận và đồng ý của phụ huynh").click()
        assert await page.get_by_role("heading", name="Học sinh lớp 7A", level=1).is_visible()
        await check_page(page, shots, "hoc-sinh")

        await page.get_by_label("Nguyễn Văn An (HS02)").check()
        await page.get_by_role("button", name="Ghép Nguyễn Văn An").click()
        assert await page.get_by_role("status").filter(has_text="Đã ghép học sinh").is_visible()

        # A parent's name instead of the form's number: said next to the field, nothing recorded.
        field = page.get_by_label("Số phiếu đồng ý của phụ huynh em Trần Minh Khoa")
        await field.fill("Trần Thị Mẹ")
        await page.get_by_role("button", name="Ghi nhận Trần Minh Khoa").click()
        assert await page.get_by_role("alert").filter(has_text="ít nhất một chữ số").is_visible()
        await page.get_by_label("Số phiếu đồng ý của phụ huynh em Trần Minh Khoa").fill("7A-12")
        await page.get_by_role("button", name="Ghi nhận Trần Minh Khoa").click()
        assert await page.get_by_role("status").filter(has_text="Đã ghi nhận phiếu đồng ý số 7A-12").is_visible()
        row = page.locator("tr", has=page.get_by_role("rowheader", name="Trần Minh Khoa"))
        assert "phiếu giấy số 7A-12" in await row.inner_text()
        await check_page(page, shots, "dong-y")
        await browser.close()


async def practise(app: App, chats: list[Any]) -> None:
    """Lessons opened and finished, and practice, in a few topics: what the charts show."""
    now = app.clock()
    done = [("an-toan-giao-thong", 3), ("ma-tuy", 2), ("an-toan-mang", 1)]
    async with app.uow_factory() as uow:
        for i, chat in enumerate(chats):
            user = await uow.users.by_account(chat.address.channel, chat.address.user_id)
            assert user is not None
            for topic, times in done[: len(chats) - i]:
                for _ in range(times):
                    for kind in (activity.LESSON_OPENED, activity.LESSON_COMPLETED, activity.PRACTICE_FINISHED):
                        await uow.activity.add_for_student(kind, now, user.id, topic=topic)
        await uow.commit()


async def wait_for_charts(page: Any) -> None:
    """Every chart on the page has loaded (an image that failed has no natural width)."""
    charts = page.locator(".charts img")
    assert await charts.count() == 3
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.charts img')].every(i => i.complete && i.naturalWidth > 0)"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("who", ["btc", "qt", "gv"])
async def test_every_page_of_the_menu_is_labelled_readable_and_reached_by_the_keyboard(
    web_app: App, served: str, tmp_path: Path, who: str
) -> None:
    """Each role's menu, page by page: every input labelled, text contrast WCAG AA, and the keyboard's first stop
    the skip link, then the menu."""
    token = await link_for(web_app, who)
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await (await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})).new_page()
        await page.goto(f"{served}/dang-nhap?t={token}")
        await page.get_by_role("button", name="Đăng nhập").click()
        await page.wait_for_url(f"{served}/")
        menu = await page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert "/" in menu and "/bao-cao" in menu and len(menu) >= 3, menu
        for href in menu:
            await page.goto(served + href)
            await page.wait_for_load_state("networkidle")
            await check_page(page, tmp_path, f"{who}{href.replace('/', '-')}")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.textContent") == "Bỏ qua, đến nội dung chính", href
        await browser.close()
