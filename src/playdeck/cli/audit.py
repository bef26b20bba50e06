"""``playdeck audit``: read the security log from the command line."""

from __future__ import annotations

from datetime import datetime

import orjson
import typer

from playdeck.audit import service
from playdeck.audit.repository import AuditFilter
from playdeck.audit.schemas import AuditEvent
from playdeck.cli.tables import plain_table, when
from playdeck.cli.users import database_session, find_user, out
from playdeck.kit.pagination import MAX_LIMIT


def audit(
    action: str | None = typer.Option(None, help="Exact action, or a prefix ending in *."),
    user: str | None = typer.Option(None, help="Events about this user (id, username or email)."),
    outcome: str | None = typer.Option(None, help="success or failure."),
    since: datetime | None = typer.Option(None, help="From this UTC time (ISO 8601)."),
    limit: int = typer.Option(50, min=1, max=MAX_LIMIT, help="How many events, newest first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Show the audit log, newest first."""
    with database_session() as session:
        target_id = find_user(session, user).id if user else None
        where = AuditFilter(
            action=action, outcome=outcome, target_id=target_id, since=service.as_utc(since)
        )
        rows, _next = service.list_events(session, where=where, cursor=None, limit=limit)
        events = [AuditEvent.model_validate(row) for row in rows]
    if as_json:
        for event in events:
            typer.echo(orjson.dumps(event.model_dump(mode="json")).decode())
        return
    lines = (
        (
            when(event.created_at),
            event.action,
            event.outcome,
            event.actor_name or event.actor_type,
            event.target_name or "",
            event.ip or "",
            orjson.dumps(event.details).decode() if event.details else "",
        )
        for event in events
    )
    columns = ("time", "action", "outcome", "actor", "target", "ip", "details")
    out.print(plain_table(columns, lines))
