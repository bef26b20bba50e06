"""How the commands show what the database holds: tables of plain text (a username, an audit
event's details are never read as Rich markup), times to the second."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text


def plain_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    table = Table(*columns)
    for cells in rows:
        table.add_row(*(Text(cell) for cell in cells))
    return table


def when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""
