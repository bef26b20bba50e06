"""Settings for a command, or one line per problem and an exit: never a traceback."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from rich.console import Console

from playdeck.settings import Settings

err = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line
CONFIGURATION_EXIT_CODE = 2


def describe_setting_error(error: ErrorDetails) -> str:
    """``PLAYDECK_PORT: Input should be ...``: named as the operator sets it."""
    location = [str(part) for part in error.get("loc", ())]
    where = f"PLAYDECK_{location[0].upper()}" if location else ""
    message = str(error.get("msg", "invalid setting")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def setting_errors() -> tuple[Settings | None, list[str]]:
    try:
        return Settings(), []
    except ValidationError as exc:
        return None, [describe_setting_error(error) for error in exc.errors()]


def fail(message: str, *, code: int = 1) -> typer.Exit:
    err.print(f"[red]playdeck:[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def load_settings() -> Settings:
    """Settings from the environment, or exit with one line per invalid setting."""
    settings, errors = setting_errors()
    if settings is None:
        for line in errors:
            err.print(f"[red]playdeck: configuration error:[/] {line}", highlight=False)
        raise typer.Exit(CONFIGURATION_EXIT_CODE)
    return settings
