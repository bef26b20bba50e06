"""Claim rules → roles, re-applied at each single sign-on.

A rule that matches grants a global role or a role in a project (by name). Rules manage only
what they made: a membership an owner or administrator set (``source = manual``) is left as it
is, whatever the claims say, and a user's global role follows the rules only while it came from
them (``role_source = provider``). A provider membership whose rule no longer matches is
removed, one whose rule changed is updated, except that a project's last owner stays its owner
(as everywhere else) until someone else is made owner. Every change is audited as the
provider's doing.

A provider may withhold a claim and point elsewhere for it (OpenID Connect's distributed
claims: Entra ID's group overage, ``_claim_names``): the rules cannot tell what it holds, so
nothing they manage changes at that sign-on rather than everything they granted going.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole
from playdeck.authz.permissions import ProjectRole, RoleSource
from playdeck.members import repository as members
from playdeck.members.service import is_last_owner
from playdeck.models import ProjectMember, User
from playdeck.sso import repository
from playdeck.sso.config import RoleRule

logger = logging.getLogger("playdeck.sso")

# Strongest first, as the roles are declared.
GLOBAL_ORDER = (GlobalRole.ADMIN, GlobalRole.USER, GlobalRole.REPORTER)


def global_role(rules: list[RoleRule], claims: dict[str, Any], provider: str) -> GlobalRole | None:
    """The strongest global role the matching rules grant (``None``: no rule speaks)."""
    granted = {r.global_role for r in rules if r.global_role and r.matches(claims, provider)}
    return next((role for role in GLOBAL_ORDER if role in granted), None)


def withheld(claims: dict[str, Any]) -> set[str]:
    """Claims the provider left out and points to instead (``_claim_names``; Entra ID's
    ``hasgroups``): their values are unknown, not empty."""
    names = claims.get("_claim_names")
    found = {str(name) for name in names} if isinstance(names, dict) else set()
    if claims.get("hasgroups") is True:
        found.add("groups")
    return found


def project_roles(
    rules: list[RoleRule], claims: dict[str, Any], provider: str
) -> dict[str, ProjectRole]:
    """Project name → the strongest role the matching rules grant there."""
    wanted: dict[str, ProjectRole] = {}
    for rule in rules:
        if rule.project is None or rule.project_role is None or not rule.matches(claims, provider):
            continue
        held = wanted.get(rule.project)
        if held is None or rule.project_role.rank > held.rank:
            wanted[rule.project] = rule.project_role
    return wanted


def apply(
    session: Session,
    *,
    user: User,
    rules: list[RoleRule],
    claims: dict[str, Any],
    provider: str,
    client: ClientInfo,
) -> None:
    trail = Trail(session, Actor.system(f"sso:{provider}"), client)
    unknown = withheld(claims) & {r.claim for r in rules if r.provider in (None, provider)}
    if unknown:
        logger.warning(
            "sign-on of user %s via %s withholds the claim(s) %s (distributed claims, such as "
            "Entra ID's group overage): roles and memberships from the rules left as they were",
            user.id,
            provider,
            ", ".join(sorted(unknown)),
        )
        return
    role = global_role(rules, claims, provider)
    if user.role_source == RoleSource.PROVIDER and role is not None and role != user.role:
        _audit(trail, Action.USER_UPDATED, user, role=[user.role, role.value])
        user.role = role.value
    if user.role != GlobalRole.USER:
        return  # admins may do everything and reporters have no memberships
    wanted = project_roles(rules, claims, provider)
    projects = repository.projects_named(session, set(wanted))
    for name in set(wanted) - set(projects):
        logger.info("claim rule names project %r, which does not exist: skipped", name)
    by_project = {m.project_id: m for m in repository.memberships(session, user.id)}
    targets = {projects[name].id: wanted[name] for name in projects}
    for project_id, member in by_project.items():
        if member.source != RoleSource.PROVIDER:
            continue  # manual: never overwritten
        target = targets.get(project_id)
        if target != ProjectRole.OWNER and is_last_owner(session, member):
            logger.warning(
                "claim rules no longer make user %s an owner of project %s, but they are its "
                "last owner: kept until someone else is made owner",
                user.id,
                project_id,
            )
            continue
        if target is None:
            members.remove(session, member)
            _audit(trail, Action.MEMBER_REMOVED, user, project_id=project_id, role=member.role)
        elif target != member.role:
            old = member.role
            member.role = target.value
            role_change = [old, target.value]
            _audit(trail, Action.MEMBER_ROLE_CHANGED, user, project_id=project_id, role=role_change)
    for project_id, target in targets.items():
        if project_id in by_project:
            continue
        members.add(
            session,
            ProjectMember(
                project_id=project_id,
                user_id=user.id,
                role=target.value,
                source=RoleSource.PROVIDER.value,
            ),
        )
        _audit(trail, Action.MEMBER_ADDED, user, project_id=project_id, role=target.value)
    session.flush()


def _audit(trail: Trail, action: Action, user: User, **details: object) -> None:
    """A change the claim rules made (``source``: provider)."""
    trail.record(action, user, **details, source=RoleSource.PROVIDER.value)
