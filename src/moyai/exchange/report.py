"""The import validation report as CSV and HTML, for the clerk who fixes the source files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.template.loader import render_to_string

from moyai.exchange.services import ImportReport


def report_csv(report: ImportReport) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["ファイル", "行", "項目", "値", "理由"])
    for p in report.problems:
        writer.writerow([p.file, p.line or "", p.field, p.value, p.reason])
    return buffer.getvalue().encode("utf-8")


def write_report(report: ImportReport, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / "report.csv"
    html_path = directory / "report.html"
    csv_path.write_bytes(report_csv(report))
    html_path.write_text(
        render_to_string("exchange/report.html", {"report": report}), encoding="utf-8"
    )
    return [csv_path, html_path]
