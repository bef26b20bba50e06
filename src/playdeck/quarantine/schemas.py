"""What the quarantine API takes and answers."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, field_validator

from playdeck.models import Quarantine as QuarantineRow
from playdeck.models import Test

MAX_REASON = 2000


class QuarantineIn(BaseModel):
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Why (shown to all).")
    expires_at: datetime | None = Field(
        default=None, description="When the quarantine lapses (omitted: until lifted)."
    )

    @field_validator("reason")
    @classmethod
    def _stripped(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("give a reason")
        return value

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-01-31T00:00:00Z)")
        value = value.astimezone(UTC)
        if value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class TestIdentity(BaseModel):
    """How clients recognise the test: Playdeck's identity fields (``key`` is
    ``sha256(file, browser project, title path…)``)."""

    __test__ = False  # not a pytest test class

    test_id: int
    key: str
    file: str
    title_path: list[str]
    full_title: str
    browser_project: str

    @classmethod
    def of(cls, test: Test) -> TestIdentity:
        return cls(
            test_id=test.id,
            key=test.key,
            file=test.file,
            title_path=list(test.title_path),
            full_title=test.full_title,
            browser_project=test.browser_project,
        )


class Quarantine(TestIdentity):
    reason: str
    expires_at: datetime | None
    created_at: datetime
    created_by: str | None

    @classmethod
    def of_row(cls, row: QuarantineRow, test: Test) -> Quarantine:
        return cls(
            **TestIdentity.of(test).model_dump(),
            reason=row.reason,
            expires_at=row.expires_at,
            created_at=row.created_at,
            created_by=row.created_by_name,
        )


class QuarantineList(BaseModel):
    project_id: int
    project: str
    tests: list[Quarantine]


class GateFailure(TestIdentity):
    outcome: str
    quarantine_reason: str | None = None


class GateVerdict(BaseModel):
    """Whether a run should fail the CI job: only failures of tests not quarantined do."""

    run_id: int
    project_id: int
    passed: bool
    failures: list[GateFailure] = Field(description="Failures that fail the job.")
    quarantined: list[GateFailure] = Field(description="Failures of quarantined tests.")


class QuarantineNote(BaseModel):
    reason: str
    expires_at: datetime | None = Field(description="When it lapses (null: until lifted).")


class QuarantineMarks(BaseModel):
    """How a test listed elsewhere (a run's results, a project's tests) shows its quarantine."""

    quarantined: bool = Field(
        default=False,
        description="The test is quarantined now (not lapsed): its failures do not fail CI.",
    )
    quarantine: QuarantineNote | None = Field(
        default=None, description="The quarantine's reason and expiry, when `quarantined`."
    )


def marks_of(row: QuarantineRow | None) -> dict[str, object]:
    """``QuarantineMarks`` fields for a test with the quarantine ``row`` in force (or none)."""
    if row is None:
        return {"quarantined": False, "quarantine": None}
    return {
        "quarantined": True,
        "quarantine": {"reason": row.reason, "expires_at": row.expires_at},
    }
