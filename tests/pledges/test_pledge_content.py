"""Pledge templates are content: the bundled ones load and cite only confirmed instruments in force; a template
with a mistake is an error naming its file and field, and one whose law has ended is not offered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from bot.content.checks import extra_checks
from bot.content.loader import load_content
from tests.fakes.content import PLEDGE_TEMPLATES, write_test_content

PUBLISH_DAY = dt.date(2026, 11, 28)


def test_the_bundled_templates_load_and_are_offered() -> None:
    content = load_content()
    assert content.errors == [] and extra_checks(content) == []
    offered = [t.id for t in content.pledge_templates_on(PUBLISH_DAY)]
    assert offered == ["cam-ket-antt", "cam-ket-an-toan-giao-thong", "cam-ket-khong-phao-no", "cam-ket-khong-ma-tuy"]
    for template in content.pledge_templates.values():
        assert template.text.startswith("Em xin cam kết:") and "Gia đình cam kết" in template.text
        for c in template.citations:
            # Fines of NĐ 168/2024 are not confirmed after NĐ 238/2026; the drug law's articles not at all.
            assert c.source not in ("nd-168-2024", "luat-pcmt-2025", "luat-pcmt-2021")
            assert content.sources[c.source].in_force(PUBLISH_DAY)
        assert not any(number in template.text for number in ("111", "112", "113", "114", "115"))


def write_with(root: Path, templates: list[dict[str, Any]]) -> Path:
    write_test_content(root)
    (root / "pledges.yaml").write_text(yaml.safe_dump({"templates": templates}, allow_unicode=True), encoding="utf-8")
    return root


def test_a_template_with_a_mistake_names_its_file_and_field(tmp_path: Path) -> None:
    good = PLEDGE_TEMPLATES[0]
    content = load_content(
        write_with(
            tmp_path / "content",
            [
                {**good, "id": "mot", "citations": [{"source": "luat-khong-co", "article": "Điều 1"}]},
                {**good, "id": "hai", "titel": "sai tên trường"},
                {**good, "id": "ba", "text": "ngắn"},
                {**good, "id": "ma-tuy-q0"},  # the id of a bank question
            ],
        )
    )
    errors = "\n".join(content.errors)
    assert "content/pledges.yaml: templates[0].citations[0].source: unknown source id 'luat-khong-co'" in errors
    assert "content/pledges.yaml: templates[1].titel: Extra inputs are not permitted" in errors
    assert "content/pledges.yaml: templates[2].text: String should have at least 20 characters" in errors
    assert "content/pledges.yaml: templates[3].id: duplicate id 'ma-tuy-q0' (also in content/quizzes" in errors


def test_a_template_must_mention_the_articles_it_cites_and_its_law_must_be_in_force(tmp_path: Path) -> None:
    content = load_content(
        write_with(
            tmp_path / "content",
            [
                {**PLEDGE_TEMPLATES[1], "citations": [{"source": "luat-a", "article": "Điều 7"}]},
                PLEDGE_TEMPLATES[2],
            ],
        )
    )
    assert content.errors == []
    assert extra_checks(content) == [
        "content/pledges.yaml: mau-khong-phao: text: does not mention the cited article 'Điều 7'"
    ]
    assert [t.id for t in content.pledge_templates_on(PUBLISH_DAY)] == ["mau-khong-phao"]
    assert [t.id for t in content.pledge_templates_on(dt.date(2026, 6, 30))] == ["mau-khong-phao", "mau-het-hieu-luc"]


def test_a_folder_without_the_file_has_no_templates(tmp_path: Path) -> None:
    root = write_test_content(tmp_path / "content")
    (root / "pledges.yaml").unlink()
    content = load_content(root)
    assert content.ok and content.pledge_templates == {}
