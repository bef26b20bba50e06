"""``playdeck demo``: fill a fresh database with demo projects so a newcomer sees a living
dashboard with one command.

The runs (``demo_runs``) are stored through ``ingest.service.ingest_run``, the path every real
report takes. The same seed gives the same data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.cli.demo_runs import billing_runs, storefront_runs
from playdeck.db import make_engine, make_sessionmaker, timeouts_of
from playdeck.ingest.service import ingest_run
from playdeck.kit.clock import utcnow
from playdeck.projects.service import list_projects
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore
from playdeck.storage.filesystem import FilesystemBlobStore

DEFAULT_RUNS = 300
MAX_FILE_BYTES = 10 * 1024 * 1024
ADMIN = Principal.builtin_admin()


@dataclass(frozen=True, slots=True)
class DemoSummary:
    projects: list[str]
    runs: int
    results: int


class DemoRefused(Exception):
    """The database is not fresh; demo data would mix with real data."""


def seed_demo(
    session: Session, store: BlobStore, *, runs: int, seed: int, now: datetime
) -> DemoSummary:
    """Store the demo runs (``runs`` for the main project, a third as many for the second)."""
    existing, _next = list_projects(session, principal=ADMIN, q=None, cursor=None, limit=1)
    if existing:
        raise DemoRefused(
            "the database already has projects; the demo fills a fresh one "
            "(point PLAYDECK_DATA_DIR at an empty folder)"
        )
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    records = [
        *storefront_runs(rng, runs, now),
        *billing_runs(rng, max(1, runs // 3), now),
    ]
    records.sort(key=lambda r: r.started_at)
    for record in records:
        ingest_run(
            session,
            store=store,
            principal=ADMIN,
            record=record,
            auto_create_project=True,
            max_file_bytes=MAX_FILE_BYTES,
        )
    return DemoSummary(
        projects=["Acme Storefront", "Billing API"],
        runs=len(records),
        results=sum(len(r.tests) for r in records),
    )


def make_demo_command(
    load_settings: Callable[[], Settings], migrate: Callable[[Settings], None]
) -> Callable[..., None]:
    """The ``demo`` command, given ``cli.main``'s settings loader and migration step (this
    module cannot import ``cli.main``, which imports it)."""
    err = Console(stderr=True, soft_wrap=True)

    def demo(
        runs: int = typer.Option(
            DEFAULT_RUNS, min=1, max=5000, help="Runs of the main demo project."
        ),
        seed: int = typer.Option(7, help="Random seed: the same seed gives the same data."),
    ) -> None:
        """Fill a fresh database with two demo projects and a few hundred runs."""
        settings = load_settings()
        migrate(settings)
        engine = make_engine(settings.effective_database_url, timeouts_of(settings))
        store = FilesystemBlobStore(settings.files_dir)
        try:
            with make_sessionmaker(engine)() as session:
                try:
                    summary = seed_demo(session, store, runs=runs, seed=seed, now=utcnow())
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except DemoRefused as exc:
            err.print(f"[red]playdeck: {exc}[/]")
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        err.print(
            f"Demo data: {summary.runs} runs, {summary.results} test results in "
            f"{', '.join(summary.projects)}. Start the server with: playdeck serve"
        )

    return demo
