"""A student who picks English at onboarding sees English in the menu, the help and a practice quiz."""

from __future__ import annotations

from bot.accounts.menus import MENUS, command_menu
from bot.accounts.seed import DEMO_SCHOOL, seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from tests.core.test_console_flows import option_number
from tests.i18n.helpers import VIETNAMESE


def assert_english(screen: str) -> None:
    assert not VIETNAMESE.findall(screen), f"Vietnamese left in an English screen:\n{screen}"


async def onboard_in_english(session: ConsoleSession, code: str) -> str:
    screen = await session.send("/start")
    assert "Choose your language" in screen  # the language question is bilingual on purpose
    screen = await session.send(option_number(screen, "English"))
    assert "Do you agree?" in screen and "/privacy" in screen
    assert_english(screen)
    screen = await session.send(option_number(screen, "I agree"))
    assert "Type the class code your teacher gave you" in screen
    screen = await session.send(code.lower())
    assert "You've joined class 7A" in screen
    screen = await session.send("Anna Lee")
    assert "Thank you, Anna Lee!" in screen
    return screen


async def test_english_student_sees_english_menu_help_and_quiz(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    screen = await onboard_in_english(student, demo.class_code)

    # The menu: every label translated (the school name from the demo data is not the bot's own words).
    assert "What would you like to do next?" in screen
    for label in ("📚 Lessons", "✍️ Practice", "🏆 Contests", "📋 Assigned lessons", "📊 Your progress", "🆘 Help"):
        assert label in screen
    assert_english(screen.replace(DEMO_SCHOOL, ""))

    screen = await student.send("/menu")
    assert "What would you like to do next?" in screen
    assert_english(screen)

    # Help: the hotlines with their numbers, in English.
    screen = await student.send("/help")
    assert "When you need help, call (free):" in screen
    for number in ("111", "113", "114", "115"):
        assert f"• {number} – " in screen
    assert "Commands: /start start" in screen
    assert_english(screen)

    # A practice quiz: the topic list and the question header are English; the question itself is content
    # (Vietnamese data) and is not checked.
    screen = await student.send("/practice")
    assert "Which topic would you like to practise?" in screen
    assert "💊 Saying no to drugs" in screen and "🚦 Road safety" in screen
    assert_english(screen)
    screen = await student.send(option_number(screen, "Saying no to drugs"))
    assert "✍️ Practice: 💊 Saying no to drugs" in screen
    assert "Question 1/5" in screen and "Câu 1/5" not in screen
    screen = await student.send(option_number(screen, "Đáp án đúng"))  # the right option of the synthetic bank
    assert "✅ Correct!" in screen and "Question 2/5" in screen


async def test_english_student_changes_back_to_vietnamese(app: App) -> None:
    demo = await seed_demo(app.uow_factory, app.clock)
    student = ConsoleSession(app.dispatcher, user="hs")
    await onboard_in_english(student, demo.class_code)
    screen = await student.send("/language")
    screen = await student.send(option_number(screen, "Tiếng Việt"))
    assert "Đã đổi ngôn ngữ sang Tiếng Việt." in screen and "Em muốn làm gì tiếp theo?" in screen
    screen = await student.send("/language")
    screen = await student.send(option_number(screen, "English"))
    assert "Language changed to English." in screen and "What would you like to do next?" in screen


def test_command_menus_are_translated_for_every_role(app: App) -> None:
    for role in MENUS:
        english = command_menu(app.i18n, role, "en")
        assert english and all(not VIETNAMESE.search(text) for _name, text in english), english
        vietnamese = command_menu(app.i18n, role, "vi")
        assert [name for name, _ in vietnamese] == [name for name, _ in english]
