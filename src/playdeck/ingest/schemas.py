from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IngestResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    success: bool = True
    test_run_id: int = Field(serialization_alias="testRunId")
    project_id: int = Field(serialization_alias="projectId")
    url: str
