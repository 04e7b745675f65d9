"""Read a spreadsheet archive (``.xlsx``, or the same sheet saved as ``.csv``) into rows."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from betting.games.providers.records import ParseError


@dataclass
class Table:
    path: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number in the file, header -> cell text)

    def require(self, columns: list[str]) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise ParseError(
                f"missing column(s) {', '.join(missing)}; the header is {', '.join(self.header) or 'empty'}",
                path=self.path,
                row=1,
            )


def cell_text(value: object) -> str:
    """Cell to text the way a person reads it: 1030.0 -> '1030', None -> ''.

    A cell formatted as a real date becomes ``MMDD``, the archives' own way to write a date.
    """
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value:%m%d}".lstrip("0")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path | str) -> Table:
    path = Path(path)
    if not path.is_file():
        raise ParseError("no such file", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _read_csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        raw_rows = _read_xlsx(path)
    else:
        raise ParseError(f"unsupported file type {suffix!r}: expected .csv or .xlsx", path=str(path))
    if not raw_rows:
        raise ParseError("the file is empty", path=str(path))
    header = [cell_text(v).lstrip("\ufeff") for v in raw_rows[0]]
    while header and not header[-1]:
        header.pop()
    rows = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        cells = [cell_text(v) for v in raw]
        if not any(cells):
            continue  # blank line
        if len(cells) > len(header) and any(cells[len(header) :]):
            raise ParseError(
                f"the row has {len(cells)} cells but the header only {len(header)} columns",
                path=str(path),
                row=number,
            )
        cells += [""] * (len(header) - len(cells))
        rows.append((number, dict(zip(header, cells, strict=False))))
    return Table(path=str(path), header=header, rows=rows)


def _read_csv(path: Path) -> Sequence[Sequence[object]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise ParseError(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", path=str(path)) from exc
    except csv.Error as exc:
        raise ParseError(f"not a readable CSV file: {exc}", path=str(path)) from exc


def _read_xlsx(path: Path) -> Sequence[Sequence[object]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ParseError(f"not a readable .xlsx workbook: {exc}", path=str(path)) from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
