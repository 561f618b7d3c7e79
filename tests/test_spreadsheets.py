"""The shared writers of the exports (webapp/shared/spreadsheets.py): the formula guard, table-driven,
and the CSV writer that every export (attendance, registry, benefit lists) goes through."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from webapp.shared.spreadsheets import csv as write_csv
from webapp.shared.spreadsheets import no_formula

GUARDED = [
    ("equals", "=SUM(A1:A9)", "'=SUM(A1:A9)"),
    ("hyperlink", '=HYPERLINK("http://x.example","clic")', '\'=HYPERLINK("http://x.example","clic")'),
    ("plus", "+56 9 1234 5678", "'+56 9 1234 5678"),
    ("minus", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("at", "@SUM(1+1)", "'@SUM(1+1)"),
    ("tab", "\t=1+1", "'\t=1+1"),
    ("carriage return", "\r=1+1", "'\r=1+1"),
    ("lone sign", "-", "'-"),
]

UNCHANGED = [
    ("plain text", "Exportadora del Sur SpA"),
    ("empty text", ""),
    ("sign inside", "a=b+c-d@e"),
    ("leading space", " =1+1"),
    ("already quoted", "'=1+1"),
    ("newline first", "\nlínea"),
    ("RUT", "76.086.428-5"),
    ("negative int", -5),
    ("float", -1.5),
    ("none", None),
    ("boolean", True),
    ("date", date(2026, 4, 1)),
]


@pytest.mark.parametrize("value, expected", [case[1:] for case in GUARDED], ids=[case[0] for case in GUARDED])
def test_text_that_would_run_as_a_formula_is_kept_as_text(value, expected):
    assert no_formula(value) == expected


@pytest.mark.parametrize("value", [case[1] for case in UNCHANGED], ids=[case[0] for case in UNCHANGED])
def test_other_values_pass_unchanged(value):
    assert no_formula(value) is value


def _read(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # UTF-8 with BOM, so spreadsheets read the accents right
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_guards_every_cell_and_keeps_quotes_commas_and_accents():
    table = [["RUT", "=Razón social"], ["76.086.428-5", 'Pérez, "Hermanos" y Cía.'], ["-1", None]]
    assert _read(write_csv(table)) == [["RUT", "'=Razón social"], ["76.086.428-5", 'Pérez, "Hermanos" y Cía.'],
                                       ["'-1", ""]]


def test_csv_formats_values_by_type_first_match_wins():
    formats = {datetime: lambda moment: moment.strftime("%Y-%m-%d %H:%M"), date: lambda day: day.isoformat()}
    table = [["Fecha", "Día", "Cupo"], [datetime(2026, 5, 4, 9, 30), date(2026, 5, 4), 25]]
    assert _read(write_csv(table, formats))[1] == ["2026-05-04 09:30", "2026-05-04", "25"]
    assert _read(write_csv(table))[1] == ["2026-05-04 09:30:00", "2026-05-04", "25"]


def test_csv_guards_what_a_format_writes():
    table = [["Monto"], [-3]]
    assert _read(write_csv(table, {int: str}))[1] == ["'-3"]
    assert _read(write_csv(table))[1] == ["-3"]  # a number is not text: a spreadsheet reads it as -3
