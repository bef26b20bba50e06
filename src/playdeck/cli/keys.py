"""``playdeck keys``: create, list and revoke API keys, on the database directly.

The same service as ``/api/users/{id}/api-keys`` (audit log included), run with the operator's
rights. ``create`` prints the key alone on stdout, so ``KEY=$(playdeck keys create ...)`` works;
everything else goes to stderr. The key is shown this once and never again.
"""

from __future__ import annotations

from datetime import timedelta

import typer
from pydantic import ValidationError

from playdeck.apikeys import repository
from playdeck.apikeys import service as keys_service
from playdeck.apikeys.format import display
from playdeck.apikeys.schemas import ApiKeyCreate, status_of
from playdeck.apikeys.scopes import Scope
from playdeck.audit.service import Actor
from playdeck.auth.principal import Principal
from playdeck.cli.tables import plain_table, when
from playdeck.cli.users import database_session, err, find_user, out
from playdeck.kit.clock import utcnow
from playdeck.users import repository as users

keys_app = typer.Typer(
    help="API keys for CI (works without a running server).", no_args_is_help=True
)

SCOPES = ", ".join(scope.value for scope in Scope)


@keys_app.command("create")
def create(
    user: str = typer.Argument(..., help="Owner: id, username or email."),
    name: str = typer.Option(..., "--name", help="What the key is for, e.g. 'GitHub Actions'."),
    project: str | None = typer.Option(
        None, "--project", help="Restrict the key to this project (id or slug)."
    ),
    scope: list[str] | None = typer.Option(
        None, "--scope", help=f"Restrict the key to a scope (repeat): {SCOPES}."
    ),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, help="Days until the key stops working."
    ),
) -> None:
    """Create an API key and print it (shown this once)."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        data = ApiKeyCreate.model_validate(
            {"name": name, "project": project, "scopes": scope or None, "expires_at": expires_at}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        err.print(f"[red]playdeck:[/] {where}: {first.get('msg', 'invalid value')}")
        raise typer.Exit(2) from None
    with database_session() as session:
        owner = find_user(session, user)
        created = keys_service.create_key(
            session,
            principal=Principal.builtin_admin(),
            owner=owner,
            data=data,
            actor=Actor.cli(),
        )
        err.print(
            f"Created API key {display(created.row.prefix)} (id {created.row.id}) for "
            f"{owner.username!r}. Store it now: it is not shown again.",
            highlight=False,
        )
    typer.echo(created.key)


@keys_app.command("list")
def list_keys(
    user: str | None = typer.Argument(None, help="Only this owner's keys (id, username, email)."),
) -> None:
    """API keys with owner, restrictions and status (never the keys themselves)."""
    with database_session() as session:
        owner_id = find_user(session, user).id if user else None
        now = utcnow()
        rows = (
            (
                str(key.id),
                owner.username,
                key.name,
                display(key.prefix),
                project.slug if project else "(any)",
                " ".join(key.scopes) if key.scopes else "(all)",
                status_of(key, now),
                when(key.expires_at),
                when(key.last_used_at),
            )
            for key, owner, project in repository.list_all(session)
            if owner_id is None or owner.id == owner_id
        )
        columns = (
            "id",
            "owner",
            "name",
            "key",
            "project",
            "scopes",
            "status",
            "expires",
            "last used",
        )
        out.print(plain_table(columns, rows))


@keys_app.command("revoke")
def revoke(
    key_id: int = typer.Argument(..., min=1, help="The key's id (see `keys list`)."),
) -> None:
    """Revoke an API key: the next request with it is refused."""
    with database_session() as session:
        key = repository.get(session, key_id)
        owner = users.get(session, key.user_id) if key is not None else None
        if key is None or owner is None:
            err.print(f"[red]playdeck:[/] no API key with id {key_id}")
            raise typer.Exit(1)
        keys_service.revoke_key(
            session, principal=Principal.builtin_admin(), key=key, owner=owner, actor=Actor.cli()
        )
        out.print(f"Revoked API key {display(key.prefix)} (id {key.id}) of {owner.username!r}.")
