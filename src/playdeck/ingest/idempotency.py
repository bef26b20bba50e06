"""``Idempotency-Key`` on ingest: a retried request stores its run once.

A client that timed out cannot know whether its run was stored. Sent again with the same key
and the same content, the request answers the first run's ``201`` (with
``Idempotent-Replayed: true``) instead of storing a second run; the same key with different
content is a ``409``. Keys belong to the caller (two CI users may pick the same one) and are
kept as long as their run. Requests without the header are stored every time, as before.
"""

from __future__ import annotations

import hashlib
import mmap
import re
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.errors import BadRequest, Conflict
from playdeck.ingest.result import IngestResult
from playdeck.models import IngestRequest, Project, Run

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as in the IETF draft's examples


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    caller: str
    key: str
    fingerprint: str


def key_of(principal: Principal, header: str | None, fingerprint: str) -> IdempotencyKey | None:
    if header is None:
        return None
    if not _KEY.match(header):
        raise BadRequest(
            f"{HEADER} must be 1 to 200 visible ASCII characters", code="invalid_idempotency_key"
        )
    caller = f"user:{principal.user_id}" if principal.user_id is not None else "server"
    return IdempotencyKey(caller=caller, key=header, fingerprint=fingerprint)


class Fingerprint:
    """SHA-256 over what a request sent, in order: named fields and file contents."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def field(self, name: str, value: str) -> None:
        for part in ("f", name, value):
            self._add(part.encode("utf-8", "surrogatepass"))

    def file(self, name: str, filename: str | None, handle: BinaryIO) -> None:
        content = hashlib.sha256()
        handle.seek(0)
        while chunk := handle.read(1024 * 1024):
            content.update(chunk)
        handle.seek(0)
        for part in ("u", name, filename or ""):
            self._add(part.encode("utf-8", "surrogatepass"))
        self._add(content.digest())

    def _add(self, data: bytes) -> None:
        self._digest.update(len(data).to_bytes(8, "big"))
        self._digest.update(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def body_fingerprint(body: bytes | mmap.mmap) -> str:
    return hashlib.sha256(body).hexdigest()


def find(session: Session, key: IdempotencyKey) -> IngestResult | None:
    """The run stored under ``key`` (409 when the key came with other content)."""
    row = session.scalar(
        select(IngestRequest).where(
            IngestRequest.caller == key.caller, IngestRequest.key == key.key
        )
    )
    if row is None:
        return None
    if row.fingerprint != key.fingerprint:
        raise Conflict(
            f"This {HEADER} was used for a different request", code="idempotency_key_reused"
        )
    found = session.execute(
        select(Run.id, Project.id, Project.slug)
        .join(Project, Project.id == Run.project_id)
        .where(Run.id == row.run_id)
    ).first()
    if found is None:  # pragma: no cover - the row goes with its run (ON DELETE CASCADE)
        return None
    return IngestResult(found[0], found[1], found[2], replayed=True)


def claim(
    session: Session, key: IdempotencyKey
) -> tuple[IngestRequest | None, IngestResult | None]:
    """Record ``key`` in the ingest's write transaction, first thing: a concurrent request with
    the same key then waits for this one (PostgreSQL's unique index; SQLite's single writer)
    and replays its run. Returns the new row, or what to replay."""
    row = IngestRequest(caller=key.caller, key=key.key, fingerprint=key.fingerprint)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        replay = find(session, key)
        if replay is None:  # pragma: no cover - only if its run was deleted meanwhile
            raise Conflict("A request with this key is being stored", code="conflict") from None
        return None, replay
    return row, None
