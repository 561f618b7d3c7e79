"""Every UI string has its English translation, and the compiled catalogue is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
CATALOG = WEBAPP / "translations" / "en" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def test_every_ui_string_is_translated_to_english():
    used = {_key(message) for _f, _l, message, _c, _ctx in extract_from_dir(str(WEBAPP), METHODS, keywords=KEYWORDS)}
    with open(CATALOG / "messages.po", "rb") as handle:
        po = read_po(handle)
    translated = {_key(m.id) for m in po if m.id and _filled(m.string)}
    assert used - translated == set()


def _filled(string):
    return all(string) if isinstance(string, (list, tuple)) else bool(string)


def _key(value):
    """Plural entries have a list or tuple of ids and strings (Babel gives lists from .mo files)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOG / "messages.po", "rb") as handle:
        po = {_key(m.id): _key(m.string) for m in read_po(handle) if m.id}
    with open(CATALOG / "messages.mo", "rb") as handle:
        mo = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    assert po == mo
