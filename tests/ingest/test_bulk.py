"""The bulk layer's queries, on the session's real database (SQLite, or PostgreSQL when
``PLAYDECK_TEST_DATABASE_URL`` is set): test-identity lookup, planner statistics, and text no
database can hold in any cell of the bulk-inserted rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.ingest.bulk import ANALYZE_MIN_ROWS, SQLITE_LOOKUP_BATCH, find_test_ids
from playdeck.ingest.parsers.reading import MAX_ERROR_CHARS
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    RunRecord,
    TestRecord,
    test_key,
)
from playdeck.ingest.service import BATCH, ingest_run
from playdeck.kit.text import UnstorableText
from playdeck.models import Attachment, Attempt, Project, Result, Run, Test
from playdeck.outcomes import AttemptStatus, Outcome
from playdeck.storage.filesystem import FilesystemBlobStore

# More keys than one SQLite lookup batch, and than one ANALYZE needs.
MANY = max(SQLITE_LOOKUP_BATCH, ANALYZE_MIN_ROWS) + 500


def _record(project: str, titles: range) -> RunRecord:
    return RunRecord(
        source_format="playwright",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        project_name=project,
        tests=[
            TestRecord(
                file=f"area-{n // 40}.spec.ts",
                title_path=["Checkout", f"order {n}"],
                outcome=Outcome.PASSED,
                browser_project="chromium",
                duration_ms=n,
                attempts=[AttemptRecord(retry=0, status=AttemptStatus.PASSED, duration_ms=n)],
            )
            for n in titles
        ],
    )


def _ingest(engine: Engine, tmp_path: Path, record: RunRecord, *, consume: bool = False) -> int:
    with Session(engine) as session:
        stored = ingest_run(
            session,
            store=FilesystemBlobStore(tmp_path / "files"),
            principal=Principal.builtin_admin(),
            record=record,
            auto_create_project=True,
            max_file_bytes=1 << 20,
            consume=consume,
        )
        session.commit()
    return stored.run_id


def _key(n: int) -> str:
    return test_key(f"area-{n // 40}.spec.ts", ["Checkout", f"order {n}"], "chromium")


@pytest.fixture
def postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL behaviour; set PLAYDECK_TEST_DATABASE_URL")


@pytest.fixture
def never_analysed(engine: Engine) -> None:
    """The identity, result and attempt tables as on a new database: empty and without planner
    statistics. Between tests the suite deletes rows, which leaves earlier tests' statistics."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE tests, results, attempts CASCADE"))


def test_every_result_of_a_large_report_points_at_its_own_identity(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    _ingest(engine, tmp_path, _record("web", range(MANY)))
    # The next run: the same tests, plus new ones on both sides of a lookup batch.
    second = _ingest(engine, tmp_path, _record("web", range(300, MANY + 300)))
    assert db.scalar(select(func.count()).select_from(Test)) == MANY + 300
    rows = db.execute(
        select(Test.key, Result.duration_ms)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_id == second)
    ).all()
    # duration_ms carries the test's number, so each result proves which identity it got.
    assert sorted((key, n) for key, n in rows) == sorted(
        (_key(n), n) for n in range(300, MANY + 300)
    )


def test_identity_lookup_finds_the_projects_keys_only(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    _ingest(engine, tmp_path, _record("web", range(MANY)))
    _ingest(engine, tmp_path, _record("api", range(10)))
    web = db.scalar(select(Project.id).where(Project.name == "web"))
    api = db.scalar(select(Project.id).where(Project.name == "api"))
    assert web is not None and api is not None
    asked = [_key(n) for n in range(MANY - 5, MANY + 5)] + [_key(3), "f" * 64]
    found = find_test_ids(db, web, asked)
    expected = dict(
        db.execute(
            select(Test.key, Test.id).where(Test.project_id == web, Test.key.in_(asked))
        ).all()
    )
    assert found == expected
    assert set(found) == {_key(n) for n in range(MANY - 5, MANY)} | {_key(3)}
    # The other project holds _key(3) too, under its own id.
    assert find_test_ids(db, api, [_key(3), _key(MANY - 1)]).keys() == {_key(3)}
    assert find_test_ids(db, api, [_key(3)]) != find_test_ids(db, web, [_key(3)])
    assert find_test_ids(db, web, []) == {}


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.usefixtures("postgres_only")
def test_postgres_identity_lookup_sends_the_keys_as_one_parameter(
    engine: Engine, tmp_path: Path, statements: list[tuple[str, Any]]
) -> None:
    _ingest(engine, tmp_path, _record("web", range(MANY)))
    lookups = [
        (sql, params)
        for sql, params in statements
        if sql.lstrip().startswith("SELECT tests.key, tests.id")
    ]
    # One statement per batch of records, before the insert (which answers the new ids).
    batches = -(-MANY // BATCH)
    assert batches > 1
    assert len(lookups) == batches
    for sql, params in lookups:
        assert "= ANY (string_to_array(" in sql
        assert len(params) == 3  # the project id, the keys, the separator
    asked = [key for _, params in lookups for key in params["keys"].split(",")]
    assert sorted(asked) == sorted(_key(n) for n in range(MANY))


@pytest.mark.usefixtures("postgres_only")
def test_postgres_identities_another_ingest_stores_after_the_lookup_keep_their_ids(
    engine: Engine, db: Session, tmp_path: Path, statements: list[tuple[str, Any]]
) -> None:
    """Between an ingest's lookup and its insert, a concurrent ingest commits some of the same
    new tests: the insert skips them, and the results point at the identities stored first."""
    _ingest(engine, tmp_path, _record("web", range(1)))
    project = db.scalar(select(Project.id).where(Project.name == "web"))
    db.rollback()
    # Stored while the first batch is being inserted: two of its tests, and one of the next
    # batch's (which that batch's lookup then finds).
    meanwhile = [7, 1500, BATCH + 3]
    statements.clear()
    other_ids: dict[str, int] = {}
    fired: list[bool] = []

    def store_meanwhile(_c: Any, _cu: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("INSERT INTO tests") or fired:
            return
        fired.append(True)  # the other ingest's own inserts pass through here too
        with engine.begin() as other:
            for n in meanwhile:
                row = _record("web", range(n, n + 1)).tests[0]
                other_ids[_key(n)] = other.execute(
                    insert(Test).returning(Test.id),
                    {
                        "project_id": project,
                        "key": _key(n),
                        "file": row.file,
                        "title_path": row.title_path,
                        "title": row.title_path[-1],
                        "full_title": " › ".join(row.title_path),
                        "browser_project": row.browser_project,
                    },
                ).scalar_one()

    event.listen(engine, "before_cursor_execute", store_meanwhile)
    try:
        run = _ingest(engine, tmp_path, _record("web", range(MANY)))
    finally:
        event.remove(engine, "before_cursor_execute", store_meanwhile)
    sent = list(statements)
    assert db.scalar(select(func.count()).select_from(Test)) == MANY
    stored = dict(db.execute(select(Test.key, Test.id)).all())
    assert {key: stored[key] for key in other_ids} == other_ids
    rows = db.execute(
        select(Test.key, Test.id, Result.duration_ms)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_id == run)
    ).all()
    assert sorted((key, n) for key, _, n in rows) == sorted((_key(n), n) for n in range(MANY))
    assert all(stored[key] == test_id for key, test_id, _ in rows)
    # Looked up again: only the keys the first batch's insert skipped.
    again = [
        params["keys"].split(",")
        for sql, params in sent
        if sql.lstrip().startswith("SELECT tests.key, tests.id") and len(params["keys"]) < 1000
    ]
    assert sorted(key for keys in again for key in keys) == sorted([_key(7), _key(1500)])


@pytest.mark.usefixtures("postgres_only")
def test_postgres_lookup_plans_for_its_keys_and_restores_the_plan_cache_mode(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    _ingest(engine, tmp_path, _record("web", range(10)))
    project = db.scalar(select(Project.id))
    assert project is not None
    db.execute(text("SET plan_cache_mode = force_generic_plan"))
    # Prepared and re-run: the answer stays right whatever plan PostgreSQL keeps.
    for _ in range(8):
        assert find_test_ids(db, project, [_key(n) for n in range(12)]).keys() == {
            _key(n) for n in range(10)
        }
    mode = db.execute(text("SELECT current_setting('plan_cache_mode')")).scalar_one()
    assert mode == "force_generic_plan"
    db.rollback()


def _reltuples(db: Session, table: str) -> float:
    return float(
        db.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        ).scalar_one()
    )


@pytest.mark.usefixtures("postgres_only", "never_analysed")
def test_postgres_first_large_ingest_leaves_planner_statistics(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    # Never analysed: no statistics (reltuples -1).
    assert _reltuples(db, "tests") < 0
    db.rollback()
    _ingest(engine, tmp_path, _record("web", range(MANY)))
    for table in ("tests", "results", "attempts"):
        assert _reltuples(db, table) >= MANY, table


@pytest.mark.usefixtures("postgres_only", "never_analysed")
def test_postgres_next_run_of_the_same_suite_does_not_analyse_again(
    engine: Engine, tmp_path: Path, statements: list[tuple[str, Any]]
) -> None:
    _ingest(engine, tmp_path, _record("web", range(MANY)))
    assert any(sql.startswith("ANALYZE") for sql, _ in statements)
    statements.clear()
    # No new identities; as many results as the statistics already describe.
    _ingest(engine, tmp_path, _record("web", range(MANY)))
    assert not any(sql.startswith("ANALYZE") for sql, _ in statements)


def test_inline_attachment_bytes_are_stored_then_dropped_from_the_record(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    """The bytes go to the file store before the transaction; the record stops holding them
    (a big report's inline attachments need not stay alive until the commit)."""
    record = _record("inline-bodies", range(3))
    bodies = [f"screenshot {n}".encode() * 50 for n in range(3)]
    for test, body in zip(record.tests, bodies, strict=True):
        test.attempts[0].attachments = [
            AttachmentRecord(name="shot.png", content_type="image/png", body=body)
        ]
    _ingest(engine, tmp_path, record, consume=True)
    assert [a.body for t in record.tests for a in t.attempts[0].attachments] == [None] * 3
    store = FilesystemBlobStore(tmp_path / "files")
    stored = db.scalars(select(Attachment.sha256).order_by(Attachment.id)).all()
    assert len(stored) == 3
    read = []
    for sha in stored:
        with store.open(sha) as handle:
            read.append(handle.read())
    assert read == bodies


def test_an_attachment_record_on_two_attempts_is_stored_for_both(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    """The demo data gives a test's two failed attempts the same attachment records: the bytes,
    dropped once stored, are not lost for the second attempt."""
    record = _record("shared-attachment", range(1))
    shot = AttachmentRecord(name="shot.png", content_type="image/png", body=b"png" * 100)
    record.tests[0].attempts = [
        AttemptRecord(retry=retry, status=AttemptStatus.FAILED, attachments=[shot])
        for retry in range(2)
    ]
    _ingest(engine, tmp_path, record, consume=True)
    rows = db.execute(select(Attachment.attempt_id, Attachment.sha256, Attachment.size)).all()
    assert len({attempt_id for attempt_id, _, _ in rows}) == 2
    assert {(sha, size) for _, sha, size in rows} == {(rows[0].sha256, 300)}


def test_a_record_not_consumed_keeps_its_bytes_for_the_next_run(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    """Without ``consume`` (tests and the demo reuse records), the bytes stay on the record."""
    record = _record("kept-bytes", range(1))
    shot = AttachmentRecord(name="shot.png", content_type="image/png", body=b"png" * 100)
    record.tests[0].attempts[0].attachments = [shot]
    _ingest(engine, tmp_path, record)
    _ingest(engine, tmp_path, record)
    assert shot.body == b"png" * 100
    assert len(db.scalars(select(Attachment.id)).all()) == 2


# ---- Storable text: ``ingest.rows`` checks each text cell of the rows it makes (the engine's
# own check skips bulk rows), so each cell is covered here, whichever parser made the record.

Change = Callable[[TestRecord], None]


def _storable_record() -> RunRecord:
    attempt = AttemptRecord(
        retry=0,
        status=AttemptStatus.FAILED,
        duration_ms=5,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        attachments=[AttachmentRecord(name="shot.png", content_type="image/png", body=b"png")],
    )
    test = TestRecord(
        file="cart.spec.ts",
        title_path=["Cart", "adds item"],
        outcome=Outcome.FAILED,
        location="cart.spec.ts:3:5",
        attempts=[attempt],
    )
    return RunRecord(
        source_format="playwright",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        project_name="storable",
        tests=[test],
    )


def _set_attempt(name: str, value: str) -> Change:
    return lambda test: setattr(test.attempts[0], name, value)


def _set_test(name: str, value: str) -> Change:
    return lambda test: setattr(test, name, value)


def _set_attachment(name: str, value: str) -> Change:
    return lambda test: setattr(test.attempts[0].attachments[0], name, value)


SURROGATE = "bad \ud800 text"
NUL = "bad \x00 text"

REFUSED: dict[str, Change] = {
    "result error message, surrogate": _set_test("error_message", SURROGATE),
    "result error stack, surrogate": _set_test("error_stack", SURROGATE),
    "result location, NUL": _set_test("location", "cart.spec.ts\x00:3"),
    "result location, surrogate": _set_test("location", "cart\udfff.spec.ts:3"),
    "attempt error message, surrogate": _set_attempt("error_message", SURROGATE),
    "attempt error stack, surrogate": _set_attempt("error_stack", SURROGATE),
    "attempt stdout, surrogate": _set_attempt("stdout", SURROGATE),
    "attempt stderr, surrogate": _set_attempt("stderr", SURROGATE),
    "attachment name, NUL": _set_attachment("name", "shot\x00.png"),
    "attachment name, surrogate": _set_attachment("name", "shot\ud800.png"),
    "attachment content type, NUL": _set_attachment("content_type", "image/png\x00"),
    "attachment content type, surrogate": _set_attachment("content_type", "image/\ud800"),
}


@pytest.mark.parametrize("change", list(REFUSED.values()), ids=list(REFUSED))
def test_unstorable_text_in_a_bulk_row_refuses_the_run(
    engine: Engine, db: Session, tmp_path: Path, change: Change
) -> None:
    record = _storable_record()
    change(record.tests[0])
    with pytest.raises((UnstorableText, StatementError)) as refused:
        _ingest(engine, tmp_path, record)
    if isinstance(refused.value, StatementError):
        assert isinstance(refused.value.orig, UnstorableText)
    for table in (Run, Result, Attempt, Attachment):
        assert db.scalar(select(func.count()).select_from(table)) == 0


def test_storable_text_in_bulk_rows_is_kept_as_cleaned(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    """NULs in free text are dropped; valid non-ASCII text is kept; a surrogate past the cut
    of a long error is cut away with it (the check is on the text as stored)."""
    record = _storable_record()
    test = record.tests[0]
    test.error_message = "x" * MAX_ERROR_CHARS + SURROGATE
    test.location = "panier/caddie-ü.spec.ts:3:5"
    attempt = test.attempts[0]
    attempt.stdout = NUL
    attempt.stderr = "literal \\u0000 and ✓"
    attempt.attachments[0].name = "capture d’écran.png"
    _ingest(engine, tmp_path, record)
    result = db.execute(select(Result.error_message, Result.location)).one()
    assert result.error_message.startswith("x" * MAX_ERROR_CHARS + "\n… [truncated")
    assert result.location == "panier/caddie-ü.spec.ts:3:5"
    stored = db.execute(select(Attempt.stdout, Attempt.stderr)).one()
    assert tuple(stored) == ("bad  text", "literal \\u0000 and ✓")
    assert db.scalar(select(Attachment.name)) == "capture d’écran.png"
