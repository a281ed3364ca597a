"""Signed checkpoints of the audit chain's head, kept outside the database.

A hash chain proves that no row in it was altered or removed from the middle, but not that nothing is
missing at the end: an emptied table, or one whose newest rows were deleted, is a perfectly valid (shorter)
chain. So the nightly job (``apps.audit.tasks.audit_verify_chain``) and ``manage.py audit_checkpoint`` write,
after verifying the chain, one small JSON file per checkpoint into ``AUDIT_CHECKPOINT_DIR``: how many events the
chain had, the id and hash of its newest one, and when, signed with HMAC-SHA256 under ``AUDIT_HMAC_KEY``.
``audit_verify`` then checks every checkpoint against the chain: the row it names must still be there, with
the same hash and the same number of events up to it.

What this catches and what it does not:

* someone with the database but not the key or the checkpoint directory: truncation, a cut tail, a re-hashed
  chain (its head hash can never match a checkpoint's); a forged checkpoint fails its signature;
* events written after the newest checkpoint and deleted before the next one are not caught by it (the links
  still catch a deletion from the middle): checkpoint more often (the command) to narrow that window;
* the directory must live where the database's users cannot write (another volume or host, or an object
  store with write-once retention mounted there): whoever can delete the files can hide a truncation.
"""

from __future__ import annotations

import hmac
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.audit import hashing

FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    count: int  # events in the chain, up to and including ``last_id``
    last_id: int | None  # None: the chain was empty
    head_hash: str  # row_hash of ``last_id`` (the genesis hash for an empty chain)
    written_at: str  # ISO 8601, UTC

    def payload(self) -> bytes:
        content = {"format": FORMAT, **asdict(self)}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signature(self, key: bytes | None = None) -> str:
        return hashing.mac(hashing.CHECKPOINT_CONTEXT, self.payload(), key=key)

    def describe(self) -> str:
        head = f"#{self.last_id}" if self.last_id is not None else "nothing"
        return f"the checkpoint of {self.written_at} ({self.count} events up to {head})"


@dataclass(frozen=True)
class Loaded:
    checkpoints: list[Checkpoint]  # signature-checked, oldest head first
    problems: list[str]  # files that could not be trusted


def directory() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def write(*, count: int, last_id: int | None, head_hash: str, now: datetime | None = None) -> Path:
    """Write one signed checkpoint atomically (a reader never sees half a file); returns its path."""
    written = (now or timezone.now()).astimezone(UTC)
    checkpoint = Checkpoint(
        count=count, last_id=last_id, head_hash=head_hash, written_at=written.isoformat(timespec="microseconds")
    )
    folder = directory()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"audit-checkpoint-{written:%Y%m%dT%H%M%S%fZ}-{last_id or 0}.json"
    document = {"format": FORMAT, **asdict(checkpoint), "signature": checkpoint.signature()}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _parse(document: Any) -> Checkpoint:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("not a checkpoint of a known format")
    last_id = document["last_id"]
    return Checkpoint(
        count=int(document["count"]),
        last_id=None if last_id is None else int(last_id),
        head_hash=str(document["head_hash"]),
        written_at=str(document["written_at"]),
    )


def load() -> Loaded:
    """Every checkpoint in the directory whose signature holds; a file that does not is a problem to report."""
    folder = directory()
    found: list[Checkpoint] = []
    problems: list[str] = []
    if not folder.is_dir():
        return Loaded(found, problems)
    for path in sorted(folder.glob("audit-checkpoint-*.json")):
        try:
            document = json.loads(path.read_text())
            checkpoint = _parse(document)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"checkpoint file {path.name} cannot be read ({exc})")
            continue
        if not hmac.compare_digest(str(document.get("signature", "")), checkpoint.signature()):
            problems.append(
                f"checkpoint file {path.name} has a wrong signature (forged, altered, or signed with another key)"
            )
            continue
        found.append(checkpoint)
    found.sort(key=lambda c: (c.last_id or 0, c.count, c.written_at))
    return Loaded(found, problems)
