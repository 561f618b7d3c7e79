"""The one XLSX writer of the exports (attendance, registry, benefit lists): a bold header row,
column widths, frozen header, a filter, text that is never run as a formula, and formats for
dates and times."""

from __future__ import annotations

import io


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
