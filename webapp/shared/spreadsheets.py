"""The one XLSX writer and the one CSV writer of the exports (attendance, registry, benefit
lists). XLSX: a bold header row, column widths, frozen header, a filter, text that is never run
as a formula, and formats for dates and times. CSV: UTF-8 with a BOM, text that a spreadsheet
would run as a formula neutralised (`no_formula`), and formatters for dates and times."""

from __future__ import annotations

import csv as csv_module
import io
from collections.abc import Callable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def no_formula(value):
    """A text cell a spreadsheet would run as a formula (it starts with = + - @, a tab or a
    carriage return) with a leading apostrophe, so it stays text (CSV injection); any other
    value as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv(table: list[list], formats: dict[type, Callable] | None = None) -> str:
    """`table` (header row first) as CSV text, UTF-8 with a BOM so spreadsheets read the
    accents right. `formats` maps a type (e.g. `datetime`) to the function that writes a value
    of that type (first match wins); every cell then goes through `no_formula`."""
    out = io.StringIO()
    writer = csv_module.writer(out)
    for row in table:
        writer.writerow([no_formula(_formatted(value, formats)) for value in row])
    return "\ufeff" + out.getvalue()


def _formatted(value, formats: dict[type, Callable] | None):
    for kind, write in (formats or {}).items():
        if isinstance(value, kind):
            return write(value)
    return value


def xlsx(table: list[list], title: str, widths: tuple[int, ...], formats: dict | None = None) -> bytes:
    """`table` (header row first) as an XLSX workbook. `formats` maps a type (e.g. `datetime`)
    to the number format of the cells holding a value of that type (first match wins)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in table:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
                continue
            for kind, number_format in (formats or {}).items():
                if isinstance(cell.value, kind):
                    cell.number_format = number_format
                    break
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="0B3A6B")
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    if len(table) > 1:
        sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
