"""``playdeck``: the Typer root; one sub-app per domain, calling the same services as the API."""

from __future__ import annotations

import typer

from playdeck import __version__
from playdeck.cli.audit import audit
from playdeck.cli.backup import backup, restore
from playdeck.cli.config import err, fail, load_settings
from playdeck.cli.demo import make_demo_command
from playdeck.cli.gate import gate
from playdeck.cli.keys import keys_app
from playdeck.cli.members import members_app
from playdeck.cli.operations import check, db_create
from playdeck.cli.prune import prune
from playdeck.cli.runs import runs_app
from playdeck.cli.serve import serve
from playdeck.cli.storage import storage_app
from playdeck.cli.two_factor import two_factor_app
from playdeck.cli.upload import upload
from playdeck.cli.users import users_app
from playdeck.settings import Settings
from playdeck.system.startup import StartupError, upgrade_database

app = typer.Typer(
    name="playdeck",
    help="Playdeck: a self-hosted dashboard for automated test results.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database tasks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("upload")(upload)
app.command("gate")(gate)
app.add_typer(users_app, name="users")
app.add_typer(two_factor_app, name="two-factor")
app.add_typer(keys_app, name="keys")
app.add_typer(members_app, name="members")
app.add_typer(storage_app, name="storage")
app.add_typer(runs_app, name="runs")
app.command("audit")(audit)
app.command("serve")(serve)
app.command("check")(check)
db_app.command("create")(db_create)
app.command("prune")(prune)
app.command("backup")(backup)
app.command("restore")(restore)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"playdeck {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Playdeck: a self-hosted dashboard for automated test results."""


def migrate(settings: Settings) -> None:
    """Create the data directory and bring the database schema up to date, or exit with one
    line saying why not."""
    try:
        upgrade_database(settings)
    except StartupError as exc:
        raise fail(str(exc)) from None


app.command("demo")(make_demo_command(load_settings, migrate))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""
    settings = load_settings()
    migrate(settings)
    err.print("Database is up to date.")
