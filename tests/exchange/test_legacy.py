"""A vendor's fixed-length CP932 file with 外字 and 和暦 codes, imported through a mapping file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moyai.exchange import legacy
from moyai.exchange.models import GaijiQueueItem, LegacyGaiji
from moyai.exchange.services import gaiji_decide, legacy_import
from moyai.platform.audit import Actor, acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import Person, ResidentRecord

DATA = Path(__file__).resolve().parents[1] / "data" / "legacy"
KUZU = "葛\U000e0102"
TSUJI = "辻\U000e0102"


def run(town, tmp_path: Path, *, source: str = "vendor_a", dry_run: bool = False):
    work = tmp_path / f"work-{len(list(tmp_path.iterdir()))}"
    with acting_as(Actor(username="cli:test", channel="cli")):
        return legacy_import(
            municipality=town,
            mapping_path=DATA / "vendor_a.toml",
            directory=DATA / source,
            workdir=work,
            dry_run=dry_run,
            purpose="旧システムからの移行",
        )


def test_wareki7_dates() -> None:
    eras = {"3": "昭和", "4": "平成", "5": "令和"}
    assert legacy.wareki7("3550510", eras) == ("1980-05-10", False, "")
    assert legacy.wareki7("4010108", eras) == ("1989-01-08", False, "")
    assert legacy.wareki7("3250000", eras) == ("1950-01-01", True, "昭和25年月日不詳")
    assert legacy.wareki7("3250300", eras) == ("1950-03-01", True, "昭和25年3月日不詳")
    assert legacy.wareki7("0000000", eras) == ("0001-01-01", True, "年月日不詳")
    for bad in ("4251301", "9010101", "12345"):
        with pytest.raises(ValueError):
            legacy.wareki7(bad, eras)


def test_mapping_file_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\nfile="x"\nencoding="latin-1"\nformat="fixed"\n', encoding="utf-8")
    with pytest.raises(legacy.MappingError, match=r"source\.encoding"):
        legacy.load_mapping(bad)
    bad.write_text(
        '[source]\nfile="x"\nencoding="cp932"\nformat="fixed"\n'
        "[fields]\nshoe_size={start=1,length=2}\n",
        encoding="utf-8",
    )
    with pytest.raises(legacy.MappingError, match=r"fields\.shoe_size"):
        legacy.load_mapping(bad)


def test_unmapped_gaiji_goes_to_the_queue_then_the_import_succeeds(
    town_a, in_town, tmp_path
) -> None:
    with in_town(town_a):
        gaiji_decide(vendor="旧ベンダーA", code="E000", replacement=KUZU, mj_name="MJ022335")
    first = run(town_a, tmp_path)
    assert first.report is None and first.queued == 1
    (problem,) = first.conversion_problems
    assert (problem.file, problem.line, problem.field) == ("JUKI.DAT", 4, "name")
    assert "外字 U+E001 は未同定" in problem.reason
    with tenant_context(town_a):
        item = GaijiQueueItem.objects.get()
        assert (item.code, item.hint, item.first_seen) == ("E001", "辻", "JUKI.DAT:4 name")
        assert item.example == "山〓　一" and item.image.startswith(b"\x89PNG")
        assert not Person.objects.exists()

    # Running again without a decision queues nothing twice.
    assert run(town_a, tmp_path).queued == 0

    with in_town(town_a):
        gaiji_decide(vendor="旧ベンダーA", code="E001", replacement=TSUJI, mj_name="MJ025760")
        assert GaijiQueueItem.objects.get().resolved
    dry = run(town_a, tmp_path, dry_run=True)
    assert dry.report is not None and dry.report.ok and not dry.report.written
    done = run(town_a, tmp_path)
    assert done.report is not None and done.report.ok and done.report.written, done.report.problems[
        :5
    ]
    counts = done.report.imported_counts
    assert counts["宛名"] == 4 and counts["世帯"] == 3 and counts["住民状態"] == {"住民": 4}
    assert done.report.source_counts["移行元の申告"] == {"persons": 4}
    with tenant_context(town_a):
        names = dict(ResidentRecord.objects.values_list("person__address_number", "name"))
        kanji = ResidentRecord.objects.get(name__startswith=KUZU)
        assert kanji.birth_date_unknown and kanji.birth_date_label == "昭和25年月日不詳"
        assert kanji.name_kana == "カツラギ キヨシ"
        head = ResidentRecord.objects.get(name="髙橋　一郎")
        assert head.is_head and head.relation == "世帯主" and head.birth_date == "1980-05-10"
        assert head.address == "神奈川県葉山町一色1234番地"
        assert head.movement.kind == "migration"
    assert f"山{TSUJI}　一" in names.values()
    assert "000000000000019" in names  # 10-digit legacy number, zero-padded to 15


def test_broken_file_is_refused_with_every_problem_and_nothing_written(
    town_a, in_town, tmp_path
) -> None:
    result = run(town_a, tmp_path, source="vendor_a_broken")
    reasons = {(p.line, p.field): p.reason for p in result.conversion_problems}
    assert any("cp932 として読めない" in r for r in reasons.values())
    assert any("レコード長" in r for r in reasons.values())
    assert any(f == "birth_date" and "月 13" in r for (_, f), r in reasons.items())
    assert any(f == "relation" and "codes.relation" in r for (_, f), r in reasons.items())
    assert result.report is None
    with tenant_context(town_a):
        assert not Person.objects.exists()


def test_gaiji_decision_is_checked(town_a, in_town) -> None:
    with in_town(town_a):
        with pytest.raises(ServiceError, match="私用領域"):
            gaiji_decide(vendor="v", code="E000", replacement="\ue000")
        with pytest.raises(ServiceError, match="印字できない"):
            gaiji_decide(vendor="v", code="E000", replacement="葛\U000e0100")
        assert not LegacyGaiji.objects.exists()


def test_cli(town_a, in_town, tmp_path, capsys) -> None:
    from django.core.management import CommandError, call_command

    shutil.copytree(DATA / "vendor_a", tmp_path / "in")
    with pytest.raises(CommandError, match="外字"):
        call_command(
            "legacy_import",
            "-m",
            town_a.code,
            "--mapping",
            str(DATA / "vendor_a.toml"),
            str(tmp_path / "in"),
            "--dry-run",
        )
    assert "U+E001" in capsys.readouterr().out


def test_identification_screen_ranks_candidates_by_the_vendor_picture(
    town_a, in_town, make_staff, tmp_path
) -> None:
    from django.urls import reverse

    from moyai.platform.models import Role

    from ..conftest import signed_in_client

    run(town_a, tmp_path)  # queues E000 and E001
    clerk = signed_in_client(make_staff(town_a, Role.REGISTRY))
    listing = clerk.get(reverse("exchange:gaiji_queue")).content.decode()
    assert "U+E001" in listing and "U+E000" in listing
    with tenant_context(town_a):
        item = GaijiQueueItem.objects.get(code="E001")
    page = clerk.get(reverse("exchange:gaiji_identify", args=[item.pk]))
    ranked = page.context["candidates"]
    assert ranked[0].text == TSUJI and ranked[0].mj_name == "MJ025760"  # best overlap
    assert ranked[0].score > ranked[-1].score
    response = clerk.post(
        reverse("exchange:gaiji_identify", args=[item.pk]),
        {"choice": TSUJI, "note": "字形画像と一致"},
    )
    assert response.status_code == 302
    with tenant_context(town_a):
        decided = LegacyGaiji.objects.get(code="E001")
        assert decided.replacement == TSUJI and decided.mj_name == "MJ025760"


def test_duplicates_within_a_source_are_reported() -> None:
    from moyai.moji.matching import PersonFacts

    facts = [
        (
            1,
            PersonFacts(
                name="髙橋　一郎",
                kana="タカハシ　イチロウ",
                birth_date="1980-05-10",
                address="一色1234番地",
            ),
        ),
        (
            2,
            PersonFacts(
                name="高橋　一郎",
                kana="タカハシ　イチロウ",
                birth_date="1980-05-10",
                address="一色1234番地",
            ),
        ),
        (
            3,
            PersonFacts(
                name="高橋　一郎",
                kana="タカハシ　イチロウ",
                birth_date="1991-02-03",
                address="堀内5番地",
            ),
        ),
    ]
    found = legacy.find_duplicates("JUKI.DAT", facts)
    assert len(found) == 1 and found[0].startswith("JUKI.DAT 1行目と2行目は同一人")
