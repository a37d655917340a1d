"""Extract messages from the code into messages.pot, update the .po catalogs, and compile them."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PKG = Path(__file__).resolve().parent
LOCALES = PKG / "locales"
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def extract() -> Catalog:
    catalog = Catalog(project="antt-bot", msgid_bugs_address=None, charset="utf-8")
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(PKG), method_map=method_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if isinstance(message, str) and message:
            catalog.add(message, locations=[(f"bot/{filename}", lineno)], auto_comments=comments)
    return catalog


def main(command: str) -> int:
    template = extract()
    LOCALES.mkdir(exist_ok=True)
    if command == "extract":
        with (LOCALES / "messages.pot").open("wb") as fh:
            write_po(fh, template, width=120, omit_header=False)
        for locale in ("en",):
            po_path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
            po_path.parent.mkdir(parents=True, exist_ok=True)
            if po_path.exists():
                with po_path.open("rb") as fh:
                    catalog = read_po(fh, locale=locale)
                catalog.update(template)
            else:
                catalog = Catalog(locale=locale, project="antt-bot", charset="utf-8")
                catalog.update(template)
            with po_path.open("wb") as fh:
                write_po(fh, catalog, width=120, ignore_obsolete=True)
        print(f"{len(template)} messages")
        return 0
    for po_path in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parents[1].name)
        with po_path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)
    return 0
