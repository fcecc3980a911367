"""``dn-docs batch template``: a file a front desk fills in, with a header of readable
labels, one example row and the values each column allows.

The workbook lists the allowed values on a second sheet and offers them in drop-down
lists; the CSV gives them in a note row (its first cell starts with ``#``), which
batches skip.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..locales import SUPPORTED
from ..request import Area, Condition
from ..storage import write_atomic
from .columns import header_key, vocabulary

#: Template columns: readable label, example value, allowed values.
YES_NO = "yes or no"
COLUMNS: list[tuple[str, str, str]] = [
    ("Kind", "consent;aftercare", "consent, aftercare or consent;aftercare"),
    ("Language", "es", ", ".join(sorted(SUPPORTED)) + " (or a tag such as es-MX)"),
    ("Patient name", "María José Fernández", "text"),
    ("Date of birth", "1984-05-02", "YYYY-MM-DD (or the format given by --date-format)"),
    ("Patient ID", "P-1042", "text (optional)"),
    ("Appointment date", "2026-11-23", "YYYY-MM-DD (or the format given by --date-format)"),
    ("Appointment time", "09:30", "HH:MM, e.g. 14:30 or 2:30 PM (optional; orders the packets)"),
    ("Areas", "gluteal;lower_back", "; between: " + ", ".join(a.value for a in Area)),
    ("Condition", "sciatica", ", ".join(c.value for c in Condition) + " (optional)"),
    ("Electrical stimulation", "no", YES_NO),
    ("Local infection", "no", YES_NO),
    ("Needle phobia", "no", YES_NO),
    ("Able to consent", "yes", YES_NO),
    ("Pregnant", "no", YES_NO),
    ("Immunocompromised", "no", YES_NO),
    ("Lymphedema", "no", YES_NO),
    ("Pacemaker or implant", "no", YES_NO),
    ("Blood thinners", "yes", YES_NO),
    ("Bleeding disorder", "no", YES_NO),
]
FORMATS = ("xlsx", "csv")


def _check_labels() -> None:
    # Every label must name a field, or the template would not read back.
    names = vocabulary()
    missing = [label for label, _, _ in COLUMNS if header_key(label) not in names]
    if missing:
        raise AssertionError(f"template columns name no request field: {missing}")


def csv_template() -> bytes:
    _check_labels()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([label for label, _, _ in COLUMNS])
    writer.writerow(["# allowed: " + COLUMNS[0][2], *(allowed for _, _, allowed in COLUMNS[1:])])
    writer.writerow([example for _, example, _ in COLUMNS])
    # Excel reads a CSV as UTF-8 only with a byte-order mark.
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def xlsx_template() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    _check_labels()
    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook has one sheet
    sheet.title = "Patients"
    sheet.append([label for label, _, _ in COLUMNS])
    sheet.append([example for _, example, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    values = book.create_sheet("Allowed values")
    values.append(["Column", "Allowed values"])
    for label, _, allowed in COLUMNS:
        values.append([label, allowed])
    lists = {"Kind": '"consent,aftercare,consent;aftercare"', YES_NO: '"yes,no"'}
    for index, (label, _, allowed) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(label) + 4)
        formula = lists.get(label) or lists.get(allowed)
        if formula:
            check = DataValidation(type="list", formula1=formula, allow_blank=True)
            check.add(f"{letter}2:{letter}2000")
            sheet.add_data_validation(check)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_template(path: Path, kind: str) -> Path:
    return write_atomic(path, xlsx_template() if kind == "xlsx" else csv_template())
