"""証明書番号: the serial number format of issued documents. Pure functions, no Django.

A serial is ``<団体コード>-<西暦年>-<6-digit sequence>``, e.g. ``143014-2026-000123``: the
municipality that issued the document (its 6-digit 全国地方公共団体コード, check digit included),
the calendar year of issue and the document's number within that municipality and year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moyai.platform.rules import validate_local_government_code

SERIAL_RE = re.compile(r"^(?P<code>\d{6})-(?P<year>\d{4})-(?P<number>\d{6})$")
# The same, found inside other text (an uploaded PDF's bytes, a URL).
SERIAL_IN_TEXT_RE = re.compile(rb"(?<!\d)(\d{6}-\d{4}-\d{6})(?!\d)")
MAX_NUMBER = 999_999
SERIAL_EXAMPLE = "143014-2026-000123"


@dataclass(frozen=True)
class Serial:
    municipality_code: str
    year: int
    number: int

    def __str__(self) -> str:
        return format_serial(self.municipality_code, self.year, self.number)


def format_serial(municipality_code: str, year: int, number: int) -> str:
    """``143014-2026-000123``."""
    if not 1 <= number <= MAX_NUMBER:
        raise ValueError(f"証明書番号の連番は 1〜{MAX_NUMBER} です: {number}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"西暦年は4桁です: {year}")
    return f"{municipality_code}-{year:04d}-{number:06d}"


def parse_serial(text: str) -> Serial | None:
    """The parts of a well-formed serial, or None (wrong shape, bad check digit, number 0)."""
    m = SERIAL_RE.fullmatch(text.strip()) if text.isascii() else None
    if m is None:
        return None
    if validate_local_government_code(m["code"]) is not None:
        return None
    number = int(m["number"])
    year = int(m["year"])
    if number < 1 or year < 1000:
        return None
    return Serial(m["code"], year, number)
