"""Service accounts: created, listed and deleted by a project's managers (project admins and
owners) or, for global ones, by administrators; their API keys likewise. Services flush.

A service account is a ``users`` row marked ``is_service``, with a random password nobody is
ever shown (it cannot sign in: it works through its keys), and a ``service_accounts`` row naming
its owning project. A project's account is a member of that project, in the role it was given
(never owner), and its keys are restricted to that project. People joining or leaving the
project change nothing about it; deleting the project deletes it.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from playdeck.apikeys import repository as keys
from playdeck.apikeys import service as keys_service
from playdeck.apikeys.schemas import ApiKeyCreate
from playdeck.apikeys.service import CreatedKey
from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.service import require_password_sign_in
from playdeck.errors import Conflict, InvalidInput, NotFound
from playdeck.members import repository as members
from playdeck.models import ApiKey, Project, ProjectMember, ServiceAccount, User
from playdeck.service_accounts import repository
from playdeck.service_accounts.schemas import (
    GlobalServiceAccountCreate,
    ProjectServiceAccountCreate,
)
from playdeck.settings import Settings
from playdeck.users import repository as users
from playdeck.users import service as users_service

Account = tuple[ServiceAccount, User, str]


def _username(name: str, project: Project | None) -> str:
    return f"sa-{project.slug}-{name}" if project is not None else f"sa-{name}"


def _role(session: Session, account: ServiceAccount, user: User) -> str:
    if account.project_id is None:
        return user.role
    return repository.project_role(session, project_id=account.project_id, user_id=user.id) or ""


def create(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    data: ProjectServiceAccountCreate | GlobalServiceAccountCreate,
    project: Project | None,
    client: ClientInfo | None = None,
) -> Account:
    """A project's service account (``project``; the caller may manage its members) or a
    global one (``project`` None; the caller is an administrator)."""
    username = _username(data.name, project)
    if users.find_by_username(session, username) is not None:
        raise Conflict("A service account with this name exists", code="service_account_exists")
    global_role = data.role if isinstance(data, GlobalServiceAccountCreate) else GlobalRole.USER
    user = users_service.create_user(
        session,
        settings=settings,
        username=username,
        # Never shown, never used: a service account works through its API keys only.
        password=secrets.token_urlsafe(32),
        display_name=data.description,
        role=global_role.value,
        actor=Actor.of(principal),
        client=client,
        via="service_account",
    )
    user.is_service = True
    account = repository.add(
        session,
        ServiceAccount(
            user_id=user.id,
            project_id=project.id if project is not None else None,
            description=data.description,
            created_by_id=principal.user_id,
        ),
    )
    role = data.role.value
    if project is not None:
        members.add(session, ProjectMember(project_id=project.id, user_id=user.id, role=role))
    Trail.of(session, principal, client).record(
        Action.SERVICE_ACCOUNT_CREATED,
        user,
        service_account_id=account.id,
        project_id=account.project_id,
        project=project.name if project is not None else None,
        role=role,
    )
    return account, user, role


def list_accounts(session: Session, *, project: Project | None) -> list[Account]:
    pairs = repository.list_for(session, project_id=project.id if project else None)
    return [(account, user, _role(session, account, user)) for account, user in pairs]


def get(session: Session, *, project: Project | None, account_id: int) -> Account:
    found = repository.get(session, account_id, project_id=project.id if project else None)
    if found is None:
        raise NotFound("Service account not found", code="service_account_not_found")
    account, user = found
    return account, user, _role(session, account, user)


def delete(
    session: Session,
    *,
    principal: Principal,
    project: Project | None,
    account_id: int,
    client: ClientInfo | None = None,
) -> None:
    """Delete the account: its keys and membership go with it at once."""
    account, user, role = get(session, project=project, account_id=account_id)
    Trail.of(session, principal, client).record(
        Action.SERVICE_ACCOUNT_DELETED,
        user,
        service_account_id=account.id,
        project_id=account.project_id,
        role=role,
    )
    users.delete_user(session, user.id)
    session.flush()


def create_key(
    session: Session,
    *,
    principal: Principal,
    project: Project | None,
    account_id: int,
    data: ApiKeyCreate,
    client: ClientInfo | None = None,
) -> CreatedKey:
    """A key of the account; a project's account's keys are restricted to its project. Only
    after a password sign-in, as for one's own keys (a key never mints another)."""
    require_password_sign_in(principal, to="create a service account's API key")
    _account, user, _role_name = get(session, project=project, account_id=account_id)
    if project is not None:
        if data.project is not None and str(data.project) not in (str(project.id), project.slug):
            raise InvalidInput(
                "A project's service account has keys for its project only",
                code="invalid_project",
            )
        data = data.model_copy(update={"project": project.id})
    return keys_service.create_key(
        session, principal=principal, owner=user, data=data, client=client
    )


def list_keys(
    session: Session, *, project: Project | None, account_id: int
) -> tuple[User, list[tuple[ApiKey, Project | None]]]:
    _account, user, _role_name = get(session, project=project, account_id=account_id)
    return user, keys.list_for_user(session, user.id)


def revoke_key(
    session: Session,
    *,
    principal: Principal,
    project: Project | None,
    account_id: int,
    key_id: int,
    client: ClientInfo | None = None,
) -> None:
    _account, user, _role_name = get(session, project=project, account_id=account_id)
    key = keys_service.key_of(session, owner=user, key_id=key_id)
    keys_service.revoke_key(session, principal=principal, key=key, owner=user, client=client)
