"""Importing a watchlist file as a new snapshot of its list.

The file is read and validated to its end first (``apps.screening.lists``); only then, in one transaction with the
list's row locked (two imports of one list queue), the entries are compared with the current snapshot by entry id
and content hash, and a snapshot is written if anything changed. The same file again is a no-op (its SHA-256 is
the current snapshot's), and so is another file with the same content (no snapshot without a change).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from apps.audit.services import SYSTEM, AuditActor, audit_log
from apps.screening.errors import ListFormatUnknown
from apps.screening.lists import ParsedList, parse_ofac, parse_simple_csv, parse_un
from apps.screening.models import ListEntry, ListSnapshot, WatchList
from apps.staff.models import StaffUser

BATCH = 2000
FORMATS = ("ofac_sdn", "un_xml", "csv")


@dataclass
class ImportResult:
    list_code: str
    snapshot: ListSnapshot | None  # None: nothing changed
    unchanged: bool
    reason: str = ""  # why nothing changed: "same file" or "same content"
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.unchanged:
            return f"{self.list_code}: unchanged ({self.reason})"
        return (
            f"{self.list_code}: snapshot #{self.snapshot.pk if self.snapshot else '?'}, "
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"
        )


def read_lists(fmt: str, data: bytes, *, file_name: str, alt: bytes | None = None) -> list[ParsedList]:
    """The lists a file holds, validated (``ListFileInvalid`` otherwise). No database access."""
    if fmt == "ofac_sdn":
        return [parse_ofac(data, alt, file_name=file_name)]
    if fmt == "un_xml":
        return [parse_un(data, file_name=file_name)]
    if fmt == "csv":
        return parse_simple_csv(data, file_name=file_name)
    raise ListFormatUnknown(f"unknown list format {fmt!r}; choose from {', '.join(FORMATS)}")


def import_list_file(
    *,
    fmt: str,
    path: str | Path,
    alt_path: str | Path | None = None,
    actor: AuditActor | None = None,
    list_code: str | None = None,
) -> list[ImportResult]:
    """Import a file from disk (the management command's entry point)."""
    p = Path(path)
    alt = Path(alt_path).read_bytes() if alt_path else None
    return import_list(fmt=fmt, data=p.read_bytes(), file_name=p.name, alt=alt, actor=actor, list_code=list_code)


def import_list(
    *,
    fmt: str,
    data: bytes,
    file_name: str,
    alt: bytes | None = None,
    actor: AuditActor | None = None,
    list_code: str | None = None,
) -> list[ImportResult]:
    """One result per list in the file. ``list_code`` imports OFAC or UN files under another code (a second
    OFAC list, a test). Audited per snapshot written: ``screening.list_imported``."""
    sha = hashlib.sha256(data)
    if alt is not None:
        sha.update(b"\0alt.csv\0" + alt)
    digest = sha.hexdigest()
    parsed = read_lists(fmt, data, file_name=file_name, alt=alt)
    if list_code and fmt != "csv":
        parsed[0].code = list_code
    results = []
    with transaction.atomic():
        for plist in parsed:
            results.append(_store(plist, digest=digest, file_name=file_name, actor=actor))
        from apps.screening.rescreen_job import rescreen_after_import

        rescreen_after_import(results)  # the player base against what changed, once this commits
    return results


def _store(plist: ParsedList, *, digest: str, file_name: str, actor: AuditActor | None) -> ImportResult:
    watchlist, _ = WatchList.objects.get_or_create(
        code=plist.code, defaults={"name": plist.name, "source_format": plist.source_format}
    )
    watchlist = WatchList.objects.select_for_update().get(pk=watchlist.pk)
    current = ListSnapshot.objects.filter(pk=watchlist.current_id).first() if watchlist.current_id else None
    if current is not None and current.file_sha256 == digest:
        return ImportResult(list_code=plist.code, snapshot=None, unchanged=True, reason="same file")
    before = dict(ListEntry.objects.filter(snapshot=current).values_list("entry_id", "content_hash")) if current else {}
    hashes = {e.entry_id: e.content_hash() for e in plist.entries}
    added = sorted(k for k in hashes if k not in before)
    changed = sorted(k for k, h in hashes.items() if k in before and before[k] != h)
    removed = sorted(k for k in before if k not in hashes)
    if current is not None and not (added or changed or removed):
        return ImportResult(list_code=plist.code, snapshot=None, unchanged=True, reason="same content")
    snapshot = ListSnapshot.objects.create(
        watchlist=watchlist,
        previous=current,
        file_name=file_name[:255],
        file_sha256=digest,
        imported_by=actor if isinstance(actor, StaffUser) else None,
        entry_count=len(plist.entries),
        added=added,
        changed=changed,
        removed=removed,
    )
    rows = [
        ListEntry(
            snapshot=snapshot,
            entry_id=e.entry_id,
            entry_type=e.entry_type,
            name=e.name[:500],
            aliases=e.aliases,
            birth_dates=e.birth_dates,
            countries=e.countries,
            programs=e.programs,
            remarks=e.remarks,
            content_hash=hashes[e.entry_id],
        )
        for e in plist.entries
    ]
    ListEntry.objects.bulk_create(rows, batch_size=BATCH)
    watchlist.current = snapshot
    watchlist.save(update_fields=["current"])
    audit_log(
        actor=actor or SYSTEM,
        action="screening.list_imported",
        target=snapshot,
        data={
            "list": plist.code,
            "file": file_name,
            "sha256": digest,
            "entries": len(rows),
            "added": len(added),
            "changed": len(changed),
            "removed": len(removed),
        },
    )
    return ImportResult(
        list_code=plist.code, snapshot=snapshot, unchanged=False, added=added, changed=changed, removed=removed
    )
