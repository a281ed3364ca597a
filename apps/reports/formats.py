"""The file writers: CSV (streamed), XLSX (xlsxwriter in constant memory), PDF (a summary through WeasyPrint) and
XML (the report's own). Each writes a report's tables to a binary file object, in order, consuming every table's
rows once.

Same data, same bytes: nothing in a file depends on when or by whom it was made (no run id, no creation time:
XLSX and PDF carry a fixed creation date, the period's end when the report has one), values are written by type
(``Decimal`` as its exact digits at the currency's scale, never through float; dates as ISO), and rows come in the
order the report's queries give them (they order completely)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from apps.reports.types import Column, Table

# ISO 4217 minor units of the currencies with other than two (the ledger keeps four decimals: a money value is
# written at its currency's scale when that loses nothing, else with every digit it has).
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3}

PDF_MAX_ROWS = 200  # a PDF is a summary: a longer table is cut there, with a line saying how many rows follow


@dataclass(frozen=True)
class Meta:
    """What heads a file: the report's title, its parameters as texts, and a fixed date for the file's metadata."""

    title: str
    report: str
    params: dict[str, str]
    created: date

    def header_lines(self) -> list[str]:
        return [self.title, *(f"{name}: {value}" for name, value in self.params.items())]


def money_text(value: Decimal, currency: str) -> str:
    scale = MINOR_UNITS.get(currency.upper(), 2)
    quantum = Decimal(1).scaleb(-scale)
    rounded = value.quantize(quantum)
    return format(rounded if rounded == value else value.normalize(), "f")


def cell_text(column: Column, value: Any, row: Sequence[Any], index: dict[str, int]) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column.kind == "money":
            currency = str(row[index[column.currency]]) if column.currency and column.currency in index else ""
            return money_text(value, currency)
        return format(value, "f")
    if isinstance(value, float):  # no report should hand a float; if one does, never print its binary noise
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _index(columns: Sequence[Column]) -> dict[str, int]:
    return {column.key: position for position, column in enumerate(columns)}


class _Counter:
    """Counts the rows a writer consumed (the run's row count) and calls back every ``every`` rows."""

    def __init__(self, on_rows: Any = None, every: int = 5000) -> None:
        self.rows = 0
        self.on_rows = on_rows
        self.every = every

    def wrap(self, rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
        for row in rows:
            self.rows += 1
            if self.on_rows is not None and self.rows % self.every == 0:
                self.on_rows(self.rows)
            yield row


# --- CSV


def write_csv(out: IO[bytes], meta: Meta, tables: Iterable[Table], counter: _Counter) -> None:
    """One table: its header row and rows. Several: each as a block (a line with the table's title, its header,
    its rows) with a blank line between blocks. The report's title and parameters come first as comment lines
    (``#``), which spreadsheet imports and ``csv`` readers given ``comment`` skip."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    for line in meta.header_lines():
        writer.writerow([f"# {line}"])
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        writer.writerow([f"# {table.title}"])
        writer.writerow([column.label for column in table.columns])
        index = _index(table.columns)
        for row in counter.wrap(table.rows):
            writer.writerow(
                [cell_text(column, value, row, index) for column, value in zip(table.columns, row, strict=True)]
            )
    text.flush()
    text.detach()


# --- XLSX


def write_xlsx(out: IO[bytes], meta: Meta, tables: Iterable[Table], counter: _Counter) -> None:
    """A sheet per table (constant memory: rows are written and forgotten). Money and counts are numbers in the
    sheet (Decimal written as its exact text to xlsxwriter's number cell would go through float, so money cells
    are numbers from the Decimal's string: Excel holds 15 significant digits, enough for any amount below 10^13
    at four decimals) with a number format at the currency's scale."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False, "strings_to_numbers": False})
    created = datetime.combine(meta.created, time(0, 0))
    workbook.set_properties({"title": meta.title, "subject": meta.report, "created": created, "author": "Pitboss"})
    bold = workbook.add_format({"bold": True})
    formats: dict[int, Any] = {}

    def money_format(scale: int) -> Any:
        if scale not in formats:
            formats[scale] = workbook.add_format({"num_format": "#,##0" + ("." + "0" * scale if scale else "")})
        return formats[scale]

    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    used: set[str] = set()
    for table in tables:
        name = _sheet_name(table.name, used)
        sheet = workbook.add_worksheet(name)
        sheet.write_string(0, 0, table.title, bold)
        for col, column in enumerate(table.columns):
            sheet.write_string(1, col, column.label, bold)
            sheet.set_column(col, col, max(10, min(40, len(column.label) + 2)))
        index = _index(table.columns)
        for number, row in enumerate(counter.wrap(table.rows), start=2):
            for col, (column, value) in enumerate(zip(table.columns, row, strict=True)):
                if value is None:
                    continue
                if isinstance(value, Decimal):
                    currency = str(row[index[column.currency]]) if column.currency in index else ""
                    scale = MINOR_UNITS.get(currency.upper(), 2) if column.kind == "money" else 4
                    # A sheet's numbers are doubles (the file format's own): written as float(Decimal), the cell's
                    # text is the Decimal's digits for up to 15 significant digits; CSV and XML stay the exact record.
                    sheet.write_number(number, col, float(value), money_format(scale))
                elif isinstance(value, bool):
                    sheet.write_string(number, col, "yes" if value else "no")
                elif isinstance(value, int):
                    sheet.write_number(number, col, value)
                elif isinstance(value, datetime):
                    sheet.write_string(number, col, value.isoformat())
                elif isinstance(value, date):
                    sheet.write_datetime(number, col, datetime.combine(value, time(0, 0)), date_format)
                else:
                    sheet.write_string(number, col, str(value))
    params = workbook.add_worksheet(_sheet_name("parameters", used))
    for number, line in enumerate(meta.header_lines()):
        params.write_string(number, 0, line)
    workbook.close()


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "sheet"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[:25]}_{n}"
    used.add(candidate.lower())
    return candidate


# --- PDF


def write_pdf(out: IO[bytes], meta: Meta, tables: Iterable[Table], counter: _Counter) -> None:
    """A printable summary: the title, the parameters and each table (at most PDF_MAX_ROWS rows each, then a line
    saying how many more the CSV or XLSX holds), through the admin's template ``reports/pdf.html``. Fonts are the
    DejaVu family Debian installs (Makefile ``pdflibs``); WeasyPrint reads nothing over the network."""
    from django.template.loader import render_to_string
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML  # its import turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated  # KYC intake refuses to run with it on (apps/kyc/intake.py)

    rendered: list[dict[str, Any]] = []
    for table in tables:
        index = _index(table.columns)
        numeric = [column.kind in ("money", "int", "percent") for column in table.columns]
        rows: list[list[tuple[str, bool]]] = []
        more = 0
        for row in counter.wrap(table.rows):
            if len(rows) < PDF_MAX_ROWS:
                cells = (cell_text(column, value, row, index) for column, value in zip(table.columns, row, strict=True))
                rows.append(list(zip(cells, numeric, strict=True)))
            else:
                more += 1
        rendered.append(
            {"title": table.title, "note": table.note, "columns": table.columns, "rows": rows, "more": more}
        )
    html = render_to_string("reports/pdf.html", {"meta": meta, "tables": rendered})
    document = HTML(string=html, base_url=None, url_fetcher=_no_fetch).render()
    document.metadata.title = meta.title
    stamp = f"{meta.created.isoformat()}T00:00:00Z"
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.write_pdf(out, pdf_identifier=meta.report.encode()[:32].ljust(16, b"-"))


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"a report's PDF fetches nothing ({url})")


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_pdf}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "xml": "application/xml",
}
