"""``playdeck``: the Typer root; one sub-app per domain, calling the same services as the API."""

from __future__ import annotations

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from playdeck.app import create_app
from playdeck.cli.audit import audit
from playdeck.cli.backup import backup, restore
from playdeck.cli.demo import make_demo_command
from playdeck.cli.keys import keys_app
from playdeck.cli.prune import prune
from playdeck.cli.storage import storage_app
from playdeck.cli.upload import upload
from playdeck.cli.users import users_app
from playdeck.db import make_engine, timeouts_of
from playdeck.migrations import upgrade
from playdeck.settings import Settings

app = typer.Typer(
    name="playdeck",
    help="Playdeck: a self-hosted dashboard for automated test results.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database tasks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("upload")(upload)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(storage_app, name="storage")
app.command("audit")(audit)
app.command("prune")(prune)
app.command("backup")(backup)
app.command("restore")(restore)

err = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line


def load_settings() -> Settings:
    """Settings from the environment, or exit with a one-line reason."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid setting")).removeprefix("Value error, ")
        err.print(
            f"[red]playdeck: configuration error:[/] {where + ': ' if where else ''}{message}"
        )
        raise typer.Exit(2) from None


def migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url, timeouts_of(settings))
    try:
        upgrade(engine)
    finally:
        engine.dispose()


app.command("demo")(make_demo_command(load_settings, migrate))


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Listen address (default PLAYDECK_HOST)."),
    port: int | None = typer.Option(None, help="Port (default PLAYDECK_PORT, 8001)."),
) -> None:
    """Apply database migrations, then run the server."""
    settings = load_settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    migrate(settings)
    err.print(f"Playdeck on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=False,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""
    settings = load_settings()
    migrate(settings)
    err.print("Database is up to date.")
