"""Project membership use cases. Every change is audited; services flush, the caller commits.

The caller's right to manage members was checked on the project already (``members:manage``;
``playdeck members`` runs as the operator, an administrator, and names itself in ``actor``);
here are the finer rules: only owners grant, change or remove ``owner`` (a project admin cannot
touch owners), nobody raises their own role, and a project always keeps one owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.permissions import Permission, ProjectRole, RoleSource
from playdeck.authz.service import require_project
from playdeck.errors import Conflict, Forbidden, InvalidInput, NotFound
from playdeck.members import repository
from playdeck.members.schemas import MemberCreate
from playdeck.models import Project, ProjectMember, User
from playdeck.users import repository as users


@dataclass(frozen=True, slots=True)
class _Trail:
    """The audit trail of one change to a project's members: who (``actor``, else the
    principal), from where, in which project."""

    audit: Trail
    project: Project

    @classmethod
    def of(
        cls,
        session: Session,
        *,
        project: Project,
        principal: Principal,
        client: ClientInfo | None,
        actor: Actor | None = None,
    ) -> _Trail:
        return cls(Trail.of(session, principal, client, actor=actor), project)

    @property
    def session(self) -> Session:
        return self.audit.session

    def record(self, action: Action, user: User, **details: object) -> None:
        project = self.project
        self.audit.record(action, user, project_id=project.id, project=project.name, **details)


def _find_user(session: Session, data: MemberCreate) -> User:
    if data.user_id is not None:
        user = users.get(session, data.user_id)
    elif data.username is not None:
        user = users.find_by_username(session, data.username)
    else:
        user = users.find_by_email(session, data.email or "")
    if user is None:
        raise NotFound("User not found", code="user_not_found")
    return user


def _member(session: Session, *, project: Project, user_id: int) -> tuple[ProjectMember, User]:
    member = repository.get(session, project_id=project.id, user_id=user_id)
    user = users.get(session, user_id) if member is not None else None
    if member is None or user is None:
        raise NotFound("Member not found", code="member_not_found")
    return member, user


def is_last_owner(session: Session, member: ProjectMember) -> bool:
    """Whether ``member`` is its project's only owner, who stays until someone else is made
    owner. The owners' rows stay locked until commit (``lock_owner_ids``)."""
    if member.role != ProjectRole.OWNER:
        return False
    owners = repository.lock_owner_ids(session, member.project_id)
    return not [o for o in owners if o != member.user_id]


def _ensure_another_owner(session: Session, member: ProjectMember) -> None:
    if is_last_owner(session, member):
        raise Conflict(
            "A project keeps at least one owner; make someone else owner first",
            code="last_owner",
        )


def _already_member() -> Conflict:
    return Conflict("This user is already a member of the project", code="member_exists")


def _join(trail: _Trail, user: User, role: ProjectRole, **details: object) -> ProjectMember:
    """Make ``user`` a member of ``project`` with ``role``, audited; 409 when a concurrent add
    of the same user won the race."""
    member = ProjectMember(project_id=trail.project.id, user_id=user.id, role=role.value)
    try:
        with trail.session.begin_nested():
            repository.add(trail.session, member)
    except IntegrityError as exc:
        raise _already_member() from exc
    trail.record(Action.MEMBER_ADDED, user, role=member.role, **details)
    return member


def list_members(session: Session, *, project: Project) -> list[tuple[ProjectMember, User]]:
    return repository.list_members(session, project.id)


def add_member(
    session: Session,
    *,
    project: Project,
    principal: Principal,
    data: MemberCreate,
    client: ClientInfo | None = None,
    actor: Actor | None = None,
) -> tuple[ProjectMember, User]:
    """Add a user with a role: 404 unknown user, 409 already a member, 403 granting owner
    without being one."""
    user = _find_user(session, data)
    if data.role is ProjectRole.OWNER:
        require_project(session, principal, Permission.OWNERS_MANAGE, project.id)
    if user.role == GlobalRole.REPORTER:
        raise InvalidInput(
            "Reporter accounts only submit results; they take no project role",
            code="reporter_not_member",
        )
    if user.is_service:  # it belongs to its own project (service_accounts)
        raise InvalidInput(
            "A service account works in its own project only", code="service_account_not_member"
        )
    if repository.get(session, project_id=project.id, user_id=user.id) is not None:
        raise _already_member()
    trail = _Trail.of(session, project=project, principal=principal, client=client, actor=actor)
    return _join(trail, user, data.role), user


def add_creator_as_owner(
    session: Session, *, project: Project, principal: Principal, client: ClientInfo | None = None
) -> None:
    """A global ``user`` who creates a project owns it. Administrators need no membership and
    reporters take none."""
    if principal.role is not GlobalRole.USER or principal.user_id is None:
        return
    user = users.get(session, principal.user_id)
    if user is None:
        return
    trail = _Trail.of(session, project=project, principal=principal, client=client)
    _join(trail, user, ProjectRole.OWNER, via="project_created")


def change_role(
    session: Session,
    *,
    project: Project,
    principal: Principal,
    user_id: int,
    role: ProjectRole,
    client: ClientInfo | None = None,
    actor: Actor | None = None,
) -> tuple[ProjectMember, User]:
    member, user = _member(session, project=project, user_id=user_id)
    old = ProjectRole(member.role)
    if role is old:
        return member, user
    if ProjectRole.OWNER in (old, role):
        require_project(session, principal, Permission.OWNERS_MANAGE, project.id)
    if user.id == principal.user_id and not principal.is_admin and role.rank > old.rank:
        raise Forbidden("Nobody can raise their own role", code="own_role")
    if old is ProjectRole.OWNER:
        _ensure_another_owner(session, member)
    member.role = role.value
    member.source = RoleSource.MANUAL.value  # sign-on rules no longer change it
    session.flush()
    trail = _Trail.of(session, project=project, principal=principal, client=client, actor=actor)
    trail.record(Action.MEMBER_ROLE_CHANGED, user, role=[old.value, role.value])
    return member, user


def remove_member(
    session: Session,
    *,
    project: Project,
    principal: Principal,
    user_id: int,
    client: ClientInfo | None = None,
    actor: Actor | None = None,
) -> None:
    member, user = _member(session, project=project, user_id=user_id)
    if member.role == ProjectRole.OWNER:
        require_project(session, principal, Permission.OWNERS_MANAGE, project.id)
        _ensure_another_owner(session, member)
    role = member.role
    repository.remove(session, member)
    trail = _Trail.of(session, project=project, principal=principal, client=client, actor=actor)
    trail.record(Action.MEMBER_REMOVED, user, role=role)
