"""The Settings tab's Service accounts section: each account with its keys (read by
``web.project_settings``; the forms post to ``web.service_account_pages``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from playdeck.apikeys.schemas import ApiKey
from playdeck.models import Project, ServiceAccount, User
from playdeck.service_accounts import service
from playdeck.service_accounts.schemas import PROJECT_ROLES


@dataclass(frozen=True, slots=True)
class ServiceAccountRow:
    account: ServiceAccount
    user: User
    role: str
    keys: list[ApiKey]


@dataclass(frozen=True, slots=True)
class ServiceAccountsSection:
    rows: list[ServiceAccountRow]
    roles: tuple[str, ...] = tuple(role.value for role in PROJECT_ROLES)


def service_account_rows(session: Session, project: Project) -> ServiceAccountsSection:
    rows = []
    for account, user, role in service.list_accounts(session, project=project):
        _user, keys = service.list_keys(session, project=project, account_id=account.id)
        shown = [ApiKey.of(key, key_project) for key, key_project in keys]
        rows.append(ServiceAccountRow(account=account, user=user, role=role, keys=shown))
    return ServiceAccountsSection(rows=rows)
