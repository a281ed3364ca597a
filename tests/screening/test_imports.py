"""Importing lists as snapshots: what changed is known, the same file is a no-op, a bad file changes nothing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.screening.errors import ListFileInvalid, ListFormatUnknown
from apps.screening.imports import import_list
from apps.screening.models import ListEntry, ListSnapshot, WatchList
from apps.screening.roles import SCREENING_PERMISSIONS
from tests.screening.conftest import OFAC_SDN
from tests.screening.samples import ALT, SDN, SIMPLE_CSV, UN_XML

pytestmark = pytest.mark.django_db


def _entries(code: str) -> dict[str, ListEntry]:
    wl = WatchList.objects.get(code=code)
    return {e.entry_id: e for e in ListEntry.objects.filter(snapshot_id=wl.current_id)}


def test_a_first_import_is_a_snapshot_of_every_entry() -> None:
    (result,) = import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv", alt=ALT)
    assert not result.unchanged and result.added == ["100", "101", "102"]
    snapshot = result.snapshot
    assert snapshot is not None and snapshot.entry_count == 3 and snapshot.previous is None
    assert WatchList.objects.get(code="ofac-sdn").current == snapshot
    assert _entries("ofac-sdn")["100"].aliases == ["ZUMAR, Abbud", "AL-ZUMAR, Abboud"]
    event = AuditEvent.objects.get(action="screening.list_imported")
    assert event.data["added"] == 3 and event.data["list"] == "ofac-sdn"


def test_the_same_file_again_is_a_no_op() -> None:
    import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    (again,) = import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    assert again.unchanged and again.reason == "same file" and again.snapshot is None
    # another file with the same content (other line endings) is no snapshot either
    (same,) = import_list(fmt="ofac_sdn", data=SDN.replace(b"\r\n", b"\n"), file_name="sdn2.csv")
    assert same.unchanged and same.reason == "same content"
    assert ListSnapshot.objects.count() == 1
    assert AuditEvent.objects.filter(action="screening.list_imported").count() == 1


def test_added_changed_and_removed_against_the_previous_snapshot() -> None:
    (first,) = import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    second_file = (
        SDN.replace(b"DOB 1970;", b"DOB 1971;").replace(  # 101 changed
            b'102,"ACME TRADING LLC"', b'103,"NEW FRONT LTD"'
        )  # 102 removed, 103 added
    )
    (second,) = import_list(fmt="ofac_sdn", data=second_file, file_name="sdn.csv")
    assert (second.added, second.changed, second.removed) == (["103"], ["101"], ["102"])
    assert second.snapshot is not None and second.snapshot.previous == first.snapshot
    assert _entries("ofac-sdn")["101"].birth_dates == ["1971"]
    # the old snapshot is kept as it was
    assert ListEntry.objects.get(snapshot=first.snapshot, entry_id="101").birth_dates == ["1970"]


def test_a_malformed_file_changes_nothing() -> None:
    import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    before = (ListSnapshot.objects.count(), ListEntry.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ListFileInvalid, match=r"sdn.csv, line 4: 2 columns"):
        import_list(fmt="ofac_sdn", data=SDN.replace(b"\x1a", b'104,"X"\r\n'), file_name="sdn.csv")
    assert (ListSnapshot.objects.count(), ListEntry.objects.count(), AuditEvent.objects.count()) == before


def test_un_and_simple_csv_imports() -> None:
    (un,) = import_list(fmt="un_xml", data=UN_XML, file_name="consolidated.xml")
    assert un.list_code == "un-consolidated" and len(un.added) == 3
    results = import_list(fmt="csv", data=SIMPLE_CSV, file_name="local.csv")
    assert [r.list_code for r in results] == ["local-peps", "operator-blocklist"]
    assert _entries("local-peps")["p1"].name == "Jörg Müller"
    again = import_list(fmt="csv", data=SIMPLE_CSV, file_name="local.csv")
    assert all(r.unchanged for r in again)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ListFormatUnknown) as exc:
        import_list(fmt="xlsx", data=b"", file_name="x.xlsx")
    assert exc.value.code == "list_format_unknown"


def test_the_command_imports_the_real_ofac_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    out = StringIO()
    call_command("import_watchlist", "ofac_sdn", OFAC_SDN, stdout=out)
    assert "ofac-sdn: snapshot #" in out.getvalue() and "14965 added" in out.getvalue()
    out = StringIO()
    call_command("import_watchlist", "ofac_sdn", OFAC_SDN, stdout=out)
    assert "unchanged (same file)" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"1,2\n")
    with pytest.raises(CommandError, match=r"refused, nothing imported: bad.csv, line 1: 2 columns"):
        call_command("import_watchlist", "ofac_sdn", str(bad))
    assert ListSnapshot.objects.count() == 1


def test_the_roles_hold_the_screening_permissions() -> None:
    for role, perms in SCREENING_PERMISSIONS.items():
        held = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=role).permissions.all()}
        assert set(perms) <= held
    analyst = {p.codename for p in Group.objects.get(name="AML Analyst").permissions.all()}
    assert "import_list" not in analyst
    for role in ("Support Agent", "KYC Officer", "Finance Officer"):
        group = Group.objects.filter(name=role).first()
        if group is not None:
            assert not group.permissions.filter(content_type__app_label="screening").exists()
