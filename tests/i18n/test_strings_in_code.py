"""Guards for the code the chat speaks through (bot/core, bot/channels): every Vietnamese sentence goes through
gettext, and no gettext call hides inside an f-string, where the extractor does not see it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.i18n.helpers import VIETNAMESE

ROOT = Path(__file__).resolve().parents[2]
CHAT_CODE = ("bot/core", "bot/channels")
GETTEXT = {"_", "N_", "gettext"}

# Vietnamese literals that are meant to stay out of the catalog, by file and the literal's first characters.
ALLOWED = {
    # The language question is shown before a language is chosen, so it is written in both languages.
    ("bot/core/flows/onboarding.py", "Xin chào! 👋"),
    ("bot/core/flows/onboarding.py", "Em chọn ngôn ngữ nhé / Choose"),
    ("bot/core/flows/onboarding.py", "Tiếng Việt"),
    # Folding Vietnamese text for matching typed words.
    ("bot/core/text.py", "Đ"),
    ("bot/core/text.py", "đ"),
    # Bank-size warnings for the organizer's terminal (`contest check`), not the chat.
    ("bot/core/services/contests.py", "tiểu học"),
    ("bot/core/services/contests.py", "Cảnh báo: ngân hàng chỉ có "),
    ("bot/core/services/contests.py", " câu cho học sinh "),
    ("bot/core/services/contests.py", " câu mỗi bài; nên có ít nhất "),
    # The period as the official Vietnamese report names it (the chat uses `period_phrase`).
    ("bot/core/services/reports.py", "6 tháng đầu năm "),
    ("bot/core/services/reports.py", "năm "),
    ("bot/core/services/reports.py", "từ ngày "),
    ("bot/core/services/reports.py", " đến ngày "),
    # PeriodError texts are printed by the terminal command; the chat answers with its own translated sentence.
    ("bot/core/services/reports.py", "Kỳ báo cáo không hợp lệ: "),
    ("bot/core/services/reports.py", " (ví dụ: 2026-H1 hoặc 2026)."),
    ("bot/core/services/reports.py", "Cần cả ngày bắt đầu và ngày kết thúc."),
    ("bot/core/services/reports.py", "Ngày kết thúc phải sau ngày bắt đầu."),
    ("bot/core/services/reports.py", "Ngày không hợp lệ: "),
    ("bot/core/services/reports.py", " (dùng YYYY-MM-DD hoặc DD/MM/YYYY)."),
    # The place and date line of official documents (reports, certificates), which are always in Vietnamese.
    ("bot/core/clock.py", "ngày "),
    ("bot/core/clock.py", " tháng "),
    ("bot/core/clock.py", " năm "),
    # The console channel's own help for developers trying the bot in a terminal.
    ("bot/channels/console/app.py", "Đổi người dùng: /as hs"),
    ("bot/channels/console/app.py", "(Bây giờ em là: "),
    # Where the console wrote a file the bot sent (the terminal's own line, like the one above).
    ("bot/channels/console/transport.py", " – đã lưu vào "),
}


def _files() -> list[Path]:
    return sorted(p for d in CHAT_CODE for p in (ROOT / d).rglob("*.py"))


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _docstrings(tree: ast.AST) -> set[ast.AST]:
    out: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(first.value)
    return out


def untranslated_literals(path: Path) -> list[tuple[int, str]]:
    """Vietnamese string literals of a module that no gettext call encloses (docstrings excepted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents, docs = _parents(tree), _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or node in docs:
            continue
        if not VIETNAMESE.search(node.value):
            continue
        up: ast.AST = node
        while up in parents:
            up = parents[up]
            if isinstance(up, ast.Call) and _name(up.func) in GETTEXT:
                break
        else:
            found.append((node.lineno, node.value))
    return found


def test_vietnamese_sentences_in_chat_code_go_through_gettext() -> None:
    escaped = []
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        for lineno, text in untranslated_literals(path):
            if not any(rel == f and text.startswith(prefix) for f, prefix in ALLOWED):
                escaped.append(f"{rel}:{lineno}: {text[:60]!r}")
    assert escaped == [], "wrap these in ctx._() / N_():\n" + "\n".join(escaped)


def test_no_gettext_call_inside_an_f_string() -> None:
    hidden = []
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fstring in (n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)):
            for node in ast.walk(fstring):
                if isinstance(node, ast.Call) and _name(node.func) in GETTEXT:
                    arg = node.args[0] if node.args else None
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):  # a literal the pot misses
                        hidden.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {arg.value!r}")
    assert hidden == [], "move these out of the f-string so `i18n extract` finds them:\n" + "\n".join(hidden)


def test_the_guard_sees_an_unwrapped_sentence(tmp_path: Path) -> None:
    module = tmp_path / "flow.py"
    module.write_text(
        '"""Một docstring tiếng Việt."""\n'
        "def f(ctx):\n"
        '    ctx.say("Chào em!")\n'
        '    ctx.say(ctx._("Đã dịch"))\n'
        '    ctx.ask(ctx._("Chọn"), [(ctx._("Có"), "a"), ("Không", "b")])\n',
        encoding="utf-8",
    )
    assert untranslated_literals(module) == [(3, "Chào em!"), (5, "Không")]
