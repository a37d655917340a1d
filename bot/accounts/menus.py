"""The command menus platforms show (Telegram's "/" menu), by role; descriptions are translated per locale."""

from __future__ import annotations

from bot.core.i18n import N_, I18n

_LEARN = [
    ("start", N_("Bắt đầu")),
    ("menu", N_("Các việc em làm được")),
    ("lessons", N_("Học bài")),
    ("practice", N_("Luyện tập")),
]
_COMMON = [
    ("help", N_("Trợ giúp và số điện thoại khẩn cấp")),
    ("language", N_("Đổi ngôn ngữ")),
    ("cancel", N_("Dừng việc đang làm")),
]
MENUS: dict[str, list[tuple[str, str]]] = {
    "student": [
        *_LEARN,
        ("progress", N_("Tiến độ của em")),
        ("join", N_("Vào lớp bằng mã")),
        ("mailbox", N_("Hộp thư an toàn: viết cho thầy cô tư vấn")),
        ("pledge", N_("Đọc và ký bản cam kết")),
        *_COMMON,
    ],
    "teacher": [
        ("menu", N_("Các việc thầy cô làm được")),
        ("classes", N_("Lớp của tôi")),
        ("newclass", N_("Tạo lớp")),
        ("linkclass", N_("Gắn nhóm Telegram của lớp (gửi trong nhóm)")),
        ("mailbox", N_("Hộp thư an toàn (thầy cô tư vấn)")),
        ("pledge", N_("Ký cam kết: số đã ký, danh sách, nhắc")),
        *_LEARN[2:],
        *_COMMON,
    ],
    "school_admin": [
        ("menu", N_("Các việc thầy cô làm được")),
        ("classes", N_("Các lớp của trường")),
        ("newclass", N_("Tạo lớp")),
        ("invite", N_("Mời giáo viên")),
        ("counsellors", N_("Chọn thầy cô tư vấn")),
        ("mailbox", N_("Hộp thư an toàn (thầy cô tư vấn)")),
        ("linkclass", N_("Gắn nhóm Telegram của lớp (gửi trong nhóm)")),
        ("pledge", N_("Ký cam kết: công bố, số đã ký, nhắc")),
        *_COMMON,
    ],
    "organizer": [
        ("menu", N_("Các việc thầy cô làm được")),
        ("newschool", N_("Thêm trường")),
        ("invite", N_("Mời quản trị trường")),
        ("pledge", N_("Ký cam kết: công bố, số đã ký, nhắc")),
        *_LEARN[2:],
        *_COMMON,
    ],
    "group": [("linkclass", N_("Gắn nhóm này với lớp (thầy cô)")), ("help", N_("Trợ giúp"))],
}


# The Vietnamese name of each command (both names work); help lists these to a user who reads Vietnamese.
VIETNAMESE_NAMES: dict[str, str] = {
    "start": "batdau",
    "help": "trogiup",
    "cancel": "huy",
    "language": "ngonngu",
    "lessons": "baihoc",
    "practice": "luyentap",
    "progress": "tiendo",
    "contest": "thi",
    "assigned": "baiduocgiao",
    "join": "vaolop",
    "privacy": "quyenriengtu",
    "link": "lienket",
    "classes": "lop",
    "newclass": "taolop",
    "newschool": "themtruong",
    "invite": "moi",
    "broadcast": "guibai",
    "linkclass": "ganlop",
    "report": "baocao",
    "consent": "dongy",
    "web": "trangquanly",
    "standard": "tieuchuan",
    "mailbox": "hopthu",
    "counsellors": "tuvan",
    "pledge": "camket",
}


def command_names(locale: str) -> dict[str, str]:
    """ "/name" of every command as a user of `locale` is shown it ("/baihoc" in Vietnamese, "/lessons" else);
    `menu` has one name."""
    names = {name: f"/{VIETNAMESE_NAMES[name] if locale == 'vi' else name}" for name in VIETNAMESE_NAMES}
    return {**names, "menu": "/menu"}


def command_menu(i18n: I18n, role: str, locale: str) -> list[tuple[str, str]]:
    """(command, description) for a role ("student", "teacher", ..., or "group" for group chats)."""
    return [(name, i18n.gettext(locale, text)) for name, text in MENUS.get(role, MENUS["student"])]
