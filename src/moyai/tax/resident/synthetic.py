"""Synthetic 給与支払報告書 for demo municipalities, tests and benchmarks.

Writes records in the national CSV layout (``reports.SALARY_R2``, 144 items, CP932) for
residents of the registry: invented employers, plausible salaries (a log-normal around
4.5 million yen), 社会保険料 at 14.5 %, some 生命保険料 and 地震保険料, and the spouse and
dependants the registry shows in the household (a spouse without income; children by age
class). Everything is invented; only the persons' names, readings, birth dates and addresses
come from the (synthetic) registry. The file reads back through ``reports.read_salary_reports``
and imports like a file received from employers.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from moyai.platform.rules import corporate_number_check_digit
from moyai.registry.rules import ERAS
from moyai.tax.resident.reports import ERA_CODES, SALARY_R2

if TYPE_CHECKING:
    from moyai.registry.models import ResidentRecord

_COLUMNS = {c.field: c.number for c in SALARY_R2.columns if c.field}
_WIDTH = len(SALARY_R2.columns)
_ERA_CODE = {name: code for code, name in ERA_CODES.items()}
_COMPANIES = ("葉山", "湘南", "三浦", "相模", "逗子", "鎌倉", "横須賀", "小田原")
_TRADES = ("工業", "商事", "建設", "運輸", "食品", "精機", "電機", "サービス")


@dataclass(frozen=True)
class Employee:
    """A resident as the employer knows them (from the registry)."""

    name: str
    kana: str
    birth: date
    address: str
    my_number: str = ""
    spouse: bool = False  # a spouse without income in the household
    children: Sequence[int] = ()  # ages on 12/31 of the income year


@dataclass(frozen=True)
class Payer:
    name: str
    address: str
    corporate_number: str
    designated_number: str


@dataclass
class _Row:
    cells: dict[int, str] = field(default_factory=dict)

    def set(self, name: str, value: object) -> None:
        self.cells[_COLUMNS[name]] = str(value)

    def text(self) -> str:
        return ",".join(self.cells.get(n, "") for n in range(1, _WIDTH + 1))


def _wareki_parts(day: date) -> tuple[str, str]:
    for name, start in ERAS:
        if day >= start:
            return _ERA_CODE[name], f"{day.year - start.year + 1:02d}"
    raise ValueError(f"元号のない日付です: {day}")


def _half_kana(kana: str) -> str:
    """Full-width katakana → the half-width the layout asks for (as employers' files have)."""
    out = []
    for ch in kana.replace("\u3000", " "):
        code = ord(ch)
        out.append(_HALF.get(code, ch))
    return "".join(out)


def _half_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xFF61, 0xFF9F + 1):
        full = unicodedata.normalize("NFKC", chr(code))
        if len(full) == 1:
            table[ord(full)] = chr(code)
    for code in range(0x30A0, 0x30FF):
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) == 2 and ord(decomposed[0]) in table:
            mark = "\uff9e" if decomposed[1] == "\u3099" else "\uff9f"
            table[code] = table[ord(decomposed[0])] + mark
    return table


_HALF = _half_table()


def payers(count: int, rng: random.Random, municipality_code: str) -> list[Payer]:
    out = []
    for i in range(count):
        twelve = f"{rng.randrange(10**11, 10**12):012d}"
        name = f"{rng.choice(_COMPANIES)}{rng.choice(_TRADES)}株式会社"
        out.append(
            Payer(
                name=name if i < 64 else f"{name}第{i}事業所",
                address=f"神奈川県三浦郡葉山町堀内{i + 1}番地",
                corporate_number=str(corporate_number_check_digit(twelve)) + twelve,
                designated_number=f"{municipality_code[:5]}{i + 1:05d}",
            )
        )
    return out


def salary_record(
    employee: Employee, payer: Payer, income_year: int, municipality_code: str, rng: random.Random
) -> str:
    """One 個人別明細書 record (a CSV line without the line break)."""
    row = _Row()
    row.set("record_kind", "315")
    row.set("payer_address", payer.address)
    row.set("payer_name", payer.name)
    row.set("correction", "0")
    row.set("year", _wareki_parts(date(income_year, 12, 31))[1])
    row.set("address", employee.address[:60])
    row.set("name", employee.name[:30])
    row.set("kana", _half_kana(employee.kana)[:60])
    row.set("kind", "給料・賞与")
    salary = int(min(20_000_000, max(600_000, rng.lognormvariate(15.3, 0.45)))) // 1000 * 1000
    row.set("payment_amount", salary)
    row.set("social_insurance", salary * 145 // 1000)
    if rng.random() < 0.5:
        row.set("new_life_premium", rng.choice((24_000, 60_000, 120_000)))
    if rng.random() < 0.3:
        row.set("care_medical_premium", rng.choice((18_000, 36_000)))
    if rng.random() < 0.3:
        row.set("earthquake_insurance_deduction", rng.choice((12_000, 30_000, 50_000)))
    era, year = _wareki_parts(employee.birth)
    row.set("birth_era", era)
    row.set("birth_year", year)
    row.set("birth_month", f"{employee.birth.month:02d}")
    row.set("birth_day", f"{employee.birth.day:02d}")
    if employee.spouse:
        row.set("spouse_status", "1")
    specific = sum(1 for a in employee.children if 19 <= a <= 22)
    other = sum(1 for a in employee.children if a >= 16 and not 19 <= a <= 22)
    under16 = sum(1 for a in employee.children if a < 16)
    for name, n in (
        ("specific_dependents", specific),
        ("other_dependents", other),
        ("under16_dependents", under16),
    ):
        if n:
            row.set(name, n)
    if rng.random() < 0.12:  # 普通徴収への切替 (e.g. 普A: 総従業員数2人以下)
        row.set("ordinary_collection", "1")
        row.set("remarks", "普A")
    row.set("payer_number", payer.corporate_number)
    if employee.my_number:
        row.set("my_number", employee.my_number)
    row.set("municipality_code", municipality_code)
    row.set("designated_number", payer.designated_number)
    row.set("creation_kind", "2")
    return row.text()


def salary_file_lines(
    employees: Iterable[Employee],
    *,
    income_year: int,
    municipality_code: str,
    seed: int = 1,
    employers: int = 20,
) -> Iterator[str]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    companies = payers(employers, rng, municipality_code)
    for employee in employees:
        payer = companies[min(int(rng.paretovariate(1.2)) - 1, employers - 1)]
        yield salary_record(employee, payer, income_year, municipality_code, rng)


def salary_file(
    employees: Iterable[Employee],
    *,
    income_year: int,
    municipality_code: str,
    seed: int = 1,
    employers: int = 20,
) -> bytes:
    """A whole 給与支払報告書 file, CP932 with CRLF as employers send it."""
    lines = salary_file_lines(
        employees,
        income_year=income_year,
        municipality_code=municipality_code,
        seed=seed,
        employers=employers,
    )
    return "".join(f"{line}\r\n" for line in lines).encode("cp932", errors="replace")


def demo_employees(*, on: date, seed: int = 1, share: float = 0.6) -> list[Employee]:
    """Residents of the current municipality on ``on`` whom a synthetic employer pays: about
    ``share`` of those aged 18–69. The 世帯主 gets the household's spouse (if not employed)
    and children as dependants. Reads the registry (audited as one extract)."""
    from moyai.platform import crypto
    from moyai.platform.tenancy import current_tenant
    from moyai.registry.rules import age_on
    from moyai.registry.selectors import residents_as_of

    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    income_year_end = date(on.year - 1, 12, 31)
    households: dict[str, list[ResidentRecord]] = {}
    for record in residents_as_of(on=on, purpose="架空の課税資料の作成（デモ）"):
        households.setdefault(record.household_number, []).append(record)
    code = current_tenant().code
    out: list[Employee] = []
    for members in households.values():
        employed = set()
        for r in members:
            birth = r.birth.as_date()
            if birth and 18 <= age_on(birth, on) <= 69 and rng.random() < share:
                employed.add(r.person_id)
        for r in members:
            if r.person_id not in employed:
                continue
            spouse = False
            children: list[int] = []
            if r.is_head:
                for m in members:
                    codes = m.relation_codes
                    if codes in (["11"], ["12"], ["13"], ["14"]):
                        spouse = m.person_id not in employed
                    elif codes == ["20"] and m.person_id not in employed:
                        b = m.birth.as_date()
                        if b and b <= income_year_end:
                            children.append(age_on(b, income_year_end))
            number = ""
            cipher = r.person.my_number_cipher
            if cipher and rng.random() < 0.9:
                number = crypto.decrypt(cipher, bound_to=f"{code}:{r.person.address_number}")
            birth = r.birth.as_date()
            assert birth is not None  # only the employed, whose birth date is known
            out.append(
                Employee(
                    name=r.name,
                    kana=r.name_kana,
                    birth=birth,
                    address=r.address,
                    my_number=number,
                    spouse=spouse,
                    children=tuple(children),
                )
            )
    return out
