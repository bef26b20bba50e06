"""``playdeck users``: create or promote an administrator, list, unlock, reset a password or
a second factor, deactivate, set a verified email.

The recovery path when nobody can sign in: it talks to the database directly, through the same
services (password policy, audit log) as the API. Passwords are prompted with hidden input when
not given as options.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.cli.config import fail, load_settings
from playdeck.cli.tables import plain_table, when
from playdeck.db import make_sessionmaker
from playdeck.errors import AppError
from playdeck.kit.clock import utcnow
from playdeck.models import User
from playdeck.settings import Settings
from playdeck.system.startup import StartupError, connect, ensure_data_dir, migrate
from playdeck.twofactor import service as two_factor
from playdeck.users import repository
from playdeck.users import service as users_service
from playdeck.users.schemas import UserAdminUpdate

users_app = typer.Typer(
    help="User accounts (works without a running server).", no_args_is_help=True
)

# Tables keep whole cells when piped (a terminal gets its own width).
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)


# Every command about one user names it the same way (users and members).
UserArgument = Annotated[str, typer.Argument(help="The user: id, username or email.")]


def cli_settings() -> Settings:
    """Settings from the environment, or exit with one line per invalid setting."""
    return load_settings()


@contextmanager
def database_session() -> Iterator[Session]:
    """One session for the whole command, committed once at the end (migrations applied first)."""
    settings = cli_settings()
    try:
        ensure_data_dir(settings.data_dir)
        engine = connect(settings)
        migrate(engine)
    except StartupError as exc:
        raise fail(str(exc)) from None
    try:
        # Commits when the command ends normally, rolls back when it raises (or exits).
        with make_sessionmaker(engine).begin() as session:
            yield session
    except AppError as exc:
        err.print(f"[red]playdeck:[/] {exc.detail}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def find_user(session: Session, ref: str) -> User:
    user = repository.find_by_ref(session, ref)
    if user is None:
        err.print(f"[red]playdeck:[/] no user {ref!r} (give an id, username or email)")
        raise typer.Exit(1)
    return user


def account_cells(user: User, role: str) -> tuple[str, str, str, str, str]:
    """How a table shows an account: id, username, email, ``role`` (global, or in a project),
    active."""
    return str(user.id), user.username, user.email or "", role, "yes" if user.is_active else "no"


def _ask_password(given: str | None) -> str:
    if given is not None:
        return given
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command("create-admin")
def create_admin(
    email: str = typer.Option(..., help="The administrator's email (also a login name)."),
    username: str | None = typer.Option(None, help="Login name (default: the email)."),
    password: str | None = typer.Option(
        None, help="Password (prompted with hidden input when omitted; avoid shell history)."
    ),
    name: str | None = typer.Option(None, help="Display name."),
) -> None:
    """Create an administrator, or promote the existing user with this email or username."""
    with database_session() as session:
        settings = cli_settings()
        existing = repository.find_by_email(session, email) or (
            repository.find_by_username(session, username) if username else None
        )
        if existing is not None:
            users_service.promote_to_admin(
                session, user=existing, actor=Actor.cli(), settings=settings, password=password
            )
            out.print(f"Promoted existing user {existing.username!r} (id {existing.id}) to admin.")
            return
        user = users_service.create_user(
            session,
            settings=settings,
            username=username or email.strip().lower(),
            password=_ask_password(password),
            email=email,
            display_name=name,
            role="admin",
            actor=Actor.cli(),
            via="cli",
        )
        out.print(f"Created administrator {user.username!r} (id {user.id}).")


@users_app.command("list")
def list_users() -> None:
    """Every user, with role, status and lockout."""
    with database_session() as session:
        now = utcnow()
        rows = (
            (
                *account_cells(user, user.role),
                when(user.locked_until if user.locked_until and user.locked_until > now else None),
                when(user.last_login_at),
            )
            for user in repository.list_all(session)
        )
        columns = ("id", "username", "email", "role", "active", "locked until", "last login")
        out.print(plain_table(columns, rows))


@users_app.command("unlock")
def unlock(user: UserArgument) -> None:
    """Clear a login lockout now."""
    with database_session() as session:
        found = find_user(session, user)
        users_service.unlock(session, user=found, actor=Actor.cli())
        out.print(f"Unlocked {found.username!r}.")


@users_app.command("reset-password")
def reset_password(
    user: UserArgument,
    password: str | None = typer.Option(None, help="New password (prompted when omitted)."),
) -> None:
    """Set a new password, clear any lockout and end every session of the user."""
    with database_session() as session:
        settings = cli_settings()
        found = find_user(session, user)
        users_service.reset_password(
            session,
            user=found,
            password=_ask_password(password),
            settings=settings,
            actor=Actor.cli(),
        )
        out.print(f"Password of {found.username!r} reset; all of its sessions ended.")


@users_app.command("deactivate")
def deactivate(user: UserArgument) -> None:
    """Deactivate a user: its sessions, tokens and logins stop working at once."""
    with database_session() as session:
        found = find_user(session, user)
        users_service.deactivate(session, user=found, actor=Actor.cli())
        out.print(f"Deactivated {found.username!r}.")


@users_app.command("set-email")
def set_email(
    user: UserArgument,
    email: str = typer.Argument(..., help="The address (the current one, to verify it)."),
) -> None:
    """Set a user's email as verified: what an administrator does for a user whose new email
    cannot be mailed a link (no mail server). Single sign-on may then link by it."""
    with database_session() as session:
        found = find_user(session, user)
        users_service.update_user(
            session,
            user=found,
            data=UserAdminUpdate(email=email),
            actor=Actor.cli(),
            settings=cli_settings(),
        )
        out.print(f"Email of {found.username!r} set to {found.email!r}, verified.")


@users_app.command("reset-two-factor")
def reset_two_factor(user: UserArgument) -> None:
    """Remove a user's second factor and recovery codes (a lost phone): they sign in with
    their password alone and may set it up again. Audited."""
    with database_session() as session:
        found = find_user(session, user)
        had = two_factor.reset(session, user=found, actor=Actor.cli())
        if had:
            out.print(f"Two-factor authentication of {found.username!r} removed.")
        else:
            out.print(f"{found.username!r} had no two-factor authentication on; nothing to remove.")
