"""Extract messages from the code into messages.pot, update the .po catalogs, check and compile them."""

from __future__ import annotations

import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PKG = Path(__file__).resolve().parent
LOCALES = PKG / "locales"
KEYWORDS = {"_": None, "N_": None, "gettext": None}
TRANSLATED = ("en",)  # Vietnamese is the source language: its catalog would only repeat the msgids


def extract() -> Catalog:
    catalog = Catalog(project="antt-bot", msgid_bugs_address=None, charset="utf-8")
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2.ext:babel_extract")]
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(PKG), method_map=method_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if isinstance(message, str) and message:
            catalog.add(message, locations=[(f"bot/{filename}", lineno)], auto_comments=comments)
    return catalog


def po_path(locale: str, locales_dir: Path = LOCALES) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str, locales_dir: Path = LOCALES) -> Catalog:
    path = po_path(locale, locales_dir)
    if not path.exists():
        return Catalog(locale=locale, project="antt-bot", charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a str.format template (format specs such as `{rate:.0%}` count by name)."""
    try:
        return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field is not None}
    except ValueError:  # an unbalanced brace: not a template, so it has no fields
        return set()


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """Msgids of the template that the catalog lacks, leaves empty or marks fuzzy (fuzzy ones are not used)."""
    out = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or not found.string or found.fuzzy:
            out.append(message.id if isinstance(message.id, str) else message.id[0])  # a plural: its singular
    return out


def mismatched_placeholders(catalog: Catalog) -> list[str]:
    """Msgids whose translation does not keep exactly the same `{placeholders}`."""
    return [
        m.id
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and placeholders(m.id) != placeholders(str(m.string))
    ]


def _extract_command(template: Catalog) -> int:
    with (LOCALES / "messages.pot").open("wb") as fh:
        write_po(fh, template, width=120, omit_header=False)
    for locale in TRANSLATED:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_catalog(locale)
        catalog.update(template)
        catalog.fuzzy = False  # the header only; fuzzy messages keep their flag until a translator checks them
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, ignore_obsolete=True)
    print(f"{len(template)} messages")
    return 0


def _check_command(template: Catalog) -> int:
    """Lists the messages still to translate; exit status 1 when there is any (run it after adding strings)."""
    status = 0
    for locale in TRANSLATED:
        catalog = read_catalog(locale)
        missing = untranslated(template, catalog)
        broken = mismatched_placeholders(catalog)
        for msgid in missing:
            print(f"{locale}: untranslated: {msgid!r}")
        for msgid in broken:
            print(f"{locale}: placeholders differ: {msgid!r}")
        done = len(template) - len(missing)
        print(f"{locale}: {done}/{len(template)} translated, {len(broken)} with wrong placeholders")
        if missing or broken:
            status = 1
    return status


def main(command: str) -> int:
    LOCALES.mkdir(exist_ok=True)
    if command == "extract":
        return _extract_command(extract())
    if command == "check":
        return _check_command(extract())
    for path in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=path.parents[1].name)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)
    return 0
