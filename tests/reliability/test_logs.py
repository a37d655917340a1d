"""Secrets and logs: with DEBUG logging on, a whole console scenario leaves no student name, no typed
message and no token in the logs, including what libraries log and the text of exceptions."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.accounts.seed import seed_demo
from bot.app import App, _setup_logging
from bot.channels.console.app import ConsoleSession
from bot.config import Settings
from bot.logging_setup import REDACTED, Redactor
from tests.reliability.helpers import new_student, option_number

pytestmark = pytest.mark.reliability

TOKEN = "7012345678:AAFakeTokenForTests_abcdefghijklmnop"
ZALO_TOKEN = "3216549870:zalo-secret-token-value-XYZ123456"
WEBHOOK_SECRET = "hook-secret-that-is-long-enough-42"
NAME = "Đặng Thị Kín"
TYPED = "Nhà em ở số 5 đường Hoa Sữa"


@pytest.fixture
def production_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The logging the bot installs at start (`_setup_logging`), at DEBUG, undone afterwards."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ZALO_BOT_TOKEN", ZALO_TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    factory = logging.getLogRecordFactory()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict) + [""]}
    _setup_logging(Settings(_env_file=None), "DEBUG")  # type: ignore[call-arg]
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)
        root.setLevel(levels.pop(""))
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_whole_scenario_at_debug_level_logs_no_name_no_message_text_and_no_token(
    app: App, production_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    demo = await seed_demo(app.uow_factory, app.clock)
    student = await new_student(app, "hs-log", demo.class_code, NAME)
    await student.send(TYPED)
    screen = await student.send("/practice")
    screen = await student.send(option_number(screen, "ma túy"))
    for _ in range(5):
        screen = await student.send(option_number(screen, "Đáp án đúng"))
    screen = await student.send("/privacy")
    await student.send(option_number(screen, "Nhận bản sao dữ liệu"))
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/consent")
    screen = await teacher.send(option_number(screen, "7A"))
    assert NAME in screen

    # What libraries and channel code typically log: request URLs with the token, failures quoting it.
    logging.getLogger("aiogram.event").debug("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    logging.getLogger("bot.channels.zalo").info("polling https://bot-api.example/bot%s/getUpdates", ZALO_TOKEN)
    logging.getLogger("bot.channels.telegram").warning("webhook secret mismatch, expected %s", WEBHOOK_SECRET)
    try:
        raise RuntimeError(f"Cannot connect to https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        logging.getLogger("bot.channels.telegram").exception("start failed")
    logging.getLogger("bot").error("another token seen: 123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123")

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) >= 5 and REDACTED in logged and "start failed" in logged
    for secret in (NAME, TYPED, TOKEN, ZALO_TOKEN, WEBHOOK_SECRET, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123"):
        assert secret not in logged, f"leaked into the logs: {secret[:12]}..."


async def test_the_safe_mailbox_at_debug_level_logs_no_word_of_a_letter_nor_of_a_reply(
    app: App, production_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A child's letter (named and anonymous, urgent), the counsellor's reading, reply and marking, the admin's
    naming, the notices going out and the data copy: no word of the letter, the reply or the child's name."""
    from tests.mailbox.helpers import LETTER, REPLY, STUDENT_NAME, cases, world, write_letter

    caplog.set_level(logging.DEBUG)
    w = await world(app, counsellors=False)
    student, admin, counsellor = w.chat("hs"), w.chat("qt"), w.chat("tv")
    screen = await admin.send("/tuvan")
    screen = await admin.send(option_number(screen, "Chọn thầy/cô tư vấn"))
    await admin.send(option_number(screen, "Cô Tư Vấn"))
    await write_letter(student, urgent=True)
    await write_letter(student, text=LETTER + " (lần hai)", who="Ghi tên")
    first = (await cases(app))[0]
    screen = await counsellor.send("/hopthu")
    screen = await counsellor.send(option_number(screen, f"Thư số {first.id}"))
    screen = await counsellor.send(option_number(screen, "Trả lời"))
    screen = await counsellor.send(REPLY)
    await counsellor.send(option_number(screen, "Đã xong"))
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Thư em đã gửi"))
    screen = await student.send(option_number(screen, f"Thư số {first.id}"))
    assert REPLY in screen
    screen = await student.send("/privacy")
    await student.send(option_number(screen, "Nhận bản sao dữ liệu"))

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (LETTER, LETTER[:20], REPLY, REPLY[:20], STUDENT_NAME):
        assert secret not in logged, f"leaked into the logs: {secret[:12]}..."


def test_the_redactor_hides_tokens_secrets_and_database_passwords() -> None:
    redact = Redactor(["s3cr3t-value"])
    assert redact("bot123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs/getMe") == f"bot{REDACTED}/getMe"
    assert redact("postgresql://antt:pa55word@db:5432/antt") == f"postgresql://antt:{REDACTED}@db:5432/antt"
    assert redact("value=s3cr3t-value;") == f"value={REDACTED};"
    assert redact("Câu 3/5, 12:30, điểm 4") == "Câu 3/5, 12:30, điểm 4"  # ordinary text is left alone
