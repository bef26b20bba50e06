"""Request and response shapes of the live-run API (camelCase, as the reporters send)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from playdeck.ingest.run_fields import CLIENT_NAMES
from playdeck.outcomes import PartState, RunStatus

_TEXT = 10_000


class LiveRunOpen(BaseModel):
    """What a client says when it opens its part of a live run."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    project_name: str = Field(alias="projectName", min_length=1, max_length=200)
    run_key: str | None = Field(
        default=None,
        alias="runKey",
        max_length=200,
        description="The CI build: parts with the same key (shards, matrix jobs) are one run.",
    )
    shard: str | None = Field(
        default=None, max_length=20, description="`current/total` from 1, e.g. `2/8`."
    )
    expected_tests: int | None = Field(
        default=None,
        alias="expectedTests",
        ge=0,
        le=10_000_000,
        description="How many tests this part will run, when known: the run page's progress.",
    )
    run_name: str | None = Field(default=None, alias="runName", max_length=300)
    branch: str | None = Field(default=None, max_length=_TEXT)
    commit: str | None = Field(default=None, max_length=_TEXT)
    commit_message: str | None = Field(default=None, alias="commitMessage", max_length=_TEXT)
    author: str | None = Field(default=None, max_length=_TEXT)
    ci_provider: str | None = Field(default=None, alias="ciProvider", max_length=_TEXT)
    build_number: str | None = Field(default=None, alias="buildNumber", max_length=_TEXT)
    build_url: str | None = Field(default=None, alias="buildUrl", max_length=_TEXT)
    environment: str | None = Field(default=None, max_length=_TEXT)
    tags: list[str] = Field(default_factory=list, max_length=100)
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=100)

    def fields(self) -> dict[str, str]:
        """The run fields given, as the upload form names them (``run_fields.CLIENT_NAMES``:
        the aliases above)."""
        given = self.model_dump(by_alias=True)
        return {name: given[name] for name in CLIENT_NAMES if given.get(name)}


class LivePartClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: RunStatus | None = Field(
        default=None,
        description="`interrupted` or `timedout` when the client's suite was cut short; "
        "otherwise the run's status is computed from its tests.",
    )


class LivePart(BaseModel):
    """A client's part of a live run, and where the run stands."""

    model_config = ConfigDict(populate_by_name=True)

    test_run_id: int = Field(serialization_alias="testRunId")
    part_id: int = Field(serialization_alias="partId")
    project_id: int = Field(serialization_alias="projectId")
    shard: str | None
    state: PartState
    run_status: RunStatus = Field(serialization_alias="runStatus")
    url: str
