"""A small, stable content tree written for tests, so flow tests do not change when real content does."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from bot.content.loader import DEFAULT_CONTENT_DIR
from bot.content.models import STANDARD_FILE, TOPICS
from bot.content.understanding import HOTLINES_FILE, UNDERSTANDING_FILE

SOURCES = [
    {
        "id": "luat-a",
        "number": "1/2020/QH14",
        "title": "Luật Thử A",
        "kind": "Luật",
        "issuer": "Quốc hội",
        "effective_from": "2020-01-01",
    },
    {
        "id": "luat-old",
        "number": "2/2019/QH14",
        "title": "Luật Cũ",
        "kind": "Luật",
        "issuer": "Quốc hội",
        "effective_from": "2019-01-01",
        "effective_until": "2026-06-30",
        "replaced_by": "luat-new",
    },
    {
        "id": "luat-new",
        "number": "3/2025/QH15",
        "title": "Luật Mới",
        "kind": "Luật",
        "issuer": "Quốc hội",
        "effective_from": "2026-07-01",
    },
]


WORDS = (
    "xe đạp",
    "mũ bảo hiểm",
    "đèn đỏ",
    "bình chữa cháy",
    "lối thoát",
    "mật khẩu",
    "bạn bè",
    "thầy cô",
    "sân trường",
    "vạch kẻ",
    "điện thoại",
    "trò chơi",
    "tin nhắn",
    "hình ảnh",
    "khói",
    "ổ cắm",
    "kẹo lạ",
    "cổng trường",
    "lớp học",
    "thư viện",
    "cầu thang",
    "bếp ga",
    "ngã tư",
    "vỉa hè",
    "mạng xã hội",
    "tài khoản",
)


def stem_for(qid: str, n: int) -> str:
    """Distinct stems, so the near-duplicate check has nothing to say about test content."""
    import random

    words = random.Random(f"{qid}:{n}").sample(WORDS, 5)
    return f"Khi gặp {words[0]} và {words[1]}, {words[2]} hay {words[3]} quan trọng hơn với {words[4]}?"


def question(qid: str, band: str, n: int, source: str = "luat-a") -> dict[str, Any]:
    return {
        "id": qid,
        "band": band,
        "difficulty": 1 + n % 3,
        "stem": stem_for(qid, n),
        "options": [f"Đáp án đúng {n}", f"Đáp án sai một {n}", f"Đáp án sai hai {n}"],
        "answer": 0,
        "explanation": f"Theo Điều {n} Luật Thử A, đáp án đúng là lựa chọn thứ nhất.",
        "citation": {"source": source, "article": f"Điều {n}"},
    }


def lesson(topic: str, band: str, idx: int) -> dict[str, Any]:
    lid = f"{topic}-{band.replace('_', '-')}-{idx}"
    return {
        "id": lid,
        "topic": topic,
        "band": band,
        "title": f"Bài {idx} {topic} ({band})",
        "cards": [
            {"kind": "story", "text": f"Thẻ mở đầu của bài {lid}: một tình huống ở trường."},
            {
                "kind": "law",
                "text": f"Pháp luật quy định điều này cho bài {lid}.",
                "citations": [{"source": "luat-a", "article": "Điều 1"}],
            },
            {"kind": "todo", "text": "Em cần làm gì? Em hãy nói với thầy cô."},
            {"kind": "help", "text": "Khi cần giúp, em gọi 111."},
        ],
        "checks": [question(f"{lid}-c1", band, 1), question(f"{lid}-c2", band, 2)],
    }


PLEDGE_TEMPLATES = [
    {
        "id": "mau-giao-thong",
        "title": "Cam kết an toàn giao thông (thử)",
        "text": "Em xin cam kết:\n1. Đội mũ bảo hiểm khi ngồi trên xe máy (Điều 1 Luật Thử A).\n2. Đi bộ trên vỉa hè.",
        "citations": [{"source": "luat-a", "article": "Điều 1"}],
    },
    {
        "id": "mau-khong-phao",
        "title": "Cam kết không sử dụng pháo nổ (thử)",
        "text": "Em xin cam kết:\n1. Không mua, không đốt pháo nổ.\n2. Thấy vật lạ, em báo người lớn.",
    },
    {
        "id": "mau-het-hieu-luc",
        "title": "Cam kết theo luật cũ (thử)",
        "text": "Em xin cam kết thực hiện Điều 2 Luật Cũ, một văn bản đã hết hiệu lực.",
        "citations": [{"source": "luat-old", "article": "Điều 2"}],
    },
]


def write_test_content(root: Path, questions_per_topic: int = 8) -> Path:
    """Write sources, one lesson per band per topic, a bank per topic and pledge templates under `root`; returns
    root. The word lists and the hotlines are the real ones, so the tests of free text test what a school has in
    its files."""
    (root / "lessons").mkdir(parents=True, exist_ok=True)
    (root / "quizzes").mkdir(parents=True, exist_ok=True)
    for name in (UNDERSTANDING_FILE, HOTLINES_FILE, STANDARD_FILE):
        shutil.copyfile(DEFAULT_CONTENT_DIR / name, root / name)
    (root / "sources.yaml").write_text(yaml.safe_dump({"sources": SOURCES}, allow_unicode=True), encoding="utf-8")
    (root / "pledges.yaml").write_text(
        yaml.safe_dump({"templates": PLEDGE_TEMPLATES}, allow_unicode=True), encoding="utf-8"
    )
    for t, topic in enumerate(TOPICS):
        (root / "lessons" / topic).mkdir(exist_ok=True)
        for band in ("primary", "lower_secondary"):
            path = root / "lessons" / topic / f"{band}-1.yaml"
            path.write_text(yaml.safe_dump(lesson(topic, band, 1), allow_unicode=True), encoding="utf-8")
        qs = [
            question(f"{topic}-q{i}", "primary" if i % 2 else "lower_secondary", 10 * t + i)
            for i in range(questions_per_topic)
        ]
        if topic == "ma-tuy":
            old = question("ma-tuy-old", "primary", 90, source="luat-old")
            new = question("ma-tuy-new", "primary", 91, source="luat-new")
            qs += [old, new]
        (root / "quizzes" / f"{topic}.yaml").write_text(
            yaml.safe_dump({"topic": topic, "questions": qs}, allow_unicode=True), encoding="utf-8"
        )
    return root
