"""The PostgreSQL test-identity lookup after a table fills up: the 100,000-test cliff, isolated.

In a throwaway database, in one transaction as an ingest does: the lookup runs ``--prior``
times while ``tests`` is empty (as the first report's lookups do; after five runs psycopg
prepares the statement and PostgreSQL may keep a generic plan), then ``--tests`` identities are
inserted, optionally analysed, and the same lookup runs once more. Prints each step's time.

    python benchmarks/lookup.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/lookup.py --postgres URL --lookup in          # the old 2,000-parameter IN
    python benchmarks/lookup.py --postgres URL --lookup in --analyze

``--lookup playdeck`` (default) is ``ingest.bulk.find_test_ids``; ``in`` is the lookup it
replaced (2,000 keys per statement, one bind parameter each; only the first batch is timed
after the inserts). A statement timeout (``--timeout``, 60 s) bounds the slow cases.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from server import load_average, postgres_database  # benchmarks/server.py
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from playdeck.db import make_engine
from playdeck.ingest.bulk import analyze_if_grown, find_test_ids
from playdeck.ingest.records import test_key
from playdeck.migrations import upgrade
from playdeck.models import Project, Test

OLD_BATCH = 2000


def old_lookup(session: Session, project_id: int, keys: Sequence[str]) -> dict[str, int]:
    """The lookup before the fix: ``key IN (...)`` with 2,000 parameters per statement."""
    query = select(Test.key, Test.id).where(
        Test.project_id == project_id, Test.key.in_(keys[:OLD_BATCH])
    )
    return {key: test_id for key, test_id in session.execute(query)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, metavar="SERVER_URL")
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--prior", type=int, default=20, help="lookups on the empty table")
    parser.add_argument("--lookup", choices=("playdeck", "in"), default="playdeck")
    parser.add_argument("--analyze", action="store_true", help="analyse after the inserts")
    parser.add_argument("--timeout", type=int, default=60, help="statement timeout, seconds")
    args = parser.parse_args()
    lookup: Callable[[Session, int, Sequence[str]], dict[str, int]] = (
        find_test_ids if args.lookup == "playdeck" else old_lookup
    )
    print(f"Before: {load_average()}")
    with postgres_database(args.postgres) as url:
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as session:
            session.execute(text(f"SET LOCAL statement_timeout = '{args.timeout}s'"))
            project_id = session.execute(
                insert(Project).values(name="bench", slug="bench").returning(Project.id)
            ).scalar_one()
            keys = [test_key("bench.spec.ts", [f"test {n}"], "chromium") for n in range(args.tests)]
            start = time.perf_counter()
            for _ in range(args.prior):
                lookup(session, project_id, keys)
            print(f"{args.prior} lookups on the empty table: {time.perf_counter() - start:.2f} s")
            rows = [
                {
                    "project_id": project_id,
                    "key": key,
                    "file": "bench.spec.ts",
                    "title_path": [key],
                    "title": key,
                    "full_title": key,
                    "browser_project": "chromium",
                }
                for key in keys
            ]
            for begin in range(0, len(rows), OLD_BATCH):
                session.execute(insert(Test), rows[begin : begin + OLD_BATCH])
            if args.analyze:
                analyze_if_grown(session.connection(), Test.__table__, args.tests)
            start = time.perf_counter()
            try:
                found = lookup(session, project_id, keys)
                print(
                    f"after {args.tests:,} inserts, one lookup ({args.lookup}): "
                    f"{time.perf_counter() - start:.2f} s, {len(found):,} ids"
                )
            except OperationalError as exc:
                print(
                    f"after {args.tests:,} inserts, one lookup ({args.lookup}): gave up after "
                    f"{time.perf_counter() - start:.1f} s ({type(exc.orig).__name__})"
                )
            session.rollback()
        engine.dispose()
    print(f"After: {load_average()}")


if __name__ == "__main__":
    main()
