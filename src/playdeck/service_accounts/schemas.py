"""Service-account bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from playdeck.auth.principal import GlobalRole
from playdeck.authz.permissions import ProjectRole
from playdeck.models import ServiceAccount as ServiceAccountRow
from playdeck.models import User

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# What a project's service account may be: never an owner (owners are people who answer for
# the project); a global one submits everywhere (reporter) or administers (admin).
PROJECT_ROLES = (ProjectRole.VIEWER, ProjectRole.MEMBER, ProjectRole.ADMIN)
GLOBAL_ROLES = (GlobalRole.REPORTER, GlobalRole.ADMIN)


def _name(value: str) -> str:
    value = value.strip().lower()
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError("name: 1-40 lower-case letters, digits and dashes, e.g. 'github-ci'")
    return value


def _project_role(value: ProjectRole) -> ProjectRole:
    if value not in PROJECT_ROLES:
        raise ValueError("a service account is a viewer, member or admin of its project")
    return value


def _global_role(value: GlobalRole) -> GlobalRole:
    if value not in GLOBAL_ROLES:
        raise ValueError("a global service account is a reporter or an admin")
    return value


Name = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_name)]
Description = Annotated[str | None, Field(default=None, max_length=200)]


class ProjectServiceAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Annotated[ProjectRole, AfterValidator(_project_role)] = ProjectRole.MEMBER
    description: Description = None


class GlobalServiceAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Annotated[GlobalRole, AfterValidator(_global_role)] = GlobalRole.REPORTER
    description: Description = None


class ServiceAccount(BaseModel):
    id: int
    user_id: int = Field(description="Its identity: the owner of its API keys.")
    username: str
    project_id: int | None = Field(description="The owning project; null: global.")
    role: str = Field(description="Its project role, or for a global one its global role.")
    description: str | None
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: ServiceAccountRow, user: User, role: str) -> ServiceAccount:
        return cls(
            id=row.id,
            user_id=user.id,
            username=user.username,
            project_id=row.project_id,
            role=role,
            description=row.description,
            is_active=user.is_active,
            created_at=row.created_at,
        )
